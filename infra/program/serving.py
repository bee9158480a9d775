"""Seeding, serving and the registry link: the organisation's AML registry reached from the stack, the
assets seeded into the workspace, and the endpoints that serve them."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from infra.components.compute import ComputeComponent
from infra.components.endpoints import EndpointGrant, EndpointsComponent, EndpointsProps
from infra.components.identity import IdentityComponent, IdentityProps
from infra.components.inference import InferenceComponent
from infra.components.registry_link import RegistryLinkComponent, RegistryLinkProps
from infra.components.workspace import WorkspaceComponent
from infra.paths import REPO_ROOT
from infra.program.data import Data
from infra.program.foundation import Identities
from infra.program.network import Network
from infra.program.site import Site, grant
from infra.seeding import stack as assets_stack
from infra.seeding.components import AssetsComponent, AssetsProps, TeamDatastore, Uploader
from infra.seeding.model import AssetSet
from infra.topology import ENDPOINTS_IDENTITY


@dataclass(frozen=True)
class RegistryLink:
    component: RegistryLinkComponent
    registry_id: str


def registry_link(site: Site, ids: Identities, net: Network) -> RegistryLink | None:
    """The stack's private endpoints to the registry (private mode) and its identities' Reader on it."""
    ref = site.cfg.ml_registry_ref
    if ref is None:
        return None
    registry_id = ref.registry_id(site.client.subscription_id)
    readers = [grant(ids.workspace, "workspace", "mlregistry-reader", "Reader"),
               grant(ids.compute, "compute", "mlregistry-reader", "Reader")]
    # With a managed VNet the workspace reaches the registry through its outbound rules instead.
    endpoints = net.endpoints if not site.topo.managed_network else None
    link = RegistryLinkComponent("mlregistry-link", RegistryLinkProps(
        site.common(private_endpoints=endpoints, role_assignments=readers),
        name=ref.name, registry_id=registry_id, storage_account_id=ref.managed_resources.storage_account_id,
        container_registry_id=ref.managed_resources.container_registry_id))
    return RegistryLink(link, registry_id)


def assets(site: Site, seeded: AssetSet, stores: Data, ws: WorkspaceComponent,
           compute: ComputeComponent) -> AssetsComponent:
    """The seeded assets, as azure-native resources in the workspace."""
    cfg, names = site.cfg, site.names
    return AssetsComponent(
        "assets",
        AssetsProps(
            site.placement,
            assets=seeded,
            repo_root=cfg.root or REPO_ROOT,
            workspace_name=ws.name,
            workspace_id=ws.id,
            workspace_guid=ws.workspace.workspace_id,
            resource_group=names.resource_group,
            storage_account_name=names.storage,
            storage_account_id=stores.storage.id,
            data_lake_account_name=names.data_lake,
            computes=assets_stack.computes_for(cfg, names),
            schedules_enabled=bool(cfg.assets.schedules_enabled),
            team_datastores=[TeamDatastore(n, c, t) for n, (t, c) in assets_stack.team_datastore_names(cfg).items()],
            team_containers=[c for team in cfg.teams.values() for c in team.containers],
            uploader=Uploader(cfg.rbac.deployment.object_id, cfg.rbac.deployment.type)
            if cfg.rbac and cfg.rbac.deployment else None,
            schedule_depends_on=[compute],
        ),
    )


def serving(site: Site, seeded: AssetSet, stores: Data, ws: WorkspaceComponent, depends_on: list[pulumi.Resource],
            link: RegistryLink | None) -> EndpointsComponent | None:
    """The stack's endpoints and deployments, and the identity online endpoints run as."""
    if not any(seeded.of_kind(k) for k in ("online_endpoint", "batch_endpoint")):
        return None
    identity = None
    grants = [EndpointGrant("acr-pull", "AcrPull", stores.registry.id),
              EndpointGrant("storage-blob-reader", "Storage Blob Data Reader", stores.storage.id)]
    if link is not None:
        grants.append(EndpointGrant("mlregistry-reader", "Reader", link.registry_id))
        depends_on = [*depends_on, link.component]
    if seeded.of_kind("online_endpoint"):
        identity = IdentityComponent(ENDPOINTS_IDENTITY, IdentityProps(site.common(), site.names.identity("endpoints")))
    return EndpointsComponent("endpoints", EndpointsProps(
        site.common(),
        assets=seeded,
        workspace_name=ws.name,
        workspace_id=ws.id,
        resource_group=site.names.resource_group,
        env_code=site.names.env,
        public=site.topo.public,
        managed_network=site.topo.managed_network,
        identity_id=identity.id if identity else None,
        identity_principal_id=identity.principal_id if identity else None,
        grants=grants if identity else (),
        role_propagation_seconds=site.wait_seconds,
        depends_on=depends_on,
    ))


def served_by(compute: ComputeComponent, inference: InferenceComponent | None) -> list[pulumi.Resource]:
    """What the endpoints wait for besides the assets: the computes they deploy to."""
    return [compute, *([inference] if inference is not None else [])]
