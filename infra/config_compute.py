"""The `amlplatform:compute` and `amlplatform:aks` sections and their preflight."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .components.inference_settings import ALWAYS_THERE, RELEASE_NAMESPACE
from .config_base import _Rule, _Section
from .naming import RULES

# Azure VM size names: Standard_<family><vCPUs><features>[_<accelerator>][_v<n>],
# e.g. Standard_DS3_v2, Standard_D4ds_v5, Standard_NC24ads_A100_v4, Standard_M128-64ms.
_VM_SIZE = re.compile(
    r"^Standard_(?P<family>[A-Z]+)(?P<vcpus>\d+)(?P<features>[a-z0-9-]*)(?:_[A-Z][A-Za-z0-9]*)*(?:_v\d+)?$"
)
_CRON = re.compile(r"^(\S+\s+){4}\S+$")
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


def vm_size(value: str) -> re.Match[str]:
    m = _VM_SIZE.match(value)
    if not m:
        raise ValueError(f"{value!r} is not an Azure VM size name (like Standard_DS3_v2 or Standard_NC6s_v3)")
    return m


def is_gpu(value: str) -> bool:
    # Every GPU family is an N-series: NC, ND, NV, NG, NCads...
    return vm_size(value).group("family").startswith("N")


def _name(rule: str, value: str) -> str:
    problem = RULES[rule].check(value)
    if problem:
        raise ValueError(f"{value!r} {problem}")
    return value


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
        vm_size(v)
        return v

    @model_validator(mode="after")
    def _shape(self) -> "ClusterConfig":
        if self.max_nodes is not None and self.min_nodes > self.max_nodes:
            raise ValueError(f"minNodes ({self.min_nodes}) must not exceed maxNodes ({self.max_nodes})")
        if self.kind == "gpu" and not is_gpu(self.vm_size):
            raise ValueError(f"a gpu cluster needs an N-series GPU size, got {self.vm_size}")
        if self.kind == "cpu" and is_gpu(self.vm_size):
            raise ValueError(f"{self.vm_size} is a GPU size; set kind: gpu")
        return self


class ScheduleConfig(_Section):
    start: str | None = None  # cron, e.g. "0 8 * * 1-5"
    stop: str | None = None
    time_zone: str = "UTC"

    @field_validator("start", "stop")
    @classmethod
    def _cron(cls, v: str | None) -> str | None:
        if v is not None and not _CRON.match(v.strip()):
            raise ValueError(f"{v!r} must be a five-field cron expression such as '0 19 * * 1-5'")
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
        vm_size(v)
        return v

    @field_validator("users")
    @classmethod
    def _users(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        for u in v:
            if not _GUID.match(u):
                raise ValueError(f"{u!r} must be a user object ID (a GUID)")
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
            raise ValueError("resourceId must be a Synapse Spark pool ID (.../Microsoft.Synapse/workspaces/<ws>/"
                             "bigDataPools/<pool>)")
        if self.type == "Databricks":
            if not _DATABRICKS.match(self.resource_id):
                raise ValueError("resourceId must be a Databricks workspace ID (.../Microsoft.Databricks/workspaces/<ws>)")
            if not (self.workspace_url or "").startswith("https://"):
                raise ValueError("a Databricks attach needs workspaceUrl (https://adb-...azuredatabricks.net); its "
                                 "access token goes in the secret amlplatform:databricksAccessToken")
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
        names = [c.name for c in self.clusters or []] + [a.name for a in self.attach]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"compute names must be unique in the workspace; repeated: {', '.join(dupes)}")
        return self


class PoolConfig(_Section):
    vm_size: str
    count: int | None = Field(default=None, ge=1, le=100)  # system pool
    min_count: int | None = Field(default=None, ge=0, le=100)  # inference pool autoscale
    max_count: int | None = Field(default=None, ge=1, le=1000)

    @field_validator("vm_size")
    @classmethod
    def _size(cls, v: str) -> str:
        m = vm_size(v)
        # Ephemeral OS disks live on the VM's local disk: the size needs one (the 'd' feature).
        if "d" not in m.group("features"):
            raise ValueError(f"{v!r} has no local temp disk for ephemeral OS disks; pick a 'd' size such as "
                             "Standard_D4ds_v5")
        return v


class AksTlsConfig(_Section):
    # certificate: HTTPS on the scoring router with the PEM in the secrets amlplatform:aksTlsCertPem
    # and amlplatform:aksTlsKeyPem; internalHttp: plain HTTP inside the private VNet (a deliberate exception).
    mode: Literal["certificate", "internalHttp"] = "certificate"
    cname: str | None = None

    @model_validator(mode="after")
    def _cname(self) -> "AksTlsConfig":
        if self.mode == "certificate" and not self.cname:
            raise ValueError("certificate mode needs cname, the host name in the certificate")
        return self


class InstanceTypeConfig(_Section):
    cpu: str = "1"
    memory: str = "4Gi"
    cpu_limit: str = "2"
    memory_limit: str = "8Gi"
    gpu: int = Field(default=0, ge=0, le=8)


class AksConfig(_Section):
    enabled: bool = False
    kubernetes_version: str | None = None
    system_pool: PoolConfig = Field(
        default_factory=lambda: PoolConfig.model_validate({"vmSize": "Standard_D4ds_v5", "count": 2})
    )
    inference_pool: PoolConfig = Field(
        default_factory=lambda: PoolConfig.model_validate({"vmSize": "Standard_D8ds_v5", "minCount": 1, "maxCount": 3})
    )
    # Pods per node; overlay mode takes pod IPs from podCidr, flat mode from the scoring subnet.
    max_pods: int = Field(default=50, ge=10, le=250)
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

    @model_validator(mode="after")
    def _shape(self) -> "AksConfig":
        if self.system_pool.count is None:
            raise _Rule("aks.systemPool.count", "the system pool needs a node count", None)
        p = self.inference_pool
        if p.min_count is None or p.max_count is None or p.min_count > p.max_count:
            raise _Rule("aks.inferencePool", "the inference pool autoscales: set minCount <= maxCount",
                        p.model_dump(by_alias=True, exclude_none=True))
        if self.default_instance_type not in self.instance_types:
            raise _Rule("aks.defaultInstanceType", f"must be one of instanceTypes ({', '.join(self.instance_types)})",
                        self.default_instance_type)
        self._check_namespace()
        service = ipaddress.ip_network(self.service_cidr)
        if ipaddress.ip_address(self.dns_service_ip) not in service:
            raise _Rule("aks.dnsServiceIp", f"must lie inside serviceCidr {self.service_cidr}", self.dns_service_ip)
        if service.overlaps(ipaddress.ip_network(self.pod_cidr)):
            raise _Rule("aks.podCidr", f"overlaps serviceCidr {self.service_cidr}", self.pod_cidr)
        return self

    def _check_namespace(self) -> None:
        ns = self.namespace
        if not _K8S_NAME.match(ns):
            raise _Rule("aks.namespace", "must be a Kubernetes namespace name: at most 63 lowercase letters, digits "
                        "and '-', starting and ending with a letter or digit", ns)
        if ns in RESERVED_NAMESPACES or ns.startswith("kube-"):
            raise _Rule("aks.namespace", f"{ns!r} is {RESERVED_NAMESPACES.get(ns, 'a Kubernetes system namespace')}; "
                        "name a namespace of its own for AML workloads", ns)
        if self.create_namespace and ns == ALWAYS_THERE:
            raise _Rule("aks.namespace", f"{ns!r} always exists; set aks.createNamespace: false to use it as is", ns)
        if not self.create_namespace and ns != ALWAYS_THERE:
            raise _Rule("aks.namespace", f"nothing creates {ns!r} (aks.createNamespace is false) and the attach needs "
                        f"it to exist: use {ALWAYS_THERE!r} or let the stack create it", ns)

    def nodes_at_most(self) -> int:
        # Both pools at full size, plus one surge node each during upgrades.
        return (self.system_pool.count or 0) + (self.inference_pool.max_count or 0) + 2

    def addresses_needed(self) -> int:
        """Scoring-subnet addresses at full scale; 5 more for internal load balancer frontends."""
        per_node = 1 if self.network_plugin_mode == "overlay" else self.max_pods + 1
        return self.nodes_at_most() * per_node + 5
