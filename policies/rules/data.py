"""Storage, key vault, registry and monitoring (mirrors CKV_AMLP_4-8 and the secure defaults)."""

from __future__ import annotations

from .core import Resource, Rule, StackFacts, dig
from .tokens import APP_INSIGHTS, BLOB_SERVICE, KEY_VAULT, LOG_ANALYTICS, REGISTRY, STORAGE


def storage_no_shared_key(res: Resource, facts: StackFacts) -> str | None:
    if res.props.get("allowSharedKeyAccess") is False:
        return None
    return f"storage account {res.props.get('accountName')}: allowSharedKeyAccess must be false (Entra ID only)"


def storage_secure_transport(res: Resource, facts: StackFacts) -> str | None:
    wrong = []
    if res.props.get("minimumTlsVersion") not in ("TLS1_2", "TLS1_3"):
        wrong.append(f"minimumTlsVersion {res.props.get('minimumTlsVersion')!r} (TLS1_2 or later)")
    if res.props.get("enableHttpsTrafficOnly") is not True:
        wrong.append("enableHttpsTrafficOnly must be true")
    if res.props.get("allowBlobPublicAccess") is not False:
        wrong.append("allowBlobPublicAccess must be false")
    return f"storage account {res.props.get('accountName')}: " + "; ".join(wrong) if wrong else None


def blob_soft_delete(res: Resource, facts: StackFacts) -> str | None:
    for key in ("deleteRetentionPolicy", "containerDeleteRetentionPolicy"):
        policy = res.props.get(key) or {}
        if policy.get("enabled") is not True or int(policy.get("days") or 0) < 1:
            return f"blob service of {res.props.get('accountName')}: {key} must be enabled with days >= 1"
    return None


def key_vault_rbac(res: Resource, facts: StackFacts) -> str | None:
    wrong = [key for key in ("enableRbacAuthorization", "enablePurgeProtection")
             if dig(res.props, f"properties.{key}") is not True]
    if not wrong:
        return None
    return f"key vault {res.props.get('vaultName')}: " + ", ".join(f"properties.{k} must be true" for k in wrong)


def registry_no_admin(res: Resource, facts: StackFacts) -> str | None:
    wrong = [key for key in ("adminUserEnabled", "anonymousPullEnabled") if res.props.get(key) is not False]
    if not wrong:
        return None
    return f"registry {res.props.get('registryName')}: " + ", ".join(f"{k} must be false" for k in wrong)


def app_insights_workspace_based(res: Resource, facts: StackFacts) -> str | None:
    if res.props.get("ingestionMode") == "LogAnalytics" and res.props.get("workspaceResourceId"):
        return None
    return "Application Insights must be workspace-based (ingestionMode LogAnalytics, workspaceResourceId set)"


def log_retention(res: Resource, facts: StackFacts) -> str | None:
    days = res.props.get("retentionInDays")
    if isinstance(days, (int, float)) and days >= 30:
        return None
    return f"Log Analytics retentionInDays is {days!r}; keep at least 30 days"


RULES = (
    Rule("storage-no-shared-key", "Storage accounts disable shared key access", frozenset({STORAGE}),
         storage_no_shared_key, checkov="CKV_AMLP_4"),
    Rule("storage-secure-transport", "Storage: TLS 1.2+, HTTPS only, no anonymous blob access",
         frozenset({STORAGE}), storage_secure_transport, checkov="CKV_AZURE_44"),
    Rule("storage-blob-soft-delete", "Blob and container soft delete are on", frozenset({BLOB_SERVICE}),
         blob_soft_delete, checkov="CKV_AMLP_5"),
    Rule("keyvault-rbac-purge-protection", "Key vaults use Azure RBAC and purge protection",
         frozenset({KEY_VAULT}), key_vault_rbac, checkov="CKV_AMLP_6"),
    Rule("registry-no-admin-user", "Registries have no admin user and no anonymous pull", frozenset({REGISTRY}),
         registry_no_admin, checkov="CKV_AZURE_137"),
    Rule("appinsights-workspace-based", "Application Insights stores in Log Analytics",
         frozenset({APP_INSIGHTS}), app_insights_workspace_based, checkov="CKV_AMLP_7"),
    Rule("log-retention", "Log Analytics keeps logs at least 30 days", frozenset({LOG_ANALYTICS}), log_retention,
         checkov="CKV_AMLP_8"),
)
