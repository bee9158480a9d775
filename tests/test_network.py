"""The network component and private endpoints: exact subnets, rules, endpoints, zones, per mode."""

from __future__ import annotations

from infra.azure_facts.dns_zones import ALL_ZONES, required_zones
from tests.conftest import edited_plan, stack_plan
from tests.test_network_config import HUB, SUB

NET = "azure-native:network:"
# The organisation's AML registry as the environment stacks name it (amlplatform:mlRegistryRef), and the storage
# account and container registry Azure ML created for it in its managed group (the registry stack's outputs).
_PLAN_SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"  # the offline plans' subscription
_REGISTRY_RG = f"{_PLAN_SUB}/resourceGroups/azureml-rg-mlr-contoso_dcec6628-136e-5651-a9d5-e55bb1047a5b/providers"
ML_REGISTRY = f"{_PLAN_SUB}/resourceGroups/rg-contoso-registry/providers/Microsoft.MachineLearningServices/registries/mlr-contoso"
ML_REGISTRY_STORAGE = f"{_REGISTRY_RG}/Microsoft.Storage/storageAccounts/st0cbb3fdb9b965b75a33a46"
ML_REGISTRY_ACR = f"{_REGISTRY_RG}/Microsoft.ContainerRegistry/registries/cr0cbb3fdb9b965b75a33a"
# how-to-registry-network-isolation: private endpoints to the registry, its storage (blob) and its registry.
ML_REGISTRY_TARGETS = {(ML_REGISTRY, "amlregistry"), (ML_REGISTRY_STORAGE, "blob"), (ML_REGISTRY_ACR, "registry")}


def vnet(plan):
    return plan.one(NET + "VirtualNetwork")


def subnets(plan):
    return {s["name"]: s for s in vnet(plan).inputs["subnets"]}


def test_subnets_ranges_nsgs_and_egress(stack):
    plan = stack_plan(stack)
    if stack == "dev":
        assert not plan.of_type(NET + "VirtualNetwork") and not plan.of_type(NET + "PrivateEndpoint")
        return
    base = {"staging": "10.60", "prod": "10.70"}[stack]
    v = vnet(plan)
    assert v.physical_name == f"vnet-contoso-{'stg' if stack == 'staging' else 'prd'}"
    assert v.inputs["addressSpace"]["addressPrefixes"] == [f"{base}.0.0/22"]
    s = subnets(plan)
    assert {k: x["addressPrefix"] for k, x in s.items()} == {
        "snet-pe": f"{base}.0.0/26", "snet-training": f"{base}.1.0/24", "snet-scoring": f"{base}.2.0/23",
        "snet-apiserver": f"{base}.0.64/28"}
    nsgs = {r.id: r.physical_name for r in plan.of_type(NET + "NetworkSecurityGroup")}
    assert {k: nsgs[x["networkSecurityGroup"]["id"]] for k, x in s.items()} == {
        "snet-pe": f"nsg-contoso-{v.physical_name[-3:]}-pe",
        "snet-training": f"nsg-contoso-{v.physical_name[-3:]}-training",
        "snet-scoring": f"nsg-contoso-{v.physical_name[-3:]}-scoring",
        "snet-apiserver": f"nsg-contoso-{v.physical_name[-3:]}-apiserver",
    }
    # Only the API server subnet is delegated, to AKS (API Server VNet Integration), and it has no egress.
    assert {k: x.get("delegations") for k, x in s.items() if x.get("delegations")} == {
        "snet-apiserver": [{"name": "aks-apiserver", "serviceName": "Microsoft.ContainerService/managedClusters"}]}
    assert "natGateway" not in s["snet-apiserver"]
    nat = plan.one(NET + "NatGateway")
    assert all(x["privateEndpointNetworkPolicies"] == "Enabled" and x["defaultOutboundAccess"] is False
               for x in s.values())
    assert s["snet-training"]["natGateway"]["id"] == nat.id == s["snet-scoring"]["natGateway"]["id"]
    assert "natGateway" not in s["snet-pe"]
    pip = plan.one(NET + "PublicIPAddress").inputs
    assert pip["sku"] == {"name": "Standard", "tier": "Regional"} and pip["publicIPAllocationMethod"] == "Static"


