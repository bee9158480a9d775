"""The platform, wired from the stack's config: one call builds a whole environment.

`build` reads top to bottom as the architecture, one props builder per area, in Azure's order:
the foundation (resource group, identities, monitoring), the network, the stores (the key vault
and, with customer-managed keys, its keys, their grants and a pause; the other stores are created
with them, each granting the identities their roles and getting its private endpoints), a pause
for role propagation and the workspace, compute and inference, people's access, the registry link,
then the seeded assets and the endpoints that serve them.

Beside it: the registry stack's program (registry.py) and a team stack's (team.py); `main` picks one.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi_azure_native import authorization

from infra.components.common import Common, PropsError, stack_lock
from infra import config as config_mod
from infra.config import team_stack as config_team
from infra.program import access, compute, data, foundation, network, outputs, serving, workspace
from infra.program.compute import clusters_for, instances_for
from infra.program.site import Site, names_for, platform_tags
from infra.seeding import stack as assets_stack
from infra.topology import Topology

__all__ = ["build", "clusters_for", "instances_for", "main", "names_for", "platform_tags"]


def build(cfg: config_mod.StackConfig) -> dict[str, pulumi.Input[Any]]:
    """Declare every resource of the stack; returns the stack outputs (also exported)."""
    # A plain invoke before any resource: the deployment's own subscription and tenant, as values.
    client = authorization.get_client_config()
    names = names_for(cfg, client.subscription_id)
    # Seeded assets are read and checked (schema, references, lock) before any resource is declared.
    seeded = assets_stack.load_for_stack(cfg, names)
    tags = platform_tags(cfg)

    rg = foundation.resource_group(cfg, names, tags)
    site = Site(cfg, Topology.of(cfg), names, client, tags,
                placement=Common(resource_group_name=rg.name, location=cfg.platform.location,
                                 subscription_id=client.subscription_id),
                lock=stack_lock(cfg.protection.locks),
                wait_seconds=cfg.role_propagation_seconds)
    ids = foundation.identities(site)
    mon = foundation.monitoring(site, ids)
    net = network.network(site, mon)
    stores = data.data(site, ids, mon, net)
    ws = workspace.workspace(site, ids, mon, net, stores)
    jobs = compute.compute(site, ids, net, ws)
    aks = compute.inference(site, ids, mon, net, stores, ws)
    people = access.access(site, rg, stores, ws)
    link = serving.registry_link(site, ids, net)

    out = outputs.stack_outputs(site, rg, ids, mon, net, stores, ws)
    out.update(outputs.team_stack_outputs(site, people, ids, net, seeded is not None))
    if seeded is not None:
        assets = serving.assets(site, seeded, stores, ws, jobs)
        out["seededAssets"] = pulumi.Output.from_input(sorted(assets.seeded))
        served = serving.serving(site, seeded, stores, ws, [assets, *serving.served_by(jobs, aks)], link)
        if served is not None:
            out["endpoints"] = pulumi.Output.from_input(served.names)
    if link is not None:
        out["mlRegistryId"] = pulumi.Output.from_input(link.registry_id)
    for key, value in out.items():
        pulumi.export(key, value)
    return out


def main() -> None:
    """Entry point under the pulumi CLI: user mistakes end the run without a traceback.

    The stack's config says which program runs (config.stack_kind): a team stack (`amlplatform:team`)
    declares one team's resources on its platform stack (infra/program/team.py), the registry stack
    (`amlplatform:mlRegistry`) the organisation's registry (infra/program/registry.py), any other stack
    the platform."""
    try:
        raw = config_mod.pulumi_config()
        kind = config_mod.stack_kind(raw)
        if kind == "team":
            from infra.program import team

            team.run(config_team.from_pulumi(raw))
        elif kind == "registry":
            from infra.config import registry_stack as config_registry_stack
            from infra.program import registry

            registry.build_registry(config_registry_stack.from_pulumi(raw))
        else:
            build(config_mod.from_pulumi(raw))
    except (config_mod.ConfigError, PropsError) as exc:
        raise pulumi.RunError(str(exc)) from None
