"""A team stack's program: one team's containers, datastores, grants and compute instances on its
platform stack, which it reads through a StackReference.

The platform stack's outputs are read as plain values before anything is declared (the
reference's `get_output_details`, awaited in the program's asynchronous entry point that
`pulumi.run` registers), so what the team stack declares depends on its own config and the
platform's settings only, never on an `apply`. The reference is fully qualified
(`<organization>/<project>/<stack>`): with the azblob backend the organization is always
`organization`; with Pulumi Cloud it is the stack's own organization.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi_azure_native import authorization

from infra.access_grants import team_from_config
from infra.components.common import Common
from infra.components.compute import Instance
from infra.components.team import TeamComponent, TeamProps
from infra.config import ConfigError
from infra.config.team_stack import PLATFORM_STACK_KEY, TeamStackConfig, conflicts
from infra.naming import instance_name
from infra.platform_outputs import MissingOutput, PlatformOutputs


def reference_name(platform_stack: str) -> str:
    """The platform stack's fully qualified name, in this stack's organization and project."""
    return f"{pulumi.get_organization()}/{pulumi.get_project()}/{platform_stack}"


async def read_platform(cfg: TeamStackConfig) -> PlatformOutputs:
    """The platform stack's outputs through a StackReference, as plain values."""
    name = reference_name(cfg.platform_stack)
    ref = pulumi.StackReference("platform", stack_name=name)
    values: dict[str, Any] = {}
    for f in PlatformOutputs.__dataclass_fields__:
        details = await ref.get_output_details(PlatformOutputs.key(f))
        values[PlatformOutputs.key(f)] = details.value if details.value is not None else details.secret_value
    try:
        return PlatformOutputs.from_outputs(values)
    except MissingOutput as exc:
        raise ConfigError(f"{cfg.source}: {PLATFORM_STACK_KEY}: the platform stack {name} exports no "
                          f"{exc.args[0]}: deploy it with this version of the platform first "
                          f"(pulumi up -s {cfg.platform_stack})") from None


async def build(cfg: TeamStackConfig) -> dict[str, Any]:
    """Declare the team's resources; returns the stack outputs (also exported)."""
    p = await read_platform(cfg)
    client = authorization.get_client_config()
    if client.subscription_id.lower() != p.subscription_id.lower():
        raise ConfigError(f"{cfg.source}: {PLATFORM_STACK_KEY}: the platform stack {cfg.platform_stack} lives in "
                          f"subscription {p.subscription_id}, not in the one the Azure credentials select "
                          f"({client.subscription_id}); select it (az account set --subscription, or ARM_SUBSCRIPTION_ID)")
    problem = conflicts(cfg, p.teams, p.compute_instances.users if p.compute_instances else [],
                        f"the platform stack {cfg.platform_stack}")
    if problem:
        raise ConfigError(problem)

    t = cfg.team
    settings = p.compute_instances
    instances = [
        Instance(instance_name(p.prefix, p.environment, user), user, settings.vm_size, settings.idle_shutdown_minutes,
                 settings.start, settings.stop, settings.time_zone)
        for user in t.members
    ] if settings is not None else []
    team = TeamComponent(
        t.name,
        TeamProps(
            Common(resource_group_name=p.resource_group_name, location=p.location, subscription_id=p.subscription_id,
                   tags=dict(p.tags)),
            team=team_from_config(t.name, t),
            workspace_name=p.workspace_name,
            workspace_id=p.workspace_id,
            workspace_storage_id=p.storage_account_id,
            data_lake_name=p.data_lake_name,
            role_ids=p.role_definition_ids,
            datastores=p.team_datastores,
            instances=instances,
            instance_identity_id=settings.identity_id if settings else None,
            tenant_id=p.tenant_id,
            subnet_id=p.training_subnet_id,
        ),
    )
    outputs: dict[str, Any] = {
        "team": t.name,
        "platformStack": cfg.platform_stack,
        "containerIds": {name: c.id for name, c in team.containers.items()},
        "computeInstances": sorted(i.name for i in instances),
    }
    for key, value in outputs.items():
        pulumi.export(key, value)
    return outputs


def run(cfg: TeamStackConfig) -> None:
    """Under the pulumi CLI: register the asynchronous entry point; user mistakes end it without a traceback."""
    from infra.components.common import PropsError

    async def main() -> None:
        try:
            await build(cfg)
        except (ConfigError, PropsError) as exc:
            raise pulumi.RunError(str(exc)) from None

    pulumi.run(main)
