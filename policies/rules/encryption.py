"""Customer-managed keys where the stack has them on (mirrors CKV_AMLP_33-35).

The fact `customer_managed_key` is the stack's amlplatform:encryption.customerManagedKey.enabled
(`aks_kms` its aksKms with it): where it is on, nothing may drop a key silently, in the offline plan,
a real preview (`amlplatform scan`) or live (`pulumi preview --policy-pack policies`). Values a preview
cannot know yet (a key's URI on the first deployment) count as set.
"""

from __future__ import annotations

from typing import Any

from .core import Resource, Rule, StackFacts, dig, unknown
from .tokens import AKS, KEY, REGISTRY, STORAGE, WORKSPACE


def _set(value: Any) -> bool:
    return unknown(value) or bool(value)


def _lower(value: Any) -> str:
    return "" if unknown(value) else str(value or "").lower()


def workspace_cmk(res: Resource, facts: StackFacts) -> str | None:
    if not facts.customer_managed_key or _lower(res.props.get("kind")) == "project":
        return None
    enc = res.props.get("encryption") or {}
    if (_lower(enc.get("status")) == "enabled" and _set(dig(enc, "keyVaultProperties.keyVaultArmId"))
            and _set(dig(enc, "keyVaultProperties.keyIdentifier")) and _set(dig(enc, "identity.userAssignedIdentity"))
            and res.props.get("enableServiceSideCMKEncryption") is True):
        return None
    return (f"workspace {res.props.get('workspaceName')}: customer-managed keys are on for this stack: encryption "
            "needs status Enabled, keyVaultProperties (keyVaultArmId, keyIdentifier), identity.userAssignedIdentity "
            "and enableServiceSideCMKEncryption true")


def storage_cmk(res: Resource, facts: StackFacts) -> str | None:
    if not facts.customer_managed_key:
        return None
    enc = res.props.get("encryption") or {}
    wrong = []
    if _lower(enc.get("keySource")) != "microsoft.keyvault":
        wrong.append("keySource Microsoft.Keyvault")
    if not (_set(dig(enc, "keyVaultProperties.keyName")) and _set(dig(enc, "keyVaultProperties.keyVaultUri"))):
        wrong.append("keyVaultProperties (keyName, keyVaultUri)")
    if not _set(dig(enc, "encryptionIdentity.encryptionUserAssignedIdentity")):
        wrong.append("encryptionIdentity.encryptionUserAssignedIdentity")
    for svc in ("queue", "table"):
        if dig(enc, f"services.{svc}.keyType") != "Account":
            wrong.append(f"services.{svc}.keyType Account")
    if not wrong:
        return None
    return f"storage account {res.props.get('accountName')}: customer-managed keys are on for this stack: " \
           "encryption needs " + ", ".join(wrong)


def registry_cmk(res: Resource, facts: StackFacts) -> str | None:
    if not facts.customer_managed_key:
        return None
    enc = res.props.get("encryption") or {}
    if (_lower(enc.get("status")) == "enabled" and _set(dig(enc, "keyVaultProperties.keyIdentifier"))
            and _set(dig(enc, "keyVaultProperties.identity"))):
        return None
    return (f"registry {res.props.get('registryName')}: customer-managed keys are on for this stack: encryption needs "
            "status enabled with keyVaultProperties (keyIdentifier, identity)")


def aks_disks_cmk(res: Resource, facts: StackFacts) -> str | None:
    if not facts.customer_managed_key or _set(res.props.get("diskEncryptionSetID")):
        return None
    return (f"AKS cluster {res.props.get('resourceName')}: customer-managed keys are on for this stack: "
            "diskEncryptionSetID must name the stack's disk encryption set")


def aks_kms(res: Resource, facts: StackFacts) -> str | None:
    if not facts.aks_kms:
        return None
    kms = dig(res.props, "securityProfile.azureKeyVaultKms") or {}
    api = res.props.get("apiServerAccessProfile") or {}
    if (kms.get("enabled") is True and _set(kms.get("keyId")) and kms.get("keyVaultNetworkAccess") == "Private"
            and _set(kms.get("keyVaultResourceId")) and api.get("enableVnetIntegration") is True
            and _set(api.get("subnetId"))):
        return None
    return (f"AKS cluster {res.props.get('resourceName')}: KMS is on for this stack: securityProfile.azureKeyVaultKms "
            "needs enabled, keyId, keyVaultNetworkAccess Private and keyVaultResourceId, over API Server VNet "
            "Integration (apiServerAccessProfile.enableVnetIntegration with subnetId)")


def key_rotation(res: Resource, facts: StackFacts) -> str | None:
    actions = dig(res.props, "properties.rotationPolicy.lifetimeActions") or []
    if any(_lower(dig(a, "action.type")) == "rotate"
           and (dig(a, "trigger.timeAfterCreate") or dig(a, "trigger.timeBeforeExpiry"))
           for a in actions if isinstance(a, dict)):
        return None
    return f"key {res.props.get('keyName')}: its rotation policy needs a Rotate lifetime action (automatic rotation)"


RULES = (
    Rule("cmk-workspace", "The workspace is encrypted with the stack's key, service-side", frozenset({WORKSPACE}),
         workspace_cmk, checkov="CKV_AMLP_33"),
    Rule("cmk-storage", "Storage accounts use the stack's key, queues and tables included", frozenset({STORAGE}),
         storage_cmk, checkov="CKV_AMLP_34"),
    Rule("cmk-registry", "The registry is encrypted with the stack's key", frozenset({REGISTRY}), registry_cmk,
         checkov="CKV_AMLP_35"),
    Rule("cmk-aks-disks", "AKS node disks use the stack's disk encryption set", frozenset({AKS}), aks_disks_cmk,
         checkov="CKV_AMLP_36"),
    Rule("cmk-aks-kms", "AKS encrypts etcd secrets with KMS and the private vault", frozenset({AKS}), aks_kms,
         checkov="CKV_AMLP_37"),
    Rule("keyvault-key-rotation", "Key Vault keys rotate automatically", frozenset({KEY}), key_rotation,
         checkov="CKV_AMLP_38"),
)
