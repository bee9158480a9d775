"""AKS for inference: what AKS and Azure ML refuse, or accept and then fail at run time."""

from __future__ import annotations

from typing import Iterable

from infra.components.inference_settings import ALWAYS_THERE
from infra.azure_facts.roles import AKS_ATTACH_ROLES, BUILTIN_ROLES
from infra.offline.engine import PlannedResource
from infra.offline.azure_rules.base import AzureRule, PlanView

CLUSTER = "Microsoft.ContainerService/managedClusters"
MANAGED_NAMESPACE = "Microsoft.ContainerService/managedClusters/managedNamespaces"
EXTENSION = "Microsoft.KubernetesConfiguration/extensions"
COMPUTE = "Microsoft.MachineLearningServices/workspaces/computes"
ROLE_ASSIGNMENT = "Microsoft.Authorization/roleAssignments"
DCR = "Microsoft.Insights/dataCollectionRules"
DCE = "Microsoft.Insights/dataCollectionEndpoints"
DCRA = "Microsoft.Insights/dataCollectionRuleAssociations"
SCOPED_RESOURCE = "Microsoft.Insights/privateLinkScopes/scopedResources"
LOG_ANALYTICS = "Microsoft.OperationalInsights/workspaces"
TRUSTED_ACCESS = "Microsoft.ContainerService/managedClusters/trustedAccessRoleBindings"
# Azure ML's Trusted Access role (Azure/AML-Kubernetes docs/azureml-aks-ta-support.md).
MLWORKLOAD = "Microsoft.MachineLearningServices/workspaces/mlworkload"
IMAGE_CLEANER_HOURS = (24, 2160)


def _lower(value: object) -> str:
    return str(value or "").lower()


def _waits_for(view: PlanView, res: PlannedResource, target_urn: str) -> bool:
    """Whether `res` depends on `target_urn`, through pauses, components and other resources."""
    by_urn = view.plan.by_urn()
    children: dict[str, list[str]] = {}
    for r in view.plan.resources:
        children.setdefault(r.parent, []).append(r.urn)
    seen: set[str] = set()
    todo = list(res.dependencies)
    while todo:
        urn = todo.pop()
        if urn == target_urn:
            return True
        if urn in seen:
            continue
        seen.add(urn)
        dep = by_urn.get(urn)
        if dep is not None:
            todo.extend(dep.dependencies)
            if not dep.custom:
                todo.extend(children.get(urn, []))
    return False


def _kubernetes_computes(view: PlanView) -> list[PlannedResource]:
    return [r for r in view.of_arm_type(COMPUTE)
            if (r.inputs.get("properties") or {}).get("computeType") == "Kubernetes" and r.id]


def _principal(view: PlanView, identity: object) -> str | None:
    """The principal of a resource's (first) user-assigned identity, when the plan declares it."""
    if not isinstance(identity, dict) or "UserAssigned" not in str(identity.get("type")):
        return None
    ids = identity.get("userAssignedIdentities") or []
    uai = view.get(next(iter(ids), None))
    value = uai.outputs.get("principalId") if uai else None
    return value if isinstance(value, str) else None


def _grants(view: PlanView, scope: object, principal: str) -> dict[str, PlannedResource]:
    """Role GUID -> assignment, for one principal on one scope."""
    return {
        _lower(a.inputs.get("roleDefinitionId")).rsplit("/", 1)[-1]: a
        for a in view.of_arm_type(ROLE_ASSIGNMENT)
        if _lower(a.inputs.get("scope")) == _lower(scope) and _lower(a.inputs.get("principalId")) == principal.lower()
    }


def attach_roles(view: PlanView) -> Iterable[tuple[str, str]]:
    """A Kubernetes compute whose workspace identity lacks a documented attach role on the cluster, or is
    attached before the grant; or whose own identity cannot pull from the workspace registry."""
    for compute in _kubernetes_computes(view):
        workspace = view.get(compute.id.rsplit("/computes/", 1)[0] if compute.id else None)
        if workspace is None:
            continue
        cluster = (compute.inputs.get("properties") or {}).get("resourceId")
        principal = _principal(view, workspace.inputs.get("identity"))
        if principal is not None:
            grants = _grants(view, cluster, principal)
            for role in AKS_ATTACH_ROLES:
                grant = grants.get(BUILTIN_ROLES[role])
                if grant is None:
                    yield compute.urn, (f"the workspace's user-assigned identity has no {role} on {cluster}: "
                                        "the attach fails")
                elif not _waits_for(view, compute, grant.urn):
                    yield compute.urn, f"attaches before the workspace identity's {role} grant on the cluster exists"
        registry = workspace.inputs.get("containerRegistry")
        own = _principal(view, compute.inputs.get("identity"))
        if own is not None and registry and BUILTIN_ROLES["AcrPull"] not in _grants(view, registry, own):
            yield compute.urn, f"the compute's identity has no AcrPull on the workspace registry {registry}"


