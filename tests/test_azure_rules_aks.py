"""The AKS and subscription Azure rules: each passes the shipped stacks (test_azure_rules.py) and fails its fixture."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from infra.offline import azure_rules, prerequisites
from infra.offline.engine import Plan, PlannedResource
from tests.conftest import stack_plan

AKS = "azure-native:containerservice:ManagedCluster"


def without(plan: Plan, name: str) -> Plan:
    return dataclasses.replace(plan, resources=[r for r in plan.resources if r.name != name])


def edited(plan: Plan, name: str, **changes) -> Plan:
    """The plan with one resource's inputs (or, for `dependencies`, its dependencies) changed."""
    def edit(r: PlannedResource) -> PlannedResource:
        if r.name != name:
            return r
        deps = changes.pop("dependencies", r.dependencies)
        return dataclasses.replace(r, inputs={**copy.deepcopy(r.inputs), **changes}, dependencies=deps)
    return dataclasses.replace(plan, resources=[edit(r) for r in plan.resources])


def findings(plan: Plan) -> list[tuple[str, str, str]]:
    return [(f.rule, f.resource, f.message) for f in azure_rules.evaluate(plan).findings]


def test_private_cluster_with_udr_and_public_network_access_disabled():
    plan = stack_plan("staging")
    profile = {**plan.one(AKS).inputs["networkProfile"], "outboundType": "userDefinedRouting"}
    bad = edited(plan, "inference-aks", networkProfile=profile)
    assert findings(bad) == [(
        "azure-aks-udr-public-network-access", "inference-aks",
        "outboundType userDefinedRouting with publicNetworkAccess Disabled is refused; the private cluster's API "
        "server has only its private endpoint anyway, so leave publicNetworkAccess unset")]


@pytest.mark.parametrize("grant, role", [
    ("inference-ra-attach-reader", "Reader"),
    ("inference-ra-attach-kubernetes-extension-contributor", "Kubernetes Extension Contributor"),
    ("inference-ra-attach-azure-kubernetes-service-cluster-admin-role", "Azure Kubernetes Service Cluster Admin Role"),
])
def test_an_attach_role_missing_is_a_finding(grant, role):
    plan = stack_plan("prod")
    cluster = plan.one(AKS).id
    assert findings(without(plan, grant)) == [(
        "azure-aks-attach-roles", "inference-attach",
        f"the workspace's user-assigned identity has no {role} on {cluster}: the attach fails")]


def test_an_attach_that_does_not_wait_for_its_grants_is_a_finding():
    plan = stack_plan("prod")
    attach = next(r for r in plan.resources if r.name == "inference-attach")
    deps = [d for d in attach.dependencies if not d.endswith("inference-role-propagation")]
    got = findings(edited(plan, "inference-attach", dependencies=deps))
    # Findings come sorted by rule, resource and message.
    assert [(rule, message) for rule, _, message in got] == [
        ("azure-aks-attach-roles", "attaches before the workspace identity's Azure Kubernetes Service Cluster Admin "
                                   "Role grant on the cluster exists"),
        ("azure-aks-attach-roles", "attaches before the workspace identity's Kubernetes Extension Contributor "
                                   "grant on the cluster exists"),
        ("azure-aks-attach-roles", "attaches before the workspace identity's Reader grant on the cluster exists"),
    ]


def test_a_compute_identity_without_acr_pull_is_a_finding():
    plan = stack_plan("staging")
    registry = plan.one("azure-native:containerregistry:Registry").id
    assert findings(without(plan, "inference-ra-acr-pull")) == [(
        "azure-aks-attach-roles", "inference-attach",
        f"the compute's identity has no AcrPull on the workspace registry {registry}")]


def test_a_namespace_nothing_creates_is_a_finding():
    plan = stack_plan("staging")
    cluster = plan.one(AKS).id
    assert findings(without(plan, "inference-namespace")) == [(
        "azure-aks-attach-namespace", "inference-attach",
        f"namespace 'aml-inference' is created by nothing in the plan on {cluster}")]


def test_an_attach_before_its_namespace_is_a_finding():
    plan = stack_plan("staging")
    attach = next(r for r in plan.resources if r.name == "inference-attach")
    deps = [d for d in attach.dependencies if not d.endswith("inference-namespace")]
    assert findings(edited(plan, "inference-attach", dependencies=deps)) == [(
        "azure-aks-attach-namespace", "inference-attach",
        "attaches before namespace 'aml-inference' exists (no dependency on its creation)")]