def test_training_nsg_allows_only_what_aml_needs():
    plan = stack_plan("prod")
    nsg = next(r for r in plan.of_type(NET + "NetworkSecurityGroup") if r.physical_name.endswith("-training"))
    got = [(r["name"], r["priority"], r["direction"], r["access"], r["protocol"], r["destinationAddressPrefix"],
            r.get("destinationPortRange") or ",".join(r["destinationPortRanges"])) for r in nsg.inputs["securityRules"]]
    assert got == [
        ("deny-internet-inbound", 4096, "Inbound", "Deny", "*", "*", "*"),
        ("allow-aad-outbound", 100, "Outbound", "Allow", "Tcp", "AzureActiveDirectory", "443"),
        ("allow-aml-outbound", 110, "Outbound", "Allow", "Tcp", "AzureMachineLearning", "443,8787,18881"),
        ("allow-batch-outbound", 120, "Outbound", "Allow", "Tcp", "BatchNodeManagement.westeurope", "443"),
        ("allow-arm-outbound", 130, "Outbound", "Allow", "Tcp", "AzureResourceManager", "443"),
        ("allow-storage-outbound", 140, "Outbound", "Allow", "Tcp", "Storage.westeurope", "443"),
        ("allow-keyvault-outbound", 150, "Outbound", "Allow", "Tcp", "AzureKeyVault.westeurope", "443"),
        ("allow-acr-outbound", 160, "Outbound", "Allow", "Tcp", "AzureContainerRegistry.westeurope", "443"),
        ("allow-mcr-outbound", 170, "Outbound", "Allow", "Tcp", "MicrosoftContainerRegistry", "443"),
        ("allow-frontdoor-outbound", 180, "Outbound", "Allow", "Tcp", "AzureFrontDoor.FirstParty", "443"),
        ("allow-monitor-outbound", 190, "Outbound", "Allow", "Tcp", "AzureMonitor", "443"),
        ("allow-aml-udp-outbound", 210, "Outbound", "Allow", "Udp", "AzureMachineLearning", "5831"),
        # Multi-node jobs may start their ranks over SSH inside the subnet; nowhere else (lateral movement).
        ("allow-ssh-within-training-outbound", 3990, "Outbound", "Allow", "Tcp", "10.70.1.0/24", "22"),
        ("deny-ssh-rdp-vnet-outbound", 4000, "Outbound", "Deny", "Tcp", "VirtualNetwork", "22,3389"),
    ]
    assert all(r["description"] for r in nsg.inputs["securityRules"])
    assert nsg.inputs["securityRules"][0]["sourceAddressPrefix"] == "Internet"
    intra = nsg.inputs["securityRules"][-2]
    assert intra["sourceAddressPrefix"] == intra["destinationAddressPrefix"] == "10.70.1.0/24"
    for other in ("-pe", "-scoring"):
        n = next(r for r in plan.of_type(NET + "NetworkSecurityGroup") if r.physical_name.endswith(other))
        assert [r["name"] for r in n.inputs["securityRules"]] == ["deny-internet-inbound", "deny-ssh-rdp-vnet-outbound"]
        deny = n.inputs["securityRules"][1]
        # PSRule's Azure.NSG.LateralTraversal reads the literal ports and the VirtualNetwork tag.
        assert (deny["access"], deny["direction"], deny["sourceAddressPrefix"], deny["destinationAddressPrefix"],
                deny["destinationPortRanges"], deny["priority"]) == (
            "Deny", "Outbound", "VirtualNetwork", "VirtualNetwork", ["22", "3389"], 4000)


