"""Customer-managed keys: what Azure refuses, or accepts and then fails on, for a key and its consumers.

A consumer is a resource encrypted with a key-vault key: a workspace (`encryption`), a storage account
(`keySource: Microsoft.Keyvault`), a registry (`encryption.status: enabled`), a disk encryption set,
and an AKS cluster with KMS. Each names its key by URL (a storage account by vault URI and key name),
which the rules resolve to the planned vault and key.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Iterable

from infra.azure_facts.roles import BUILTIN_ROLES, KEY_ENCRYPT_ROLES, KEY_WRAP_ROLES
from infra.offline.engine import PlannedResource
from infra.offline.azure_rules.aks import _waits_for
from infra.offline.azure_rules.base import AzureRule, PlanView

VAULT = "Microsoft.KeyVault/vaults"
KEY = "Microsoft.KeyVault/vaults/keys"
WORKSPACE = "Microsoft.MachineLearningServices/workspaces"
STORAGE = "Microsoft.Storage/storageAccounts"
REGISTRY = "Microsoft.ContainerRegistry/registries"
DISK_ENCRYPTION_SET = "Microsoft.Compute/diskEncryptionSets"
CLUSTER = "Microsoft.ContainerService/managedClusters"
VNET = "Microsoft.Network/virtualNetworks"
ROLE_ASSIGNMENT = "Microsoft.Authorization/roleAssignments"
IDENTITY = "Microsoft.ManagedIdentity/userAssignedIdentities"
API_SERVER_DELEGATION = "Microsoft.ContainerService/managedClusters"

_KEY_URL = re.compile(r"^https://(?P<vault>[A-Za-z0-9-]+)\.vault\.azure\.net/keys/(?P<key>[A-Za-z0-9-]+)(/[0-9a-fA-F]*)?/?$")
_VAULT_URI = re.compile(r"^https://(?P<vault>[A-Za-z0-9-]+)\.vault\.azure\.net/?$")

SOURCES = {
    WORKSPACE: "https://learn.microsoft.com/azure/machine-learning/concept-customer-managed-keys",
    STORAGE: "https://learn.microsoft.com/azure/storage/common/customer-managed-keys-overview",
    REGISTRY: "https://learn.microsoft.com/azure/container-registry/tutorial-customer-managed-keys",
    DISK_ENCRYPTION_SET: "https://learn.microsoft.com/azure/aks/azure-disk-customer-managed-keys",
    CLUSTER: "https://learn.microsoft.com/azure/aks/use-kms-etcd-encryption",
}


def _lower(value: object) -> str:
    return str(value or "").lower()


@dataclass(frozen=True)
class Use:
    """One consumer's use of one key."""

    consumer: PlannedResource
    what: str
    vault: str | None  # vault name
    key: str | None  # key name
    # The identity that reaches the key: its principal ID when the plan knows it, and the resource that
    # makes it (a user-assigned identity, or the consumer itself for a system-assigned one).
    principal: str | None
    principal_source: str | None
    roles: tuple[str, ...]
    # Reached through the vault's trusted-services exception (everything but KMS, which AKS reaches through
    # its own private endpoint or the public network).
    trusted_service: bool = True

    @property
    def named(self) -> str:
        return f"{self.what} {self.consumer.physical_name}"


def _from_url(url: object) -> tuple[str | None, str | None]:
    m = _KEY_URL.match(str(url or ""))
    return (m.group("vault"), m.group("key")) if m else (None, None)


def _identity_by(view: PlanView, **match: str) -> PlannedResource | None:
    """The planned user-assigned identity with this ID or output (clientId, principalId)."""
    for uai in view.of_arm_type(IDENTITY):
        if all((_lower(uai.id) if k == "id" else _lower(uai.outputs.get(k))) == v.lower() for k, v in match.items()):
            return uai
    return None


def _principal(uai: PlannedResource | None) -> tuple[str | None, str | None]:
    if uai is None:
        return None, None
    value = uai.outputs.get("principalId")
    return (value if isinstance(value, str) else None), uai.urn


