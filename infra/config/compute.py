"""The `amlplatform:compute` and `amlplatform:aks` sections and their preflight."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from infra.azure_facts import aks_versions

from infra.azure_facts import vm_sizes
from infra.components.inference_settings import ALWAYS_THERE, RELEASE_NAMESPACE
from infra.config.base import NO_VALUE, _At, _Section
from infra.naming import RULES
from infra.azure_facts.time_zones import WINDOWS_TIME_ZONES

_SYNAPSE_POOL = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w._()]+/providers/Microsoft\.Synapse/workspaces/"
    r"[-\w]+/bigDataPools/[-\w]+$"
)
_DATABRICKS = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w._()]+/providers/Microsoft\.Databricks/workspaces/[-\w.]+$"
)
# A Kubernetes namespace name is a DNS-1123 label.
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# Namespaces AML workloads must not share: the extension's release namespace, and the system
# namespaces AKS managed namespaces refuse to onboard (and kube-*).
RESERVED_NAMESPACES = {
    RELEASE_NAMESPACE: "the AzureML extension's own system namespace",
    "app-routing-system": "an AKS add-on's system namespace",
    "gatekeeper-system": "the Azure Policy add-on's system namespace",
    "istio-system": "the Istio add-on's system namespace",
}
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

# Cron fields of a compute instance schedule and their ranges, as Azure ML documents them
# ("Create a compute instance", schedule with a Resource Manager template): minute, hour, day of
# month, month, day of week (Sunday=0). A field is * or a comma list of numbers and a-b ranges.
CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12),
               ("day of week", 0, 6))
_CRON_ITEM = re.compile(r"^(?P<a>\d+)(?:-(?P<b>\d+))?$")


def vm_size(value: str) -> vm_sizes.Size:
    """The size, or ValueError saying in plain words why Azure ML would not create it."""
    try:
        return vm_sizes.parse(value)
    except vm_sizes.SizeError as exc:
        raise ValueError(str(exc)) from None


def is_gpu(value: str) -> bool:
    return vm_size(value).gpu


def _name(rule: str, value: str) -> str:
    problem = RULES[rule].check(value)
    if problem:
        raise ValueError(problem)
    return value


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
    name: str
    vm_size: str
    kind: Literal["cpu", "gpu"] = "cpu"
    min_nodes: int = Field(default=0, ge=0, le=1000)
    max_nodes: int | None = Field(default=None, ge=1, le=1000)
    priority: Literal["Dedicated", "LowPriority"] | None = None
    idle_minutes_before_scale_down: int = Field(default=15, ge=2, le=10080)

    @field_validator("name")
    @classmethod
    def _n(cls, v: str) -> str:
        return _name("compute", v)

    @field_validator("vm_size")
    @classmethod
    def _size(cls, v: str) -> str:
        return vm_size(v).name

    @model_validator(mode="after")
    def _shape(self) -> "ClusterConfig":
        if self.max_nodes is not None and self.min_nodes > self.max_nodes:
            raise _At("minNodes", f"must not exceed maxNodes ({self.max_nodes})", self.min_nodes)
        gpu = is_gpu(self.vm_size)
        if self.kind == "gpu" and not gpu:
            raise _At("vmSize", "is not a GPU size, and kind is gpu: pick an N-series GPU size such as "
                      "Standard_NC24ads_A100_v4", self.vm_size)
        if self.kind == "cpu" and gpu:
            raise _At("kind", f"must be gpu: vmSize {self.vm_size} is a GPU size", self.kind)
        return self


class ScheduleConfig(_Section):
    start: str | None = None  # cron, e.g. "0 8 * * 1-5"
    stop: str | None = None
    # A Windows time zone ID (infra/azure_facts/time_zones.py), not an IANA name.
    time_zone: str = "UTC"

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
    # One personal compute instance per team member (teams.*.members) when enabled.
    enabled: bool = True
    users: list[str] | None = None  # a subset of the members; None: all of them
    vm_size: str = "Standard_DS11_v2"
    idle_shutdown_minutes: int = Field(default=60, ge=15, le=4320)
    schedule: ScheduleConfig | None = None

    @field_validator("vm_size")
    @classmethod
    def _size(cls, v: str) -> str:
        return vm_size(v).name

    @field_validator("users")
    @classmethod
    def _users(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        for i, u in enumerate(v):
            if not _GUID.match(u):
                raise _At(f"[{i}]", "must be a user object ID (a GUID)", u)
        return [u.lower() for u in v]


class AttachConfig(_Section):
    """An existing Spark resource attached to the workspace by ID."""

    name: str
    type: Literal["SynapseSpark", "Databricks"]
    resource_id: str
    workspace_url: str | None = None  # Databricks only

    @field_validator("name")
    @classmethod
    def _n(cls, v: str) -> str:
        return _name("compute", v)

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
    instances: InstancesConfig = Field(default_factory=InstancesConfig)
    # Serverless jobs run in the training subnet without public IPs (private mode).
    serverless: bool = True
    attach: list[AttachConfig] = Field(default_factory=list)
    # Env defaults for clusters that leave these out.
    default_priority: Literal["Dedicated", "LowPriority"] = "LowPriority"
    default_max_nodes: int = Field(default=2, ge=1, le=1000)

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


class PoolConfig(_Section):
    vm_size: str
    count: int | None = Field(default=None, ge=1, le=100)  # system pool
    min_count: int | None = Field(default=None, ge=0, le=100)  # inference pool autoscale
    max_count: int | None = Field(default=None, ge=1, le=1000)

    @field_validator("vm_size")
    @classmethod
    def _size(cls, v: str) -> str:
        size = vm_size(v)
        # Ephemeral OS disks live on the VM's local temp disk: the size needs one.
        if not size.local_disk:
            raise ValueError("has no local temp disk, which ephemeral OS disks need; pick a size with one, "
                             "such as Standard_D4ds_v5")
        return size.name


class AksTlsConfig(_Section):
    # certificate: HTTPS on the scoring router with the PEM in the secrets amlplatform:aksTlsCertPem
    # and amlplatform:aksTlsKeyPem; internalHttp: plain HTTP inside the private VNet (a deliberate exception).
    mode: Literal["certificate", "internalHttp"] = "certificate"
    cname: str | None = None

    @model_validator(mode="after")
    def _cname(self) -> "AksTlsConfig":
        if self.mode == "certificate" and not self.cname:
            raise _At("cname", "certificate mode needs cname, the host name in the certificate")
        return self


_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_UTC_OFFSET = re.compile(r"^[+-](0[0-9]|1[0-4]):(00|30|45)$")


class AksMaintenanceConfig(_Section):
    """AKS planned maintenance: node images every week on `day`, Kubernetes upgrades on the first `day` of
    each month, from `startTime` for four hours. Clusters in one subscription should not share a window
    (planned-maintenance.md, ARM throttling): the environments default to different days."""

    day: Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"] = "Sunday"
    start_time: str = "02:00"
    utc_offset: str = "+00:00"

    @field_validator("start_time")
    @classmethod
    def _start(cls, v: str) -> str:
        if not _CLOCK.match(v):
            raise ValueError("must be a time of day from 00:00 to 23:59 (HH:MM)")
        return v

    @field_validator("utc_offset")
    @classmethod
    def _offset(cls, v: str) -> str:
        if not _UTC_OFFSET.match(v):
            raise ValueError("must be a UTC offset such as +00:00, +05:30 or -08:00")
        return v


class InstanceTypeConfig(_Section):
    cpu: str = "1"
    memory: str = "4Gi"
    cpu_limit: str = "2"
    memory_limit: str = "8Gi"
    gpu: int = Field(default=0, ge=0, le=8)


# Pods per node: checkov's CKV_AZURE_168 and AKS's guidance ask for at least 50.
MIN_PODS = 50


def _aks_cidr(value: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError:
        raise ValueError("must be an IPv4 CIDR range with no host bits set, such as 172.16.0.0/16") from None
    if not isinstance(net, ipaddress.IPv4Network):
        raise ValueError("must be an IPv4 range")
    return net


class AksConfig(_Section):
    enabled: bool = False
    # A minor version AKS offers (infra/azure_facts/aks_versions.py); unset: AKS's default.
    kubernetes_version: str | None = None
    system_pool: PoolConfig = Field(
        default_factory=lambda: PoolConfig.model_validate({"vmSize": "Standard_D4ds_v5", "count": 2})
    )
    inference_pool: PoolConfig = Field(
        default_factory=lambda: PoolConfig.model_validate({"vmSize": "Standard_D8ds_v5", "minCount": 1, "maxCount": 3})
    )
    # Pods per node; overlay mode takes pod IPs from podCidr, flat mode from the scoring subnet.
    max_pods: int = Field(default=50, le=250)
    network_plugin_mode: Literal["overlay", "flat"] = "overlay"
    pod_cidr: str = "192.168.0.0/16"
    service_cidr: str = "172.16.0.0/16"
    dns_service_ip: str = "172.16.0.10"
    zones: list[Literal["1", "2", "3"]] | None = None
    upgrade_channel: Literal["patch", "stable", "rapid", "node-image"] = "stable"
    tls: AksTlsConfig = Field(default_factory=lambda: AksTlsConfig(mode="certificate", cname="scoring.internal"))
    # Encryption at host on both pools (temp disks, caches and the disk data path encrypted on the VM
    # host). Needs the subscription feature Microsoft.Compute/EncryptionAtHost registered before the
    # first `pulumi up`, and listed in platform.registeredFeatures; it can only be set when a pool is
    # created, so switching it replaces the pools.
    encryption_at_host: bool = True
    # The Kubernetes namespace AML deploys models into. It must exist before the attach and must not be
    # the extension's own `azureml`; with createNamespace the stack creates it as an AKS managed namespace.
    namespace: str = "aml-inference"
    # false: the stack creates no namespace, so `namespace` must be one that always exists (`default`).
    create_namespace: bool = True
    cluster_purpose: Literal["DevTest", "FastProd"] | None = None
    instance_types: dict[str, InstanceTypeConfig] = Field(
        default_factory=lambda: {"defaultinstancetype": InstanceTypeConfig()}
    )
    default_instance_type: str = "defaultinstancetype"
    maintenance: AksMaintenanceConfig = Field(default_factory=AksMaintenanceConfig)

    @field_validator("kubernetes_version")
    @classmethod
    def _version(cls, v: str | None) -> str | None:
        problem = None if v is None else aks_versions.problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @field_validator("max_pods")
    @classmethod
    def _pods(cls, v: int) -> int:
        if v < MIN_PODS:
            raise ValueError(f"must be at least {MIN_PODS} pods per node (checkov CKV_AZURE_168, after AKS's "
                             "guidance); with flat Azure CNI each node then takes 51 scoring-subnet addresses")
        return v

    @field_validator("pod_cidr", "service_cidr")
    @classmethod
    def _ranges(cls, v: str) -> str:
        net = _aks_cidr(v)
        # AKS: "The service address range must be smaller than /12" (and pod ranges alike).
        if net.prefixlen < 12:
            raise ValueError("must be /12 or smaller: AKS refuses wider Kubernetes address ranges")
        return str(net)

    @field_validator("dns_service_ip")
    @classmethod
    def _dns(cls, v: str) -> str:
        try:
            ip = ipaddress.ip_address(v)
        except ValueError:
            raise ValueError("must be an IPv4 address inside serviceCidr, such as 172.16.0.10") from None
        if not isinstance(ip, ipaddress.IPv4Address):
            raise ValueError("must be an IPv4 address")
        return v

    @model_validator(mode="after")
    def _shape(self) -> "AksConfig":
        if self.system_pool.count is None:
            raise _At("systemPool.count", "the system pool needs a node count")
        p = self.inference_pool
        if p.min_count is None or p.max_count is None:
            raise _At("inferencePool." + ("minCount" if p.min_count is None else "maxCount"),
                      "the inference pool autoscales: set both minCount and maxCount")
        if p.min_count > p.max_count:
            raise _At("inferencePool.minCount", f"must not exceed inferencePool.maxCount ({p.max_count})", p.min_count)
        if self.default_instance_type not in self.instance_types:
            raise _At("defaultInstanceType", f"must be one of instanceTypes ({', '.join(self.instance_types)})",
                      self.default_instance_type)
        self._check_namespace()
        # Both passed their field validators: IPv4.
        service = ipaddress.IPv4Network(self.service_cidr)
        dns = ipaddress.IPv4Address(self.dns_service_ip)
        # AKS: dnsServiceIP lies in the service range and is not its first address, which the
        # kubernetes API service takes (https://learn.microsoft.com/azure/aks/configure-azure-cni#plan-ip-addressing).
        if dns not in service:
            raise _At("dnsServiceIp", f"must lie inside serviceCidr {self.service_cidr}", self.dns_service_ip)
        if dns in (service.network_address, service.network_address + 1, service.broadcast_address):
            raise _At("dnsServiceIp", f"must not be serviceCidr's network, first or last address: "
                      f"{service.network_address + 1} is the kubernetes API service's; use .10", self.dns_service_ip)
        if self.network_plugin_mode == "overlay" and service.overlaps(ipaddress.IPv4Network(self.pod_cidr)):
            raise _At("podCidr", f"overlaps serviceCidr {self.service_cidr}: pod and service addresses must be "
                      "distinct", self.pod_cidr)
        return self

    def address_ranges(self) -> list[tuple[str, ipaddress.IPv4Network, bool]]:
        """(key, range, written in the stack) for the Kubernetes ranges AKS uses in this mode."""
        out = [("serviceCidr", ipaddress.IPv4Network(self.service_cidr), "service_cidr" in self.model_fields_set)]
        if self.network_plugin_mode == "overlay":
            out.append(("podCidr", ipaddress.IPv4Network(self.pod_cidr), "pod_cidr" in self.model_fields_set))
        return out

    def _check_namespace(self) -> None:
        ns = self.namespace
        if not _K8S_NAME.match(ns):
            raise _At("namespace", "must be a Kubernetes namespace name: at most 63 lowercase letters, digits "
                      "and '-', starting and ending with a letter or digit", ns)
        if ns in RESERVED_NAMESPACES or ns.startswith("kube-"):
            raise _At("namespace", f"is {RESERVED_NAMESPACES.get(ns, 'a Kubernetes system namespace')}; name a "
                      "namespace of its own for AML workloads", ns)
        if self.create_namespace and ns == ALWAYS_THERE:
            raise _At("namespace", "always exists; set aks.createNamespace: false to use it as is", ns)
        if not self.create_namespace and ns != ALWAYS_THERE:
            raise _At("namespace", f"nothing creates it (aks.createNamespace is false) and the attach needs it to "
                      f"exist: use {ALWAYS_THERE} or let the stack create it", ns)

    def nodes_at_most(self) -> int:
        # Both pools at full size, plus one surge node each during upgrades.
        return (self.system_pool.count or 0) + (self.inference_pool.max_count or 0) + 2

    def addresses_needed(self) -> int:
        """Scoring-subnet addresses at full scale; 5 more for internal load balancer frontends."""
        per_node = 1 if self.network_plugin_mode == "overlay" else self.max_pods + 1
        return self.nodes_at_most() * per_node + 5