def attach_namespace(view: PlanView) -> Iterable[tuple[str, str]]:
    """The namespace a Kubernetes compute is attached with must exist before the attach: the attach neither
    creates nor checks it, and every workload sent to it fails."""
    for compute in _kubernetes_computes(view):
        props = compute.inputs.get("properties") or {}
        cluster = _lower(props.get("resourceId"))
        namespace = (props.get("properties") or {}).get("namespace") or ALWAYS_THERE
        if namespace == ALWAYS_THERE:
            continue
        creators = [r for r in view.of_arm_type(MANAGED_NAMESPACE)
                    if _lower(r.id) == f"{cluster}/managednamespaces/{namespace}"]
        creators += [r for r in view.of_arm_type(EXTENSION) if _lower(r.id).startswith(cluster + "/providers/")
                     and ((r.inputs.get("scope") or {}).get("cluster") or {}).get("releaseNamespace") == namespace]
        if not creators:
            yield compute.urn, f"namespace {namespace!r} is created by nothing in the plan on {props.get('resourceId')}"
        elif not any(_waits_for(view, compute, r.urn) for r in creators):
            yield compute.urn, f"attaches before namespace {namespace!r} exists (no dependency on its creation)"


def udr_with_public_access_disabled(view: PlanView) -> Iterable[tuple[str, str]]:
    """AKS answers 400 'UserDefinedRouting is not supported when Cluster has public network access set to
    Disabled'."""
    for cluster in view.of_arm_type(CLUSTER):
        i = cluster.inputs
        if (_lower((i.get("networkProfile") or {}).get("outboundType")) == "userdefinedrouting"
                and _lower(i.get("publicNetworkAccess")) == "disabled"):
            private = (i.get("apiServerAccessProfile") or {}).get("enablePrivateCluster") is True
            yield cluster.urn, ("outboundType userDefinedRouting with publicNetworkAccess Disabled is refused"
                                + ("; the private cluster's API server has only its private endpoint anyway, so "
                                   "leave publicNetworkAccess unset" if private else ""))


def _ci_rule_ok(view: PlanView, association: PlannedResource, workspace: str) -> bool:
    rule = view.get(association.inputs.get("dataCollectionRuleId"))
    if rule is None:
        return False
    extensions = (rule.inputs.get("dataSources") or {}).get("extensions") or []
    sends = [d.get("name") for d in (rule.inputs.get("destinations") or {}).get("logAnalytics") or []
             if _lower(d.get("workspaceResourceId")) == workspace]
    flows = rule.inputs.get("dataFlows") or []
    return (any(e.get("extensionName") == "ContainerInsights" for e in extensions)
            and any(set(f.get("destinations") or []) & set(sends) for f in flows))


def _scoped(view: PlanView, endpoint_id: object) -> bool:
    return any(_lower(s.inputs.get("linkedResourceId")) == _lower(endpoint_id) for s in view.of_arm_type(SCOPED_RESOURCE))


def _ci_clusters(view: PlanView) -> Iterable[tuple[PlannedResource, dict, list[PlannedResource]]]:
    """Clusters whose Container Insights add-on uses managed-identity auth, with its config and associations."""
    for cluster in view.of_arm_type(CLUSTER):
        addon = (cluster.inputs.get("addonProfiles") or {}).get("omsagent") or {}
        config = addon.get("config") or {}
        if addon.get("enabled") is True and _lower(config.get("useAADAuth")) == "true":
            yield cluster, config, [a for a in view.under(cluster.id or "") if view.arm_type(a) == DCRA]


def container_insights_rule(view: PlanView) -> Iterable[tuple[str, str]]:
    """Container Insights with managed-identity auth (useAADAuth) sends only through a data collection rule
    with the ContainerInsights extension that is associated with the cluster."""
    for cluster, config, associations in _ci_clusters(view):
        workspace = config.get("logAnalyticsWorkspaceResourceID")
        if not any(_ci_rule_ok(view, a, _lower(workspace)) for a in associations):
            yield cluster.urn, ("Container Insights uses managed-identity auth but no data collection rule with the "
                                f"ContainerInsights extension, sending to {workspace}, is associated with the "
                                "cluster: the agent collects nothing")


