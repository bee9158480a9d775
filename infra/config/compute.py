"""The `amlplatform:compute` section: clusters, compute instances, serverless jobs, attached Spark."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from infra.azure_facts.time_zones import WINDOWS_TIME_ZONES
from infra.config.base import _Section
from infra.config.errors import NO_VALUE, _At
from infra.types import ComputeName, ResourceId, TypeLabel, UserObjectId, VmSize, resource_id, vm_size

_SYNAPSE_POOL = resource_id(r"Microsoft\.Synapse/workspaces/[-\w]+/bigDataPools/[-\w]+")
_DATABRICKS = resource_id(r"Microsoft\.Databricks/workspaces/[-\w.]+")
# The cluster a stack gets when it lists none (compute.clusters unset).
DEFAULT_CLUSTER = {"name": "cpu-cluster", "vmSize": "Standard_DS3_v2"}

# Cron fields of a compute instance schedule and their ranges, as Azure ML documents them
# ("Create a compute instance", schedule with a Resource Manager template): minute, hour, day of
# month, month, day of week (Sunday=0). A field is * or a comma list of numbers and a-b ranges.
CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12),
               ("day of week", 0, 6))
_CRON_ITEM = re.compile(r"^(?P<a>\d+)(?:-(?P<b>\d+))?$")
Cron = Annotated[str, TypeLabel("cron expression")]


def cron_problem(expression: str) -> str | None:
    """What is wrong with a five-field schedule expression, or None."""
    fields = expression.split()
    if len(fields) != len(CRON_FIELDS):
        return "must be a five-field cron expression (minute hour day-of-month month day-of-week), such as 0 19 * * 1-5"
    for text, (what, low, high) in zip(fields, CRON_FIELDS, strict=True):
        if text == "*":
            continue
        for item in text.split(","):
            m = _CRON_ITEM.match(item)
            if not m:
                return f"{what} field {text!r} must be *, a number or a range a-b, or a comma list of them"
            a, b = int(m.group("a")), int(m.group("b") or m.group("a"))
            if not (low <= a <= high and low <= b <= high) or a > b:
                return f"{what} field {text!r} must stay within {low}-{high} (ranges low-high)"
    return None


class ClusterConfig(_Section):
    """An Azure ML compute cluster (AmlCompute): runs as the compute identity, no node public IPs, no SSH; in
    private mode in the training subnet."""

    name: ComputeName
    """The compute name: 3-24 letters, digits and hyphens, starting with a letter, with a letter after the last
    hyphen (`cpu-cluster-2` is refused); unique among the workspace's computes."""
    vm_size: VmSize
    """A size Azure has and Azure ML can still create (infra/azure_facts/vm_sizes.py; a retired series is refused
    with its date)."""
    kind: Literal["cpu", "gpu"] = "cpu"
    """gpu takes a GPU size of the N family (NC, ND, NV, NG), cpu any other."""
    min_nodes: int = Field(default=0, ge=0, le=1000)
    """Nodes kept running; at most `maxNodes`."""
    max_nodes: int | None = Field(default=None, ge=1, le=1000)
    """Nodes at most. Unset: `compute.defaultMaxNodes`."""
    priority: Literal["Dedicated", "LowPriority"] | None = None
    """LowPriority nodes are cheaper and may be preempted. Unset: `compute.defaultPriority`."""
    idle_minutes_before_scale_down: int = Field(default=15, ge=2, le=10080)
    """Minutes an idle node waits before the cluster scales it down."""

    @model_validator(mode="after")
    def _shape(self) -> "ClusterConfig":
        if self.max_nodes is not None and self.min_nodes > self.max_nodes:
            raise _At("minNodes", f"must not exceed maxNodes ({self.max_nodes})", self.min_nodes)
        gpu = vm_size(self.vm_size).gpu
        if self.kind == "gpu" and not gpu:
            raise _At("vmSize", "is not a GPU size, and kind is gpu: pick an N-series GPU size such as "
                      "Standard_NC24ads_A100_v4", self.vm_size)
        if self.kind == "cpu" and gpu:
            raise _At("kind", f"must be gpu: vmSize {self.vm_size} is a GPU size", self.kind)
        return self


