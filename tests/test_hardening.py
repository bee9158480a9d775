"""Issue 13 in the program's output: the exact properties each item sets, per stack, and the preflight around them."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from infra.config import stack as config
from infra.offline import arm
from policies import relaxations
from infra.azure_facts.regions import ZONAL_REGIONS, zone_redundant
from tests.conftest import ROOT, edited_plan, raw_stack, stack_config, stack_plan
from tests.test_network_config import SUB, error, net

AKS = "azure-native:containerservice:ManagedCluster"
STORAGE = "azure-native:storage:StorageAccount"
DIAG = "azure-native:monitor:DiagnosticSetting"
MAINTENANCE = "azure-native:containerservice:MaintenanceConfiguration"
BINDING = "azure-native:containerservice:TrustedAccessRoleBinding"
FLOW_LOG = "azure-native:network:FlowLog"
RA = "azure-native:authorization:RoleAssignment"
BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"


def _network(**over: Any):
    def edit(raw: dict[str, Any]) -> None:
        raw["amlplatform:network"] = {**raw["amlplatform:network"], **over}

    return edited_plan("staging", edit)


# ---- AKS ------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_aks_without_command_invoke_ssh_and_with_image_cleaner(stack):
    cluster = stack_plan(stack).one(AKS).inputs
    env = {"staging": "stg", "prod": "prd"}[stack]
    # Both run the API server in their own subnet (API Server VNet Integration, tests/test_encryption.py).
    assert cluster["apiServerAccessProfile"] == {
        "enablePrivateCluster": True, "enablePrivateClusterPublicFQDN": False, "privateDNSZone": "system",
        "disableRunCommand": True, "enableVnetIntegration": True,
        "subnetId": f"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-contoso-{env}/providers/"
                    f"Microsoft.Network/virtualNetworks/vnet-contoso-{env}/subnets/snet-apiserver"}
    assert [(p["name"], p["securityProfile"]) for p in cluster["agentPoolProfiles"]] == [
        ("system", {"sshAccess": "Disabled"}), ("inference", {"sshAccess": "Disabled"})]
    security = dict(cluster["securityProfile"])
    # Prod's KMS etcd encryption (customer-managed keys) sits beside them.
    assert ("azureKeyVaultKms" in security) == (stack == "prod")
    security.pop("azureKeyVaultKms", None)
    assert security == {"workloadIdentity": {"enabled": True}, "imageCleaner": {"enabled": True, "intervalHours": 168}}


def test_aks_logs_by_the_categories_psrule_reads():
    plan = stack_plan("prod")
    cluster = plan.one(AKS)
    (setting,) = [d for d in plan.of_type(DIAG) if d.inputs["resourceUri"] == cluster.id]
    assert setting.inputs["logs"] == [{"category": c, "enabled": True} for c in (
        "kube-audit-admin", "guard", "kube-apiserver", "kube-controller-manager", "kube-scheduler",
        "cluster-autoscaler")]
    assert setting.inputs["metrics"] == [{"category": "AllMetrics", "enabled": True}]


@pytest.mark.parametrize("stack, day", [("staging", "Saturday"), ("prod", "Sunday")])
def test_aks_maintenance_windows(stack, day):
    plan = stack_plan(stack)
    cluster = plan.one(AKS)
    windows = {m.inputs["configName"]: m.inputs for m in plan.of_type(MAINTENANCE)}
    assert sorted(windows) == ["aksManagedAutoUpgradeSchedule", "aksManagedNodeOSUpgradeSchedule"]
    assert all(w["resourceName"] == cluster.physical_name for w in windows.values())
    assert windows["aksManagedNodeOSUpgradeSchedule"]["maintenanceWindow"] == {
        "schedule": {"weekly": {"dayOfWeek": day, "intervalWeeks": 1}}, "startTime": "02:00", "utcOffset": "+00:00",
        "durationHours": 4}
    assert windows["aksManagedAutoUpgradeSchedule"]["maintenanceWindow"] == {
        "schedule": {"relativeMonthly": {"dayOfWeek": day, "intervalMonths": 1, "weekIndex": "First"}},
        "startTime": "02:00", "utcOffset": "+00:00", "durationHours": 4}


def test_maintenance_window_from_the_stack_file_and_its_preflight():
    _, plan = edited_plan("prod", lambda raw: raw["amlplatform:aks"].update(
        maintenance={"day": "Wednesday", "startTime": "22:30", "utcOffset": "+05:30"}))
    window = next(m for m in plan.of_type(MAINTENANCE) if m.inputs["configName"] == "aksManagedNodeOSUpgradeSchedule")
    assert window.inputs["maintenanceWindow"]["startTime"] == "22:30"
    assert window.inputs["maintenanceWindow"]["utcOffset"] == "+05:30"
    for bad, key, words in [({"day": "Funday"}, "day", "must be one of Monday"),
                            ({"startTime": "24:00"}, "startTime", "must be a time of day from 00:00 to 23:59"),
                            ({"utcOffset": "+5"}, "utcOffset", "must be a UTC offset such as +00:00")]:
        raw = copy.deepcopy(raw_stack("prod"))
        raw["amlplatform:aks"]["maintenance"] = bad
        with pytest.raises(config.ConfigError) as exc:
            config.parse(raw, "stacks/Pulumi.prod.yaml", "prod")
        assert str(exc.value).startswith(f"stacks/Pulumi.prod.yaml: amlplatform:aks.maintenance.{key}: {words}")


def test_trusted_access_binding_before_the_attach():
    plan = stack_plan("staging")
    cluster = plan.one(AKS)
    workspace = plan.one("azure-native:machinelearningservices:Workspace")
    binding = plan.one(BINDING)
    assert binding.inputs == {"trustedAccessRoleBindingName": "azureml-workspace",
                              "resourceName": cluster.physical_name, "resourceGroupName": "rg-contoso-stg",
                              "sourceResourceId": workspace.id,
                              "roles": ["Microsoft.MachineLearningServices/workspaces/mlworkload"]}
    assert binding.id == f"{cluster.id}/trustedAccessRoleBindings/azureml-workspace"
    attach = next(r for r in plan.resources if r.name == "inference-attach")
    assert binding.urn in attach.dependencies
    # Installed after the AzureML extension, in the order the AML-Kubernetes guide gives.
    assert plan.one("azure-native:kubernetesconfiguration:Extension").urn in binding.dependencies


# ---- registry, storage, monitoring ----------------------------------------------------------


def test_registry_refuses_arm_audience_tokens_in_every_stack(stack):
    policies = stack_plan(stack).one("azure-native:containerregistry:Registry").inputs["policies"]
    assert policies["azureADAuthenticationAsArmPolicy"] == {"status": "disabled"}


def test_every_storage_account_caps_sas_at_seven_days(stack):
    for account in stack_plan(stack).of_type(STORAGE):
        assert account.inputs["sasPolicy"] == {"sasExpirationPeriod": "7.00:00:00", "expirationAction": "Block"}


def test_app_insights_keeps_profiler_data_in_customer_storage(stack):
    appi = stack_plan(stack).one("azure-native:applicationinsights:Component")
    assert appi.inputs["forceCustomerStorageForProfiler"] is True
    rendered = arm.render_resource(appi)
    assert rendered["properties"]["ForceCustomerStorageForProfiler"] is True


def test_nat_address_is_zone_redundant_and_logs_ddos_events():
    plan = stack_plan("prod")
    pip = plan.one("azure-native:network:PublicIPAddress")
    assert pip.inputs["zones"] == ["1", "2", "3"]
    (setting,) = [d for d in plan.of_type(DIAG) if d.inputs["resourceUri"] == pip.id]
    assert setting.inputs["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]
    assert setting.inputs["metrics"] == [{"category": "AllMetrics", "enabled": True}]


def test_zones_only_where_the_region_has_them():
    assert zone_redundant("westeurope") == ["1", "2", "3"]
    assert "northcentralus" not in ZONAL_REGIONS and zone_redundant("northcentralus") is None
    assert ZONAL_REGIONS <= config.AZURE_REGIONS


# ---- VNet flow logs -------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_vnet_flow_log_with_traffic_analytics(stack):
    plan = stack_plan(stack)
    env = {"staging": "stg", "prod": "prd"}[stack]
    vnet = plan.one("azure-native:network:VirtualNetwork")
    law = plan.one("azure-native:operationalinsights:Workspace")
    account = plan.one(STORAGE, "flow-logs-storage-account")
    identity = next(r for r in plan.of_type("azure-native:managedidentity:UserAssignedIdentity")
                    if r.physical_name == f"id-contoso-{env}-flowlogs")
    fl = plan.one(FLOW_LOG)
    assert fl.id == (f"/subscriptions/{SUB_OFFLINE}/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/"
                     f"networkWatchers/NetworkWatcher_westeurope/flowLogs/fl-vnet-contoso-{env}")
    assert {k: v for k, v in fl.inputs.items() if k != "tags"} == {
        "flowLogName": f"fl-vnet-contoso-{env}", "networkWatcherName": "NetworkWatcher_westeurope",
        "resourceGroupName": "NetworkWatcherRG", "location": "westeurope", "targetResourceId": vnet.id,
        "storageId": account.id, "enabled": True,
        "identity": {"type": "UserAssigned", "userAssignedIdentities": [identity.id]},
        "format": {"type": "JSON", "version": 2}, "retentionPolicy": {"enabled": True, "days": 90},
        "flowAnalyticsConfiguration": {"networkWatcherFlowAnalyticsConfiguration": {
            "enabled": True, "trafficAnalyticsInterval": 10, "workspaceId": law.outputs["customerId"],
            "workspaceRegion": "westeurope", "workspaceResourceId": law.id}},
    }
    # The records' own account: hardened like the others, blob only, reached through a private endpoint.
    assert account.physical_name.startswith(f"stflcontoso{env}")
    a = account.inputs
    assert (a["allowSharedKeyAccess"], a["publicNetworkAccess"], a["isHnsEnabled"], a["minimumTlsVersion"]) == (
        False, "Disabled", False, "TLS1_2")
    assert not [r for r in plan.of_type("azure-native:storage:FileServiceProperties") if r.name.startswith("flow-logs")]
    pes = [p for p in plan.of_type("azure-native:network:PrivateEndpoint")
           if p.inputs["privateLinkServiceConnections"][0]["privateLinkServiceId"] == account.id]
    assert [p.inputs["privateLinkServiceConnections"][0]["groupIds"] for p in pes] == [["blob"]]
    # Network Watcher writes as the flow log's identity, which holds Blob Data Contributor there and nothing else.
    grants = [r for r in plan.of_type(RA) if r.inputs["principalId"] == identity.outputs["principalId"]]
    assert [(g.inputs["scope"], g.inputs["roleDefinitionId"].rsplit("/", 1)[-1]) for g in grants] == [
        (account.id, BLOB_DATA_CONTRIBUTOR)]


SUB_OFFLINE = "00000000-0000-0000-0000-000000000000"


def test_flow_log_settings_from_the_stack_file():
    _, plan = _network(flowLogs={"mode": "stack", "retentionDays": 180, "networkWatcherResourceGroup": "rg-watchers",
                                 "networkWatcherName": "nw-weu"})
    fl = plan.one(FLOW_LOG)
    assert (fl.inputs["resourceGroupName"], fl.inputs["networkWatcherName"], fl.inputs["retentionPolicy"]["days"]) == (
        "rg-watchers", "nw-weu", 180)


def test_central_flow_logs_leave_no_flow_log_and_say_why():
    cfg, plan = _network(flowLogs={"mode": "central"})
    assert not plan.of_type(FLOW_LOG) and not [r for r in plan.of_type(STORAGE) if r.name.startswith("flow-logs")]
    template = arm.render(plan, relaxations.for_stack(cfg))
    skips = [(name, cid, reason) for name, cid, reason in arm.skipped_ids(template) if cid == "CKV2_AMLP_5"]
    assert skips == [("vnet-contoso-stg", "CKV2_AMLP_5", (
        "stacks/Pulumi.staging.yaml sets amlplatform:network.flowLogs.mode=central: the landing zone records this "
        "VNet's flow logs with traffic analytics (Azure Policy 6d7c9ba4 / 052c180e or its own), so the stack adds "
        "none"))]
    # With flow logs of its own the VNet carries no such skip.
    assert not [s for s in arm.skipped_ids(arm.render(stack_plan("staging"), relaxations.for_stack(
        stack_config("staging")))) if s[1] == "CKV2_AMLP_5"]


@pytest.mark.parametrize("flow_logs, key, words", [
    ({"mode": "regional"}, "mode", "must be one of stack or central"),
    ({"retentionDays": 30}, "retentionDays", "must be at least 90"),
    ({"retentionDays": 0}, "retentionDays", "must be at least 90"),
    ({"retentionDays": 400}, "retentionDays", "must be at most 365"),
    ({"networkWatcherResourceGroup": "rg."}, "networkWatcherResourceGroup", "must be a resource group name"),
    ({"networkWatcherName": "-nw"}, "networkWatcherName", "must be a Network Watcher name"),
])
def test_flow_log_preflight(flow_logs, key, words):
    msg = error(net(flowLogs=flow_logs))
    assert msg.startswith(f"stacks/Pulumi.staging.yaml: amlplatform:network.flowLogs.{key}: {words}")


def test_flow_logs_are_refused_in_public_mode():
    raw = copy.deepcopy(raw_stack("dev"))
    raw["amlplatform:network"]["flowLogs"] = {"mode": "stack"}
    with pytest.raises(config.ConfigError, match=r"^stacks/Pulumi.dev.yaml: amlplatform:network.flowLogs: applies "
                                                 r"only to private or managed mode \(public mode has no VNet\)$"):
        config.parse(raw, "stacks/Pulumi.dev.yaml", "dev")


# ---- private ingestion in staging -----------------------------------------------------------


def _zone_ids(monitor: bool) -> dict[str, str]:
    from infra.azure_facts.dns_zones import required_zones

    return {z: f"{SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/{z}"
            for z in required_zones(monitor)}


def test_private_ingestion_is_the_default_only_where_the_stack_owns_its_zones():
    # Staging and prod with their own zones (dns create): on, whether or not the stack file says so.
    raw = copy.deepcopy(raw_stack("staging"))
    raw["amlplatform:network"].pop("monitorPrivateLink")
    assert config.parse(raw, "stacks/Pulumi.staging.yaml", "staging").network.monitor_private_link is True
    # Central zones (existing, or none: policy-made): off unless the stack says otherwise.
    cfg = config.parse({**raw, "amlplatform:network": net(dns="existing", dnsZoneIds=_zone_ids(False))},
                       "stacks/Pulumi.staging.yaml", "staging")
    assert cfg.network.monitor_private_link is False
    assert config.parse({**raw, "amlplatform:network": net(dns="none")}, "stacks/Pulumi.staging.yaml",
                        "staging").network.monitor_private_link is False
    # Dev stays public.
    assert stack_config("dev").network.monitor_private_link is False


def test_a_scope_on_shared_zones_must_be_declared_the_only_one():
    ids = _zone_ids(True)
    msg = error(net(dns="existing", dnsZoneIds=ids, monitorPrivateLink=True))
    assert msg == ("stacks/Pulumi.staging.yaml: amlplatform:network.monitorPrivateLink: with dns existing the private "
                   "link scope's endpoint writes Azure Monitor's global names into zones other networks share, and a "
                   "second scope there overwrites them (Microsoft: one scope per DNS); set monitorPrivateLinkOnlyScope: "
                   "true once this is the only one, or use the landing zone's scope and set monitorPrivateLink: false, "
                   "got true")
    cfg = config.parse({**raw_stack("staging"), "amlplatform:network": net(
        dns="existing", dnsZoneIds=ids, monitorPrivateLink=True, monitorPrivateLinkOnlyScope=True)},
        "stacks/Pulumi.staging.yaml", "staging")
    assert cfg.network.monitor_private_link and cfg.network.monitor_private_link_only_scope
    assert "amlplatform:network.monitorPrivateLinkOnlyScope: applies only with monitorPrivateLink on and dns existing " \
           "or none" in error(net(monitorPrivateLinkOnlyScope=True))


def test_staging_without_the_scope_says_why_in_the_report():
    cfg, plan = _network(monitorPrivateLink=False)
    template = arm.render(plan, relaxations.for_stack(cfg))
    skips = sorted((name, reason) for name, cid, reason in arm.skipped_ids(template) if cid == "CKV_AMLP_30")
    assert skips == [
        ("appi-contoso-stg", "stacks/Pulumi.staging.yaml sets amlplatform:network.monitorPrivateLink=false: telemetry "
                             "stays on the public endpoint (Entra-authorised) until the stack turns the scope on"),
        ("log-contoso-stg", "stacks/Pulumi.staging.yaml sets amlplatform:network.monitorPrivateLink=false: telemetry "
                            "stays on the public endpoint (Entra-authorised) until the stack turns the scope on")]


def test_stack_files_state_the_new_switches():
    for stack in ("staging", "prod"):
        text = (ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text()
        assert "    monitorPrivateLink: true\n" in text and "      mode: stack" in text