def _uses(view: PlanView) -> Iterable[Use]:
    """Every consumer's use of a key in the plan."""
    wrap = tuple(BUILTIN_ROLES[r] for r in KEY_WRAP_ROLES)
    encrypt = tuple(BUILTIN_ROLES[r] for r in KEY_ENCRYPT_ROLES)
    for ws in view.of_arm_type(WORKSPACE):
        enc = ws.inputs.get("encryption") or {}
        if _lower(enc.get("status")) == "enabled":
            uai = _identity_by(view, id=str((enc.get("identity") or {}).get("userAssignedIdentity") or ""))
            yield Use(ws, "workspace", *_from_url((enc.get("keyVaultProperties") or {}).get("keyIdentifier")),
                      *_principal(uai), wrap)
    for st in view.of_arm_type(STORAGE):
        enc = st.inputs.get("encryption") or {}
        if _lower(enc.get("keySource")) == "microsoft.keyvault":
            props = enc.get("keyVaultProperties") or {}
            m = _VAULT_URI.match(str(props.get("keyVaultUri") or ""))
            uai = _identity_by(view, id=str((enc.get("encryptionIdentity") or {}).get("encryptionUserAssignedIdentity")
                                            or ""))
            yield Use(st, "storage account", m.group("vault") if m else None, props.get("keyName"), *_principal(uai), wrap)
    for reg in view.of_arm_type(REGISTRY):
        enc = reg.inputs.get("encryption") or {}
        if _lower(enc.get("status")) == "enabled":
            props = enc.get("keyVaultProperties") or {}
            uai = _identity_by(view, clientId=str(props.get("identity") or ""))
            yield Use(reg, "registry", *_from_url(props.get("keyIdentifier")), *_principal(uai), wrap)
    for des in view.of_arm_type(DISK_ENCRYPTION_SET):
        key_url = (des.inputs.get("activeKey") or {}).get("keyUrl")
        if "SystemAssigned" in str((des.inputs.get("identity") or {}).get("type")):
            yield Use(des, "disk encryption set", *_from_url(key_url), None, des.urn, wrap)
        else:
            ids = (des.inputs.get("identity") or {}).get("userAssignedIdentities") or []
            yield Use(des, "disk encryption set", *_from_url(key_url),
                      *_principal(_identity_by(view, id=str(next(iter(ids), "")))), wrap)
    for cluster in view.of_arm_type(CLUSTER):
        kms = (cluster.inputs.get("securityProfile") or {}).get("azureKeyVaultKms") or {}
        if kms.get("enabled") is True:
            ids = (cluster.inputs.get("identity") or {}).get("userAssignedIdentities") or []
            yield Use(cluster, "AKS cluster (KMS)", *_from_url(kms.get("keyId")),
                      *_principal(_identity_by(view, id=str(next(iter(ids), "")))), encrypt, trusted_service=False)


def _vault(view: PlanView, name: str | None) -> PlannedResource | None:
    return next((v for v in view.of_arm_type(VAULT) if _lower(v.inputs.get("vaultName")) == _lower(name)), None) \
        if name else None


def _key(view: PlanView, vault: str | None, key: str | None) -> PlannedResource | None:
    return next((k for k in view.of_arm_type(KEY) if _lower(k.inputs.get("vaultName")) == _lower(vault)
                 and _lower(k.inputs.get("keyName")) == _lower(key)), None) if vault and key else None


def _grants_to(view: PlanView, principal: str | None, source: str | None) -> list[PlannedResource]:
    """Role assignments to a principal, known by value or by the resource its principalId comes from."""
    out = []
    for a in view.of_arm_type(ROLE_ASSIGNMENT):
        by_value = principal is not None and _lower(a.inputs.get("principalId")) == principal.lower()
        by_source = source is not None and source in a.property_dependencies.get("principalId", [])
        if by_value or by_source:
            out.append(a)
    return out


def _covers(scope: object, target: str) -> bool:
    s, t = _lower(scope).rstrip("/"), target.lower()
    return bool(s) and (t == s or t.startswith(s + "/"))


def _role(a: PlannedResource) -> str:
    return _lower(a.inputs.get("roleDefinitionId")).rsplit("/", 1)[-1]


def _waiters(view: PlanView, use: Use) -> list[PlannedResource]:
    """What must wait for the grant: the consumer, or for a set with a system-assigned identity (granted
    after it exists) the clusters that use it."""
    if use.consumer.type.endswith("DiskEncryptionSet") and use.principal_source == use.consumer.urn:
        return [c for c in view.of_arm_type(CLUSTER)
                if _lower(c.inputs.get("diskEncryptionSetID")) == _lower(use.consumer.id)]
    return [use.consumer]


