"""The `amlplatform:aks` section: AKS for real-time inference, and its preflight."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from infra.azure_facts import aks_versions
from infra.components.inference_settings import ALWAYS_THERE, RELEASE_NAMESPACE
from infra.config.base import _Section
from infra.config.errors import _At
from infra.types import IPv4Address, TypeLabel, ipv4_network, vm_size

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


class PoolConfig(_Section):
    """An AKS node pool: ephemeral OS disks, no SSH, encryption at host with `aks.encryptionAtHost`."""

    vm_size: Annotated[str, TypeLabel("VM size")]
    """A size with a local temp disk (ephemeral OS disks live there), such as Standard_D4ds_v5."""

    @field_validator("vm_size")
    @classmethod
    def _size(cls, v: str) -> str:
        size = vm_size(v)
        # Ephemeral OS disks live on the VM's local temp disk: the size needs one.
        if not size.local_disk:
            raise ValueError("has no local temp disk, which ephemeral OS disks need; pick a size with one, "
                             "such as Standard_D4ds_v5")
        return size.name


class SystemPoolConfig(PoolConfig):
    """The system pool, tainted for critical add-ons only."""

    count: int | None = Field(default=None, ge=1, le=100)
    """Its node count (required)."""


class InferencePoolConfig(PoolConfig):
    """The autoscaling pool the models run on."""

    min_count: int | None = Field(default=None, ge=0, le=100)
    """The fewest nodes autoscaling keeps (required), at most `maxCount`."""
    max_count: int | None = Field(default=None, ge=1, le=1000)
    """The most nodes autoscaling adds (required); the cluster must fit the scoring subnet at full scale."""


class AksTlsConfig(_Section):
    """HTTPS on the AzureML extension's scoring router."""

    mode: Literal["certificate", "internalHttp"] = "certificate"
    """certificate: HTTPS with the PEM certificate and key in the secrets `amlplatform:aksTlsCertPem` and
    `amlplatform:aksTlsKeyPem`; internalHttp: plain HTTP inside the private VNet, a deliberate exception the
    plan's report shows (CKV_AMLP_16 skipped)."""
    cname: str | None = None
    """Certificate mode, and required there: the host name in the certificate."""

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
    """The weekday of both windows; staging meets new node images a day before prod."""
    start_time: Annotated[str, TypeLabel("time of day")] = "02:00"
    """When the windows open, `HH:MM` from 00:00 to 23:59."""
    utc_offset: Annotated[str, TypeLabel("UTC offset")] = "+00:00"
    """The windows' UTC offset, such as +00:00, +05:30 or -08:00."""

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
    """An AML instance type on the cluster: the resources a deployment that names it requests and may use."""

    cpu: str = "1"
    """CPU requested, in Kubernetes quantities (`1`, `500m`)."""
    memory: str = "4Gi"
    """Memory requested, in Kubernetes quantities (`4Gi`)."""
    cpu_limit: str = "2"
    """CPU a pod may use at most."""
    memory_limit: str = "8Gi"
    """Memory a pod may use at most."""
    gpu: int = Field(default=0, ge=0, le=8)
    """GPUs per pod."""


# Pods per node: checkov's CKV_AZURE_168 and AKS's guidance ask for at least 50.
MIN_PODS = 50
# AKS: "The service address range must be smaller than /12" (and pod ranges alike).
_WIDEST_K8S_RANGE = 12


def _k8s_range(value: str) -> str:
    net = ipv4_network(value, example="172.16.0.0/16")
    if net.prefixlen < _WIDEST_K8S_RANGE:
        raise ValueError("must be /12 or smaller: AKS refuses wider Kubernetes address ranges")
    return str(net)


# A pod or service range of the cluster: IPv4, no host bits, /12 or narrower.
KubernetesRange = Annotated[str, AfterValidator(_k8s_range), TypeLabel("IPv4 CIDR")]


