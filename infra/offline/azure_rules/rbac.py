"""Role assignments as ARM stores them."""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from infra.offline.azure_rules.base import AzureRule, PlanView

ROLE_ASSIGNMENT = "Microsoft.Authorization/roleAssignments"


def duplicate_assignments(view: PlanView) -> Iterable[tuple[str, str]]:
    """ARM keeps one assignment per (scope, role, principal): a second name for the same triple is a 409
    RoleAssignmentExists, and deleting either removes the grant both stand for."""
    seen: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for res in view.of_arm_type(ROLE_ASSIGNMENT):
        i = res.inputs
        key = (str(i.get("scope", "")).lower(), str(i.get("roleDefinitionId", "")).rsplit("/", 1)[-1].lower(),
               str(i.get("principalId", "")).lower())
        seen[key].append(res.urn)
    for (scope, role, principal), urns in sorted(seen.items()):
        for urn in urns[1:]:
            yield urn, (f"assigns role {role} to principal {principal} on {scope} again (also "
                        f"{urns[0].rsplit('::', 1)[-1]}): ARM answers 409 RoleAssignmentExists")


RULES = (
    AzureRule(
        "azure-role-assignment-unique",
        "One role assignment per (scope, role, principal)",
        # "The resource provider does not allow having a role assignment with the same ... service principal,
        # role definition and scope deployed more than once when it is with different name."
        "https://github.com/Azure/bicep/discussions/19690",
        duplicate_assignments,
    ),
)