def key_access(view: PlanView) -> Iterable[tuple[str, str]]:
    """A consumer whose identity holds no role with the key operations it calls on its key (or the vault, or
    above), or that does not wait for that grant."""
    for use in _uses(view):
        key = _key(view, use.vault, use.key)
        if key is None or key.id is None or (use.principal is None and use.principal_source is None):
            continue
        vault = _vault(view, use.vault)
        if vault is not None and (vault.inputs.get("properties") or {}).get("enableRbacAuthorization") is not True:
            # Microsoft.KeyVault 2024-11-01 VaultProperties.enableRbacAuthorization: "When false, the key vault
            # will use the access policies ... and any policy stored on Azure Resource Manager will be ignored",
            # and false is the default.
            yield use.consumer.urn, (f"{use.named} encrypts with {use.vault}/{use.key}, but the vault authorizes data "
                                     "actions with access policies (enableRbacAuthorization not true): the role "
                                     "assignments that grant key access take no effect there")
            continue
        grants = [a for a in _grants_to(view, use.principal, use.principal_source)
                  if _covers(a.inputs.get("scope"), key.id) and _role(a) in use.roles]
        if not grants:
            yield use.consumer.urn, (f"{use.named} encrypts with {use.vault}/{use.key}, but its identity holds no role "
                                     "with the key operations it calls (get, wrap and unwrap; encrypt and decrypt for "
                                     "KMS) on the key, its vault or above: Azure refuses the setting or the first use")
            continue
        for waiter in _waiters(view, use):
            if not any(_waits_for(view, waiter, g.urn) for g in grants):
                yield waiter.urn, (f"{view.arm_type(waiter)} {waiter.physical_name} is created before the grant that "
                                   f"lets {use.named} use {use.vault}/{use.key}: Azure checks key access at creation")


def vault_protection(view: PlanView) -> Iterable[tuple[str, str]]:
    """The vault of a customer-managed key keeps soft delete and purge protection on."""
    for use in _uses(view):
        vault = _vault(view, use.vault)
        props = (vault.inputs.get("properties") or {}) if vault else {}
        if vault is not None and (props.get("enableSoftDelete") is False or props.get("enablePurgeProtection") is not True):
            yield use.consumer.urn, (f"{use.named} encrypts with a key in {use.vault}, which lacks soft delete or purge "
                                     "protection: every customer-managed key consumer requires both (a deleted key "
                                     "would make the data unrecoverable)")


def vault_reachable(view: PlanView) -> Iterable[tuple[str, str]]:
    """Consumers reach a firewalled vault as trusted Azure services only with the AzureServices bypass; KMS
    with Public access cannot pass a firewall at all, and with Private access needs the vault's ID."""
    for use in _uses(view):
        vault = _vault(view, use.vault)
        if vault is None:
            continue
        props = vault.inputs.get("properties") or {}
        acls = props.get("networkAcls") or {}
        closed = _lower(props.get("publicNetworkAccess")) == "disabled" or _lower(acls.get("defaultAction")) == "deny"
        if use.trusted_service:
            if closed and "azureservices" not in _lower(acls.get("bypass")):
                yield use.consumer.urn, (f"{use.named} reaches {use.vault} as a trusted Azure service, but the vault "
                                         "is firewalled without networkAcls.bypass AzureServices")
            continue
        kms = (use.consumer.inputs.get("securityProfile") or {}).get("azureKeyVaultKms") or {}
        access = kms.get("keyVaultNetworkAccess") or "Public"
        if access == "Public" and closed:
            yield use.consumer.urn, (f"KMS with keyVaultNetworkAccess Public cannot reach {use.vault}, whose public "
                                     "access is disabled or firewalled: use Private access")
        elif access == "Private" and _lower(kms.get("keyVaultResourceId")) != _lower(vault.id):
            yield use.consumer.urn, (f"KMS with keyVaultNetworkAccess Private needs keyVaultResourceId {vault.id} (the "
                                     "vault of its key)")


def key_fits(view: PlanView) -> Iterable[tuple[str, str]]:
    """The key exists in the plan as an RSA key its consumer can call: HSM keys only in a premium vault, and the
    key operations the consumer calls permitted."""
    for use in _uses(view):
        key = _key(view, use.vault, use.key)
        if key is None:
            if use.vault and use.key and _vault(view, use.vault) is not None:
                yield use.consumer.urn, f"{use.named} names key {use.key}, which the plan does not create in {use.vault}"
            continue
        props = key.inputs.get("properties") or {}
        kty = str(props.get("kty") or "RSA")
        vault = _vault(view, use.vault)
        sku = _lower(((vault.inputs.get("properties") or {}).get("sku") or {}).get("name")) if vault else ""
        ops = props.get("keyOps")
        needed = ("encrypt", "decrypt") if not use.trusted_service else ("wrapKey", "unwrapKey")
        if kty not in ("RSA", "RSA-HSM"):
            yield use.consumer.urn, f"{use.named} needs an RSA key; {use.key} is {kty}"
        elif kty == "RSA-HSM" and sku == "standard":
            yield key.urn, f"key {use.key} is RSA-HSM in the standard vault {use.vault}: HSM-protected keys need premium"
        if isinstance(ops, list) and not set(needed) <= set(ops):
            yield key.urn, (f"key {use.key} permits {', '.join(ops)}; {use.named} calls "
                            f"{' and '.join(needed)}")


