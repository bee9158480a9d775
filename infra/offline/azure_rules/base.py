"""What an Azure rule sees: the plan's Azure resources by ARM type and ID, and what it reports."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Iterable, Sequence

from infra.offline.arm_types import TYPES
from infra.offline.engine import Plan, PlannedResource


@dataclass(frozen=True)
class Finding:
    rule: str
    urn: str
    message: str
    source: str

    @property
    def resource(self) -> str:
        return self.urn.rsplit("::", 1)[-1]


class PlanView:
    """The plan's Azure resources, indexed the way ARM addresses them.

    `referenced` are the plans of the stacks this one reads through a StackReference (a team stack's
    platform stack): their resources are context a rule may look up (a compute's workspace, a lock
    above a scope), never findings of this plan."""

    def __init__(self, plan: Plan, referenced: Sequence[Plan] = ()) -> None:
        self.plan = plan
        self.resources: list[PlannedResource] = [r for r in plan.custom() if r.type in TYPES]
        self.context: list[PlannedResource] = [r for p in referenced for r in p.custom() if r.type in TYPES]

    @staticmethod
    def arm_type(res: PlannedResource) -> str:
        return TYPES[res.type].arm_type

    def of_arm_type(self, arm_type: str) -> list[PlannedResource]:
        wanted = arm_type.lower()
        return [r for r in self.resources if self.arm_type(r).lower() == wanted]

    def known_of_arm_type(self, arm_type: str) -> list[PlannedResource]:
        """This plan's resources of the type, then the referenced stacks'."""
        wanted = arm_type.lower()
        return self.of_arm_type(arm_type) + [r for r in self.context if self.arm_type(r).lower() == wanted]

    @cached_property
    def by_id(self) -> dict[str, PlannedResource]:
        """ARM ID (lower case, as ARM compares them) -> resource: this plan's, else a referenced stack's."""
        found = {r.id.lower(): r for r in self.context if r.id}
        found.update({r.id.lower(): r for r in self.resources if r.id})
        return found

    def get(self, arm_id: object) -> PlannedResource | None:
        return self.by_id.get(arm_id.lower()) if isinstance(arm_id, str) else None

    def under(self, scope: str) -> list[PlannedResource]:
        """Resources whose ARM ID lies strictly below `scope` (children and extension resources)."""
        prefix = scope.lower().rstrip("/") + "/"
        return [r for r in self.resources if r.id and r.id.lower().startswith(prefix)]


# A check yields (URN, message) per finding.
Check = Callable[[PlanView], Iterable[tuple[str, str]]]


@dataclass(frozen=True)
class AzureRule:
    id: str
    title: str
    # The Microsoft document or GitHub issue that states the behaviour.
    source: str
    check: Check
