"""Storage, key vault, registry and monitoring (mirrors CKV_AMLP_4-8 and the secure defaults)."""

from __future__ import annotations

import re
from typing import Sequence

from .core import Resource, Rule, StackFacts, dig, unknown
from .tokens import (
    APP_INSIGHTS, BLOB_SERVICE, KEY_VAULT, LOG_ANALYTICS, PRIVATE_LINK_SCOPE, REGISTRY, SCOPED_RESOURCE, STORAGE,
)

# Azure Policy 7aa1c9d5 "Storage SAS tokens should adhere to 7 day maximum validity": sasExpirationPeriod
# (d.hh:mm:ss) at most 7 days, and expirationAction Block.
SAS_MAX_DAYS = 7
_PERIOD = re.compile(r"^(\d+)\.(\d{1,2}):(\d{1,2}):(\d{1,2})$")


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


def sas_period_ok(period: object) -> bool:
    """At most SAS_MAX_DAYS in d.hh:mm:ss, as the built-in policy reads it."""
    m = _PERIOD.match(period) if isinstance(period, str) else None
    if not m:
        return False
    days, *rest = (int(g) for g in m.groups())
    return days < SAS_MAX_DAYS or (days == SAS_MAX_DAYS and not any(rest))


def storage_sas_policy(res: Resource, facts: StackFacts) -> str | None:
    policy = res.props.get("sasPolicy") or {}
    if sas_period_ok(policy.get("sasExpirationPeriod")) and policy.get("expirationAction") == "Block":
        return None
    return f"storage account {res.props.get('accountName')}: sasPolicy must cap SAS at {SAS_MAX_DAYS} days " \
           "(sasExpirationPeriod d.hh:mm:ss) with expirationAction Block"


def registry_arm_tokens_off(res: Resource, facts: StackFacts) -> str | None:
    status = dig(res.props, "policies.azureADAuthenticationAsArmPolicy.status")
    if str(status).lower() == "disabled":
        return None
    return f"registry {res.props.get('registryName')}: policies.azureADAuthenticationAsArmPolicy.status is " \
           f"{status!r}; set 'disabled' so only ACR-audience Entra tokens open it (the SDK's default is enabled)"


def _linked(target: Resource, scoped: Sequence[Resource]) -> bool:
    for s in scoped:
        linked = s.props.get("linkedResourceId")
        if target.urn in (s.property_dependencies.get("linkedResourceId") or ()):
            return True
        if isinstance(linked, str) and not unknown(linked) and target.id and linked.lower() == target.id.lower():
            return True
    return False


def private_ingestion(resources: Sequence[Resource], facts: StackFacts) -> list[tuple[str, str]]:
    """With amlplatform:network.monitorPrivateLink, telemetry arrives only through the private link scope:
    the scope takes ingestion PrivateOnly, and every Log Analytics workspace and App Insights component has
    public ingestion Disabled and is linked to it."""
    if not facts.private_ingestion:
        return []
    scopes = [r for r in resources if r.type == PRIVATE_LINK_SCOPE]
    scoped = [r for r in resources if r.type == SCOPED_RESOURCE]
    private_only = any(dig(r.props, "accessModeSettings.ingestionAccessMode") == "PrivateOnly" for r in scopes)
    out = []
    for r in resources:
        if r.type not in (LOG_ANALYTICS, APP_INSIGHTS):
            continue
        what = f"{r.type.split(':')[-1]} {r.logical_name}"
        if not private_only:
            out.append((r.urn, f"{what}: no Azure Monitor private link scope takes ingestion PrivateOnly, though the "
                               "stack sets amlplatform:network.monitorPrivateLink"))
        if r.props.get("publicNetworkAccessForIngestion") != "Disabled":
            out.append((r.urn, f"{what}: publicNetworkAccessForIngestion must be Disabled (ingestion through the "
                               "private link scope only)"))
        if not _linked(r, scoped):
            out.append((r.urn, f"{what} is not linked to the private link scope (no scopedResources entry), so "
                               "nothing can send to it once public ingestion is off"))
    return out


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
    Rule("storage-sas-policy", "Storage accounts cap SAS at 7 days and block longer ones", frozenset({STORAGE}),
         storage_sas_policy, checkov="CKV_AMLP_31"),
    Rule("registry-arm-audience-tokens-off", "Registries accept only ACR-audience Entra tokens",
         frozenset({REGISTRY}), registry_arm_tokens_off, checkov="CKV_AMLP_28"),
    Rule("private-ingestion", "With a monitor private link scope, Log Analytics and App Insights ingest privately only",
         frozenset(), stack_check=private_ingestion, checkov="CKV_AMLP_30"),
)
