"""Management locks that would stop the platform from deleting what it manages."""

from __future__ import annotations

from typing import Iterable

from infra.offline.engine import PlannedResource
from infra.offline.azure_rules.base import AzureRule, PlanView

LOCK = "Microsoft.Authorization/locks"
ROLE_ASSIGNMENT = "Microsoft.Authorization/roleAssignments"
IDENTITY = "Microsoft.ManagedIdentity/userAssignedIdentities"
# One per parent, created with it and never removed while it lives: a lock above them costs nothing.
STATIC_CHILDREN = frozenset({
    "Microsoft.Insights/diagnosticSettings",
    "Microsoft.Storage/storageAccounts/blobServices",
    "Microsoft.Storage/storageAccounts/fileServices",
})


def _platform_principals(view: PlanView) -> set[str]:
    """The principal IDs of the stack's own managed identities: their grants are fixed per stack."""
    return {str(r.outputs.get("principalId", "")).lower() for r in view.of_arm_type(IDENTITY)} - {""}


def _system_identity_of_planned(view: PlanView, child: PlannedResource) -> bool:
    """A grant whose principal is the system-assigned identity of a resource the stack declares (a disk
    encryption set's): it lives and goes with that resource, as fixed as a platform identity's grant."""
    by_urn = view.plan.by_urn()
    sources = [by_urn.get(u) for u in child.property_dependencies.get("principalId", [])]
    return any(s is not None and "SystemAssigned" in str((s.inputs.get("identity") or {}).get("type"))
               for s in sources)


def _static(view: PlanView, child: PlannedResource, principals: set[str]) -> bool:
    kind = view.arm_type(child)
    if kind in STATIC_CHILDREN:
        return True
    return kind == ROLE_ASSIGNMENT and (str(child.inputs.get("principalId", "")).lower() in principals
                                        or _system_identity_of_planned(view, child))


def locks_over_managed_children(view: PlanView) -> Iterable[tuple[str, str]]:
    """A lock's scope covers every resource whose ID it prefixes, extension resources included (a team stack's
    resources below its platform stack's locks too)."""
    principals = _platform_principals(view)
    for lock in view.known_of_arm_type(LOCK):
        scope = str(lock.inputs.get("scope", ""))
        for child in view.under(scope):
            if view.arm_type(child) == LOCK or child.retain_on_delete or _static(view, child, principals):
                continue
            yield child.urn, (f"{view.arm_type(child)} {child.physical_name} lies below the {lock.inputs.get('level')} "
                              f"lock {lock.physical_name} on {scope}: the plan can never delete it (offboarding, a config "
                              "change, destroy) without ScopeLocked; lock only what nothing managed lives under, retain "
                              "it on delete, or protect the parent instead")


RULES = (
    AzureRule(
        "azure-lock-over-managed-children",
        "No management lock above a resource the platform may delete",
        # "Extension resources inherit locks from the resource they're applied to"; "A cannot-delete lock on a
        # resource or resource group prevents the deletion of Azure RBAC assignments."
        "https://learn.microsoft.com/azure/azure-resource-manager/management/lock-resources#lock-inheritance",
        locks_over_managed_children,
    ),
)
