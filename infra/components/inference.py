"""AKS for real-time inference, with the Azure ML extension and the cluster attached to the workspace.

A private cluster (no public API server) with Entra ID and Azure RBAC and no
local accounts; Azure CNI (overlay with Cilium by default) with network
policy; a system pool for critical add-ons only and an autoscaling inference
pool, both on ephemeral OS disks with encryption at host; monitoring, Azure
Policy and the Key Vault secrets provider on; workload identity. Then the
`microsoft.azureml.kubernetes` extension for inference only behind an
internal load balancer, with the settings `az k8s-extension create` sends
(inference_settings.py); the workload namespace as an AKS managed namespace;
Container Insights' data collection rule and its association (the add-on with
`useAADAuth` collects nothing without them); the workspace identity's attach
roles on the cluster, a propagation pause, and the AML Kubernetes compute with
an identity of its own that may pull from the workspace registry. No CLI step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import pulumi
import pulumiverse_time as time
from pulumi_azure_native import containerservice as aks
from pulumi_azure_native import kubernetesconfiguration as k8sconfig
from pulumi_azure_native import machinelearningservices as ml
from pulumi_azure_native import monitor

from infra.components.common import (
    Common,
    PropsError,
    add_diagnostics,
    assign_role,
    builtin_role_id,
    check_name,
    resource_opts,
)
from infra.azure_facts.roles import AKS_ATTACH_ROLES
from infra.components.encryption import DiskEncryption, KmsKey
from infra.components.identity import IdentityComponent, IdentityProps
from infra.components.inference_settings import (
    RELEASE_NAMESPACE,
    cluster_resource_id,
    extension_settings,
    protected_settings,
)

OUTBOUND = {"natGateway": "userAssignedNATGateway", "firewall": "userDefinedRouting", "none": "userDefinedRouting"}
UDR = "userDefinedRouting"

# Container Insights with managed-identity auth, as `az aks enable-addons -a monitoring` sets it up
# (azure-cli acs/addonconfiguration.py): a DCR named MSCI-<workspace region>-<cluster>, associated
# with the cluster as ContainerInsightsExtension; behind a private link scope also a config DCE,
# associated as configurationAccessEndpoint and scoped in the AMPLS.
CI_STREAMS = ["Microsoft-ContainerInsights-Group-Default"]
CI_DESTINATION = "la-workspace"
CI_ASSOCIATION = "ContainerInsightsExtension"
CI_CONFIG_ASSOCIATION = "configurationAccessEndpoint"

# The cluster's resource logs by name: PSRule's Azure.AKS.AuditLogs wants kube-audit-admin (or kube-audit) and
# guard, Azure.AKS.PlatformLogs the control plane's four, and both read `category`, never a category group.
# kube-audit-admin leaves out get and list events; kube-audit would add them (Azure.AKS.AuditAdmin: cost).
AKS_LOG_CATEGORIES = ("kube-audit-admin", "guard", "kube-apiserver", "kube-controller-manager", "kube-scheduler",
                      "cluster-autoscaler")
# Image Cleaner (Eraser) removes unused images with known vulnerabilities from the nodes. ARM needs the
# interval (24-2160 hours, image-cleaner.md); weekly, as the CLI's default, matches the weekly node image.
IMAGE_CLEANER_HOURS = 168
# Azure ML's role for AKS Trusted Access (Azure/AML-Kubernetes docs/azureml-aks-ta-support.md): how the
# workspace reaches a cluster whose local accounts are off.
TRUSTED_ACCESS_ROLE = "Microsoft.MachineLearningServices/workspaces/mlworkload"
TRUSTED_ACCESS_BINDING = "azureml-workspace"
# Planned maintenance (planned-maintenance.md): node images weekly (the NodeImage channel ships weekly),
# Kubernetes upgrades monthly; AKS wants windows of at least four hours with auto-upgrade.
NODE_OS_SCHEDULE = "aksManagedNodeOSUpgradeSchedule"
AUTO_UPGRADE_SCHEDULE = "aksManagedAutoUpgradeSchedule"
MAINTENANCE_HOURS = 4


def _secret(value: dict[str, str]) -> pulumi.Output[dict[str, str]]:
    secret: pulumi.Output[dict[str, str]] = pulumi.Output.secret(value)
    return secret


def ci_rule_name(region: str, cluster: str) -> str:
    return f"MSCI-{region}-{cluster}"[:64].rstrip("-")


def ci_config_endpoint_name(region: str, cluster: str) -> str:
    return f"MSCI-config-{region}-{cluster}"[:43].rstrip("-")


@dataclass(frozen=True)
class InstanceType:
    cpu: str
    memory: str
    cpu_limit: str
    memory_limit: str
    gpu: int = 0


@dataclass(frozen=True)
class MaintenanceWindow:
    """When AKS may upgrade: the weekday, the start time and its UTC offset."""

    day: str = "Sunday"
    start_time: str = "02:00"
    utc_offset: str = "+00:00"


@dataclass
class InferenceProps:
    common: Common
    cluster_name: str
    identity_name: str
    compute_name: str
    workspace_name: pulumi.Input[str]
    subnet_id: pulumi.Input[str]
    log_analytics_id: pulumi.Input[str]
    tenant_id: pulumi.Input[str]
    egress: str
    system_vm_size: str
    system_count: int
    inference_vm_size: str
    inference_min: int
    inference_max: int
    max_pods: int = 50
    network_plugin_mode: str = "overlay"
    pod_cidr: str = "192.168.0.0/16"
    service_cidr: str = "172.16.0.0/16"
    dns_service_ip: str = "172.16.0.10"
    zones: Sequence[str] = ()
    kubernetes_version: str | None = None
    upgrade_channel: str = "stable"
    admin_group_ids: Sequence[str] = ()
    tls_mode: str = "certificate"
    tls_cname: str | None = None
    tls_cert_pem: pulumi.Input[str] | None = None
    tls_key_pem: pulumi.Input[str] | None = None
    namespace: str = "azureml"
    cluster_purpose: str = "FastProd"
    instance_types: Mapping[str, InstanceType] = field(default_factory=dict)
    default_instance_type: str = "defaultinstancetype"
    # The workspace's user-assigned identity: it gets AKS_ATTACH_ROLES on the cluster before the attach.
    workspace_principal_id: pulumi.Input[str] | None = None
    # The workspace's registry: the attached compute's own identity (compute_identity_name) may pull from it.
    registry_id: pulumi.Input[str] | None = None
    compute_identity_name: str | None = None
    role_propagation_seconds: int = 60
    # Needs the subscription feature Microsoft.Compute/EncryptionAtHost.
    encryption_at_host: bool = True
    # Create `namespace` as an AKS managed namespace (false: it must already exist, e.g. `default`).
    create_namespace: bool = True
    # The Azure Monitor private link scope's name, when telemetry goes through one.
    private_link_scope_name: pulumi.Input[str] | None = None
    # API Server VNet Integration: the API server's own delegated subnet (network.subnets.apiServer).
    api_server_subnet_id: pulumi.Input[str] | None = None
    # Customer-managed keys: etcd secrets through KMS with the private vault, node disks through a
    # disk encryption set (infra/components/encryption.py). Both are set when the cluster is created.
    kms: KmsKey | None = None
    disk_encryption: DiskEncryption | None = None
    # The workspace's ARM ID: the source of the Trusted Access role binding the attach goes through.
    workspace_id: pulumi.Input[str] | None = None
    maintenance: MaintenanceWindow = field(default_factory=MaintenanceWindow)

    def __post_init__(self) -> None:
        check_name("aks", self.cluster_name)
        check_name("compute", self.compute_name)
        if self.egress not in OUTBOUND:
            raise PropsError(f"egress must be one of {sorted(OUTBOUND)}")
        if self.tls_mode == "certificate" and not (self.tls_cname and self.tls_cert_pem and self.tls_key_pem):
            raise PropsError("TLS certificate mode needs the cname, certificate and key")
        if self.default_instance_type not in self.instance_types:
            raise PropsError("the default instance type must be one of the instance types")
        if self.namespace == RELEASE_NAMESPACE:
            raise PropsError(f"namespace {RELEASE_NAMESPACE!r} is the AzureML extension's own; attach another")
        if self.kms is not None and self.api_server_subnet_id is None:
            raise PropsError("KMS with a private key vault runs only over API Server VNet Integration: it needs the "
                             "API server subnet")
        if self.workspace_principal_id is None or self.registry_id is None or not self.compute_identity_name \
                or self.workspace_id is None:
            raise PropsError("the attach needs the workspace's ID, its identity's principal, the registry ID and a "
                             "name for the compute's identity")


class InferenceComponent(pulumi.ComponentResource):
    def __init__(self, name: str, props: InferenceProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:components:Inference", name, None, opts)
        c = props.common
        self.props = props

        # The control plane's identity joins the scoring subnet: Network Contributor there, nowhere else.
        self.identity = IdentityComponent(
            f"{name}-identity", IdentityProps(c, props.identity_name), opts=pulumi.ResourceOptions(parent=self)
        )
        subnet_grant = assign_role(
            self, f"{name}-ra-subnet", props.subnet_id, self.identity.principal_id, "ServicePrincipal",
            builtin_role_id(c.subscription_id, "Network Contributor"), "AKS control plane joins the scoring subnet",
        )
        self.cluster = self._cluster(name, self._before_cluster(name, subnet_grant))
        add_diagnostics(self, f"{name}-aks", self.cluster.id, c.diagnostic_settings,
                        "Microsoft.ContainerService/managedClusters", categories=AKS_LOG_CATEGORIES)
        self._maintenance(name)
        self._container_insights(name)
        self.extension = self._extension(name)
        self.namespace = self._namespace(name)
        self.compute = self._attach(name)
        self.id = self.cluster.id
        self.register_outputs({"cluster_id": self.cluster.id, "compute_name": props.compute_name})

    def _pool(self, pool_name: str, mode: str, vm_size: str, count: int, min_count: int | None = None,
              max_count: int | None = None) -> aks.ManagedClusterAgentPoolProfileArgs:
        p = self.props
        return aks.ManagedClusterAgentPoolProfileArgs(
            name=pool_name,
            mode=mode,
            type="VirtualMachineScaleSets",
            os_type="Linux",
            os_sku="AzureLinux",
            vm_size=vm_size,
            os_disk_type="Ephemeral",
            os_disk_size_gb=64,
            enable_encryption_at_host=p.encryption_at_host,
            enable_node_public_ip=False,
            max_pods=p.max_pods,
            vnet_subnet_id=p.subnet_id,
            availability_zones=list(p.zones) or None,
            # The system pool runs critical add-ons only.
            node_taints=["CriticalAddonsOnly=true:NoSchedule"] if mode == "System" else None,
            node_labels={"workload": "inference"} if mode == "User" else None,
            count=count,
            enable_auto_scaling=True if min_count is not None else None,
            min_count=min_count,
            max_count=max_count,
            # No SSH daemon on the nodes (`kubectl debug node` still works): set per pool, as AKS applies it.
            security_profile=aks.AgentPoolSecurityProfileArgs(ssh_access=aks.AgentPoolSSHAccess.DISABLED),
        )

    def _before_cluster(self, name: str, subnet_grant: pulumi.Resource) -> list[pulumi.Resource]:
        """The control plane identity's grants the cluster needs at creation, and a pause after key grants.

        API Server VNet Integration: Network Contributor on the API server subnet too ("Lack of permissions
        at the API server subnet can cause a provisioning failure"). KMS with a private vault: Key Vault
        Crypto User on its key (encrypt, decrypt) and Key Vault Contributor on the vault, "required to create
        a private link between the private key vault and the cluster" (use-kms-etcd-encryption). A disk
        encryption set: Reader on it ("the AKS cluster identity has read access to the DiskEncryptionSet",
        azure-disk-customer-managed-keys), and its own identity's grant on its key."""
        p, c = self.props, self.props.common

        def grant(key: str, scope: pulumi.Input[str], role: str, why: str) -> pulumi.Resource:
            return assign_role(self, f"{name}-ra-{key}", scope, self.identity.principal_id, "ServicePrincipal",
                               builtin_role_id(c.subscription_id, role), why)

        network = [subnet_grant]
        if p.api_server_subnet_id is not None:
            network.append(grant("apiserver-subnet", p.api_server_subnet_id, "Network Contributor",
                                 "AKS control plane places its API server in the API server subnet"))
        keys: list[pulumi.Resource] = []
        if p.kms is not None:
            keys += [grant("kms-key", p.kms.key_resource_id, "Key Vault Crypto User",
                           "AKS KMS encrypts and decrypts etcd secrets with its key"),
                     grant("kms-vault", p.kms.vault_id, "Key Vault Contributor",
                           "AKS KMS creates its private link to the private key vault")]
        if p.disk_encryption is not None:
            keys += [grant("disk-encryption-set", p.disk_encryption.set_id, "Reader",
                           "AKS reads the disk encryption set its node disks use"), *p.disk_encryption.ready]
        if not keys:
            return network
        # Azure checks key access when it creates the cluster; new grants take a while to arrive.
        return [time.Sleep(f"{name}-key-propagation", create_duration=f"{p.role_propagation_seconds}s",
                           opts=pulumi.ResourceOptions(parent=self, depends_on=network + keys))]

    def _cluster(self, name: str, depends_on: list[pulumi.Resource]) -> aks.ManagedCluster:
        p, c = self.props, self.props.common
        overlay = p.network_plugin_mode == "overlay"
        outbound = OUTBOUND[p.egress]
        return aks.ManagedCluster(
            f"{name}-aks",
            resource_name_=p.cluster_name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            dns_prefix=p.cluster_name,
            kubernetes_version=p.kubernetes_version,
            sku=aks.ManagedClusterSKUArgs(name="Base", tier="Standard"),
            identity=aks.ManagedClusterIdentityArgs(
                type=aks.ResourceIdentityType.USER_ASSIGNED, user_assigned_identities=[self.identity.id]
            ),
            enable_rbac=True,
            disable_local_accounts=True,
            aad_profile=aks.ManagedClusterAADProfileArgs(
                managed=True, enable_azure_rbac=True, tenant_id=p.tenant_id,
                admin_group_object_ids=list(p.admin_group_ids) or None,
            ),
            api_server_access_profile=aks.ManagedClusterAPIServerAccessProfileArgs(
                enable_private_cluster=True, enable_private_cluster_public_fqdn=False, private_dns_zone="system",
                # The API server in the stack's own delegated subnet, behind an internal load balancer.
                enable_vnet_integration=True if p.api_server_subnet_id is not None else None,
                subnet_id=p.api_server_subnet_id,
                # No `az aks command invoke`: it runs kubectl as the cluster's own admin from outside the VNet.
                # The platform itself goes through ARM only (extension, attach).
                disable_run_command=True,
            ),
            disk_encryption_set_id=p.disk_encryption.set_id if p.disk_encryption else None,
            # AKS refuses userDefinedRouting with public network access Disabled (Azure/AKS#3690): it
            # cannot open the deny rule to node egress it does not know. A private cluster's API server
            # has only its private endpoint anyway, so with UDR the property stays unset.
            public_network_access=None if outbound == UDR else "Disabled",
            network_profile=aks.ContainerServiceNetworkProfileArgs(
                network_plugin="azure",
                network_plugin_mode="overlay" if overlay else None,
                network_dataplane="cilium" if overlay else "azure",
                network_policy="cilium" if overlay else "azure",
                pod_cidr=p.pod_cidr if overlay else None,
                service_cidr=p.service_cidr,
                dns_service_ip=p.dns_service_ip,
                load_balancer_sku="standard",
                outbound_type=outbound,
            ),
            agent_pool_profiles=[
                self._pool("system", "System", p.system_vm_size, count=p.system_count),
                self._pool("inference", "User", p.inference_vm_size, count=p.inference_min,
                           min_count=p.inference_min, max_count=p.inference_max),
            ],
            auto_upgrade_profile=aks.ManagedClusterAutoUpgradeProfileArgs(
                upgrade_channel=p.upgrade_channel, node_os_upgrade_channel="NodeImage"
            ),
            addon_profiles={
                "omsagent": aks.ManagedClusterAddonProfileArgs(
                    enabled=True,
                    config={"logAnalyticsWorkspaceResourceID": p.log_analytics_id, "useAADAuth": "true"},
                ),
                "azurepolicy": aks.ManagedClusterAddonProfileArgs(enabled=True),
                "azureKeyvaultSecretsProvider": aks.ManagedClusterAddonProfileArgs(
                    enabled=True, config={"enableSecretRotation": "true", "rotationPollInterval": "2m"}
                ),
                # Retired, but stated so scanners see it off.
                "kubeDashboard": aks.ManagedClusterAddonProfileArgs(enabled=False),
            },
            oidc_issuer_profile=aks.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
            security_profile=aks.ManagedClusterSecurityProfileArgs(
                workload_identity=aks.ManagedClusterSecurityProfileWorkloadIdentityArgs(enabled=True),
                azure_key_vault_kms=kms_profile(p.kms),
                image_cleaner=aks.ManagedClusterSecurityProfileImageCleanerArgs(
                    enabled=True, interval_hours=IMAGE_CLEANER_HOURS),
            ),
            tags=c.tags,
            # The KMS key version stays as created unless an operator rotates it (README: Customer-managed keys).
            opts=resource_opts(self, c, depends_on=depends_on, ignore_changes=[KMS_KEY_ID] if p.kms else None),
        )

    def _maintenance(self, name: str) -> None:
        """Node images weekly on the stack's day, Kubernetes upgrades on the first such day of each month."""
        p, c = self.props, self.props.common
        m = p.maintenance
        schedules = {
            NODE_OS_SCHEDULE: aks.ScheduleArgs(weekly=aks.WeeklyScheduleArgs(day_of_week=m.day, interval_weeks=1)),
            AUTO_UPGRADE_SCHEDULE: aks.ScheduleArgs(relative_monthly=aks.RelativeMonthlyScheduleArgs(
                day_of_week=m.day, interval_months=1, week_index="First")),
        }
        for config_name, schedule in schedules.items():
            aks.MaintenanceConfiguration(
                f"{name}-maintenance-{config_name}",
                config_name=config_name,
                resource_name_=self.cluster.name,
                resource_group_name=c.resource_group_name,
                maintenance_window=aks.MaintenanceWindowArgs(
                    schedule=schedule, start_time=m.start_time, utc_offset=m.utc_offset,
                    duration_hours=MAINTENANCE_HOURS),
                opts=resource_opts(self, c),
            )

    def _container_insights(self, name: str) -> None:
        """The add-on with useAADAuth sends through a data collection rule associated with the cluster."""
        p, c = self.props, self.props.common
        rule = monitor.DataCollectionRule(
            f"{name}-ci-dcr",
            # The workspace and the cluster share the stack's region.
            data_collection_rule_name=ci_rule_name(c.location, p.cluster_name),
            resource_group_name=c.resource_group_name,
            location=c.location,
            kind="Linux",
            data_sources=monitor.DataCollectionRuleDataSourcesArgs(
                extensions=[monitor.ExtensionDataSourceArgs(
                    name=CI_ASSOCIATION,
                    extension_name="ContainerInsights",
                    streams=CI_STREAMS,
                    extension_settings={"dataCollectionSettings": {"enableContainerLogV2": True}},
                )],
            ),
            data_flows=[monitor.DataFlowArgs(streams=CI_STREAMS, destinations=[CI_DESTINATION])],
            destinations=monitor.DataCollectionRuleDestinationsArgs(
                log_analytics=[monitor.LogAnalyticsDestinationArgs(
                    name=CI_DESTINATION, workspace_resource_id=p.log_analytics_id)],
            ),
            tags=c.tags,
            opts=resource_opts(self, c),
        )
        monitor.DataCollectionRuleAssociation(
            f"{name}-ci-dcra",
            association_name=CI_ASSOCIATION,
            resource_uri=self.cluster.id,
            data_collection_rule_id=rule.id,
            description="Container Insights: routes the cluster's monitoring data to Log Analytics",
            opts=resource_opts(self, c),
        )
        if p.private_link_scope_name is None:
            return
        # Behind a private link scope the agent fetches its configuration from a data collection
        # endpoint in the scope, with public access off.
        endpoint = monitor.DataCollectionEndpoint(
            f"{name}-ci-dce",
            data_collection_endpoint_name=ci_config_endpoint_name(c.location, p.cluster_name),
            resource_group_name=c.resource_group_name,
            location=c.location,
            kind="Linux",
            network_acls=monitor.DataCollectionEndpointNetworkAclsArgs(public_network_access="Disabled"),
            tags=c.tags,
            opts=resource_opts(self, c),
        )
        monitor.DataCollectionRuleAssociation(
            f"{name}-ci-dcea",
            association_name=CI_CONFIG_ASSOCIATION,
            resource_uri=self.cluster.id,
            data_collection_endpoint_id=endpoint.id,
            description="Container Insights: the configuration endpoint in the private link scope",
            opts=resource_opts(self, c),
        )
        monitor.PrivateLinkScopedResource(
            f"{name}-ci-dce-scoped",
            name=ci_config_endpoint_name(c.location, p.cluster_name) + "-connection",
            scope_name=p.private_link_scope_name,
            resource_group_name=c.resource_group_name,
            linked_resource_id=endpoint.id,
            opts=resource_opts(self, c),
        )

    def _extension(self, name: str) -> k8sconfig.Extension:
        """Inference only, behind an internal load balancer in the scoring subnet."""
        p, c = self.props, self.props.common
        https = p.tls_mode == "certificate"
        settings = pulumi.Output.all(c.subscription_id, c.resource_group_name, self.cluster.name).apply(
            lambda a: extension_settings(
                cluster_id=cluster_resource_id(a[0], a[1], a[2]), cluster_name=a[2], location=c.location,
                cluster_purpose=p.cluster_purpose, tls_cname=p.tls_cname if https else None,
            )
        )
        protected: pulumi.Output[dict[str, str]] | None = None
        if https:
            # InferenceProps.__post_init__ refuses certificate mode without both PEMs.
            assert p.tls_cert_pem is not None and p.tls_key_pem is not None
            # Encoded inside an apply that returns a secret, so the base64 stays secret whatever the inputs were.
            protected = pulumi.Output.all(p.tls_cert_pem, p.tls_key_pem).apply(
                lambda pair: _secret(protected_settings(pair[0], pair[1]))
            )
        return k8sconfig.Extension(
            f"{name}-azureml-extension",
            extension_name="azureml",
            extension_type="microsoft.azureml.kubernetes",
            cluster_rp="Microsoft.ContainerService",
            cluster_resource_name="managedClusters",
            cluster_name=self.cluster.name,
            resource_group_name=c.resource_group_name,
            auto_upgrade_minor_version=True,
            release_train="stable",
            scope=k8sconfig.ScopeArgs(cluster=k8sconfig.ScopeClusterArgs(release_namespace=RELEASE_NAMESPACE)),
            identity=k8sconfig.IdentityArgs(type=k8sconfig.ResourceIdentityType.SYSTEM_ASSIGNED),
            configuration_settings=settings,
            configuration_protected_settings=protected,
            opts=resource_opts(self, c),
        )

    def _namespace(self, name: str) -> aks.ManagedNamespace | None:
        """The namespace AML deploys into must exist before the attach; AKS creates it as a managed namespace."""
        p, c = self.props, self.props.common
        if not p.create_namespace:
            return None
        return aks.ManagedNamespace(
            f"{name}-namespace",
            managed_namespace_name=p.namespace,
            resource_name_=self.cluster.name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            properties=aks.NamespacePropertiesArgs(
                # The inference router (in the extension's namespace) reaches the model pods here, so
                # ingress is not limited to the namespace; egress follows the cluster's egress path.
                default_network_policy=aks.NetworkPoliciesArgs(ingress="AllowAll", egress="AllowAll"),
                # A fresh cluster has no such namespace; anything else owns it and is not taken over.
                adoption_policy="Never",
                # Deleting the resource does not delete AML's deployments with it.
                delete_policy="Keep",
                labels={"app.kubernetes.io/managed-by": "amlplatform"},
            ),
            tags=c.tags,
            opts=resource_opts(self, c),
        )

    def _attach(self, name: str) -> ml.Compute:
        """The workspace identity's roles on the cluster, a pause for them to propagate, then the attach."""
        p, c = self.props, self.props.common
        assert p.workspace_principal_id is not None and p.registry_id is not None and p.compute_identity_name
        grants = [
            assign_role(self, f"{name}-ra-attach-{role.lower().replace(' ', '-')}", self.cluster.id,
                        p.workspace_principal_id, "ServicePrincipal", builtin_role_id(c.subscription_id, role),
                        f"AML workspace identity attaches {p.cluster_name}: {role}")
            for role in AKS_ATTACH_ROLES
        ]
        # The compute's own identity: pulls model images from the workspace registry, nothing else.
        self.compute_identity = IdentityComponent(
            f"{name}-compute-identity", IdentityProps(c, p.compute_identity_name),
            opts=pulumi.ResourceOptions(parent=self),
        )
        grants.append(assign_role(
            self, f"{name}-ra-acr-pull", p.registry_id, self.compute_identity.principal_id, "ServicePrincipal",
            builtin_role_id(c.subscription_id, "AcrPull"), f"{p.compute_name} pulls images from the workspace registry",
        ))
        propagation = time.Sleep(
            f"{name}-role-propagation",
            create_duration=f"{p.role_propagation_seconds}s",
            opts=pulumi.ResourceOptions(parent=self, depends_on=grants),
        )
        # With local accounts off, Azure ML reaches the cluster through AKS Trusted Access, bound per
        # workspace before the compute is attached (computes attached earlier do not use it).
        binding = aks.TrustedAccessRoleBinding(
            f"{name}-trusted-access",
            trusted_access_role_binding_name=TRUSTED_ACCESS_BINDING,
            resource_name_=self.cluster.name,
            resource_group_name=c.resource_group_name,
            source_resource_id=p.workspace_id,
            roles=[TRUSTED_ACCESS_ROLE],
            # The AzureML extension is installed first (the order azureml-aks-ta-support.md gives).
            opts=resource_opts(self, c, depends_on=[self.extension]),
        )
        ready: list[pulumi.Resource] = [self.extension, propagation, binding]
        if self.namespace is not None:
            ready.append(self.namespace)
        return ml.Compute(
            f"{name}-attach",
            compute_name=p.compute_name,
            workspace_name=p.workspace_name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            identity=ml.ManagedServiceIdentityArgs(
                type="UserAssigned", user_assigned_identities=[self.compute_identity.id]
            ),
            properties=ml.KubernetesArgs(
                compute_type="Kubernetes",
                resource_id=self.cluster.id,
                disable_local_auth=True,
                description=f"Real-time inference on {p.cluster_name}",
                properties=ml.KubernetesPropertiesArgs(
                    namespace=p.namespace,
                    default_instance_type=p.default_instance_type,
                    instance_types={
                        key: ml.InstanceTypeSchemaArgs(
                            resources=ml.InstanceTypeSchemaResourcesArgs(
                                requests={"cpu": t.cpu, "memory": t.memory},
                                limits={"cpu": t.cpu_limit, "memory": t.memory_limit,
                                        **({"nvidia.com/gpu": str(t.gpu)} if t.gpu else {})},
                            ),
                            node_selector={"workload": "inference"},
                        )
                        for key, t in p.instance_types.items()
                    },
                ),
            ),
            tags=c.tags,
            opts=resource_opts(self, c, depends_on=ready),
        )


KMS_KEY_ID = "securityProfile.azureKeyVaultKms.keyId"


def kms_profile(key: KmsKey | None) -> aks.AzureKeyVaultKmsArgs | None:
    """KMS etcd encryption with a private vault: a versioned key ID, and the vault's ID, which Private
    access requires (the SDK defaults keyVaultNetworkAccess to Public when it is left out)."""
    if key is None:
        return None
    return aks.AzureKeyVaultKmsArgs(enabled=True, key_id=key.key_id,
                                    key_vault_network_access=aks.KeyVaultNetworkAccessTypes.PRIVATE,
                                    key_vault_resource_id=key.vault_id)
