"""The registry stack: the organisation's AML registry, its diagnostics and the models promoted to it.

`infra.program.main()` builds this instead of an environment when the stack has
`amlplatform:mlRegistry` (infra/config/registry_stack.py). Who grants what across stacks:

- this stack grants the CI/CD principal (`rbac.deployment`) AzureML Registry User on the registry: the only
  writer (it seeds the promoted versions); the platform owners hold Owner on the stack's resource group;
- each environment stack grants its own workspace and endpoint identities Reader on the registry (read-only use
  of its assets: how-to-manage-registries, "Allow users to use assets from the registry"), so its deploying
  principal needs User Access Administrator (or Role Based Access Control Administrator) on the registry's
  resource group, as it has on its own subscription.
"""

from __future__ import annotations

import dataclasses

import pulumi
from pulumi_azure_native import authorization, operationalinsights, resources

from infra.components.common import Common, DiagnosticSettings, RoleAssignment, add_lock, resource_opts, stack_lock
from infra.components.ml_registry import MlRegistryComponent, MlRegistryProps
from infra.config import RegistryStackConfig
from infra.naming import RULES

REGISTRY_WRITER_ROLE = "AzureML Registry User"


def names_for(cfg: RegistryStackConfig) -> dict[str, str]:
    base = f"{cfg.platform.prefix}-registry"
    names = {"resource_group": f"rg-{base}", "log_analytics": f"log-{base}"}
    for rule, name in names.items():
        problem = RULES[rule].check(name)
        if problem:
            from infra.config import ConfigError

            raise ConfigError(f"{cfg.source}: amlplatform:platform.prefix: {rule} name {name!r} {problem}")
    return names


def tags_for(cfg: RegistryStackConfig) -> dict[str, str]:
    return {**cfg.platform.tags, "environment": cfg.platform.environment, "managed-by": "pulumi",
            "project": "amlplatform"}


def build_registry(cfg: RegistryStackConfig) -> dict[str, pulumi.Output]:
    """Declare the registry stack; returns its outputs (also exported)."""
    from infra.seeding import registry as registry_assets
    from infra.seeding.registry_components import RegistryAssetsComponent, RegistryAssetsProps

    client = authorization.get_client_config()
    names = names_for(cfg)
    promoted = registry_assets.load_for_registry(cfg)
    tags = tags_for(cfg)
    protect = cfg.protection.protect
    rg = resources.ResourceGroup("rg", resource_group_name=names["resource_group"], location=cfg.platform.location,
                                 tags=tags, opts=pulumi.ResourceOptions(protect=protect))

    placement = Common(resource_group_name=rg.name, location=cfg.platform.location,
                       subscription_id=client.subscription_id)

    log = operationalinsights.Workspace(
        "registry-log",
        workspace_name=names["log_analytics"],
        resource_group_name=rg.name,
        location=cfg.platform.location,
        sku=operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
        retention_in_days=cfg.monitoring.retention_days,
        features=operationalinsights.WorkspaceFeaturesArgs(enable_log_access_using_only_resource_permissions=True,
                                                           disable_local_auth=True),
        # Only the registry's diagnostic settings write here, and "logs and metrics uploaded to a workspace via
        # diagnostic settings go over a secure private Microsoft channel and aren't controlled by these settings"
        # (Azure Monitor, private-link-configure, "Exceptions"): public ingestion can stay off without a scope.
        public_network_access_for_ingestion="Disabled",
        public_network_access_for_query="Enabled",
        tags=tags,
        opts=pulumi.ResourceOptions(protect=protect),
    )
    add_lock(log, "registry-log", log.id, stack_lock(cfg.protection.locks), "Log Analytics workspace")

    writers = []
    if cfg.rbac and cfg.rbac.deployment:
        d = cfg.rbac.deployment
        writers.append(RoleAssignment(key="cicd-writer", role=REGISTRY_WRITER_ROLE, principal_id=d.object_id,
                                      principal_type=d.type, description="CI/CD: the registry's only writer "
                                      "(promoted versions)"))
    registry = MlRegistryComponent("mlregistry", MlRegistryProps(
        dataclasses.replace(placement, tags=tags, protect=protect, role_assignments=writers,
                            diagnostic_settings=DiagnosticSettings(workspace_id=log.id)),
        name=cfg.ml_registry.name,
        regions=cfg.ml_registry.regions,
        storage_replication=cfg.ml_registry.storage_replication,
    ))
    if cfg.rbac:
        owners = cfg.rbac.platform_owners
        from infra.components.common import assign_role, builtin_role_id

        assign_role(rg, "registry-owners", rg.id, owners.object_id, owners.type,
                    builtin_role_id(client.subscription_id, "Owner"),
                    "amlplatform access: Owner on the registry's resource group (platform owners)")
    outputs: dict[str, pulumi.Output] = {
        "resourceGroupName": rg.name,
        "registryName": registry.name,
        "registryId": registry.id,
        "registryStorageAccountId": registry.storage_account_id,
        "registryContainerRegistryId": registry.container_registry_id,
        "logAnalyticsWorkspaceId": log.id,
        "registryRegions": pulumi.Output.from_input(list(cfg.ml_registry.regions)),
    }
    if promoted is not None:
        seeded = RegistryAssetsComponent("registry-assets", RegistryAssetsProps(
            placement, promoted=promoted, registry_name=registry.name, registry_id=registry.id,
            resource_group=names["resource_group"], depends_on=[registry.registry, *registry.role_assignments]))
        outputs["promotedAssets"] = pulumi.Output.from_input(sorted(seeded.seeded))
    for key, value in outputs.items():
        pulumi.export(key, value)
    return outputs


def resource_options(owner: pulumi.Resource, common: Common) -> pulumi.ResourceOptions:
    return resource_opts(owner, common)