class AksConfig(_Section):
    """AKS for real-time inference: a private cluster in private mode's scoring subnet, attached to the
    workspace as the Kubernetes compute `aks-inference` (README: Compute)."""

    enabled: bool = False
    """The cluster, its AzureML extension and the attach; private mode only, and the cluster must fit the scoring
    subnet at full scale (both pools plus a surge node each, times `maxPods` + 1 addresses with flat Azure CNI,
    plus 5 for load balancers)."""
    kubernetes_version: str | None = None
    """A `major.minor` AKS offers today (infra/azure_facts/aks_versions.py). Unset: AKS's default."""
    system_pool: SystemPoolConfig = Field(
        default_factory=lambda: SystemPoolConfig.model_validate({"vmSize": "Standard_D4ds_v5", "count": 2})
    )
    """The system pool, tainted for critical add-ons only."""
    inference_pool: InferencePoolConfig = Field(
        default_factory=lambda: InferencePoolConfig.model_validate(
            {"vmSize": "Standard_D8ds_v5", "minCount": 1, "maxCount": 3})
    )
    """The autoscaling pool the models run on."""
    max_pods: int = Field(default=50, le=250)
    """Pods per node, 50-250 (checkov's CKV_AZURE_168 wants at least 50); overlay takes pod addresses from
    `podCidr`, flat Azure CNI from the scoring subnet."""
    network_plugin_mode: Literal["overlay", "flat"] = "overlay"
    """overlay: Azure CNI overlay with the Cilium dataplane, pods on `podCidr`; flat: classic Azure CNI, pods on
    the scoring subnet."""
    pod_cidr: KubernetesRange = "192.168.0.0/16"
    """Overlay mode: the pods' range, /12 or narrower, clear of `serviceCidr`, the VNet, its subnets and the
    hub."""
    service_cidr: KubernetesRange = "172.16.0.0/16"
    """The Kubernetes services' range, /12 or narrower, clear of the VNet, its subnets and the hub."""
    dns_service_ip: IPv4Address = "172.16.0.10"
    """The cluster DNS service's IPv4 address: inside `serviceCidr`, not its network, first or last address."""
    zones: list[Literal["1", "2", "3"]] | None = None
    """The availability zones of both pools. Unset: none."""
    upgrade_channel: Literal["patch", "stable", "rapid", "node-image"] = "stable"
    """AKS's auto-upgrade channel."""
    tls: AksTlsConfig = Field(default_factory=lambda: AksTlsConfig(mode="certificate", cname="scoring.internal"))
    """HTTPS on the scoring router (`mode`, `cname`; default certificate mode for `scoring.internal`)."""
    encryption_at_host: bool = True
    """Encryption at host on both pools (temp disks, caches and the disk data path encrypted on the VM host).
    Needs the subscription feature Microsoft.Compute/EncryptionAtHost registered before the first `pulumi up`
    and listed in `platform.registeredFeatures`; set when a pool is created, so switching it replaces the pools.
    Off, the plan's report shows checkov's CKV_AZURE_227 skipped with the reason."""
    namespace: str = "aml-inference"
    """The Kubernetes namespace AML deploys models into: a Kubernetes name, not the extension's own `azureml`,
    a `kube-*` or an add-on's system namespace; it must exist before the attach."""
    create_namespace: bool = True
    """The stack creates `namespace` as an AKS managed namespace; false: nothing creates it, so `namespace` must
    be `default`, which always exists."""
    cluster_purpose: Literal["DevTest", "FastProd"] = "FastProd"
    """The AzureML extension's `clusterPurpose`: FastProd provisions its components for production traffic with
    fault tolerance, DevTest at a minimal level for testing."""
    instance_types: dict[str, InstanceTypeConfig] = Field(
        default_factory=lambda: {"defaultinstancetype": InstanceTypeConfig()}
    )
    """The cluster's AML instance types by name."""
    default_instance_type: str = "defaultinstancetype"
    """The instance type of deployments that name none; one of `instanceTypes`."""
    maintenance: AksMaintenanceConfig = Field(default_factory=AksMaintenanceConfig)
    """The planned maintenance windows."""

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
