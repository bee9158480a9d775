"""AKS inference (issue 11): what `pulumi up` needs beyond a valid-looking plan.

Encryption at host as a switch with its subscription feature, the attach roles and their
propagation pause, the compute's own identity, the extension settings the CLI sends,
Container Insights' data collection rule, UDR without publicNetworkAccess Disabled, and
the workload namespace."""

from __future__ import annotations

import base64
import copy

import pytest

from infra.config import stack as config
from infra.components.inference_settings import extension_settings, pem_b64, protected_settings
from infra.offline import arm
from policies import relaxations
from tests.conftest import edited_plan, plan_raw, raw_stack, stack_plan

AKS = "azure-native:containerservice:ManagedCluster"
EXT = "azure-native:kubernetesconfiguration:Extension"
UAI = "azure-native:managedidentity:UserAssignedIdentity"
RA = "azure-native:authorization:RoleAssignment"
NS = "azure-native:containerservice:ManagedNamespace"
DCR = "azure-native:monitor:DataCollectionRule"
DCE = "azure-native:monitor:DataCollectionEndpoint"
DCRA = "azure-native:monitor:DataCollectionRuleAssociation"
SCOPED = "azure-native:monitor:PrivateLinkScopedResource"
SUB = "00000000-0000-0000-0000-000000000000"


def edited(stack: str, **sections):
    raw = copy.deepcopy(raw_stack(stack))
    for key, value in sections.items():
        section = raw.setdefault(f"amlplatform:{key}", {})
        section.update(value)
    return plan_raw(stack, raw)


def kubernetes_compute(plan):
    (attach,) = [r for r in plan.of_type("azure-native:machinelearningservices:Compute")
                 if r.inputs["properties"]["computeType"] == "Kubernetes"]
    return attach


# ---- 6. the extension's settings -------------------------------------------------------------


def cluster_id(env: str) -> str:
    return (f"/subscriptions/{SUB}/resourceGroups/rg-contoso-{env}/providers/Microsoft.ContainerService/"
            f"managedClusters/aks-contoso-{env}")


def test_https_settings_are_the_keys_the_cli_sends():
    ext = stack_plan("prod").one(EXT).inputs
    cid = cluster_id("prd")
    assert ext["configurationSettings"] == {
        "enableTraining": "False",
        "enableInference": "True",
        "inferenceRouterServiceType": "LoadBalancer",
        "internalLoadBalancerProvider": "azure",
        "inferenceRouterHA": "True",
        "clusterPurpose": "FastProd",
        "allowInsecureConnections": "False",
        "sslCname": "scoring.contoso.internal",
        "scoringFe.serviceType.internalLoadBalancer": "True",
        "cluster_name": cid,
        "clusterId": cid,
        "prometheus.prometheusSpec.externalLabels.cluster_name": cid,
        "domain": "westeurope.cloudapp.azure.com",
        "location": "westeurope",
        "jobSchedulerLocation": "westeurope",
        "cluster_name_friendly": "aks-contoso-prd",
        "servicebus.enabled": "false",
        "relayserver.enabled": "false",
        "nginxIngress.enabled": "true",
    }
    assert ext["scope"] == {"cluster": {"releaseNamespace": "azureml"}}
    # Base64 PEMs, kept secret (the plan masks them as it masks the stack secrets).
    assert ext["configurationProtectedSettings"] == "[secret]"


def test_internal_http_settings():
    _, plan = edited("staging", aks={"tls": {"mode": "internalHttp"}})
    ext = plan.one(EXT).inputs
    cid = cluster_id("stg")
    assert ext["configurationSettings"] == {
        "enableTraining": "False", "enableInference": "True", "inferenceRouterServiceType": "LoadBalancer",
        "internalLoadBalancerProvider": "azure", "inferenceRouterHA": "True", "clusterPurpose": "DevTest",
        "allowInsecureConnections": "True", "scoringFe.serviceType.internalLoadBalancer": "True",
        "cluster_name": cid, "clusterId": cid, "prometheus.prometheusSpec.externalLabels.cluster_name": cid,
        "domain": "westeurope.cloudapp.azure.com", "location": "westeurope", "jobSchedulerLocation": "westeurope",
        "cluster_name_friendly": "aks-contoso-stg", "servicebus.enabled": "false", "relayserver.enabled": "false",
        "nginxIngress.enabled": "true",
    }
    assert "configurationProtectedSettings" not in ext


def test_protected_settings_are_base64_pems():
    cert = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n"
    key = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----\n"
    assert protected_settings(cert, key) == {
        "scoringFe.sslCert": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJzekNDQVZtZ0F3SUJBZ0lVCi0tLS0tRU5EIENFUlRJRklD"
                             "QVRFLS0tLS0K",
        "scoringFe.sslKey": "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JR0hBZ0VBTUJNR0J5cUdTTTQ5Ci0tLS0tRU5EIFBSSVZBVEUg"
                            "S0VZLS0tLS0K",
    }
    assert base64.b64decode(pem_b64(cert)).decode() == cert


