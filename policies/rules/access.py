"""Role assignments: privileged roles only for the platform owners; principal type always set."""

from __future__ import annotations

import re
from typing import Sequence

from .core import Resource, Rule, StackFacts, unknown
from .tokens import ROLE_ASSIGNMENT

PRIVILEGED = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
}
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
PRINCIPAL_TYPES = ("User", "Group", "ServicePrincipal", "ForeignGroup", "Device")


WORKSPACE_SCOPE = re.compile(r"/providers/Microsoft\.MachineLearningServices/workspaces/[^/]+$", re.IGNORECASE)


def _from_identity(res: Resource, principals: frozenset[str], name: str, by_urn: dict[str, Resource]) -> bool:
    principal = str(res.props.get("principalId", "")).lower()
    if principal in principals:
        return True
    # In a preview the identity's principal ID is unknown; where it comes from is not.
    sources = res.property_dependencies.get("principalId") or ()
    return bool(sources) and all(
        by_urn[u].logical_name == name for u in sources if u in by_urn
    ) and any(u in by_urn for u in sources)


def _documented_contributor(res: Resource, facts: StackFacts, by_urn: dict[str, Resource]) -> bool:
    """Azure ML's documented Contributor grants: the user-assigned workspace identity on the workspace and each
    linked resource (a resource scope, never the group or subscription), and the compute instances' identity on
    the workspace alone (idle shutdown)."""
    scope = str(res.props.get("scope", ""))
    if "/providers/" in scope and _from_identity(res, facts.workspace_identities, facts.workspace_identity_name, by_urn):
        return True
    return bool(WORKSPACE_SCOPE.search(scope)) and _from_identity(
        res, facts.instance_identities, facts.instance_identity_name, by_urn)


def privileged_roles(resources: Sequence[Resource], facts: StackFacts) -> list[tuple[str, str]]:
    by_urn = {r.urn: r for r in resources}
    out = []
    for res in resources:
        if res.type != ROLE_ASSIGNMENT:
            continue
        role = str(res.props.get("roleDefinitionId", "")).rsplit("/", 1)[-1].lower()
        if role not in PRIVILEGED:
            continue
        principal = res.props.get("principalId")
        if not unknown(principal) and str(principal).lower() in facts.platform_owners:
            continue
        scope = str(res.props.get("scope", ""))
        if role == CONTRIBUTOR and _documented_contributor(res, facts, by_urn):
            continue
        who = "a principal known only after creation" if unknown(principal) else principal
        out.append((res.urn, f"{PRIVILEGED[role]} on {scope} is granted to {who}; privileged roles go only to the "
                             "platform owners group (amlplatform:rbac.platformOwners)"))
    return out


def principal_type(res: Resource, facts: StackFacts) -> str | None:
    if res.props.get("principalType") in PRINCIPAL_TYPES:
        return None
    return (f"role assignment to {res.props.get('principalId')} has no principal type; set it (User, Group or "
            "ServicePrincipal) so a new principal does not fail with PrincipalNotFound")


RULES = (
    Rule("rbac-privileged-roles", "Owner, Contributor and User Access Administrator only for the platform "
         "owners group", frozenset(), stack_check=privileged_roles),
    Rule("rbac-principal-type", "Every role assignment states its principal type", frozenset({ROLE_ASSIGNMENT}),
         principal_type, checkov="CKV_AMLP_9"),
)