class ScheduleConfig(_Section):
    """When compute instances start and stop by themselves."""

    start: Cron | None = None
    """A five-field cron expression (minute 0-59, hour 0-23, day of month 1-31, month 1-12, day of week 0-6 from
    Sunday; each `*`, a number, a range `a-b` or a comma list), such as `0 8 * * 1-5`."""
    stop: Cron | None = None
    """When the instances stop, a cron expression like `start`."""
    time_zone: Annotated[str, TypeLabel("Windows time zone ID")] = "UTC"
    """A Windows time zone ID that Azure ML schedules accept (infra/azure_facts/time_zones.py), such as
    `W. Europe Standard Time`; IANA names like Europe/Berlin are refused."""

    @field_validator("start", "stop")
    @classmethod
    def _cron(cls, v: str | None) -> str | None:
        problem = None if v is None else cron_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, v: str) -> str:
        if v not in WINDOWS_TIME_ZONES:
            raise ValueError("must be a Windows time zone ID that Azure ML schedules accept, such as UTC or "
                             "W. Europe Standard Time (IANA names like Europe/Berlin are refused)")
        return v


class InstancesConfig(_Section):
    """Personal compute instances: one per team member, assigned to that user, running as the instance
    identity."""

    enabled: bool = True
    """One compute instance per team member (`teams.<name>.members`)."""
    users: list[UserObjectId] | None = None
    """The members who get one, each a member of a team in this stack. Unset: all of them."""
    vm_size: VmSize = "Standard_DS11_v2"
    """The instances' VM size, as for clusters."""
    idle_shutdown_minutes: int = Field(default=60, ge=15, le=4320)
    """Minutes an idle instance waits before it shuts down."""
    schedule: ScheduleConfig | None = None
    """Optional start and stop times."""


class AttachConfig(_Section):
    """An existing Spark resource attached to the workspace by ID."""

    name: ComputeName
    """The compute name in the workspace, as for clusters."""
    type: Literal["SynapseSpark", "Databricks"]
    """A Synapse Spark pool or a Databricks workspace."""
    resource_id: ResourceId
    """The pool's (.../Microsoft.Synapse/workspaces/<ws>/bigDataPools/<pool>) or Databricks workspace's
    (.../Microsoft.Databricks/workspaces/<ws>) resource ID."""
    workspace_url: str | None = None
    """Databricks only, and required there: its `https://adb-...azuredatabricks.net` URL; its access token goes
    in the secret `amlplatform:databricksAccessToken`."""

    @model_validator(mode="after")
    def _id(self) -> "AttachConfig":
        if self.type == "SynapseSpark" and not _SYNAPSE_POOL.match(self.resource_id):
            raise _At("resourceId", "must be a Synapse Spark pool ID (.../Microsoft.Synapse/workspaces/<ws>/"
                      "bigDataPools/<pool>)", self.resource_id)
        if self.type == "Databricks":
            if not _DATABRICKS.match(self.resource_id):
                raise _At("resourceId", "must be a Databricks workspace ID (.../Microsoft.Databricks/workspaces/<ws>)",
                          self.resource_id)
            if not (self.workspace_url or "").startswith("https://"):
                raise _At("workspaceUrl", "a Databricks attach needs its https://adb-...azuredatabricks.net URL "
                          "(its access token goes in the secret amlplatform:databricksAccessToken)",
                          self.workspace_url if self.workspace_url is not None else NO_VALUE)
        return self


class ComputeConfig(_Section):
    clusters: list[ClusterConfig] | None = None
    """The compute clusters; in private mode the first one also builds the workspace's images (ACR Tasks cannot
    reach a registry behind a private endpoint). Unset: one `cpu-cluster` of Standard_DS3_v2."""
    instances: InstancesConfig = Field(default_factory=InstancesConfig)
    """Personal compute instances."""
    serverless: bool = True
    """Serverless jobs; in private mode they run in the training subnet without public IPs."""
    attach: list[AttachConfig] = Field(default_factory=list)
    """Existing Synapse Spark pools and Databricks workspaces to attach."""
    default_priority: Literal["Dedicated", "LowPriority"] = "LowPriority"
    """The priority of clusters that leave out `priority`."""
    default_max_nodes: int = Field(default=2, ge=1, le=1000)
    """The node maximum of clusters that leave out `maxNodes`."""

    @model_validator(mode="after")
    def _unique(self) -> "ComputeConfig":
        seen: set[str] = set()
        named = [("clusters", c.name) for c in self.clusters or []] + [("attach", a.name) for a in self.attach]
        for key, name in named:
            # Azure ML compute names are unique in the workspace, whatever their kind.
            if name.lower() in seen:
                raise _At(f"{key}[{name}].name", "repeats a compute name: compute names are unique in the workspace",
                          name)
            seen.add(name.lower())
        return self
