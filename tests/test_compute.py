"""Compute per environment: clusters, instances, serverless, AKS, the extension and the attach."""

from __future__ import annotations

import copy

import pytest

from infra.config import stack as config
from infra.naming import Names
from tests.conftest import plan_raw, raw_stack, stack_plan

ML = "azure-native:machinelearningservices:"
U1 = "1c9c6f8e-0b1e-4d6a-9a43-3f3d2b4c5d06"
U2 = "1c9c6f8e-0b1e-4d6a-9a43-3f3d2b4c5d07"


def computes(plan, kind):
    return [r for r in plan.of_type(ML + "Compute") if r.inputs["properties"]["computeType"] == kind]


def test_clusters_per_environment(stack):
    plan = stack_plan(stack)
    cl = next(c for c in computes(plan, "AmlCompute") if c.inputs["computeName"] == "cpu-cluster")
    outer = cl.inputs["properties"]
    inner = outer["properties"]
    assert cl.inputs["computeName"] == "cpu-cluster"
    assert inner["vmSize"] == "Standard_DS3_v2"
    assert inner["vmPriority"] == {"dev": "LowPriority", "staging": "Dedicated", "prod": "Dedicated"}[stack]
    assert inner["scaleSettings"] == {"minNodeCount": 0, "maxNodeCount": {"dev": 2, "staging": 4, "prod": 10}[stack],
                                      "nodeIdleTimeBeforeScaleDown": "PT15M"}
    assert outer["disableLocalAuth"] is True
    assert inner["enableNodePublicIp"] is False and inner["remoteLoginPortPublicAccess"] == "Disabled"
    job_identity = plan.one("azure-native:managedidentity:UserAssignedIdentity", "compute-identity-uai").id
    assert cl.inputs["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [job_identity]}
    if stack == "dev":
        assert "subnet" not in inner
    else:
        vnet = plan.one("azure-native:network:VirtualNetwork").id
        assert inner["subnet"] == {"id": f"{vnet}/subnets/snet-training"}


def test_prod_gpu_cluster_is_dedicated_and_scales_to_zero():
    gpu = next(c for c in computes(stack_plan("prod"), "AmlCompute") if c.inputs["computeName"] == "gpu-cluster")
    inner = gpu.inputs["properties"]["properties"]
    assert inner["vmSize"] == "Standard_NC40ads_H100_v5" and inner["vmPriority"] == "Dedicated"
    assert inner["scaleSettings"]["minNodeCount"] == 0 and inner["scaleSettings"]["maxNodeCount"] == 4


def test_serverless_and_image_builds_stay_in_the_training_subnet(stack):
    plan = stack_plan(stack)
    ws = plan.one(ML + "Workspace").inputs
    if stack == "dev":
        assert "serverlessComputeSettings" not in ws and "imageBuildCompute" not in ws
        return
    vnet = plan.one("azure-native:network:VirtualNetwork").id
    assert ws["serverlessComputeSettings"] == {"serverlessComputeCustomSubnet": f"{vnet}/subnets/snet-training",
                                               "serverlessComputeNoPublicIP": True}
    assert ws["imageBuildCompute"] == "cpu-cluster"


def with_members(stack="dev", **compute):
    raw = copy.deepcopy(raw_stack(stack))
    raw["amlplatform:teams"] = {"fraud": {"members": [U1, U2]}}
    if compute:
        raw["amlplatform:compute"] = compute
    return plan_raw(stack, raw)


def test_one_instance_per_member_in_dev():
    cfg, plan = with_members(instances={"schedule": {"stop": "0 19 * * 1-5", "timeZone": "W. Europe Standard Time"}})
    names = Names.for_stack("contoso", "dev")
    got = {r.inputs["computeName"]: r.inputs["properties"] for r in computes(plan, "ComputeInstance")}
    assert sorted(got) == sorted([names.instance(U1), names.instance(U2)])
    ci = got[names.instance(U1)]
    assert ci["disableLocalAuth"] is True
    p = ci["properties"]
    assert p["personalComputeInstanceSettings"] == {
        "assignedUser": {"objectId": U1, "tenantId": "11111111-1111-1111-1111-111111111111"}}
    assert p["idleTimeBeforeShutdown"] == "PT60M"
    assert p["sshSettings"] == {"sshPublicAccess": "Disabled"} and p["enableNodePublicIp"] is False
    assert p["schedules"] == {"computeStartStop": [{"action": "Stop", "triggerType": "Cron", "status": "Enabled",
                                                    "cron": {"expression": "0 19 * * 1-5",
                                                             "timeZone": "W. Europe Standard Time"}}]}
    assert names.instance(U1).startswith("ci-contosodev-") and len(names.instance(U1)) == 20


def test_no_instances_in_staging_and_prod_by_default():
    for stack in ("staging", "prod"):
        _, plan = with_members(stack)
        assert computes(plan, "ComputeInstance") == []


def test_instance_users_can_be_a_subset_of_members():
    _, plan = with_members(instances={"users": [U2]})
    assert [r.inputs["properties"]["properties"]["personalComputeInstanceSettings"]["assignedUser"]["objectId"]
            for r in computes(plan, "ComputeInstance")] == [U2]


def test_aks_cluster_per_environment(stack):
    plan = stack_plan(stack)
    if stack == "dev":
        assert not plan.of_type("azure-native:containerservice:ManagedCluster")
        return
    a = plan.one("azure-native:containerservice:ManagedCluster").inputs
    vnet = plan.one("azure-native:network:VirtualNetwork").id
    scoring = f"{vnet}/subnets/snet-scoring"
    assert a["apiServerAccessProfile"]["enablePrivateCluster"] is True and a["publicNetworkAccess"] == "Disabled"
    assert a["aadProfile"]["managed"] is True and a["aadProfile"]["enableAzureRBAC"] is True
    assert a["aadProfile"]["adminGroupObjectIDs"] == ["00000000-0000-0000-0000-00000000a001"]
    assert a["disableLocalAccounts"] is True and a["enableRBAC"] is True
    assert a["networkProfile"] == {
        "networkPlugin": "azure", "networkPluginMode": "overlay", "networkDataplane": "cilium",
        "networkPolicy": "cilium", "podCidr": "192.168.0.0/16", "serviceCidr": "172.16.0.0/16",
        "dnsServiceIP": "172.16.0.10", "loadBalancerSku": "standard", "outboundType": "userAssignedNATGateway"}
    system, inference = a["agentPoolProfiles"]
    zones = {"staging": ["1"], "prod": ["1", "2", "3"]}[stack]
    for p in (system, inference):
        assert p["osDiskType"] == "Ephemeral" and p["enableEncryptionAtHost"] is True
        assert p["vnetSubnetID"] == scoring and p["maxPods"] == 50 and p["availabilityZones"] == zones
        assert p["type"] == "VirtualMachineScaleSets" and p["enableNodePublicIP"] is False
    assert system["mode"] == "System" and system["nodeTaints"] == ["CriticalAddonsOnly=true:NoSchedule"]
    assert system["count"] == {"staging": 2, "prod": 3}[stack]
    assert inference["mode"] == "User" and inference["enableAutoScaling"] is True
    assert (inference["minCount"], inference["maxCount"]) == {"staging": (1, 3), "prod": (2, 6)}[stack]
    assert a["autoUpgradeProfile"] == {"upgradeChannel": "stable", "nodeOSUpgradeChannel": "NodeImage"}
    addons = a["addonProfiles"]
    assert addons["omsagent"]["config"]["logAnalyticsWorkspaceResourceID"] == plan.one(
        "azure-native:operationalinsights:Workspace").id
    assert addons["azurepolicy"]["enabled"] is True
    assert addons["azureKeyvaultSecretsProvider"]["config"]["enableSecretRotation"] == "true"
    assert a["oidcIssuerProfile"] == {"enabled": True}
    assert a["securityProfile"]["workloadIdentity"] == {"enabled": True}
    # The API server lives in its own delegated subnet (API Server VNet Integration).
    api_server = f"{vnet}/subnets/snet-apiserver"
    assert a["apiServerAccessProfile"]["enableVnetIntegration"] is True
    assert a["apiServerAccessProfile"]["subnetId"] == api_server
    # The control plane identity may join the scoring and API server subnets; with customer-managed keys (prod)
    # it also uses the KMS key, creates KMS's private link to the vault and reads the disk encryption set.
    aks_id = plan.one("azure-native:managedidentity:UserAssignedIdentity", "inference-identity-uai")
    grants = [r.inputs for r in plan.of_type("azure-native:authorization:RoleAssignment")
              if r.inputs["principalId"] == aks_id.outputs["principalId"]]
    vault = plan.one("azure-native:keyvault:Vault").id
    expected = [(api_server, "4d97b98b-1d4f-4787-a291-c67834d212e7"), (scoring, "4d97b98b-1d4f-4787-a291-c67834d212e7")]
    if stack == "prod":
        expected += [(plan.one("azure-native:compute:DiskEncryptionSet").id, "acdd72a7-3385-48ef-bd42-f606fba81ae7"),
                     (f"{vault}/keys/cmk-kms", "12338af0-0e69-4776-bea7-57ae8d297424"),
                     (vault, "f25e0fa2-a7c8-4377-a976-54943a77a395")]
    assert sorted((g["scope"], g["roleDefinitionId"].rsplit("/", 1)[-1]) for g in grants) == sorted(expected)


def test_extension_settings_and_attach_wiring():
    plan = stack_plan("prod")
    cluster = plan.one("azure-native:containerservice:ManagedCluster")
    ext = plan.one("azure-native:kubernetesconfiguration:Extension")
    assert ext.id == f"{cluster.id}/providers/Microsoft.KubernetesConfiguration/extensions/azureml"
    i = ext.inputs
    assert i["extensionType"] == "microsoft.azureml.kubernetes" and i["releaseTrain"] == "stable"
    # The exact maps are in tests/test_inference.py; the CLI's file-path parameter names are gone.
    assert i["configurationSettings"]["sslCname"] == "scoring.contoso.internal"
    assert "sslCertPemFile" not in i["configurationSettings"]
    # The PEM certificate and key go in protected settings, which stay secret in the plan and in state.
    assert i["configurationProtectedSettings"] == "[secret]"
    (attach,) = computes(plan, "Kubernetes")
    props = attach.inputs["properties"]
    assert props["resourceId"] == cluster.id and props["disableLocalAuth"] is True
    assert props["properties"]["namespace"] == "aml-inference"
    assert props["properties"]["defaultInstanceType"] == "defaultinstancetype"
    assert props["properties"]["instanceTypes"]["defaultinstancetype"]["resources"] == {
        "requests": {"cpu": "1", "memory": "4Gi"}, "limits": {"cpu": "2", "memory": "8Gi"}}
    assert ext.urn in attach.dependencies


def test_internal_http_mode_is_an_explicit_exception():
    raw = copy.deepcopy(raw_stack("staging"))
    raw["amlplatform:aks"] = {"tls": {"mode": "internalHttp"}}
    cfg, plan = plan_raw("staging", raw)
    assert cfg.required_secrets() == []
    s = plan.one("azure-native:kubernetesconfiguration:Extension").inputs
    assert s["configurationSettings"]["allowInsecureConnections"] == "True"
    assert "configurationProtectedSettings" not in s


def test_synapse_attach_wiring():
    pool = ("/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-syn/providers/"
            "Microsoft.Synapse/workspaces/syn1/bigDataPools/spark1")
    raw = copy.deepcopy(raw_stack("staging"))
    raw["amlplatform:compute"] = {"attach": [{"name": "spark", "type": "SynapseSpark", "resourceId": pool}]}
    _, plan = plan_raw("staging", raw)
    (s,) = computes(plan, "SynapseSpark")
    assert s.inputs["computeName"] == "spark" and s.inputs["properties"]["resourceId"] == pool


def error(stack="dev", **sections):
    raw = copy.deepcopy(raw_stack(stack))
    for key, value in sections.items():
        raw[f"amlplatform:{key}"] = value
    with pytest.raises(config.ConfigError) as exc:
        config.parse(raw, f"stacks/Pulumi.{stack}.yaml", stack)
    return str(exc.value)


@pytest.mark.parametrize(
    "sections, expected",
    [
        ({"compute": {"clusters": [{"name": "cpu", "vmSize": "DS3_v2"}]}},
         'amlplatform:compute.clusters[cpu].vmSize: is not an Azure VM size name'),
        ({"compute": {"clusters": [{"name": "cpu", "vmSize": "Standard_DS3_v2", "minNodes": 3, "maxNodes": 2}]}},
         "amlplatform:compute.clusters[cpu].minNodes: must not exceed maxNodes (2), got 3"),
        ({"compute": {"clusters": [{"name": "gpu", "vmSize": "Standard_DS3_v2", "kind": "gpu"}]}},
         'amlplatform:compute.clusters[gpu].vmSize: is not a GPU size, and kind is gpu'),
        ({"compute": {"clusters": [{"name": "cpu", "vmSize": "Standard_NC24ads_A100_v4"}]}},
         'amlplatform:compute.clusters[cpu].kind: must be gpu: vmSize Standard_NC24ads_A100_v4 is a GPU size, '
         'got "cpu"'),
        ({"compute": {"clusters": [{"name": "9lives", "vmSize": "Standard_DS3_v2"}]}},
         "amlplatform:compute.clusters[9lives].name: must be letters, digits and hyphens, starting with a letter"),
        ({"compute": {"clusters": [{"name": "a-very-long-cluster-named-x", "vmSize": "Standard_DS3_v2"}]}},
         "must be 3-24 characters (it has 27)"),
        ({"compute": {"clusters": [{"name": "cpu", "vmSize": "Standard_DS3_v2"}, {"name": "cpu",
                                                                                  "vmSize": "Standard_DS4_v2"}]}},
         'amlplatform:compute.clusters[cpu].name: repeats a compute name'),
        ({"compute": {"instances": {"users": [U1]}}},
         "amlplatform:compute.instances.users[0]: a compute instance's user must be a member of a team"),
        ({"compute": {"instances": {"idleShutdownMinutes": 5}}}, "idleShutdownMinutes: must be at least 15"),
        ({"compute": {"instances": {"schedule": {"stop": "19:00"}}}}, "must be a five-field cron expression"),
        ({"aks": {"enabled": True}}, "amlplatform:aks.enabled: AKS for inference runs in private mode's scoring "
                                     "subnet (network.mode is public)"),
        ({"compute": {"attach": [{"name": "spark", "type": "SynapseSpark", "resourceId": "/subscriptions/x"}]}},
         "amlplatform:compute.attach[spark].resourceId: must be a Synapse Spark pool ID"),
    ],
)
def test_compute_preflight(sections, expected):
    msg = error(**sections)
    assert expected in msg and "Traceback" not in msg


@pytest.mark.parametrize(
    "aks, expected",
    [
        ({"networkPluginMode": "flat", "maxPods": 110},
         "the scoring subnet 10.60.2.0/23 has 507 usable addresses but the cluster needs 782 at full scale "
         "(7 nodes incl. surge x 111 addresses each with flat Azure CNI, + 5 for load balancers)"),
        ({"systemPool": {"vmSize": "Standard_D4s_v5", "count": 2}},
         "amlplatform:aks.systemPool.vmSize: has no local temp disk, which ephemeral OS disks need"),
        ({"inferencePool": {"vmSize": "Standard_D8ds_v5", "minCount": 4, "maxCount": 2}},
         "amlplatform:aks.inferencePool.minCount: must not exceed inferencePool.maxCount (2), got 4"),
        ({"tls": {"mode": "certificate", "cname": None}}, "certificate mode needs cname"),
        ({"dnsServiceIp": "10.0.0.10"}, "amlplatform:aks.dnsServiceIp: must lie inside serviceCidr 172.16.0.0/16"),
    ],
)
def test_aks_preflight(aks, expected):
    msg = error("staging", aks=aks)
    assert expected in msg and msg.startswith("stacks/Pulumi.staging.yaml: amlplatform:aks")


def test_flat_cni_fits_when_pods_per_node_allow():
    # 7 nodes x 51 + 5 = 362 addresses fit the /23's 507.
    raw = copy.deepcopy(raw_stack("staging"))
    raw["amlplatform:aks"] = {"networkPluginMode": "flat", "maxPods": 50}
    assert config.parse(raw, "stacks/Pulumi.staging.yaml", "staging").aks.addresses_needed() == 362
