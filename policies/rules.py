"""Platform rules over Pulumi resources (type token + inputs), the ones checkov cannot express.

Each rule is a plain function of one resource's inputs and the stack's facts,
so the same function runs offline over the plan (`amlplatform plan`) and,
wrapped, in the CrossGuard pack during `pulumi preview`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
PRIVILEGED = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
}
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"


@dataclass(frozen=True)
class StackFacts:
    """What a rule may know beyond the resource in front of it."""

    platform_owners: frozenset[str] = frozenset()
    # Azure ML documents Contributor on each linked resource for a user-assigned workspace identity.
    workspace_identities: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    resource_types: frozenset[str]
    check: Callable[[dict[str, Any], StackFacts], str | None]


@dataclass(frozen=True)
class Violation:
    rule: str
    urn: str
    message: str


def privileged_roles(props: dict[str, Any], facts: StackFacts) -> str | None:
    role = str(props.get("roleDefinitionId", "")).rsplit("/", 1)[-1].lower()
    if role not in PRIVILEGED:
        return None
    principal = str(props.get("principalId", "")).lower()
    if principal in facts.platform_owners:
        return None
    scope = str(props.get("scope", ""))
    if role == CONTRIBUTOR and principal in facts.workspace_identities and "/providers/" in scope:
        return None
    return (
        f"{PRIVILEGED[role]} on {scope} is granted to {principal or 'an unknown principal'}; privileged roles "
        "go only to the platform owners group (amlplatform:rbac.platformOwners)"
    )


def principal_type(props: dict[str, Any], facts: StackFacts) -> str | None:
    if props.get("principalType") in ("User", "Group", "ServicePrincipal", "ForeignGroup", "Device"):
        return None
    return (
        f"role assignment to {props.get('principalId')} has no principal type; set it (User, Group or "
        "ServicePrincipal) so a new principal does not fail with PrincipalNotFound"
    )


RULES: tuple[Rule, ...] = (
    Rule("rbac-privileged-roles", "Owner, Contributor and User Access Administrator only for the platform "
         "owners group", frozenset({ROLE_ASSIGNMENT}), privileged_roles),
    Rule("rbac-principal-type", "Every role assignment states its principal type", frozenset({ROLE_ASSIGNMENT}),
         principal_type),
)


@dataclass
class RuleReport:
    rules: tuple[str, ...]
    checked: int
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def verdict(self) -> str:
        return "PASS" if self.ok else f"FAIL: {len(self.violations)} violation(s)"


def evaluate(resources: Iterable[tuple[str, str, dict[str, Any]]], facts: StackFacts) -> RuleReport:
    """Run every rule over (urn, type token, inputs) triples."""
    violations = []
    checked = 0
    for urn, token, props in resources:
        for rule in RULES:
            if token in rule.resource_types:
                checked += 1
                message = rule.check(props, facts)
                if message:
                    violations.append(Violation(rule.name, urn, message))
    return RuleReport(tuple(r.name for r in RULES), checked, violations)
