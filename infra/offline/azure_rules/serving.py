"""Endpoints and deployments: what Azure ML refuses, or accepts and ignores."""

from __future__ import annotations

from typing import Iterable

from infra.offline.azure_rules.base import AzureRule, PlanView

ONLINE = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"
DEPLOYMENT = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments"
COMPUTE = "Microsoft.MachineLearningServices/workspaces/computes"
WORKSPACE = "Microsoft.MachineLearningServices/workspaces"
ROUTING = "pulumi-python:dynamic/amlplatform:EndpointRouting"
MANAGED = ("AllowInternetOutbound", "AllowOnlyApprovedOutbound")


def _endpoint_of(view: PlanView, dep_id: str):
    return view.get(dep_id.rsplit("/deployments/", 1)[0])


def kubernetes_auth(view: PlanView) -> Iterable[tuple[str, str]]:
    for ep in view.of_arm_type(ONLINE):
        if str(ep.inputs.get("kind", "")).upper() == "K8S" and (ep.inputs.get("properties") or {}).get("authMode") \
                == "AADToken":
            yield ep.urn, (f"Kubernetes online endpoint {ep.physical_name} asks for AADToken: Kubernetes endpoints "
                           "take Key or AMLToken only")


def kubernetes_instance_type(view: PlanView) -> Iterable[tuple[str, str]]:
    for dep in view.of_arm_type(DEPLOYMENT):
        props = dep.inputs.get("properties") or {}
        if props.get("endpointComputeType") != "Kubernetes" or not dep.id:
            continue
        ep = _endpoint_of(view, dep.id)
        compute = view.get((ep.inputs.get("properties") or {}).get("compute")) if ep else None
        if compute is None:
            yield dep.urn, f"Kubernetes deployment {dep.physical_name}: its endpoint's compute is not in the plan"
            continue
        types = ((compute.inputs.get("properties") or {}).get("properties") or {}).get("instanceTypes") or {}
        wanted = props.get("instanceType")
        if wanted is not None and wanted not in types:
            yield dep.urn, (f"Kubernetes deployment {dep.physical_name} asks for instance type {wanted!r}, which "
                            f"compute {compute.physical_name} does not define ({', '.join(sorted(types)) or 'none'})")


def egress_in_managed_network(view: PlanView) -> Iterable[tuple[str, str]]:
    for dep in view.of_arm_type(DEPLOYMENT):
        props = dep.inputs.get("properties") or {}
        # Enabled is the API's default (azure-native sends it when the flag is unset); Disabled asks for the legacy
        # per-deployment network, which a managed-network workspace replaces.
        if props.get("endpointComputeType") != "Managed" or props.get("egressPublicNetworkAccess") != "Disabled" \
                or not dep.id:
            continue
        ws = view.get(dep.id.rsplit("/onlineEndpoints/", 1)[0])
        if ws is not None and (ws.inputs.get("managedNetwork") or {}).get("isolationMode") in MANAGED:
            yield dep.urn, (f"managed deployment {dep.physical_name} sets egressPublicNetworkAccess Disabled in a "
                            "workspace with a managed network, where the flag no longer applies: outbound follows the "
                            "managed network's rules; leave egress_public_network_access out")


def routing(view: PlanView) -> Iterable[tuple[str, str]]:
    """An endpoint's traffic names its planned deployments, whole shares summing to 100."""
    deployments = {(r.inputs.get("endpointName"), r.inputs.get("deploymentName")) for r in view.of_arm_type(DEPLOYMENT)}
    deployments |= {(r.inputs.get("endpointName"), r.inputs.get("deploymentName"))
                    for r in view.of_arm_type(DEPLOYMENT.replace("onlineEndpoints", "batchEndpoints"))}
    for r in (x for x in view.plan.resources if x.type == ROUTING):
        name = r.inputs.get("endpointName")
        wanted = list((r.inputs.get("traffic") or {}).keys()) if r.inputs.get("kind") == "online" \
            else [r.inputs.get("defaultDeployment")]
        missing = [d for d in wanted if (name, d) not in deployments]
        if missing:
            yield r.urn, f"endpoint {name} routes to {', '.join(map(str, missing))}, which the plan does not deploy"
        if r.inputs.get("kind") == "online" and sum((r.inputs.get("traffic") or {}).values()) != 100:
            yield r.urn, f"endpoint {name}: traffic sums to {sum((r.inputs.get('traffic') or {}).values())}, not 100"


RULES = (
    AzureRule("azure-kubernetes-endpoint-auth", "Kubernetes online endpoints use Key or AMLToken auth",
              "https://learn.microsoft.com/azure/machine-learning/how-to-authenticate-online-endpoint", kubernetes_auth),
    AzureRule("azure-kubernetes-instance-type", "A Kubernetes deployment's instance type is one its compute defines",
              "https://learn.microsoft.com/azure/machine-learning/how-to-manage-kubernetes-instance-types",
              kubernetes_instance_type),
    AzureRule("azure-managed-deployment-egress", "No egress flag on managed deployments in a managed-network "
              "workspace", "https://learn.microsoft.com/azure/machine-learning/concept-secure-online-endpoint"
              "#secure-outbound-access-with-workspace-managed-virtual-network", egress_in_managed_network),
    AzureRule("azure-endpoint-routing", "Traffic and batch defaults name planned deployments; traffic sums to 100",
              "https://learn.microsoft.com/azure/machine-learning/how-to-safely-rollout-online-endpoints", routing),
)