def test_the_extension_release_namespace_counts_as_created():
    # The extension creates its own namespace; attaching there is odd (preflight refuses it) but not a 'missing' one.
    plan = stack_plan("staging")
    attach = next(r for r in plan.resources if r.name == "inference-attach")
    props = copy.deepcopy(attach.inputs["properties"])
    props["properties"]["namespace"] = "azureml"
    assert findings(edited(plan, "inference-attach", properties=props)) == []


def test_container_insights_without_its_association_is_a_finding():
    plan = stack_plan("staging")
    workspace = plan.one("azure-native:operationalinsights:Workspace").id
    assert findings(without(plan, "inference-ci-dcra")) == [(
        "azure-aks-container-insights-dcr", "inference-aks",
        "Container Insights uses managed-identity auth but no data collection rule with the ContainerInsights "
        f"extension, sending to {workspace}, is associated with the cluster: the agent collects nothing")]


def test_a_rule_sending_elsewhere_is_a_finding():
    plan = stack_plan("staging")
    dcr = next(r for r in plan.resources if r.name == "inference-ci-dcr")
    dest = {"logAnalytics": [{"name": "la-workspace", "workspaceResourceId": "/subscriptions/x/other"}]}
    assert [f[0] for f in findings(edited(plan, dcr.name, destinations=dest))] == ["azure-aks-container-insights-dcr"]


def test_private_ingestion_without_the_configuration_endpoint_is_a_finding():
    plan = stack_plan("prod")
    assert findings(without(plan, "inference-ci-dcea")) == [(
        "azure-aks-container-insights-private-link", "inference-aks",
        "the Log Analytics workspace takes ingestion only through its private link scope, but no data collection "
        "endpoint in that scope is associated with the cluster (configurationAccessEndpoint)")]
    assert [f[0] for f in findings(without(plan, "inference-ci-dce-scoped"))] == [
        "azure-aks-container-insights-private-link"]


def test_an_undeclared_feature_is_a_finding_with_its_commands():
    plan = stack_plan("staging")
    bad = dataclasses.replace(plan, outputs={**plan.outputs, "registeredFeatures": ["Microsoft.ContainerService/"
                                                                                    "DisableSSHPreview"]})
    assert findings(bad) == [(
        "azure-required-feature-registrations", "inference-aks",
        "needs the subscription feature Microsoft.Compute/EncryptionAtHost (node pools with enableEncryptionAtHost), "
        "which amlplatform:platform.registeredFeatures does not list: run `az feature register --namespace "
        "Microsoft.Compute --name EncryptionAtHost && az provider register --namespace Microsoft.Compute`, wait until "
        "`az feature show` says Registered, then list it there")]


def test_node_pools_without_ssh_need_the_disable_ssh_feature():
    plan = stack_plan("prod")
    bad = dataclasses.replace(plan, outputs={**plan.outputs, "registeredFeatures": ["Microsoft.Compute/EncryptionAtHost"]})
    assert findings(bad) == [(
        "azure-required-feature-registrations", "inference-aks",
        "needs the subscription feature Microsoft.ContainerService/DisableSSHPreview (node pools with "
        "securityProfile.sshAccess Disabled), which amlplatform:platform.registeredFeatures does not list: run `az "
        "feature register --namespace Microsoft.ContainerService --name DisableSSHPreview && az provider register "
        "--namespace Microsoft.ContainerService`, wait until `az feature show` says Registered, then list it there")]


def test_shipped_stacks_declare_what_they_need():
    assert stack_plan("staging").outputs["registeredFeatures"] == ["Microsoft.Compute/EncryptionAtHost",
                                                                   "Microsoft.ContainerService/DisableSSHPreview"]
    assert stack_plan("dev").outputs["registeredFeatures"] == []
    assert prerequisites.for_plan(stack_plan("dev")).features == []


# ---- prerequisites: the report and the onboarding guide name them all ----------------------------