def test_private_endpoints_group_subnet_and_target(stack):
    plan = stack_plan(stack)
    if stack == "dev":
        return
    pe_subnet = f"{vnet(plan).id}/subnets/snet-pe"
    st = "azure-native:storage:StorageAccount"
    # (target type, its Pulumi name, group): the workspace storage gets blob + file, the data lake blob + dfs.
    targets = [
        ("azure-native:machinelearningservices:Workspace", None, "amlworkspace"),
        (st, "storage-account", "blob"), (st, "storage-account", "file"),
        (st, "datalake-account", "blob"), (st, "datalake-account", "dfs"),
        ("azure-native:keyvault:Vault", None, "vault"), ("azure-native:containerregistry:Registry", None, "registry"),
        # The flow logs' own account (Network Watcher writes it as a trusted service; people read it here).
        (st, "flow-logs-storage-account", "blob"),
        # Staging and prod both ingest telemetry through an Azure Monitor private link scope.
        ("azure-native:monitor:PrivateLinkScope", None, "azuremonitor"),
    ]
    pes = plan.of_type(NET + "PrivateEndpoint")
    assert len(pes) == len(targets) + len(ML_REGISTRY_TARGETS)
    got = set()
    for pe in pes:
        (conn,) = pe.inputs["privateLinkServiceConnections"]
        (group,) = conn["groupIds"]
        assert pe.inputs["subnet"]["id"] == pe_subnet
        assert pe.physical_name.endswith(f"-{group}")
        assert pe.inputs["customNetworkInterfaceName"] == f"nic-{pe.physical_name}"
        got.add((conn["privateLinkServiceId"], group))
    assert got == {(plan.one(token, name).id, group) for token, name, group in targets} | ML_REGISTRY_TARGETS


def json_groups(pes):
    return [pe.inputs["privateLinkServiceConnections"][0]["groupIds"][0] for pe in pes]


def test_dns_zones_links_and_zone_groups():
    plan = _with_network("staging", monitorPrivateLink=False)
    zones = {z.physical_name: z.id for z in plan.of_type("azure-native:privatedns:PrivateZone")}
    assert sorted(ALL_ZONES) == sorted([*required_zones(True)])
    assert sorted(zones) == sorted(required_zones(False)) == sorted([
        "privatelink.api.azureml.ms", "privatelink.notebooks.azure.net", "privatelink.blob.core.windows.net",
        "privatelink.file.core.windows.net", "privatelink.dfs.core.windows.net", "privatelink.vaultcore.azure.net",
        "privatelink.azurecr.io"])
    links = plan.of_type("azure-native:privatedns:VirtualNetworkLink")
    assert len(links) == 7
    assert all(link.inputs["virtualNetwork"]["id"] == vnet(plan).id and link.inputs["registrationEnabled"] is False
               and link.inputs["location"] == "global" for link in links)
    groups = {g.inputs["privateEndpointName"].rsplit("-", 1)[-1]: g for g in plan.of_type(NET + "PrivateDnsZoneGroup")}
    ws = groups["amlworkspace"].inputs["privateDnsZoneConfigs"]
    assert [c["privateDnsZoneId"] for c in ws] == [zones["privatelink.api.azureml.ms"],
                                                    zones["privatelink.notebooks.azure.net"]]
    assert groups["vault"].inputs["privateDnsZoneConfigs"][0]["privateDnsZoneId"] == zones["privatelink.vaultcore.azure.net"]
    assert groups["dfs"].inputs["privateDnsZoneConfigs"][0]["privateDnsZoneId"] == zones["privatelink.dfs.core.windows.net"]


def _with_network(stack, **over):
    def edit(raw):
        raw["amlplatform:network"] = {**raw["amlplatform:network"], **over}

    return edited_plan(stack, edit)[1]


def test_existing_central_zones_are_used_by_id_and_none_adds_no_groups():
    ids = {z: f"{SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/{z}"
           for z in required_zones(False)}
    plan = _with_network("staging", dns="existing", dnsZoneIds=ids, monitorPrivateLink=False)
    assert not plan.of_type("azure-native:privatedns:PrivateZone")
    used = {c["privateDnsZoneId"] for g in plan.of_type(NET + "PrivateDnsZoneGroup")
            for c in g.inputs["privateDnsZoneConfigs"]}
    assert used == set(ids.values())
    plan = _with_network("staging", dns="none", monitorPrivateLink=False)
    # Eight to the stack's own resources (the flow-log account's blob among them), three to the organisation's registry.
    assert not plan.of_type(NET + "PrivateDnsZoneGroup") and len(plan.of_type(NET + "PrivateEndpoint")) == 11


