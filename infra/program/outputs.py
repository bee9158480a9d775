"""The stack's outputs: what operators and CI read, and what its team stacks read (infra/platform_outputs.py)."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi_azure_native import resources

from infra.access_grants import TEAM_ROLE_NAMES
from infra.azure_facts.roles import role_definition_id
from infra.components.access import AccessComponent
from infra.components.workspace import WorkspaceComponent
from infra.platform_outputs import PlatformOutputs, instance_settings_output
from infra.program.compute import instances_for
from infra.program.data import Data
from infra.program.foundation import Identities, Monitoring
from infra.program.network import Network
from infra.program.site import Site, platform_tags


def stack_outputs(site: Site, rg: resources.ResourceGroup, ids: Identities, mon: Monitoring, net: Network,
                  stores: Data, ws: WorkspaceComponent) -> dict[str, pulumi.Input[Any]]:
    outputs: dict[str, pulumi.Input[Any]] = {
        "resourceGroupName": rg.name,
        "workspaceName": ws.name,
        "workspaceId": ws.id,
        "studioUrl": pulumi.Output.all(ws.id, site.client.tenant_id).apply(
            lambda a: f"https://ml.azure.com/?wsid={a[0]}&tid={a[1]}"
        ),
        "mlflowTrackingUri": ws.mlflow_tracking_uri,
        "storageAccountId": stores.storage.id,
        "dataLakeId": stores.lake.id,
        "keyVaultId": stores.vault.id,
        "containerRegistryId": stores.registry.id,
        "logAnalyticsWorkspaceId": mon.component.log_analytics_id,
        "applicationInsightsId": mon.component.app_insights_id,
        "workspaceIdentityId": ids.workspace.id,
        "workspaceIdentityPrincipalId": ids.workspace.principal_id,
        "computeIdentityId": ids.compute.id,
        "computeIdentityClientId": ids.compute.client_id,
        # The subscription features the stack states are registered (platform.registeredFeatures);
        # the Azure rule azure-required-feature-registrations compares them with what the plan needs.
        "registeredFeatures": pulumi.Output.from_input(sorted(site.cfg.platform.registered_features)),
    }
    if net.vnet is not None:
        outputs["vnetId"] = net.vnet.id
    return outputs


def team_stack_outputs(site: Site, access: AccessComponent, ids: Identities, net: Network,
                       seeds_assets: bool) -> dict[str, pulumi.Input[Any]]:
    """What team stacks read from this stack (infra/platform_outputs.py), besides the IDs exported anyway."""
    cfg, names, client = site.cfg, site.names, site.client
    key = PlatformOutputs.key
    roles: dict[str, pulumi.Input[str]] = {
        r: access.job_submitter.id if r == "job-submitter" else role_definition_id(client.subscription_id, r)
        for r in TEAM_ROLE_NAMES
    }
    out: dict[str, pulumi.Input[Any]] = {
        key("subscription_id"): client.subscription_id,
        key("tenant_id"): client.tenant_id,
        key("location"): cfg.platform.location,
        key("environment"): cfg.platform.environment,
        key("prefix"): cfg.platform.prefix,
        key("tags"): platform_tags(cfg),
        key("data_lake_name"): names.data_lake,
        key("role_definition_ids"): roles,
        # As for this stack's own teams: their datastores come with the seeded assets.
        key("team_datastores"): seeds_assets and cfg.assets.team_datastores,
        key("teams"): {name: list(team.containers) for name, team in sorted(cfg.teams.items())},
    }
    inst = cfg.compute.instances
    if ids.instance is not None:
        sched = inst.schedule
        out[key("compute_instances")] = instance_settings_output({
            "identity_id": ids.instance.id, "vm_size": inst.vm_size,
            "idle_shutdown_minutes": inst.idle_shutdown_minutes,
            "start": sched.start if sched else None, "stop": sched.stop if sched else None,
            "time_zone": sched.time_zone if sched else "UTC",
            "users": sorted(i.user_object_id for i in instances_for(cfg, names)),
        })
    if net.training_subnet is not None:
        out[key("training_subnet_id")] = net.training_subnet
    return out