def test_prerequisites_of_prod():
    prereq = prerequisites.for_plan(stack_plan("prod"))
    assert [n.name for n in prereq.providers] == [
        "Microsoft.Compute", "Microsoft.ContainerRegistry", "Microsoft.ContainerService", "Microsoft.Insights",
        "Microsoft.KeyVault", "Microsoft.KubernetesConfiguration", "Microsoft.MachineLearningServices",
        "Microsoft.ManagedIdentity", "Microsoft.Network", "Microsoft.OperationalInsights", "Microsoft.PolicyInsights",
        "Microsoft.Storage"]
    feature, ssh = prereq.features
    assert feature.name == "Microsoft.Compute/EncryptionAtHost" and prereq.undeclared == []
    assert feature.commands == ["az feature register --namespace Microsoft.Compute --name EncryptionAtHost",
                                "az provider register --namespace Microsoft.Compute"]
    assert ssh.name == "Microsoft.ContainerService/DisableSSHPreview"
    assert ssh.commands == ["az feature register --namespace Microsoft.ContainerService --name DisableSSHPreview",
                            "az provider register --namespace Microsoft.ContainerService"]


def test_report_lists_prerequisites_with_commands():
    from infra.offline import report

    prereq = prerequisites.for_plan(stack_plan("staging"))
    lines = report.prerequisite_lines(prereq)
    assert lines[0] == ("  prerequisites: 12 resource provider(s), 2 feature(s) to register once per subscription "
                        "(report.md lists the commands)")
    assert lines[-2:] == [
        "    feature Microsoft.Compute/EncryptionAtHost (node pools with enableEncryptionAtHost): declared registered",
        "    feature Microsoft.ContainerService/DisableSSHPreview (node pools with securityProfile.sshAccess "
        "Disabled): declared registered"]
    md = "\n".join(report.prerequisite_markdown(prereq))
    assert "az feature register --namespace Microsoft.Compute --name EncryptionAtHost" in md
    assert "az provider register --namespace Microsoft.KubernetesConfiguration" in md


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_onboarding_guide_names_every_prerequisite(stack):
    from tests.conftest import ROOT

    guide = (ROOT / "docs" / "onboarding.md").read_text()
    prereq = prerequisites.for_plan(stack_plan(stack))
    for need in prereq.providers + prereq.features:
        assert f"`{need.name}`" in guide, need.name
        for command in need.commands:
            name = command.rsplit(" ", 1)[-1]
            assert name in guide
    for need in prereq.features:
        assert need.commands[0] in guide


# ---- Trusted Access and Image Cleaner ---------------------------------------------------------


def test_an_attach_without_the_trusted_access_binding_is_a_finding():
    plan = stack_plan("prod")
    cluster = plan.one(AKS)
    assert findings(without(plan, "inference-trusted-access")) == [(
        "azure-aks-trusted-access", "inference-attach",
        f"{cluster.physical_name} has local accounts disabled, and no Trusted Access role binding gives the workspace "
        "the role Microsoft.MachineLearningServices/workspaces/mlworkload on it: Azure ML cannot reach the cluster")]


def test_a_binding_for_another_source_or_role_does_not_count():
    plan = stack_plan("staging")
    other = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-x/providers/" \
            "Microsoft.MachineLearningServices/workspaces/mlw-other"
    for change in ({"sourceResourceId": other}, {"roles": ["Microsoft.MachineLearningServices/workspaces/reader"]}):
        assert [f[0] for f in findings(edited(plan, "inference-trusted-access", **change))] == [
            "azure-aks-trusted-access"]
    # A cluster with local accounts still on needs no binding.
    local = edited(without(plan, "inference-trusted-access"), "inference-aks", disableLocalAccounts=False)
    assert "azure-aks-trusted-access" not in [f[0] for f in findings(local)]


def test_an_attach_before_the_binding_is_a_finding():
    plan = stack_plan("staging")
    attach = next(r for r in plan.resources if r.name == "inference-attach")
    deps = [d for d in attach.dependencies if not d.endswith("::inference-trusted-access")]
    assert findings(edited(plan, "inference-attach", dependencies=deps)) == [(
        "azure-aks-trusted-access", "inference-attach",
        "attaches before the Trusted Access role binding exists: a compute attached before the binding does not "
        "use it")]


@pytest.mark.parametrize("cleaner", [{"enabled": True}, {"enabled": True, "intervalHours": 12},
                                     {"enabled": True, "intervalHours": 2161}])
def test_image_cleaner_needs_an_interval_aks_accepts(cleaner):
    plan = stack_plan("prod")
    profile = {**plan.one(AKS).inputs["securityProfile"], "imageCleaner": cleaner}
    assert findings(edited(plan, "inference-aks", securityProfile=profile)) == [(
        "azure-aks-image-cleaner-interval", "inference-aks",
        f"imageCleaner.intervalHours is {cleaner.get('intervalHours')!r}: ARM clients must state it, 24-2160 hours")]