def test_firewall_egress_routes_compute_subnets_and_hub_peering():
    plan = _with_network("prod", egress="firewall", firewallIp="10.0.1.4", hub=HUB)
    assert not plan.of_type(NET + "NatGateway")
    rt = plan.one(NET + "RouteTable")
    assert rt.inputs["routes"] == [{"name": "default-via-firewall", "addressPrefix": "0.0.0.0/0",
                                    "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.1.4"}]
    s = subnets(plan)
    assert s["snet-training"]["routeTable"]["id"] == rt.id == s["snet-scoring"]["routeTable"]["id"]
    assert "routeTable" not in s["snet-pe"]
    peer = plan.one(NET + "VirtualNetworkPeering").inputs
    assert peer["remoteVirtualNetwork"]["id"] == HUB["vnetId"]
    assert peer["allowForwardedTraffic"] is True and peer["useRemoteGateways"] is False


def test_internet_outbound_deny_adds_the_rule():
    plan = _with_network("prod", internetOutbound="deny")
    nsg = next(r for r in plan.of_type(NET + "NetworkSecurityGroup") if r.physical_name.endswith("-training"))
    last = nsg.inputs["securityRules"][-1]
    assert (last["name"], last["access"], last["destinationAddressPrefix"], last["priority"]) == (
        "deny-internet-outbound", "Deny", "Internet", 4096)


def test_managed_mode_rules_and_inbound_endpoints():
    def edit(raw):
        raw["amlplatform:network"] = {
            "mode": "managed", "addressSpace": ["10.60.0.0/24"], "subnets": {"privateEndpoints": "10.60.0.0/26"},
            "outboundRules": [
                {"name": "pypi", "type": "FQDN", "destination": "pypi.org"},
                {"name": "monitor", "type": "ServiceTag", "serviceTag": "AzureMonitor", "portRanges": "443"},
            ],
        }
        raw["amlplatform:aks"] = {"enabled": False}  # AKS needs private mode's scoring subnet

    _, plan = edited_plan("staging", edit)
    w = plan.one("azure-native:machinelearningservices:Workspace")
    assert w.inputs["managedNetwork"] == {"isolationMode": "AllowOnlyApprovedOutbound", "enableNetworkMonitor": False}
    assert w.inputs["publicNetworkAccess"] == "Disabled"
    rules = {r.inputs["ruleName"]: r.inputs["properties"]
             for r in plan.of_type("azure-native:machinelearningservices:ManagedNetworkSettingsRule")}
    # AML adds the workspace storage, key vault and registry itself (AllowOnlyApprovedOutbound: whatever their
    # public access); the data lake is no associated resource, so its blob and dfs are the platform's rules.
    lake = plan.one("azure-native:storage:StorageAccount", "datalake-account").id
    assert sorted(rules) == ["monitor", "pe-lake-blob", "pe-lake-dfs", "pe-mlregistry", "pe-mlregistry-acr",
                             "pe-mlregistry-blob", "pypi"]
    # The registry, its storage and its container registry through the managed VNet instead of snet-pe.
    assert {(r["destination"]["serviceResourceId"], r["destination"]["subresourceTarget"])
            for name, r in rules.items() if name.startswith("pe-mlregistry")} == ML_REGISTRY_TARGETS
    for group in ("blob", "dfs"):
        assert rules[f"pe-lake-{group}"]["destination"] == {
            "serviceResourceId": lake, "subresourceTarget": group, "sparkEnabled": False}
    assert rules["pypi"] == {"type": "FQDN", "category": "UserDefined", "destination": "pypi.org"}
    assert rules["monitor"]["destination"] == {"serviceTag": "AzureMonitor", "protocol": "TCP", "portRanges": "443",
                                               "action": "Allow"}
    assert list(subnets(plan)) == ["snet-pe"]
    assert not plan.of_type(NET + "NatGateway")
    # The seven of private mode, the flow logs' account and the monitor private link scope.
    assert len(plan.of_type(NET + "PrivateEndpoint")) == 9


