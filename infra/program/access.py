"""People's access: platform owners, the deployment principal and the teams' role keys."""

from __future__ import annotations

from pulumi_azure_native import resources

from infra.components.access import AccessComponent, AccessProps, Grantee, Team
from infra.components.workspace import WorkspaceComponent
from infra import config as config_mod
from infra.program.data import Data
from infra.program.site import Site


def _grantee(p: config_mod.Principal) -> Grantee:
    return Grantee(object_id=p.object_id, type=p.type)


def access(site: Site, rg: resources.ResourceGroup, stores: Data, ws: WorkspaceComponent) -> AccessComponent:
    cfg = site.cfg
    return AccessComponent(
        "access",
        AccessProps(
            site.placement,
            stack_label=site.names.base,
            resource_group_id=rg.id,
            workspace_id=ws.id,
            workspace_storage_id=stores.storage.id,
            container_ids={name: c.id for name, c in stores.lake.containers.items()},
            platform_owners=_grantee(cfg.rbac.platform_owners) if cfg.rbac else None,
            deployment=_grantee(cfg.rbac.deployment) if cfg.rbac and cfg.rbac.deployment else None,
            teams=[
                Team(name, [(key, _grantee(p)) for key, p in team.grants()], team.containers)
                for name, team in cfg.teams.items()
            ],
        ),
    )
