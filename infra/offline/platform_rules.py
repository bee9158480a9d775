"""Run the platform rules (policies/rules/) over an offline plan."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

from policies.rules import Resource, RuleReport, StackFacts, evaluate

from infra.config import AnyStackConfig, StackConfig, TeamStackConfig
from infra.naming import Names
from infra.program import platform_tags
from infra.topology import INSTANCE_IDENTITY, WORKSPACE_IDENTITY, Topology, identity_resource
from infra.offline.engine import Plan, PlannedResource

if TYPE_CHECKING:
    from infra.config import RegistryStackConfig

# The identities' logical names: what the pack's rbac-privileged-roles knows them by in a preview.
WORKSPACE_IDENTITY_NAME = identity_resource(WORKSPACE_IDENTITY)
INSTANCE_IDENTITY_NAME = identity_resource(INSTANCE_IDENTITY)


def facts_for(cfg: AnyStackConfig, plan: Plan | None = None) -> StackFacts:
    """The facts the CrossGuard pack gets from policies/config/<stack>.json, here from the stack itself
    (a team stack's are its platform stack's: the same governance applies to both)."""
    if isinstance(cfg, TeamStackConfig):
        cfg = cfg.platform_config
    owners = {cfg.rbac.platform_owners.object_id.lower()} if cfg.rbac else set()
    # The registry stack has no AKS, network or encryption section.
    env_stack = cfg if isinstance(cfg, StackConfig) else None
    cmk = env_stack.encryption.customer_managed_key if env_stack else None

    def principals(name: str) -> frozenset[str]:
        return frozenset(str(r.outputs.get("principalId", "")).lower()
                         for r in (plan.of_type("azure-native:managedidentity:UserAssignedIdentity") if plan else [])
                         if r.name == name)

    return StackFacts(
        environment=cfg.platform.environment,
        platform_owners=frozenset(owners),
        workspace_identities=principals(WORKSPACE_IDENTITY_NAME),
        workspace_identity_name=WORKSPACE_IDENTITY_NAME,
        instance_identities=principals(INSTANCE_IDENTITY_NAME),
        instance_identity_name=INSTANCE_IDENTITY_NAME,
        required_tags=tuple(sorted(platform_tags(cfg) if isinstance(cfg, StackConfig) else _registry_tags(cfg))),
        allowed_locations=tuple(cfg.platform.allowed_locations),
        # Governance, not the stack's choice: staging and prod state is protected.
        protect_stateful=cfg.platform.environment != "dev",
        secrets_visible=True,
        inference_http=bool(env_stack and env_stack.aks.enabled and env_stack.aks.tls.mode == "internalHttp"),
        flow_logs_central=bool(env_stack and env_stack.network.flow_logs.mode == "central"),
        private_ingestion=bool(env_stack and env_stack.network.monitor_private_link),
        customer_managed_key=bool(cmk and cmk.enabled),
        aks_kms=bool(env_stack and cmk and cmk.enabled and cmk.aks_kms and env_stack.aks.enabled),
        managed_network_workspaces=managed_network_workspaces(cfg) if isinstance(cfg, StackConfig) else (),
    )


def managed_network_workspaces(cfg: StackConfig) -> tuple[str, ...]:
    """The stack's workspace when it has an AML managed network (its team stacks' instances sit there)."""
    if not Topology.of(cfg).managed_network:
        return ()
    p = cfg.platform
    return (Names.for_stack(p.prefix, p.environment, p.subscription_id, p.generation).workspace,)


def _registry_tags(cfg: RegistryStackConfig) -> dict[str, str]:
    from infra.program.registry import tags_for

    return tags_for(cfg)


def to_resource(r: PlannedResource) -> Resource:
    return Resource(
        urn=r.urn, type=r.type, name=r.name, props=r.inputs, protect=r.protect, id=r.id or "",
        dependencies=tuple(r.dependencies),
        property_dependencies={k: tuple(v) for k, v in r.property_dependencies.items()},
    )


def evaluate_plan(plan: Plan, facts: StackFacts) -> RuleReport:
    return evaluate([to_resource(r) for r in plan.custom()], facts)


check = evaluate_plan


def to_json(report: RuleReport) -> str:
    return json.dumps({"rules": list(report.rules), "checked": report.checked, "level": report.level,
                       "verdict": report.verdict(), "violations": [asdict(v) for v in report.violations]},
                      indent=2, sort_keys=True) + "\n"


def policy_config(cfg: AnyStackConfig) -> dict[str, object]:
    """The CrossGuard config for this stack (`--policy-pack-config policies/config/<stack>.json`):
    the same facts `facts_for` gives the offline check, and the stack's enforcement level."""
    facts = facts_for(cfg)
    level = facts.level

    def policy(**values: object) -> dict[str, object]:
        return {"enforcementLevel": level, **values}

    return {
        "all": level,
        "rbac-privileged-roles": policy(platformOwners=sorted(facts.platform_owners),
                                        workspaceIdentityName=facts.workspace_identity_name,
                                        instanceIdentityName=facts.instance_identity_name),
        "required-tags": policy(requiredTags=list(facts.required_tags)),
        "allowed-locations": policy(allowedLocations=list(facts.allowed_locations)),
        "allowed-skus": policy(environment=facts.environment),
        "protect-stateful": policy(protectStateful=facts.protect_stateful),
        "aml-inference-tls": policy(inferenceHttp=facts.inference_http),
        "aml-compute-in-vnet": policy(managedNetworkWorkspaces=list(facts.managed_network_workspaces)),
        "vnet-flow-logs": policy(flowLogsCentral=facts.flow_logs_central),
        "private-ingestion": policy(privateIngestion=facts.private_ingestion),
        **{name: policy(customerManagedKey=facts.customer_managed_key)
           for name in ("cmk-workspace", "cmk-storage", "cmk-registry", "cmk-aks-disks")},
        "cmk-aks-kms": policy(aksKms=facts.aks_kms),
    }


def policy_config_json(cfg: AnyStackConfig) -> str:
    return json.dumps(policy_config(cfg), indent=2, sort_keys=True) + "\n"
