"""What the subscription must have registered: a feature Azure checks only at `pulumi up`."""

from __future__ import annotations

from typing import Iterable

from infra.offline.prerequisites import for_plan
from infra.offline.azure_rules.base import AzureRule, PlanView


def required_features(view: PlanView) -> Iterable[tuple[str, str]]:
    """A plan that needs a subscription feature the stack does not declare registered.

    The offline plan cannot ask Azure, so the stack states what its operator registered
    (amlplatform:platform.registeredFeatures, exported as the stack output registeredFeatures);
    a resource needing any other feature would be refused at `pulumi up`."""
    prereq = for_plan(view.plan)
    for need in prereq.undeclared:
        yield need.urn, (f"needs the subscription feature {need.name} ({need.why}), which "
                         f"amlplatform:platform.registeredFeatures does not list: run `{' && '.join(need.commands)}`, "
                         "wait until `az feature show` says Registered, then list it there")


RULES = (
    AzureRule(
        "azure-required-feature-registrations",
        "Every subscription feature the plan needs is declared registered",
        # "Before adding a node pool with host-based encryption, ensure the EncryptionAtHost feature is
        # enabled for your subscription" (az feature register --namespace Microsoft.Compute --name EncryptionAtHost).
        "https://learn.microsoft.com/azure/aks/enable-host-encryption",
        required_features,
    ),
)
