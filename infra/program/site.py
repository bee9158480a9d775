"""What every props builder shares: the config, its topology, the stack's names and where components go."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization

from infra.components.common import Common, Lock, RoleAssignment
from infra.components.identity import IdentityComponent
from infra import config as config_mod
from infra.naming import Names
from infra.topology import Topology


def platform_tags(cfg: config_mod.StackConfig) -> dict[str, str]:
    return {
        **cfg.platform.tags,
        "environment": cfg.platform.environment,
        "managed-by": "pulumi",
        "project": "amlplatform",
    }


def names_for(cfg: config_mod.StackConfig, subscription_id: str) -> Names:
    """The stack's names, with global names unique to the subscription the credentials resolve to."""
    if cfg.platform.subscription_id and cfg.platform.subscription_id != subscription_id.lower():
        raise config_mod.ConfigError(
            f"{cfg.source}: amlplatform:platform.subscriptionId: {cfg.platform.subscription_id} is not the "
            f"subscription of the Azure credentials this runs with ({subscription_id}); select it (az account set "
            "--subscription, or ARM_SUBSCRIPTION_ID) or correct the key")
    names = Names.for_stack(cfg.platform.prefix, cfg.platform.environment, subscription_id, cfg.platform.generation)
    problems = names.violations()
    if problems:
        raise config_mod.ConfigError(f"{cfg.source}: amlplatform:platform.prefix: {'; '.join(problems)}")
    return names


def secret(key: str) -> pulumi.Output[str]:
    """A secret from `pulumi config set --secret amlplatform:<key>` (stays encrypted in state)."""
    return pulumi.Config(config_mod.NAMESPACE).require_secret(key)


def grant(identity: IdentityComponent, who: str, key: str, role: str) -> RoleAssignment:
    """A platform identity's role on the component that declares it (keyed `<who>-<key>`)."""
    return RoleAssignment(key=f"{who}-{key}", role=role, principal_id=identity.principal_id,
                          principal_type="ServicePrincipal", description=f"AML {who} identity: {role}")


@dataclass(frozen=True)
class Site:
    """The stack as every builder sees it, once its resource group exists."""

    cfg: config_mod.StackConfig
    topo: Topology
    names: Names
    client: authorization.GetClientConfigResult
    tags: dict[str, str]
    # Where every component goes; each one then gets only the shared settings it supports (Component.SUPPORTS).
    placement: Common
    lock: Lock | None
    # How long new grants get to reach the resource providers before what needs them is created.
    wait_seconds: int

    def common(self, **kw) -> Common:
        return dataclasses.replace(self.placement, tags=self.tags, **kw)

    def stateful(self, **kw) -> Common:
        return self.common(protect=self.cfg.protection.protect, **kw)