def container_insights_private_link(view: PlanView) -> Iterable[tuple[str, str]]:
    """With the workspace's public ingestion off, the agent reaches Azure Monitor through a configuration
    data collection endpoint in the private link scope, associated with the cluster."""
    for cluster, config, associations in _ci_clusters(view):
        law = view.get(config.get("logAnalyticsWorkspaceResourceID"))
        if law is None or law.inputs.get("publicNetworkAccessForIngestion") != "Disabled":
            continue
        endpoints = [a.inputs.get("dataCollectionEndpointId") for a in associations]
        if not any(e and view.get(e) is not None and _scoped(view, e) for e in endpoints):
            yield cluster.urn, ("the Log Analytics workspace takes ingestion only through its private link scope, but "
                                "no data collection endpoint in that scope is associated with the cluster "
                                "(configurationAccessEndpoint)")


def trusted_access(view: PlanView) -> Iterable[tuple[str, str]]:
    """A Kubernetes compute on a cluster with local accounts off reaches it only through AKS Trusted Access: a
    role binding on the cluster with Azure ML's mlworkload role for the compute's workspace, created before
    the attach (computes attached before the binding existed do not use it)."""
    for compute in _kubernetes_computes(view):
        cluster_id = (compute.inputs.get("properties") or {}).get("resourceId")
        cluster = view.get(cluster_id)
        if cluster is None or cluster.inputs.get("disableLocalAccounts") is not True:
            continue
        workspace = _lower(compute.id.rsplit("/computes/", 1)[0] if compute.id else "")
        bindings = [b for b in view.under(cluster.id or "") if view.arm_type(b) == TRUSTED_ACCESS
                    and _lower(b.inputs.get("sourceResourceId")) == workspace
                    and MLWORKLOAD.lower() in [_lower(r) for r in b.inputs.get("roles") or []]]
        if not bindings:
            yield compute.urn, (f"{cluster.physical_name} has local accounts disabled, and no Trusted Access role "
                                f"binding gives the workspace the role {MLWORKLOAD} on it: Azure ML cannot reach "
                                "the cluster")
        elif not any(_waits_for(view, compute, b.urn) for b in bindings):
            yield compute.urn, ("attaches before the Trusted Access role binding exists: a compute attached before "
                                "the binding does not use it")


def image_cleaner_interval(view: PlanView) -> Iterable[tuple[str, str]]:
    """Image Cleaner's interval is required for ARM clients and must lie in 24-2160 hours (image-cleaner.md)."""
    low, high = IMAGE_CLEANER_HOURS
    for cluster in view.of_arm_type(CLUSTER):
        cleaner = (cluster.inputs.get("securityProfile") or {}).get("imageCleaner") or {}
        if cleaner.get("enabled") is not True:
            continue
        hours = cleaner.get("intervalHours")
        if not isinstance(hours, int) or not low <= hours <= high:
            yield cluster.urn, (f"imageCleaner.intervalHours is {hours!r}: ARM clients must state it, "
                                f"{low}-{high} hours")


RULES = (
    AzureRule(
        "azure-aks-udr-public-network-access",
        "Private AKS with UDR and public network access Disabled",
        "https://github.com/Azure/AKS/issues/3690",
        udr_with_public_access_disabled,
    ),
    AzureRule(
        "azure-aks-attach-roles",
        "A Kubernetes compute's workspace identity holds the attach roles on the cluster before the attach",
        "https://learn.microsoft.com/azure/machine-learning/how-to-attach-kubernetes-to-workspace",
        attach_roles,
    ),
    AzureRule(
        "azure-aks-attach-namespace",
        "A Kubernetes compute's namespace exists before the attach",
        "https://learn.microsoft.com/azure/machine-learning/how-to-attach-kubernetes-to-workspace",
        attach_namespace,
    ),
    AzureRule(
        "azure-aks-trusted-access",
        "A Kubernetes compute on a cluster without local accounts has its workspace's Trusted Access binding first",
        "https://github.com/Azure/AML-Kubernetes/blob/master/docs/azureml-aks-ta-support.md",
        trusted_access,
    ),
    AzureRule(
        "azure-aks-image-cleaner-interval",
        "Image Cleaner states an interval of 24-2160 hours",
        "https://learn.microsoft.com/azure/aks/image-cleaner#configuration-options",
        image_cleaner_interval,
    ),
    AzureRule(
        "azure-aks-container-insights-dcr",
        "Container Insights with managed-identity auth has a data collection rule associated with the cluster",
        "https://learn.microsoft.com/azure/azure-monitor/containers/kubernetes-monitoring-enable-arm",
        container_insights_rule,
    ),
    AzureRule(
        "azure-aks-container-insights-private-link",
        "Container Insights behind a private link scope has its configuration endpoint in the scope",
        "https://learn.microsoft.com/azure/azure-monitor/containers/kubernetes-monitoring-private-link",
        container_insights_private_link,
    ),
)
