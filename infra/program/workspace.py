"""The workspace, once the grants it is checked against have had time to propagate."""

from __future__ import annotations

import pulumi
import pulumiverse_time as time

from infra.components.common import ManagedIdentities
from infra.components.workspace import WorkspaceComponent, WorkspaceProps
from infra.program.data import Data
from infra.program.foundation import Identities, Monitoring
from infra.program.network import Network, outbound_rules, registry_rules
from infra.program.site import Site, grant


def workspace(site: Site, ids: Identities, mon: Monitoring, net: Network, stores: Data) -> WorkspaceComponent:
    cfg, topo = site.cfg, site.topo
    # Azure checks the workspace identity's access when the workspace is created, and new
    # grants take a while to reach the resource providers: wait after them, then create it.
    grants = [*mon.component.role_assignments, *stores.storage.role_assignments, *stores.lake.role_assignments,
              *stores.vault.role_assignments, *stores.registry.role_assignments]
    propagation = time.Sleep(
        "role-propagation",
        create_duration=f"{site.wait_seconds}s",
        opts=pulumi.ResourceOptions(depends_on=grants),
    )
    cmk = stores.cmk
    return WorkspaceComponent(
        "workspace",
        WorkspaceProps(
            site.stateful(
                diagnostic_settings=mon.diagnostics,
                private_endpoints=net.endpoints,
                role_assignments=[
                    # The workspace identity's documented role on the workspace itself.
                    grant(ids.workspace, "workspace", "contributor", "Contributor"),
                    *ids.instance_grant("contributor", "Contributor"),
                ],
                managed_identities=ManagedIdentities(user_assigned_resource_ids=[ids.workspace.id]),
                customer_managed_key=cmk.key("workspace") if cmk else None,
            ),
            name=site.names.workspace,
            storage_account_id=stores.storage.id,
            key_vault_id=stores.vault.id,
            container_registry_id=stores.registry.id,
            application_insights_id=mon.component.app_insights_id,
            public_network_access=topo.public,
            hbi=cfg.workspace.hbi,
            friendly_name=cfg.workspace.friendly_name,
            description=cfg.workspace.description,
            managed_network=topo.isolation,
            outbound_rules=(outbound_rules(cfg, topo, stores.lake.id, stores.storage.id, stores.vault.id)
                            + registry_rules(cfg, site.client.subscription_id) if topo.managed_network else []),
            serverless_subnet_id=net.training_subnet if cfg.compute.serverless else None,
            image_build_compute=cfg.compute.clusters[0].name if net.training_subnet is not None and cfg.compute.clusters
            else None,
            depends_on=[propagation, *stores.keys_ready],
        ),
    )