def kms_vnet_integration(view: PlanView) -> Iterable[tuple[str, str]]:
    """"If a cluster has KMS turned on and has a private key vault, it must use the API Server VNet Integration
    tunnel. Konnectivity isn't supported." """
    for cluster in view.of_arm_type(CLUSTER):
        kms = (cluster.inputs.get("securityProfile") or {}).get("azureKeyVaultKms") or {}
        api = cluster.inputs.get("apiServerAccessProfile") or {}
        if kms.get("enabled") is True and kms.get("keyVaultNetworkAccess") == "Private" and not (
                api.get("enableVnetIntegration") is True and api.get("subnetId")):
            yield cluster.urn, ("KMS with a private key vault runs only over API Server VNet Integration "
                                "(apiServerAccessProfile.enableVnetIntegration with subnetId)")


def _subnet(view: PlanView, subnet_id: str) -> dict[str, Any] | None:
    vnet_id, _, name = subnet_id.rpartition("/subnets/")
    vnet = view.get(vnet_id)
    if vnet is None:
        return None
    return next((s for s in vnet.inputs.get("subnets") or [] if s.get("name") == name), None)


def api_server_subnet(view: PlanView) -> Iterable[tuple[str, str]]:
    """The API server subnet is delegated to AKS, /28 or larger, and no node pool's subnet."""
    for cluster in view.of_arm_type(CLUSTER):
        api = cluster.inputs.get("apiServerAccessProfile") or {}
        subnet_id = api.get("subnetId")
        if api.get("enableVnetIntegration") is not True or not isinstance(subnet_id, str):
            continue
        subnet = _subnet(view, subnet_id)
        if subnet is None:
            continue
        delegated = [d.get("serviceName") for d in subnet.get("delegations") or []]
        if API_SERVER_DELEGATION not in delegated:
            yield cluster.urn, f"API server subnet {subnet.get('name')} is not delegated to {API_SERVER_DELEGATION}"
        prefix = subnet.get("addressPrefix")
        if isinstance(prefix, str) and ipaddress.ip_network(prefix, strict=False).prefixlen > 28:
            yield cluster.urn, f"API server subnet {subnet.get('name')} is {prefix}: the minimum is /28"
        pools = [p.get("vnetSubnetID") for p in cluster.inputs.get("agentPoolProfiles") or []]
        if any(_lower(p) == _lower(subnet_id) for p in pools):
            yield cluster.urn, f"API server subnet {subnet.get('name')} also holds node pools: it serves API servers only"


def registry_premium(view: PlanView) -> Iterable[tuple[str, str]]:
    for reg in view.of_arm_type(REGISTRY):
        sku = ((reg.inputs.get("sku") or {}).get("name"))
        if _lower((reg.inputs.get("encryption") or {}).get("status")) == "enabled" and sku != "Premium":
            yield reg.urn, f"registry {reg.physical_name} is {sku}: customer-managed keys are a Premium feature"


# Properties Azure sets only when it creates the resource: (ARM type, input path, why, source).
CREATION_ONLY: tuple[tuple[str, str, str, str], ...] = (
    (WORKSPACE, "encryption.status", "a workspace's customer-managed key is set when it is created",
     SOURCES[WORKSPACE]),
    (WORKSPACE, "encryption.keyVaultProperties.keyVaultArmId", "afterwards the key can only change to another key "
     "in the original vault", SOURCES[WORKSPACE]),
    (WORKSPACE, "enableServiceSideCMKEncryption", "where the metadata lives is chosen at creation", SOURCES[WORKSPACE]),
    (WORKSPACE, "hbiWorkspace", "\"You can set the hbi_workspace flag only when you create a workspace\"",
     SOURCES[WORKSPACE]),
    (REGISTRY, "encryption.status", "\"You can currently enable a customer-managed key only while creating a "
     "registry\" and \"You can't disable the encryption\"", SOURCES[REGISTRY]),
    (STORAGE, "encryption.services.queue.keyType", "queues take the account's key only if the account is created "
     "so", SOURCES[STORAGE]),
    (STORAGE, "encryption.services.table.keyType", "tables take the account's key only if the account is created "
     "so", SOURCES[STORAGE]),
    (STORAGE, "encryption.requireInfrastructureEncryption", "infrastructure encryption is chosen at creation",
     "https://learn.microsoft.com/azure/storage/common/infrastructure-encryption-enable"),
    (CLUSTER, "diskEncryptionSetID", "\"Encryption of an OS disk with customer-managed keys can only be enabled "
     "when creating an AKS cluster\"", SOURCES[DISK_ENCRYPTION_SET]),
)


