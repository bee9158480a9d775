"""The one interface every component shares (infra/components/common.py), shaped like Azure Verified Modules'.

AVM's shared interfaces (https://azure.github.io/Azure-Verified-Modules/specs/shared/interfaces; the schemas in
Azure/Azure-Verified-Modules docs/static/includes/interfaces): tags, lock {kind, name}, role assignments with an
optional ABAC condition, diagnostic settings, private endpoints, managed identities {system_assigned,
user_assigned_resource_ids}, customer-managed key {vault, key, identity}. A component declares what it supports
and refuses the rest, so no setting is silently dropped.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
from pathlib import Path

import pytest

from infra.azure_facts import limits
from infra.azure_facts.roles import BUILTIN_ROLES
from infra.components import common
from infra.components.common import (
    SETTINGS,
    Common,
    Component,
    CustomerManagedKey,
    DiagnosticSettings,
    Lock,
    ManagedIdentities,
    PrivateEndpoints,
    PropsError,
    RoleAssignment,
    UserAssignedIdentity,
    stack_lock,
)
from tests.conftest import ROOT, stack_plan

PLACE = dict(resource_group_name="rg", location="westeurope", subscription_id="s")
PRINCIPAL = "00000000-0000-0000-0000-00000000b001"
KEY = CustomerManagedKey("/vault", "https://kv.vault.azure.net/", "cmk", "/vault/keys/cmk", "https://kv/keys/cmk",
                         "https://kv/keys/cmk/1", UserAssignedIdentity("/identities/id-cmk", "client"))

# Every module that declares components, and what each component supports (pinned: a change is deliberate).
MODULES = ["infra.components." + p.stem for p in sorted((ROOT / "infra/components").glob("*.py"))
           if p.stem not in ("__init__", "common")] + \
          ["infra.seeding.components", "infra.seeding.registry_components", "infra.state_backend.components"]
SUPPORTED = {
    "AccessComponent": set(),
    "AssetsComponent": set(),
    "ComputeComponent": {"tags"},
    "CustomerManagedKeysComponent": {"tags", "lock", "protect"},
    "EndpointsComponent": {"tags"},
    "FlowLogsComponent": {"tags", "diagnostic_settings", "private_endpoints", "customer_managed_key", "protect"},
    "IdentityComponent": {"tags"},
    "InferenceComponent": {"tags", "diagnostic_settings", "customer_managed_key"},
    "KeyVaultComponent": {"tags", "role_assignments", "diagnostic_settings", "private_endpoints", "lock", "protect"},
    "MlRegistryComponent": {"tags", "role_assignments", "diagnostic_settings", "protect"},
    "MonitorPrivateLinkComponent": {"tags", "private_endpoints"},
    "MonitoringComponent": {"tags", "role_assignments", "lock", "protect"},
    "NetworkComponent": {"tags", "diagnostic_settings"},
    "RegistryAssetsComponent": set(),
    "RegistryComponent": {"tags", "role_assignments", "diagnostic_settings", "private_endpoints", "lock",
                          "customer_managed_key", "protect"},
    "RegistryLinkComponent": {"tags", "role_assignments", "private_endpoints"},
    "TeamComponent": {"tags"},
    "SecretsKeyComponent": {"tags", "protect"},
    "StateStorageComponent": {"tags", "diagnostic_settings", "private_endpoints", "lock", "protect"},
    "StorageComponent": {"tags", "role_assignments", "diagnostic_settings", "private_endpoints",
                         "customer_managed_key", "protect"},
    "WorkspaceComponent": {"tags", "role_assignments", "diagnostic_settings", "private_endpoints",
                           "managed_identities", "customer_managed_key", "protect"},
}


def components() -> dict[str, type]:
    import pulumi

    found = {}
    for module in MODULES:
        for name, cls in inspect.getmembers(importlib.import_module(module), inspect.isclass):
            if issubclass(cls, pulumi.ComponentResource) and cls.__module__ == module:
                found[name] = cls
    return found


def test_every_component_declares_what_it_supports():
    found = components()
    assert {name: issubclass(cls, Component) for name, cls in found.items()} == {name: True for name in found}
    assert {name: set(cls.SUPPORTS) for name, cls in found.items()} == SUPPORTED


def test_a_component_names_only_known_settings():
    with pytest.raises(TypeError, match=r"Bad.SUPPORTS names unknown setting\(s\) locks"):
        type("Bad", (Component,), {"SUPPORTS": frozenset({"locks"})})


def every_setting() -> dict[str, object]:
    """One non-empty value for each shared setting."""
    return {
        "tags": {"team": "ml"},
        "lock": Lock("CanNotDelete"),
        "role_assignments": [RoleAssignment("reader", "Reader", PRINCIPAL, "Group")],
        "diagnostic_settings": DiagnosticSettings("/log"),
        "private_endpoints": PrivateEndpoints("/subnet"),
        "managed_identities": ManagedIdentities(user_assigned_resource_ids=["/identities/id-ws"]),
        "customer_managed_key": KEY,
        "protect": True,
    }


def test_carried_names_each_set_setting_and_nothing_empty():
    assert Common(**PLACE).carried() == []
    assert Common(**PLACE, role_assignments=[], tags={}, protect=False).carried() == []
    assert Common(**PLACE, **every_setting()).carried() == [
        "tags", "lock", "role_assignments", "diagnostic_settings", "private_endpoints", "managed_identities",
        "customer_managed_key", "protect"]
    assert set(every_setting()) == SETTINGS


@pytest.mark.parametrize("name", sorted(SUPPORTED))
def test_every_unsupported_setting_is_refused_with_the_component_and_setting(name):
    supports = frozenset(SUPPORTED[name])
    for setting, value in every_setting().items():
        c = Common(**PLACE, **{setting: value})
        if setting in supports:
            common.refuse_unsupported(name, "x", c, supports)
            continue
        with pytest.raises(PropsError) as err:
            common.refuse_unsupported(name, "x", c, supports)
        assert str(err.value).startswith(f"{name} 'x' does not support common.{setting} (it supports: ")


def test_a_component_refuses_before_it_declares_anything():
    """No Pulumi engine runs here: the refusal comes before the component registers itself."""
    from infra.components.identity import IdentityComponent, IdentityProps
    from infra.components.storage import StorageComponent, StorageProps

    with pytest.raises(PropsError, match=r"^StorageComponent 'storage' does not support common.lock \(it supports: "
                                         r"customer_managed_key, diagnostic_settings, private_endpoints, protect, "
                                         r"role_assignments, tags\); stop passing it$"):
        StorageComponent("storage", StorageProps(Common(**PLACE, lock=Lock("CanNotDelete")), name="stok1",
                                                 replication="Standard_LRS", public_network_access=False))
    with pytest.raises(PropsError, match="IdentityComponent 'id' does not support common.diagnostic_settings"):
        IdentityComponent("id", IdentityProps(Common(**PLACE, diagnostic_settings=DiagnosticSettings("/log")),
                                              "id-ok"))


def test_only_keeps_the_named_settings_for_a_child():
    c = Common(**PLACE, **every_setting())
    child = c.only("tags")
    assert child.carried() == ["tags"] and child.tags == {"team": "ml"}
    assert (child.resource_group_name, child.location, child.subscription_id) == ("rg", "westeurope", "s")
    with pytest.raises(PropsError, match="unknown shared setting"):
        c.only("locks")


# ---- lock ----------------------------------------------------------------------------------------------------


def test_the_stack_switch_maps_to_a_can_not_delete_lock():
    assert stack_lock(True) == Lock("CanNotDelete") and stack_lock(False) is None


def test_lock_names_and_notes_as_the_plans_render_them():
    lock = Lock("CanNotDelete")
    assert lock.notes_for("key vault") == \
        "amlplatform: the key vault holds state; remove this lock deliberately before deleting it."
    assert Lock("ReadOnly").notes_for("key vault") == \
        "amlplatform: the key vault is read-only; remove this lock deliberately before changing or deleting it."
    assert Lock("ReadOnly", notes="frozen for audit").notes_for("key vault") == "frozen for audit"


@pytest.mark.parametrize("kwargs, message", [
    ({"kind": "NotSpecified"}, "lock kind must be CanNotDelete or ReadOnly"),
    ({"kind": "CanNotDelete", "name": "lock/vault"}, "lock name 'lock/vault' must be 1-260 characters"),
    ({"kind": "CanNotDelete", "name": "x" * 261}, "must be 1-260 characters"),
    ({"kind": "CanNotDelete", "name": ""}, "lock name '' must be"),
    ({"kind": "CanNotDelete", "notes": "n" * 513}, "lock notes must be at most 512 characters"),
])
def test_lock_refuses_what_arm_refuses(kwargs, message):
    with pytest.raises(PropsError, match=message):
        Lock(**kwargs)


def test_shipped_locks_carry_the_rendered_names_and_notes():
    plan = stack_plan("prod")
    got = {lock.inputs["lockName"]: (lock.inputs["level"], lock.inputs["notes"])
           for lock in plan.of_type("azure-native:authorization:ManagementLockByScope")}
    note = "amlplatform: the {} holds state; remove this lock deliberately before deleting it."
    assert got == {
        "lock-keyvault": ("CanNotDelete", note.format("key vault")),
        "lock-registry": ("CanNotDelete", note.format("container registry")),
        "lock-monitoring-log": ("CanNotDelete", note.format("Log Analytics workspace")),
        "lock-cmk-des": ("CanNotDelete", note.format("disk encryption set")),
    }


# ---- role assignments ----------------------------------------------------------------------------------------


def test_a_role_is_a_builtin_name_or_a_role_definition_id():
    assert RoleAssignment("a", "Reader", PRINCIPAL, "User").role == "Reader"
    rid = f"/subscriptions/{'0' * 8}-0000-0000-0000-{'0' * 12}/providers/Microsoft.Authorization/roleDefinitions/" \
          f"{BUILTIN_ROLES['Reader']}"
    assert RoleAssignment("b", rid, PRINCIPAL, "User").role == rid
    with pytest.raises(PropsError, match="role 'Readers' is not in infra/azure_facts/roles.py BUILTIN_ROLES, nor a "
                                         "role definition ID"):
        RoleAssignment("c", "Readers", PRINCIPAL, "User")


@pytest.mark.parametrize("kwargs, message", [
    ({"condition": "@Resource[x] StringEquals 'y'"}, "condition and condition_version go together"),
    ({"condition_version": "2.0"}, "condition and condition_version go together"),
    ({"condition": "@Resource[x] StringEquals 'y'", "condition_version": "1.0"}, "condition_version must be 2.0"),
    ({"key": ""}, "a role assignment needs a key"),
])
def test_role_assignment_conditions_come_with_version_2(kwargs, message):
    args = {"key": "k", "role": "Storage Blob Data Reader", "principal_id": PRINCIPAL, "principal_type": "User",
            **kwargs}
    with pytest.raises(PropsError, match=message):
        RoleAssignment(**args)


def test_role_assignment_keys_are_unique_within_a_common():
    grant = RoleAssignment("reader", "Reader", PRINCIPAL, "Group")
    with pytest.raises(PropsError, match="role assignment key\\(s\\) reader repeat"):
        Common(**PLACE, role_assignments=[grant, dataclasses.replace(grant, role="Contributor")])


def test_the_upload_grant_carries_its_abac_condition_through_the_interface():
    from infra.seeding.components import UPLOAD_CONDITION
    from tests.test_assets import stack_plan as plan_with_assets

    grants = plan_with_assets("dev").of_type("azure-native:authorization:RoleAssignment")
    (grant,) = [ra for ra in grants if ra.name == "assets-ra-upload-blob-data"]
    assert grant.inputs["condition"] == UPLOAD_CONDITION and grant.inputs["conditionVersion"] == "2.0"
    assert grant.inputs["roleDefinitionId"].endswith(BUILTIN_ROLES["Storage Blob Data Contributor"])
    # Every other grant is unconditional: no condition keys at all, not even empty ones.
    assert not {k for ra in grants if ra is not grant for k in ra.inputs} & {"condition", "conditionVersion"}


# ---- managed identities and customer-managed keys -----------------------------------------------------------


def test_managed_identities_name_an_identity_and_map_to_arm_types():
    with pytest.raises(PropsError, match="managed_identities names no identity"):
        ManagedIdentities()
    assert ManagedIdentities(system_assigned=True).type == "SystemAssigned"
    assert ManagedIdentities(user_assigned_resource_ids=["/id"]).type == "UserAssigned"
    assert ManagedIdentities(True, ["/id"]).type == "SystemAssigned,UserAssigned"


def test_the_workspace_runs_as_a_user_assigned_identity():
    from infra.components.workspace import WorkspaceProps

    args = dict(name="mlw-ok", storage_account_id="/st", key_vault_id="/kv", container_registry_id="/cr",
                application_insights_id="/appi", public_network_access=False, hbi=False, friendly_name=None,
                description=None, managed_network=None)
    with pytest.raises(PropsError, match="common.managed_identities needs a user-assigned identity"):
        WorkspaceProps(Common(**PLACE), **args)
    with pytest.raises(PropsError, match="common.managed_identities needs a user-assigned identity"):
        WorkspaceProps(Common(**PLACE, managed_identities=ManagedIdentities(system_assigned=True)), **args)
    no_identity = dataclasses.replace(KEY, user_assigned_identity=None)
    with pytest.raises(PropsError, match="its customer-managed key needs the user-assigned identity"):
        WorkspaceProps(Common(**PLACE, managed_identities=ManagedIdentities(user_assigned_resource_ids=["/id"]),
                              customer_managed_key=no_identity), **args)


def test_keys_for_storage_and_the_registry_bring_the_identity_their_api_names():
    from infra.components.registry import RegistryProps
    from infra.components.storage import StorageProps

    with pytest.raises(PropsError, match="a customer-managed key needs the user-assigned identity"):
        StorageProps(Common(**PLACE, customer_managed_key=dataclasses.replace(KEY, user_assigned_identity=None)),
                     name="stok1", replication="Standard_LRS", public_network_access=False)
    without_client = dataclasses.replace(KEY, user_assigned_identity=UserAssignedIdentity("/identities/id-cmk"))
    with pytest.raises(PropsError, match="with its client ID"):
        RegistryProps(Common(**PLACE, customer_managed_key=without_client), name="crok12", sku="Premium",
                      public_network_access=False, zone_redundancy=False, quarantine=False)


def test_every_consumer_takes_the_one_key_type():
    """Prod's keys, as each consumer's API takes them: versionless for storage and the registry (they follow
    rotations), versioned for the workspace and KMS (they stay until moved)."""
    plan = stack_plan("prod")
    keys = {k.inputs["keyName"]: k for k in plan.of_type("azure-native:keyvault:Key")}
    vault = plan.one("azure-native:keyvault:Vault")
    lake = plan.one("azure-native:storage:StorageAccount", "datalake-account").inputs["encryption"]
    assert lake["keyVaultProperties"] == {"keyName": "cmk-datalake",
                                          "keyVaultUri": f"https://{vault.physical_name}.vault.azure.net/"}
    identity = plan.one("azure-native:managedidentity:UserAssignedIdentity", "cmk-datalake-identity-uai")
    assert lake["encryptionIdentity"] == {"encryptionUserAssignedIdentity": identity.id}
    acr = plan.one("azure-native:containerregistry:Registry").inputs["encryption"]["keyVaultProperties"]
    assert acr["keyIdentifier"] == keys["cmk-registry"].outputs["keyUri"]
    mlw = plan.one("azure-native:machinelearningservices:Workspace").inputs["encryption"]["keyVaultProperties"]
    assert mlw == {"keyVaultArmId": vault.id, "keyIdentifier": keys["cmk-workspace"].outputs["keyUriWithVersion"]}
    kms = plan.one("azure-native:containerservice:ManagedCluster").inputs["securityProfile"]["azureKeyVaultKms"]
    assert kms["keyId"] == keys["cmk-kms"].outputs["keyUriWithVersion"] and kms["keyVaultResourceId"] == vault.id


# ---- one source for bounds ------------------------------------------------------------------------------------


def test_a_range_names_its_bounds():
    assert limits.KEY_VAULT_SOFT_DELETE_DAYS.problem(7) is None
    assert limits.KEY_VAULT_SOFT_DELETE_DAYS.problem(91) == "key vault soft delete retention (days) must be 7-90, got 91"


def _bounds(model: type, field: str) -> tuple[int, int]:
    meta = model.model_fields[field].metadata  # type: ignore[attr-defined]
    return next(m.ge for m in meta if hasattr(m, "ge")), next(m.le for m in meta if hasattr(m, "le"))


def test_config_and_props_read_one_definition_of_each_bound():
    from infra.config.network import FlowLogsConfig
    from infra.config.stack import KeyVaultConfig, MonitoringConfig
    from infra.state_backend.config import KeyVaultSection, StorageSection

    def pair(r: limits.Range) -> tuple[int, int]:
        return r.low, r.high

    assert _bounds(KeyVaultConfig, "soft_delete_retention_days") == pair(limits.KEY_VAULT_SOFT_DELETE_DAYS)
    assert _bounds(KeyVaultSection, "soft_delete_retention_days") == pair(limits.KEY_VAULT_SOFT_DELETE_DAYS)
    assert _bounds(MonitoringConfig, "retention_days") == pair(limits.LOG_ANALYTICS_RETENTION_DAYS)
    assert _bounds(FlowLogsConfig, "retention_days") == pair(limits.FLOW_LOG_RETENTION_DAYS)
    assert _bounds(StorageSection, "soft_delete_days") == pair(limits.BLOB_SOFT_DELETE_DAYS)


@pytest.mark.parametrize("build, message", [
    ("keyvault", "key vault soft delete retention (days) must be 7-90, got 6"),
    ("monitoring", "Log Analytics retention (days) must be 30-730, got 731"),
    ("flow_logs", "flow log retention (days) must be 90-365, got 30"),
    ("state_storage", "blob soft delete retention (days) must be 1-365, got 0"),
])
def test_props_refuse_values_outside_the_same_bounds(build, message):
    from infra.components.flow_logs import FlowLogsProps
    from infra.components.keyvault import KeyVaultProps
    from infra.components.monitoring import MonitoringProps
    from infra.state_backend.components import StateStorageProps

    c = Common(**PLACE)
    makers = {
        "keyvault": lambda: KeyVaultProps(c, name="kv-ok-123", tenant_id="t", sku="standard",
                                          public_network_access=False, allowed_ip_ranges=[],
                                          soft_delete_retention_days=6),
        "monitoring": lambda: MonitoringProps(c, log_analytics_name="log-ok", app_insights_name="appi-ok",
                                              retention_days=731, app_insights_local_auth=True,
                                              private_ingestion=False),
        "flow_logs": lambda: FlowLogsProps(c, flow_log_name="fl", storage_name="stflok1", identity_name="id-fl",
                                           replication="Standard_LRS", vnet_id="/vnet", log_analytics_id="/log",
                                           log_analytics_customer_id="guid",
                                           network_watcher_resource_group="NetworkWatcherRG",
                                           network_watcher_name=None, retention_days=30, role_propagation_seconds=60),
        "state_storage": lambda: StateStorageProps(c, name="stok1", container="state", replication="Standard_LRS",
                                                   public_network_access=False, allowed_ip_ranges=[],
                                                   soft_delete_days=0, delete_old_versions_after_days=None),
    }
    with pytest.raises(PropsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        makers[build]()


def test_key_policies_take_the_platform_key_types_and_sizes():
    from infra.components.encryption import KeyPolicy
    from infra.state_backend.components import SecretsKeyProps

    with pytest.raises(PropsError, match="customer-managed keys are RSA-HSM or RSA of 3072 or 4096 bits, got RSA 2048"):
        KeyPolicy("RSA", 2048, "P1Y", "P2Y", "P30D")
    with pytest.raises(PropsError, match="the secrets key must be 3072 or 4096 bits, got 2048"):
        SecretsKeyProps(Common(**PLACE), vault_name="kv", name="k", key_type="RSA", key_size=2048, expiry="P2Y",
                        notify_before_expiry="P30D")


def test_flow_logs_use_azures_own_watcher_unless_named():
    from infra.components.flow_logs import FlowLogsProps

    def props(name: str | None) -> FlowLogsProps:
        return FlowLogsProps(Common(**PLACE), flow_log_name="fl", storage_name="stflok1", identity_name="id-fl",
                             replication="Standard_LRS", vnet_id="/vnet", log_analytics_id="/log",
                             log_analytics_customer_id="guid", network_watcher_resource_group="NetworkWatcherRG",
                             network_watcher_name=name, retention_days=90, role_propagation_seconds=60)

    assert props(None).watcher_name == "NetworkWatcher_westeurope"
    assert props("nw-hub").watcher_name == "nw-hub"


# ---- the state backend's account is the platform's hardening --------------------------------------------------

HARDENING = ("kind", "accessTier", "enableHttpsTrafficOnly", "minimumTlsVersion", "allowBlobPublicAccess",
             "allowSharedKeyAccess", "defaultToOAuthAuthentication", "isLocalUserEnabled", "isSftpEnabled",
             "allowCrossTenantReplication", "sasPolicy")


def test_the_state_account_is_hardened_by_the_platforms_own_lines():
    from tests.test_bootstrap import shipped

    state = shipped()[1].one("azure-native:storage:StorageAccount").inputs
    platform = stack_plan("staging").one("azure-native:storage:StorageAccount", "storage-account").inputs
    assert {k: state[k] for k in HARDENING} == {k: platform[k] for k in HARDENING}
    assert state["networkRuleSet"]["defaultAction"] == platform["networkRuleSet"]["defaultAction"] == "Deny"
    assert state["encryption"] == {"keySource": "Microsoft.Storage", "requireInfrastructureEncryption": True,
                                   "services": {"blob": {"enabled": True, "keyType": "Account"}}}


# ---- docstrings on every props field --------------------------------------------------------------------------

DOCUMENTED = [ROOT / "infra/components/common.py", ROOT / "infra/azure_facts/limits.py",
              *[ROOT / (m.replace(".", "/") + ".py") for m in MODULES]]


def undocumented_fields(path: Path) -> list[str]:
    """Fields of the dataclasses in `path` without a docstring right after them."""
    missing = []
    for cls in ast.walk(ast.parse(path.read_text())):
        if not isinstance(cls, ast.ClassDef) or not any(
                "dataclass" in ast.unparse(d) for d in cls.decorator_list):
            continue
        body = cls.body
        for i, stmt in enumerate(body):
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) \
                    and "ClassVar" not in ast.unparse(stmt.annotation):
                after = body[i + 1] if i + 1 < len(body) else None
                if not (isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                        and isinstance(after.value.value, str)):
                    missing.append(f"{path.relative_to(ROOT)}: {cls.name}.{stmt.target.id}")
    return missing


def test_every_props_field_says_what_it_is():
    assert [m for path in DOCUMENTED for m in undocumented_fields(path)] == []


def test_the_docstring_check_catches_a_bare_field(tmp_path):
    bad = ROOT / "tests" / "_undocumented_probe.py"
    bad.write_text("from dataclasses import dataclass\n\n\n@dataclass\nclass P:\n    a: int\n    b: str\n"
                   '    """documented."""\n')
    try:
        assert undocumented_fields(bad) == ["tests/_undocumented_probe.py: P.a"]
    finally:
        bad.unlink()