def test_settings_function_matches_the_plan():
    got = extension_settings(cluster_id="/x", cluster_name="c", location="eastus", cluster_purpose="DevTest",
                             tls_cname=None)
    assert got["allowInsecureConnections"] == "True" and "sslCname" not in got
    assert got["domain"] == "eastus.cloudapp.azure.com" and got["clusterId"] == got["cluster_name"] == "/x"


# ---- 4. encryption at host -------------------------------------------------------------------


def pools(plan):
    return plan.one(AKS).inputs["agentPoolProfiles"]


def test_encryption_at_host_is_on_by_default_and_a_switch():
    assert [p["enableEncryptionAtHost"] for p in pools(stack_plan("staging"))] == [True, True]
    cfg, plan = edited("staging", aks={"encryptionAtHost": False})
    assert [p["enableEncryptionAtHost"] for p in pools(plan)] == [False, False]
    # The relaxation is visible in the scan, naming the stack file and the key.
    cluster = next(r for r in arm.render(plan, relaxations.for_stack(cfg))["resources"]
                   if r["type"] == "Microsoft.ContainerService/managedClusters")
    assert any(line.startswith("checkov:skip=CKV_AZURE_227: stacks/Pulumi.staging.yaml sets "
                               "amlplatform:aks.encryptionAtHost=false") for line in cluster["metadata"]["checkov"])


# ---- 5. attach roles, the pause, the compute's identity --------------------------------------


def test_workspace_identity_gets_the_attach_roles_on_the_cluster_before_the_attach():
    plan = stack_plan("prod")
    cluster = plan.one(AKS)
    principal = plan.one(UAI, "workspace-identity-uai").outputs["principalId"]
    grants = {r.inputs["roleDefinitionId"].rsplit("/", 1)[-1]: r for r in plan.of_type(RA)
              if r.inputs["scope"] == cluster.id and r.inputs["principalId"] == principal}
    assert sorted(grants) == sorted([
        "acdd72a7-3385-48ef-bd42-f606fba81ae7",  # Reader
        "85cb6faf-e071-4c9b-8136-154b5a04f717",  # Kubernetes Extension Contributor
        "0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8",  # Azure Kubernetes Service Cluster Admin Role
    ])
    assert all(g.inputs["principalType"] == "ServicePrincipal" for g in grants.values())
    pause = plan.one("time:index/sleep:Sleep", "inference-role-propagation")
    assert pause.inputs["createDuration"] == "60s"
    assert {g.urn for g in grants.values()} <= set(pause.dependencies)
    attach = kubernetes_compute(plan)
    assert pause.urn in attach.dependencies and plan.one(EXT).urn in attach.dependencies