def _at(value: Any, path: str) -> Any:
    for step in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(step)
    return value


def _same(a: Any, b: Any) -> bool:
    return (_lower(a) == _lower(b)) if isinstance(a, str) and isinstance(b, str) else a == b


def creation_only(view: PlanView) -> Iterable[tuple[str, str]]:
    """A real preview that changes a create-time encryption property of a deployed resource: Azure refuses the
    update, or the provider replaces the resource and its data goes with it. Switching customer-managed keys
    for a deployed stack is a deliberate re-creation (README: Customer-managed keys), never a side effect."""
    for kind, path, why, source in CREATION_ONLY:
        for res in view.of_arm_type(kind):
            if res.prior_inputs is None:
                continue
            before, after = _at(res.prior_inputs, path), _at(res.inputs, path)
            if not _same(before, after):
                yield res.urn, (f"{kind} {res.physical_name} changes {path} from {before!r} to {after!r} on the deployed "
                                f"resource: {why} ({source}); re-create it deliberately under a new "
                                "platform.generation, or keep the setting")


def service_side_private_vault(view: PlanView) -> Iterable[tuple[str, str]]:
    """Service-side metadata encryption with a key in a vault whose public network access is disabled: Microsoft's
    concept page says that is not supported (an open risk: nothing newer says otherwise, and no plan can ask)."""
    for use in _uses(view):
        if use.what != "workspace" or use.consumer.inputs.get("enableServiceSideCMKEncryption") is not True:
            continue
        vault = _vault(view, use.vault)
        props = (vault.inputs.get("properties") or {}) if vault else {}
        if _lower(props.get("publicNetworkAccess")) == "disabled":
            yield use.consumer.urn, (f"{use.named} encrypts its metadata service-side with a key in {use.vault}, whose "
                                     "public network access is disabled, which Microsoft documents as not supported: "
                                     "deploy a stack with this design (staging with customer-managed keys on) first")


# Open risks: what a primary source says Azure may refuse but the plan cannot settle; the report lists each under
# "To verify on the first deployment" without failing the plan.
RISKS = (
    AzureRule("azure-cmk-service-side-private-vault", "Service-side workspace encryption with a private vault",
              SOURCES[WORKSPACE] + "#preview-service-side-encryption-of-metadata", service_side_private_vault),
)

RULES = (
    AzureRule("azure-cmk-key-access",
              "A customer-managed key's consumer holds the key operations it calls, granted before it is created",
              "https://learn.microsoft.com/azure/key-vault/general/rbac-guide", key_access),
    AzureRule("azure-cmk-vault-protection", "A customer-managed key's vault has soft delete and purge protection",
              SOURCES[WORKSPACE], vault_protection),
    AzureRule("azure-cmk-vault-reachable", "A firewalled vault lets its key's consumers through",
              "https://learn.microsoft.com/azure/key-vault/general/overview-vnet-service-endpoints#trusted-services",
              vault_reachable),
    AzureRule("azure-cmk-key-fits", "A customer-managed key exists, is RSA, fits its vault's SKU and permits its "
              "consumer's operations", "https://learn.microsoft.com/azure/key-vault/keys/about-keys", key_fits),
    AzureRule("azure-aks-kms-private-vnet-integration", "KMS with a private vault uses API Server VNet Integration",
              SOURCES[CLUSTER], kms_vnet_integration),
    AzureRule("azure-aks-api-server-subnet", "The API server subnet is delegated to AKS, /28 or larger, API servers only",
              "https://learn.microsoft.com/azure/aks/api-server-vnet-integration", api_server_subnet),
    AzureRule("azure-registry-cmk-premium", "Registry customer-managed keys need Premium", SOURCES[REGISTRY],
              registry_premium),
    AzureRule("azure-cmk-creation-only", "A preview does not change a create-time encryption property of a deployed "
              "resource", SOURCES[REGISTRY], creation_only),
)