def test_public_flags_per_mode(stack):
    plan = stack_plan(stack)
    want = "Enabled" if stack == "dev" else "Disabled"
    assert plan.one("azure-native:machinelearningservices:Workspace").inputs["publicNetworkAccess"] == want
    for account in ("storage-account", "datalake-account"):
        assert plan.one("azure-native:storage:StorageAccount", account).inputs["publicNetworkAccess"] == want
    assert plan.one("azure-native:keyvault:Vault").inputs["properties"]["publicNetworkAccess"] == want
    assert plan.one("azure-native:containerregistry:Registry").inputs["publicNetworkAccess"] == want


def test_monitor_private_link_scope_in_prod():
    plan = stack_plan("prod")
    scope = plan.one("azure-native:monitor:PrivateLinkScope")
    assert scope.physical_name == "ampls-contoso-prd" and scope.inputs["location"] == "global"
    assert scope.inputs["accessModeSettings"] == {"ingestionAccessMode": "PrivateOnly", "queryAccessMode": "Open"}
    linked = {r.inputs["linkedResourceId"] for r in plan.of_type("azure-native:monitor:PrivateLinkScopedResource")}
    assert linked == {plan.one("azure-native:operationalinsights:Workspace").id,
                      plan.one("azure-native:applicationinsights:Component").id,
                      # Container Insights' configuration endpoint (tests/test_inference.py).
                      plan.one("azure-native:monitor:DataCollectionEndpoint").id}
    pe = next(p for p in plan.of_type(NET + "PrivateEndpoint") if p.physical_name == "pe-ampls-contoso-prd-azuremonitor")
    assert pe.inputs["privateLinkServiceConnections"][0]["privateLinkServiceId"] == scope.id
    group = next(g for g in plan.of_type(NET + "PrivateDnsZoneGroup") if g.inputs["privateEndpointName"] == pe.physical_name)
    zones = {z.id: z.physical_name for z in plan.of_type("azure-native:privatedns:PrivateZone")}
    assert [zones[c["privateDnsZoneId"]] for c in group.inputs["privateDnsZoneConfigs"]] == [
        "privatelink.monitor.azure.com", "privatelink.oms.opinsights.azure.com", "privatelink.ods.opinsights.azure.com",
        "privatelink.agentsvc.azure-automation.net", "privatelink.blob.core.windows.net"]
    assert plan.one("azure-native:operationalinsights:Workspace").inputs["publicNetworkAccessForIngestion"] == "Disabled"
    assert plan.one("azure-native:applicationinsights:Component").inputs["publicNetworkAccessForIngestion"] == "Disabled"


def test_staging_ingests_privately_like_prod():
    plan = stack_plan("staging")
    scope = plan.one("azure-native:monitor:PrivateLinkScope")
    assert scope.physical_name == "ampls-contoso-stg"
    assert scope.inputs["accessModeSettings"] == {"ingestionAccessMode": "PrivateOnly", "queryAccessMode": "Open"}
    for token in ("azure-native:operationalinsights:Workspace", "azure-native:applicationinsights:Component"):
        assert plan.one(token).inputs["publicNetworkAccessForIngestion"] == "Disabled"
    assert len(plan.of_type("azure-native:privatedns:PrivateZone")) == 11


def test_without_monitor_private_link_ingestion_stays_public():
    plan = _with_network("staging", monitorPrivateLink=False)
    assert not plan.of_type("azure-native:monitor:PrivateLinkScope")
    assert plan.one("azure-native:operationalinsights:Workspace").inputs["publicNetworkAccessForIngestion"] == "Enabled"
    assert len(plan.of_type("azure-native:privatedns:PrivateZone")) == 7