def test_the_kubernetes_compute_has_its_own_identity_with_acr_pull_only():
    plan = stack_plan("staging")
    identity = plan.one(UAI, "inference-compute-identity-uai")
    assert identity.inputs["resourceName"] == "id-contoso-stg-inference"
    attach = kubernetes_compute(plan)
    assert attach.inputs["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [identity.id]}
    held = [(r.inputs["scope"], r.inputs["roleDefinitionId"].rsplit("/", 1)[-1]) for r in plan.of_type(RA)
            if r.inputs["principalId"] == identity.outputs["principalId"]]
    registry = plan.one("azure-native:containerregistry:Registry").id
    assert held == [(registry, "7f951dda-4ed3-4680-a7ca-43fe172d538d")]


# ---- 7. Container Insights -------------------------------------------------------------------


def test_container_insights_rule_and_association():
    plan = stack_plan("staging")
    workspace = plan.one("azure-native:operationalinsights:Workspace").id
    dcr = plan.one(DCR)
    streams = ["Microsoft-ContainerInsights-Group-Default"]
    assert dcr.inputs == {
        "dataCollectionRuleName": "MSCI-westeurope-aks-contoso-stg",
        "resourceGroupName": "rg-contoso-stg",
        "location": "westeurope",
        "kind": "Linux",
        "dataSources": {"extensions": [{"name": "ContainerInsightsExtension", "extensionName": "ContainerInsights",
                                        "streams": streams,
                                        "extensionSettings": {"dataCollectionSettings": {"enableContainerLogV2": True}}}]},
        "dataFlows": [{"streams": streams, "destinations": ["la-workspace"]}],
        "destinations": {"logAnalytics": [{"name": "la-workspace", "workspaceResourceId": workspace}]},
        "tags": dcr.inputs["tags"],
    }
    assocs = {a.inputs["associationName"]: a for a in plan.of_type(DCRA)}
    assoc = assocs["ContainerInsightsExtension"]
    cluster = plan.one(AKS)
    assert assoc.id == f"{cluster.id}/providers/Microsoft.Insights/dataCollectionRuleAssociations/ContainerInsightsExtension"
    assert assoc.inputs["dataCollectionRuleId"] == dcr.id
    # Staging ingests through its private link scope, as prod does: the configuration endpoint comes too.
    assert sorted(assocs) == ["ContainerInsightsExtension", "configurationAccessEndpoint"]
    # Without a private link scope: no configuration endpoint.
    _, public = edited_plan("staging", lambda raw: raw["amlplatform:network"].update(monitorPrivateLink=False))
    assert not public.of_type(DCE) and [a.inputs["associationName"] for a in public.of_type(DCRA)] == [
        "ContainerInsightsExtension"]


def test_prod_adds_the_configuration_endpoint_in_the_private_link_scope():
    plan = stack_plan("prod")
    dce = plan.one(DCE)
    assert dce.inputs["dataCollectionEndpointName"] == "MSCI-config-westeurope-aks-contoso-prd"
    assert dce.inputs["networkAcls"] == {"publicNetworkAccess": "Disabled"} and dce.inputs["kind"] == "Linux"
    cluster = plan.one(AKS)
    config = next(a for a in plan.of_type(DCRA) if a.inputs["associationName"] == "configurationAccessEndpoint")
    assert config.inputs["resourceUri"] == cluster.id and config.inputs["dataCollectionEndpointId"] == dce.id
    scoped = next(s for s in plan.of_type(SCOPED) if s.inputs["linkedResourceId"] == dce.id)
    assert scoped.inputs["name"] == "MSCI-config-westeurope-aks-contoso-prd-connection"
    assert scoped.inputs["scopeName"] == "ampls-contoso-prd"


# ---- UDR on a private cluster ----------------------------------------------------------------


def test_firewall_egress_plans_udr_without_public_network_access_disabled():
    from infra.offline import azure_rules, platform_rules

    cfg, plan = edited("staging", network={"egress": "firewall", "firewallIp": "10.0.1.4"})
    cluster = plan.one(AKS).inputs
    assert cluster["networkProfile"]["outboundType"] == "userDefinedRouting"
    assert "publicNetworkAccess" not in cluster
    assert cluster["apiServerAccessProfile"]["enablePrivateCluster"] is True
    report = azure_rules.evaluate(plan)
    assert report.ok, [f"{f.rule}: {f.message}" for f in report.findings]
    assert platform_rules.check(plan, platform_rules.facts_for(cfg, plan)).ok


def test_nat_gateway_keeps_public_network_access_disabled():
    assert stack_plan("prod").one(AKS).inputs["publicNetworkAccess"] == "Disabled"


# ---- the workload namespace ------------------------------------------------------------------


def test_the_workload_namespace_is_an_aks_managed_namespace_created_before_the_attach():
    plan = stack_plan("prod")
    cluster = plan.one(AKS)
    ns = plan.one(NS)
    assert ns.id == f"{cluster.id}/managedNamespaces/aml-inference"
    assert ns.inputs["properties"] == {
        "defaultNetworkPolicy": {"ingress": "AllowAll", "egress": "AllowAll"},
        "adoptionPolicy": "Never", "deletePolicy": "Keep",
        "labels": {"app.kubernetes.io/managed-by": "amlplatform"},
    }
    attach = kubernetes_compute(plan)
    assert attach.inputs["properties"]["properties"]["namespace"] == "aml-inference"
    assert ns.urn in attach.dependencies


def test_default_namespace_without_creating_one():
    _, plan = edited("staging", aks={"namespace": "default", "createNamespace": False})
    assert not plan.of_type(NS)
    assert kubernetes_compute(plan).inputs["properties"]["properties"]["namespace"] == "default"


def config_error(stack: str, **aks) -> str:
    raw = copy.deepcopy(raw_stack(stack))
    raw.setdefault("amlplatform:aks", {}).update(aks)
    with pytest.raises(config.ConfigError) as exc:
        config.parse(raw, f"stacks/Pulumi.{stack}.yaml", stack)
    return str(exc.value)


@pytest.mark.parametrize("aks, expected", [
    ({"namespace": "scoring", "createNamespace": False},
     "amlplatform:aks.namespace: nothing creates it (aks.createNamespace is false) and the attach needs it to "
     'exist: use default or let the stack create it, got "scoring"'),
    ({"namespace": "azureml"},
     'amlplatform:aks.namespace: is the AzureML extension\'s own system namespace; name a namespace of its own for '
     'AML workloads, got "azureml"'),
    ({"namespace": "kube-system"}, 'is a Kubernetes system namespace; name a namespace of its own for AML workloads, '
                                   'got "kube-system"'),
    ({"namespace": "default"}, 'always exists; set aks.createNamespace: false to use it as is, got "default"'),
    ({"namespace": "Scoring_NS"}, 'must be a Kubernetes namespace name'),
])
def test_namespace_preflight(aks, expected):
    msg = config_error("staging", **aks)
    assert expected in msg and msg.startswith("stacks/Pulumi.staging.yaml: amlplatform:aks.namespace") \
        and "\n" not in msg and "Traceback" not in msg


def test_registered_features_must_name_namespace_and_feature():
    raw = copy.deepcopy(raw_stack("staging"))
    raw["amlplatform:platform"]["registeredFeatures"] = ["EncryptionAtHost"]
    with pytest.raises(config.ConfigError) as exc:
        config.parse(raw, "stacks/Pulumi.staging.yaml", "staging")
    assert "amlplatform:platform.registeredFeatures[0]" in str(exc.value)
    assert "must be <Namespace>/<Feature>, such as Microsoft.Compute/EncryptionAtHost" in str(exc.value)
