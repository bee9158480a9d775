"""The state backend, wired from the bootstrap's config: resource group, state storage, key vault, key.

It runs once per organisation (or landing zone), before any platform stack,
with a local backend; afterwards its own state moves into the container it
created (docs/state-backend.md). Everything is declared through an explicit
provider pinned to the configured subscription, so `az account set` cannot
send it elsewhere.
"""

from __future__ import annotations

import pulumi
from pulumi_azure_native import authorization, resources
from pulumi_azure_native.provider import Provider

from infra.components.common import Common, DiagnosticSettings, PrivateEndpoints, PropsError
from infra.components.keyvault import KeyVaultComponent, KeyVaultProps
from infra.config.stack import ConfigError
from infra.state_backend import config as config_mod
from infra.state_backend.components import Grant, SecretsKeyComponent, SecretsKeyProps, StateStorageComponent, StateStorageProps


def bootstrap_tags(cfg: config_mod.BootstrapConfig) -> dict[str, str]:
    return {**cfg.tags, "managed-by": "pulumi", "project": "amlplatform", "purpose": "pulumi-state"}


def grants(cfg: config_mod.BootstrapConfig) -> list[Grant]:
    """Who uses the backend: the CI/CD principal and the owners group read and write, a preview principal reads."""
    a = cfg.access
    out = [
        Grant("deployment", a.deployment.object_id, a.deployment.type, "CI/CD principal"),
        Grant("owners", a.platform_owners.object_id, a.platform_owners.type, "platform owners"),
    ]
    if a.preview is not None:
        out.append(Grant("preview", a.preview.object_id, a.preview.type, "preview principal",
                         blob_role="Storage Blob Data Reader"))
    return out


def build(cfg: config_mod.BootstrapConfig) -> dict[str, pulumi.Output]:
    """Declare the state backend; returns the stack outputs (also exported)."""
    provider = Provider("azure", subscription_id=cfg.azure.subscription_id, location=cfg.azure.location)
    client = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(provider=provider))
    tags = bootstrap_tags(cfg)
    public = cfg.network.mode == "public"
    protect = cfg.protection.protect

    rg = resources.ResourceGroup(
        "rg",
        resource_group_name=cfg.names.resource_group,
        location=cfg.azure.location,
        tags=tags,
        opts=pulumi.ResourceOptions(provider=provider, protect=protect),
    )
    diag = cfg.diagnostics.log_analytics_workspace_id
    endpoints = None
    if cfg.network.mode == "private":
        endpoints = PrivateEndpoints(subnet_id=cfg.network.private_endpoint_subnet_id or "",
                                     zone_ids=dict(cfg.network.dns_zone_ids) or None)
    common = Common(
        resource_group_name=rg.name,
        location=cfg.azure.location,
        subscription_id=cfg.azure.subscription_id,
        tags=tags,
        diagnostic_settings=DiagnosticSettings(workspace_id=diag) if diag else None,
        lock=cfg.protection.locks,
        protect=protect,
        private_endpoints=endpoints,
    )
    opts = pulumi.ResourceOptions(providers=[provider])
    who = grants(cfg)

    state = StateStorageComponent(
        "state-storage",
        StateStorageProps(
            common,
            name=cfg.names.storage_account,
            container=cfg.names.container,
            replication=cfg.storage.replication,
            public_network_access=public,
            allowed_ip_ranges=list(cfg.network.allowed_ip_ranges),
            soft_delete_days=cfg.storage.soft_delete_days,
            delete_old_versions_after_days=cfg.storage.delete_old_versions_after_days,
            grants=who,
        ),
        opts=opts,
    )
    kv = cfg.key_vault
    vault = KeyVaultComponent(
        "state-keyvault",
        KeyVaultProps(
            common,
            name=cfg.names.key_vault,
            tenant_id=client.tenant_id,
            sku=kv.sku,
            public_network_access=public,
            allowed_ip_ranges=list(cfg.network.allowed_ip_ranges),
            soft_delete_retention_days=kv.soft_delete_retention_days,
        ),
        opts=opts,
    )
    key = SecretsKeyComponent(
        "secrets-key",
        SecretsKeyProps(
            # Private endpoints, locks and diagnostics belong to the vault; the key takes grants only.
            Common(resource_group_name=rg.name, location=cfg.azure.location, subscription_id=cfg.azure.subscription_id,
                   tags=tags, protect=protect),
            vault_name=vault.vault.name,
            name=cfg.names.key,
            key_type=kv.key_type,
            key_size=kv.key_size,
            expiry=kv.key_expiry,
            notify_before_expiry=kv.notify_before_expiry,
            grants=who,
        ),
        opts=opts,
    )

    outputs: dict[str, pulumi.Output] = {
        "resourceGroupName": rg.name,
        "storageAccountName": state.name,
        "containerName": pulumi.Output.from_input(cfg.names.container),
        "backendUrl": pulumi.Output.from_input(cfg.backend_url),
        "keyVaultName": vault.vault.name,
        "keyId": pulumi.Output.from_input(cfg.key_id),
        # The provider URL pinned to the key version that exists now (see docs/state-backend.md, rotation).
        "secretsProvider": key.uri_with_version.apply(
            lambda uri: "azurekeyvault://" + uri.removeprefix("https://") if uri else None
        ),
    }
    for name, value in outputs.items():
        pulumi.export(name, value)
    return outputs


def main() -> None:
    """Entry point under the pulumi CLI (state-backend/__main__.py): mistakes end the run without a traceback."""
    try:
        build(config_mod.from_pulumi())
    except (ConfigError, PropsError) as exc:
        raise pulumi.RunError(str(exc)) from None
