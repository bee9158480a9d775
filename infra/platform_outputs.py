"""What a platform stack exports for its team stacks, each under one output name.

The platform program exports them (infra/program/outputs.py `team_stack_outputs`); a team stack reads
them through a StackReference (infra/program/team.py) as plain values, before it declares
anything. Field names here are the outputs' names in snake case: `data_lake_id` is the output
`dataLakeId`. No Pulumi import: the names are plain data.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

from pydantic.alias_generators import to_camel


class MissingOutput(KeyError):
    """The platform stack does not export a value the team stack needs (deployed by an older version)."""


@dataclass(frozen=True)
class InstanceSettings:
    """The platform's compute instance settings (`compute.instances`), for its team stacks' members."""

    identity_id: str  # the instance identity every instance runs as
    vm_size: str
    idle_shutdown_minutes: int
    start: str | None = None  # cron expressions of the start/stop schedule
    stop: str | None = None
    time_zone: str = "UTC"
    # Users who already have an instance in the platform stack (its own teams' members).
    users: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PlatformOutputs:
    subscription_id: str
    tenant_id: str
    location: str
    environment: str
    prefix: str  # the platform's name prefix (compute instance names carry it)
    tags: dict[str, str]  # the platform's tags, set on every team resource that takes tags
    resource_group_name: str
    workspace_name: str
    workspace_id: str
    storage_account_id: str  # the workspace's own storage (notebooks, code snapshots)
    data_lake_id: str
    data_lake_name: str
    # Role name (a built-in role's, or "job-submitter" for the stack's custom role) -> its definition ID.
    role_definition_ids: dict[str, str]
    team_datastores: bool  # whether team containers become AML datastores
    teams: dict[str, list[str]]  # the platform stack's own teams -> their containers
    compute_instances: InstanceSettings | None = None  # None: instances are off
    training_subnet_id: str | None = None  # private mode: where compute runs

    @staticmethod
    def key(name: str) -> str:
        """The output's name for a field."""
        return to_camel(name)

    @classmethod
    def optional(cls) -> frozenset[str]:
        return frozenset(f.name for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING)

    @classmethod
    def from_outputs(cls, outputs: Mapping[str, Any]) -> "PlatformOutputs":
        """The team stack's view of the platform's outputs; MissingOutput names the first one absent."""
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            key = cls.key(f.name)
            if key not in outputs or outputs[key] is None:
                if f.name in cls.optional():
                    continue
                raise MissingOutput(key)
            values[f.name] = outputs[key]
        if values.get("compute_instances") is not None:
            given = values["compute_instances"]
            settings = {f.name: given[to_camel(f.name)] for f in dataclasses.fields(InstanceSettings)
                        if to_camel(f.name) in given}
            # Stack outputs carry numbers as JSON numbers (floats in Python): whole minutes back to int.
            settings["idle_shutdown_minutes"] = int(settings["idle_shutdown_minutes"])
            values["compute_instances"] = InstanceSettings(**settings)
        return cls(**values)


def instance_settings_output(settings: Mapping[str, Any]) -> dict[str, Any]:
    """InstanceSettings' fields (snake case) as the output's keys."""
    known = {f.name for f in dataclasses.fields(InstanceSettings)}
    unknown = set(settings) - known
    if unknown:
        raise KeyError(f"not an instance setting: {sorted(unknown)}")
    return {to_camel(k): v for k, v in settings.items()}
