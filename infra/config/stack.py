"""The root of an environment stack's config: every `amlplatform:` section, and the rules across them.

Every stack file keeps its settings under the `amlplatform:` namespace, one key per section
(`amlplatform:platform`, `amlplatform:network`, ...). The model rejects unknown keys, fills what a stack
leaves out from its environment's column (infra/config/environments.py), and turns every mistake into one
line naming the stack file, the key path and the rule (infra/config/errors.py), raised as `ConfigError`
before any resource is declared. infra/config/loading.py reads the files.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from pydantic import Field, model_validator

from infra.config.base import _StackFile
from infra.config.aks import AksConfig
from infra.config.compute import DEFAULT_CLUSTER, ClusterConfig, ComputeConfig
from infra.config.encryption import EncryptionConfig, check_encryption
from infra.config.environments import with_environment_defaults
from infra.config.errors import _Rule
from infra.config.network import NetworkConfig
from infra.config.platform import PlatformConfig, ProtectionConfig
from infra.config.rbac import RbacConfig, Teams, check_teams
from infra.config.registry import MlRegistryRefConfig
from infra.config.seeding import AssetsConfig
from infra.config.workspace import KeyVaultConfig, MonitoringConfig, RegistryConfig, StorageConfig, WorkspaceConfig
from infra.types import GEO_REPLICATION


class StackConfig(_StackFile):
    platform: PlatformConfig
    """Prefix, region, environment, tags: what the whole stack shares."""
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    """How the workspace and its resources are reached: public endpoints (dev), the stack's own VNet, or the AML
    managed VNet."""
    storage: StorageConfig = Field(default_factory=StorageConfig)
    """The stack's storage accounts."""
    key_vault: KeyVaultConfig = Field(default_factory=KeyVaultConfig)
    """The stack's key vault: RBAC authorization, purge protection, firewall deny by default."""
    registry: RegistryConfig = Field(default_factory=RegistryConfig)
    """The workspace's container registry."""
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    """Log Analytics and Application Insights."""
    workspace: WorkspaceConfig = Field(default_factory=WorkspaceConfig)
    """The Azure ML workspace."""
    encryption: EncryptionConfig = Field(default_factory=EncryptionConfig)
    """Customer-managed keys."""
    protection: ProtectionConfig = Field(default_factory=ProtectionConfig)
    """Locks and Pulumi `protect`."""
    rbac: RbacConfig | None = None
    """The platform owners group and the CI/CD principal."""
    teams: Teams = Field(default_factory=dict)
    """The teams by name (2-24 lowercase letters, digits or hyphens, starting with a letter): their roles,
    members and containers."""
    compute: ComputeConfig = Field(default_factory=ComputeConfig)
    """Clusters, compute instances, serverless jobs and attached Spark."""
    aks: AksConfig = Field(default_factory=AksConfig)
    """AKS for real-time inference."""
    assets: AssetsConfig = Field(default_factory=AssetsConfig)
    """The assets the stack seeds into its workspace."""
    ml_registry_ref: MlRegistryRefConfig | None = None
    """The organisation's AML registry this stack consumes (environment stacks only)."""


    @model_validator(mode="before")
    @classmethod
    def _environment_defaults(cls, data: Any) -> Any:
        """Fill what the stack leaves out from its environment's column, before sections validate."""
        return with_environment_defaults(data) if isinstance(data, dict) else data

    @model_validator(mode="after")
    def _check(self) -> "StackConfig":
        check_teams(self.teams)
        env = self.platform.environment
        if self.network.mode == "public" and env != "dev":
            raise _Rule(
                "network.mode",
                f"public network access is allowed only in dev (this stack's environment is {env}); "
                "use private or managed",
                self.network.mode,
            )
        if self.network.mode == "public" and not self.network.allowed_ip_ranges:
            raise _Rule(
                "network.allowedIpRanges",
                "public mode needs at least one public IP range to allow; everything else is denied",
            )
        if self.network.mode in ("private", "managed") and self.registry.sku != "Premium":
            raise _Rule(
                "registry.sku",
                f"network mode {self.network.mode} reaches the registry through a private endpoint, "
                "which needs the Premium SKU",
                self.registry.sku,
            )
        if self.registry.zone_redundancy and self.registry.sku != "Premium":
            raise _Rule("registry.zoneRedundancy", "zone redundancy needs the Premium SKU", True)
        self._check_compute()
        self._check_dns_tags()
        check_encryption(self)
        return self

    def _check_dns_tags(self) -> None:
        # Azure DNS zones refuse tag names with spaces or starting with a digit (tag-resources,
        # Limitations); the stack's private DNS zones carry every tag.
        if self.network.mode == "public" or self.network.dns != "create":
            return
        for name in self.platform.tags:
            if " " in name or name[:1].isdigit():
                raise _Rule(f"platform.tags.{name}", "tag names on Azure DNS zones (this stack creates private DNS "
                            "zones: network.dns create) must not contain spaces or start with a digit")

    def _check_aks_ranges(self) -> None:
        """AKS service and pod ranges must stay clear of the VNet, its subnets and the hub's ranges.

        AKS: "the service address range must not overlap the cluster's virtual network, its subnets or
        any network connected to it" and the overlay pod range likewise
        (https://learn.microsoft.com/azure/aks/azure-cni-overlay#ip-address-planning,
        https://learn.microsoft.com/azure/aks/configure-azure-cni#plan-ip-addressing). The defaults
        (172.16.0.0/16 and 192.168.0.0/16) apply when the stack writes neither.
        """
        net = self.network
        spaces = [("the VNet's address space", s) for s in net.address_space]
        hub = [("the hub's range", s) for s in (net.hub.address_space if net.hub else [])]
        for key, rng, written in self.aks.address_ranges():
            for what, other in spaces + hub:
                if rng.overlaps(ipaddress.IPv4Network(other)):
                    default = "" if written else f" (the default, which the stack does not set: set aks.{key})"
                    raise _Rule(f"aks.{key}", f"overlaps {what} {other}{default}; Kubernetes {key[:-4]} "
                                "addresses must not overlap the cluster's network or networks peered with it",
                                str(rng))

    def _check_compute(self) -> None:
        c = self.compute
        if c.clusters is None:
            c.clusters = [ClusterConfig.model_validate(DEFAULT_CLUSTER)]
        for cluster in c.clusters:
            cluster.priority = cluster.priority or c.default_priority
            cluster.max_nodes = cluster.max_nodes or c.default_max_nodes
            if cluster.min_nodes > (cluster.max_nodes or 0):
                raise _Rule(f"compute.clusters[{cluster.name}].minNodes",
                            f"must not exceed maxNodes ({cluster.max_nodes}, the environment's default)",
                            cluster.min_nodes)
        members = {m for team in self.teams.values() for m in team.members}
        for i, user in enumerate(c.instances.users or []):
            if user not in members:
                raise _Rule(f"compute.instances.users[{i}]", "a compute instance's user must be a member of a "
                            "team in this stack (teams.<name>.members)", user)
        if self.aks.enabled:
            if self.network.mode != "private":
                raise _Rule("aks.enabled", f"AKS for inference runs in private mode's scoring subnet (network.mode "
                            f"is {self.network.mode})", True)
            scoring = self.network.subnets.scoring
            # NetworkConfig already refused private mode without a scoring subnet.
            assert scoring is not None
            self._check_aks_ranges()
            subnet = ipaddress.IPv4Network(scoring)
            usable = subnet.num_addresses - 5
            need = self.aks.addresses_needed()
            if need > usable:
                raise _Rule("aks.inferencePool.maxCount",
                            f"the scoring subnet {subnet} has {usable} usable addresses but the cluster needs {need} "
                            f"at full scale ({self.aks.nodes_at_most()} nodes incl. surge"
                            + ("" if self.aks.network_plugin_mode == "overlay" else f" x {self.aks.max_pods + 1} "
                               "addresses each with flat Azure CNI") + ", + 5 for load balancers)",
                            self.aks.inference_pool.max_count)

    def required_secrets(self) -> list[str]:
        """Secret config keys this stack's program will read."""
        out = []
        if self.aks.enabled and self.aks.tls.mode == "certificate":
            out += ["aksTlsCertPem", "aksTlsKeyPem"]
        if any(a.type == "Databricks" for a in self.compute.attach):
            out.append("databricksAccessToken")
        return out

    @property
    def role_propagation_seconds(self) -> int:
        """`rbac.rolePropagationSeconds`, or its default where the stack has no rbac section."""
        if self.rbac is not None:
            return self.rbac.role_propagation_seconds
        default: int = RbacConfig.model_fields["role_propagation_seconds"].default
        return default

    @property
    def is_geo_replicated(self) -> bool:
        return self.storage.replication in GEO_REPLICATION
