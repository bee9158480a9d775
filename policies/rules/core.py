"""What every platform rule works on: one resource as Pulumi sees it, the stack's facts, verdicts.

A rule is a plain function, so the same code judges the offline plan
(`amlplatform check`), a real `pulumi preview --json` (`amlplatform scan`)
and, wrapped by policies/__main__.py, a live `pulumi preview --policy-pack`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Literal, Mapping, Sequence

# The Pulumi engine's placeholders for values a preview cannot know yet (pulumi-policy's proxy.py).
UNKNOWN_SENTINELS = frozenset({
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7", "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9", "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    "030794c1-ac77-496b-92df-f27374a8bd58", "e48ece36-62e2-4504-bad9-02848725956a",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
})

Level = Literal["mandatory", "advisory"]
# A resource rule that looks at every type.
ANY = "*"


def unknown(value: Any) -> bool:
    return isinstance(value, str) and value in UNKNOWN_SENTINELS


def dig(props: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """props["a"]["b"] for "a.b"; the default where a step is missing or not a mapping."""
    value: Any = props
    for step in path.split("."):
        if not isinstance(value, Mapping) or step not in value:
            return default
        value = value[step]
    return value


@dataclass(frozen=True)
class Resource:
    """One resource: type token, inputs (camelCase, as the provider takes them) and options."""

    urn: str
    type: str
    name: str
    props: Mapping[str, Any]
    protect: bool = False
    id: str = ""
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)

    @property
    def logical_name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]


@dataclass(frozen=True)
class StackFacts:
    """What a rule may know beyond the resources: the stack's settings and governance tables."""

    environment: str = "dev"
    platform_owners: frozenset[str] = frozenset()
    # Azure ML documents Contributor on each linked resource for a user-assigned workspace
    # identity; known by principal ID offline, by the identity's logical name in a preview.
    workspace_identities: frozenset[str] = frozenset()
    workspace_identity_name: str = "workspace-identity-uai"
    # Compute instances' own identity: idle shutdown needs it to hold Contributor on the workspace
    # (how-to-create-compute-instance); known the same two ways.
    instance_identities: frozenset[str] = frozenset()
    instance_identity_name: str = "instance-identity-uai"
    required_tags: tuple[str, ...] = ("environment", "managed-by", "project")
    allowed_locations: tuple[str, ...] = ()
    protect_stateful: bool = False
    # The offline plan and `pulumi preview --json` mark secrets; the live analyzer gets them unwrapped.
    secrets_visible: bool = False
    # The stack sets amlplatform:aks.tls.mode internalHttp: plain HTTP scoring inside the private
    # VNet, a deliberate exception (the plan's report shows it as checkov's CKV_AMLP_16 inline skip).
    inference_http: bool = False
    # Workspaces with an AML managed network that a plan's computes may name without declaring them:
    # a team stack's instances sit in its platform stack's workspace (infra/program/team.py).
    managed_network_workspaces: tuple[str, ...] = ()
    # The stack sets amlplatform:network.flowLogs.mode central: the landing zone records VNet flow logs, so
    # the stack's VNets carry none (the report shows it as checkov's CKV2_AMLP_5 inline skip).
    flow_logs_central: bool = False
    # The stack sets amlplatform:network.monitorPrivateLink: Log Analytics and App Insights take ingestion
    # only through an Azure Monitor private link scope.
    private_ingestion: bool = False
    # The stack has amlplatform:encryption.customerManagedKey.enabled (and its aksKms with AKS): the
    # workspace, storage, registry and AKS must carry their customer-managed keys (policies/rules/encryption.py).
    customer_managed_key: bool = False
    aks_kms: bool = False

    @property
    def level(self) -> Level:
        """Mandatory in staging and prod; advisory in dev, where the relaxations are deliberate."""
        return "advisory" if self.environment == "dev" else "mandatory"


ResourceCheck = Callable[[Resource, StackFacts], "str | None"]
StackCheck = Callable[[Sequence[Resource], StackFacts], "list[tuple[str, str]]"]


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    # Type tokens a resource rule looks at; empty for stack rules (they see everything).
    resource_types: frozenset[str]
    check: ResourceCheck | None = None
    stack_check: StackCheck | None = None
    # The checkov check enforcing the same on the rendered template, where there is one.
    checkov: str = ""

    @property
    def kind(self) -> str:
        return "stack" if self.stack_check else "resource"


@dataclass(frozen=True)
class Violation:
    rule: str
    urn: str
    message: str
    level: Level = "mandatory"


@dataclass
class RuleReport:
    rules: tuple[str, ...]
    checked: int
    level: Level = "mandatory"
    violations: list[Violation] = field(default_factory=list)

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == "mandatory"]

    @property
    def advisory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == "advisory"]

    @property
    def ok(self) -> bool:
        return not self.mandatory

    def verdict(self) -> str:
        if self.mandatory:
            return f"FAIL: {len(self.mandatory)} violation(s)"
        if self.advisory:
            return f"PASS with {len(self.advisory)} advisory finding(s)"
        return "PASS"


def evaluate(rules: Iterable[Rule], resources: Iterable[Resource], facts: StackFacts) -> RuleReport:
    """Every rule over every resource it applies to; stack rules once over the whole list."""
    rules = tuple(rules)
    resources = list(resources)
    level = facts.level
    report = RuleReport(tuple(r.name for r in rules), 0, level)
    for rule in rules:
        if rule.stack_check is not None:
            report.checked += 1
            for urn, message in rule.stack_check(resources, facts):
                report.violations.append(Violation(rule.name, urn, message, level))
            continue
        assert rule.check is not None
        for res in resources:
            if ANY in rule.resource_types or res.type in rule.resource_types:
                report.checked += 1
                problem = rule.check(res, facts)
                if problem:
                    report.violations.append(Violation(rule.name, res.urn, problem, level))
    report.violations.sort(key=lambda v: (v.rule, v.urn))
    return report
