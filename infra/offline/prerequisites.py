"""What a subscription must have registered before a plan can be applied, derived from the plan.

A resource provider serves each ARM namespace the plan uses; some resources also need
another provider or a subscription feature (`az feature register`) that Azure checks
only at `pulumi up`. The plan report lists them all with their commands, and the Azure
rule azure-required-feature-registrations fails a plan that needs a feature the stack
does not declare as registered (amlplatform:platform.registeredFeatures, exported as the
stack output `registeredFeatures`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

from infra.offline.arm_types import TYPES
from infra.offline.engine import Plan, PlannedResource

# Registered in every subscription (learn.microsoft.com/azure/azure-resource-manager/management/
# resource-providers-and-types): nothing to do.
BY_DEFAULT = frozenset({"Microsoft.Resources", "Microsoft.Authorization"})

ENCRYPTION_AT_HOST = "Microsoft.Compute/EncryptionAtHost"
DISABLE_SSH = "Microsoft.ContainerService/DisableSSHPreview"
MANAGED_CLUSTER = "Microsoft.ContainerService/managedClusters"
AGENT_POOL = "Microsoft.ContainerService/managedClusters/agentPools"
FEATURES_OUTPUT = "registeredFeatures"


@dataclass(frozen=True)
class Need:
    """One provider or feature, the first resource (by URN) that needs it, and why."""

    name: str
    urn: str
    why: str

    @property
    def commands(self) -> list[str]:
        if "/" not in self.name:
            return [f"az provider register --namespace {self.name}"]
        namespace, feature = self.name.split("/", 1)
        # The provider is registered again afterwards so the feature reaches it.
        return [f"az feature register --namespace {namespace} --name {feature}",
                f"az provider register --namespace {namespace}"]


@dataclass(frozen=True)
class Prerequisites:
    providers: list[Need]
    features: list[Need]
    declared_features: frozenset[str]

    @property
    def undeclared(self) -> list[Need]:
        return [f for f in self.features if f.name not in self.declared_features]


def _pools(res: PlannedResource, arm_type: str) -> list[dict[str, Any]]:
    if arm_type == AGENT_POOL:
        return [res.inputs]
    if arm_type == MANAGED_CLUSTER:
        return [p for p in res.inputs.get("agentPoolProfiles") or [] if isinstance(p, dict)]
    return []


def _encryption_at_host(res: PlannedResource, arm_type: str) -> Iterable[tuple[str, str]]:
    # learn.microsoft.com/azure/aks/enable-host-encryption: register the feature, then the provider.
    if any(p.get("enableEncryptionAtHost") is True for p in _pools(res, arm_type)):
        yield ENCRYPTION_AT_HOST, "node pools with enableEncryptionAtHost"
        yield "Microsoft.Compute", "encryption at host (the feature is Microsoft.Compute's)"


def _ssh_disabled(res: PlannedResource, arm_type: str) -> Iterable[tuple[str, str]]:
    # learn.microsoft.com/azure/aks/manage-ssh-node-access: "To use the Disable SSH feature, ... register
    # the DisableSSHPreview feature flag", then the provider again.
    if any(str((p.get("securityProfile") or {}).get("sshAccess", "")).lower() == "disabled"
           for p in _pools(res, arm_type)):
        yield DISABLE_SSH, "node pools with securityProfile.sshAccess Disabled"


def _azure_policy(res: PlannedResource, arm_type: str) -> Iterable[tuple[str, str]]:
    # learn.microsoft.com/azure/aks/use-azure-policy: the add-on reports through Microsoft.PolicyInsights.
    addon = (res.inputs.get("addonProfiles") or {}).get("azurepolicy") if arm_type == MANAGED_CLUSTER else None
    if isinstance(addon, dict) and addon.get("enabled") is True:
        yield "Microsoft.PolicyInsights", "the Azure Policy add-on for AKS"


# Needs beyond a resource's own namespace: (resource, ARM type) -> (provider or feature, why).
EXTRA: tuple[Callable[[PlannedResource, str], Iterable[tuple[str, str]]], ...] = (
    _encryption_at_host, _ssh_disabled, _azure_policy)


def for_plan(plan: Plan) -> Prerequisites:
    providers: dict[str, Need] = {}
    features: dict[str, Need] = {}
    for res in sorted(plan.custom(), key=lambda r: r.urn):
        spec = TYPES.get(res.type)
        if spec is None:
            continue
        namespace = spec.arm_type.split("/", 1)[0]
        found = [(namespace, spec.arm_type)] + list(_extra(res, spec.arm_type))
        for name, why in found:
            target = features if "/" in name else providers
            if name not in BY_DEFAULT and name not in target:
                target[name] = Need(name, res.urn, why)
    declared = plan.outputs.get(FEATURES_OUTPUT) or []
    return Prerequisites(
        providers=[providers[k] for k in sorted(providers)],
        features=[features[k] for k in sorted(features)],
        declared_features=frozenset(str(f) for f in declared if isinstance(f, str)),
    )


def _extra(res: PlannedResource, arm_type: str) -> Iterable[tuple[str, str]]:
    for rule in EXTRA:
        yield from rule(res, arm_type)
