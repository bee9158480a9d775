"""The stores: the key vault and, with customer-managed keys, its keys; the workspace storage, the teams'
data lake and the container registry, each granting the identities their roles and getting its private
endpoints; the VNet's flow logs, whose account is encrypted like theirs.

Two storage accounts: the workspace's own (flat: Azure ML refuses a default storage with a hierarchical
namespace) and the teams' data lake (ADLS Gen2), hardened alike by the same component.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from infra.components.common import Common, RoleAssignment
from infra.components.encryption import CustomerManagedKeysComponent
from infra.components.keyvault import KeyVaultComponent, KeyVaultProps
from infra.components.registry import RegistryComponent, RegistryProps
from infra.components.storage import StorageComponent, StorageProps
from infra.encryption import customer_managed_keys
from infra.program.foundation import Identities, Monitoring
from infra.program.network import Network, flow_logs_for
from infra.program.site import Site, grant


@dataclass(frozen=True)
class Data:
    vault: KeyVaultComponent
    cmk: CustomerManagedKeysComponent | None
    # What the stores wait for: the customer-managed keys, their grants and their pause.
    keys_ready: list[pulumi.Resource]
    storage: StorageComponent
    lake: StorageComponent
    registry: RegistryComponent


def data(site: Site, ids: Identities, mon: Monitoring, net: Network) -> Data:
    cfg, names, topo = site.cfg, site.names, site.topo
    public, allowed = topo.public, list(topo.allowed_ip_ranges)
    ws_id, job_id = ids.workspace, ids.compute

    def stores(*grants: RoleAssignment, **kw) -> Common:
        return site.stateful(diagnostic_settings=mon.diagnostics, private_endpoints=net.endpoints,
                             role_assignments=list(grants), **kw)

    # The vault first: with customer-managed keys the stores below are created with its keys.
    vault = KeyVaultComponent(
        "keyvault",
        KeyVaultProps(
            stores(
                grant(ws_id, "workspace", "contributor", "Contributor"),
                grant(ws_id, "workspace", "kv-admin", "Key Vault Administrator"),
                grant(job_id, "compute", "secrets-user", "Key Vault Secrets User"),
                *ids.instance_grant("secrets-user", "Key Vault Secrets User"),
                lock=site.lock,
            ),
            name=names.key_vault,
            tenant_id=site.client.tenant_id,
            sku=cfg.key_vault.sku,
            public_network_access=public,
            allowed_ip_ranges=allowed,
            soft_delete_retention_days=cfg.key_vault.soft_delete_retention_days,
        ),
    )
    cmk = customer_managed_keys(cfg, names, site.stateful(lock=site.lock), vault, ws_id, site.wait_seconds)
    keys_ready: list[pulumi.Resource] = [cmk.ready] if cmk else []

    store = StorageComponent(
        "storage",
        StorageProps(
            stores(
                grant(ws_id, "workspace", "contributor", "Contributor"),
                grant(ws_id, "workspace", "blob-data", "Storage Blob Data Contributor"),
                # Jobs write to the workspace's default datastore, whose container AML names itself.
                grant(job_id, "compute", "blob-data", "Storage Blob Data Contributor"),
                *ids.instance_grant("blob-data", "Storage Blob Data Contributor"),
                customer_managed_key=cmk.key("storage") if cmk else None,
            ),
            name=names.storage,
            replication=cfg.storage.replication,
            public_network_access=public,
            allowed_ip_ranges=allowed,
            depends_on=keys_ready,
        ),
    )
    lake = StorageComponent(
        "datalake",
        StorageProps(
            stores(
                # Jobs read team data as the compute identity when no user identity is set (scheduled
                # pipelines have none); their outputs go to the workspace's default datastore, so read only.
                grant(job_id, "compute", "blob-data-reader", "Storage Blob Data Reader"),
                # The managed VNet's private endpoints to the lake are approved by the workspace identity
                # (how-to-managed-network: a UAI workspace needs this role on the target).
                *([grant(ws_id, "workspace", "pe-approver", "Azure AI Enterprise Network Connection Approver")]
                  if topo.managed_network else []),
                customer_managed_key=cmk.key("datalake") if cmk else None,
            ),
            name=names.data_lake,
            replication=cfg.storage.replication,
            public_network_access=public,
            allowed_ip_ranges=allowed,
            data_lake=True,
            containers=[c for team in cfg.teams.values() for c in team.containers],
            depends_on=keys_ready,
        ),
    )
    registry = RegistryComponent(
        "registry",
        RegistryProps(
            stores(
                grant(ws_id, "workspace", "contributor", "Contributor"),
                grant(job_id, "compute", "acr-pull", "AcrPull"),
                *ids.instance_grant("acr-pull", "AcrPull"),
                lock=site.lock,
                customer_managed_key=cmk.key("registry") if cmk else None,
            ),
            name=names.registry,
            sku=cfg.registry.sku,
            public_network_access=public,
            zone_redundancy=cfg.registry.zone_redundancy,
            quarantine=cfg.registry.quarantine,
            allowed_ip_ranges=allowed,
            depends_on=keys_ready,
        ),
    )

    if net.vnet is not None and cfg.network.stack_flow_logs:
        flow_logs_for(cfg, names, net.vnet, mon.component,
                      stores(customer_managed_key=cmk.key("flowlogs") if cmk else None), site.wait_seconds,
                      keys_ready)
    return Data(vault, cmk, keys_ready, store, lake, registry)