def test_dev_runs_its_compute_in_the_managed_vnet_with_rules_to_its_firewalled_stores():
    plan = stack_plan("dev")
    w = plan.one("azure-native:machinelearningservices:Workspace")
    # No-public-IP compute needs a VNet; dev has none of its own, so the AML managed VNet (no firewall cost).
    assert w.inputs["managedNetwork"]["isolationMode"] == "AllowInternetOutbound"
    assert w.inputs["publicNetworkAccess"] == "Enabled"
    st = "azure-native:storage:StorageAccount"
    targets = {"pe-storage-blob": (plan.one(st, "storage-account").id, "blob"),
               "pe-storage-file": (plan.one(st, "storage-account").id, "file"),
               "pe-vault": (plan.one("azure-native:keyvault:Vault").id, "vault"),
               "pe-lake-blob": (plan.one(st, "datalake-account").id, "blob"),
               "pe-lake-dfs": (plan.one(st, "datalake-account").id, "dfs"),
               "pe-mlregistry": (ML_REGISTRY, "amlregistry"), "pe-mlregistry-blob": (ML_REGISTRY_STORAGE, "blob"),
               "pe-mlregistry-acr": (ML_REGISTRY_ACR, "registry")}
    rules = {r.inputs["ruleName"]: r.inputs["properties"]["destination"]
             for r in plan.of_type("azure-native:machinelearningservices:ManagedNetworkSettingsRule")}
    # With AllowInternetOutbound Azure ML adds endpoints only to stores with public access disabled; dev's are
    # public behind their firewalls, which the managed VNet's egress IPs would not pass.
    assert {k: (v["serviceResourceId"], v["subresourceTarget"]) for k, v in rules.items()} == targets
    for c in plan.of_type("azure-native:machinelearningservices:Compute"):
        assert "subnet" not in c.inputs["properties"]["properties"]
        assert c.inputs["properties"]["properties"]["enableNodePublicIp"] is False


def test_a_stack_rule_may_not_take_a_platform_rule_name():
    import pytest

    from infra.config import stack as config

    def edit(raw):
        raw["amlplatform:network"] = {
            "mode": "managed", "addressSpace": ["10.60.0.0/24"], "subnets": {"privateEndpoints": "10.60.0.0/26"},
            "outboundRules": [{"name": "pe-lake-dfs", "type": "ServiceTag", "serviceTag": "AzureMonitor"}],
        }
        raw["amlplatform:aks"] = {"enabled": False}

    with pytest.raises(config.ConfigError, match=r"amlplatform:network.outboundRules\[0\].name: 'pe-lake-dfs' is a rule "
                                                 "the platform adds itself"):
        edited_plan("staging", edit)


def test_a_managed_mode_staging_passes_the_whole_gate(tmp_path):
    """Managed mode: compute has no subnet of ours, and every gate (checkov's CKV_AMLP_12, the platform rule
    aml-compute-in-vnet, the Azure rules) accepts it."""
    import shutil

    import yaml

    from infra.cli import main as cli
    from tests.conftest import ROOT

    shutil.copytree(ROOT / "stacks", tmp_path / "stacks")
    shutil.copytree(ROOT / "assets", tmp_path / "assets")
    path = tmp_path / "stacks" / "Pulumi.staging.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["config"]["amlplatform:network"] = {
        "mode": "managed", "addressSpace": ["10.60.0.0/24"], "subnets": {"privateEndpoints": "10.60.0.0/26"}}
    doc["config"]["amlplatform:aks"] = {"enabled": False}  # AKS needs private mode's scoring subnet
    # Without AKS the Kubernetes sample endpoint stays out (README: Models, endpoints and promotion).
    doc["config"]["amlplatform:assets"] = {"endpoints": ["credit-online", "credit-batch"]}
    path.write_text(yaml.safe_dump(doc))
    ok, text = cli.plan_stack("staging", tmp_path, tmp_path / "out")
    assert ok, text
    assert "checkov: PASS" in text and "0 failed" in text
    assert "platform rules: PASS " in text and "azure rules: PASS" in text
