"""AKS for real-time inference, with the Azure ML extension and the cluster attached to the workspace.

A private cluster (no public API server) with Entra ID and Azure RBAC and no
local accounts; Azure CNI (overlay with Cilium by default) with network
policy; a system pool for critical add-ons only and an autoscaling inference
pool, both on ephemeral OS disks with encryption at host; monitoring, Azure
Policy and the Key Vault secrets provider on; workload identity. Then the
`microsoft.azureml.kubernetes` extension for inference only behind an
internal load balancer, and the AML Kubernetes compute. No CLI step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import pulumi
from pulumi_azure_native import containerservice as aks
from pulumi_azure_native import kubernetesconfiguration as k8sconfig
from pulumi_azure_native import machinelearningservices as ml

from .common import (
    Common,
    PropsError,
    add_diagnostics,
    assign_role,
    builtin_role_id,
    check_name,
    resource_opts,
)
from .identity import IdentityComponent, IdentityProps

OUTBOUND = {"natGateway": "userAssignedNATGateway", "firewall": "userDefinedRouting", "none": "userDefinedRouting"}


@dataclass(frozen=True)
class InstanceType:
    cpu: str
    memory: str
    cpu_limit: str
    memory_limit: str
    gpu: int = 0


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

    def __post_init__(self) -> None:
        check_name("aks", self.cluster_name)
        check_name("compute", self.compute_name)
        if self.egress not in OUTBOUND:
            raise PropsError(f"egress must be one of {sorted(OUTBOUND)}")
        if self.tls_mode == "certificate" and not (self.tls_cname and self.tls_cert_pem and self.tls_key_pem):
            raise PropsError("TLS certificate mode needs the cname, certificate and key")
        if self.default_instance_type not in self.instance_types:
            raise PropsError("the default instance type must be one of the instance types")


class InferenceComponent(pulumi.ComponentResource):
    def __init__(self, name: str, props: InferenceProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:components:Inference", name, None, opts)
        c = props.common

        # The control plane's identity joins the scoring subnet: Network Contributor there, nowhere else.
        self.identity = IdentityComponent(
            f"{name}-identity", IdentityProps(c, props.identity_name), opts=pulumi.ResourceOptions(parent=self)
        )
        subnet_grant = assign_role(
            self, f"{name}-ra-subnet", props.subnet_id, self.identity.principal_id, "ServicePrincipal",
            builtin_role_id(c.subscription_id, "Network Contributor"), "AKS control plane joins the scoring subnet",
        )

        def pool(
            pool_name: str,
            mode: str,
            vm_size: str,
            count: int,
            enable_auto_scaling: bool | None = None,
            min_count: int | None = None,
            max_count: int | None = None,
        ) -> aks.ManagedClusterAgentPoolProfileArgs:
            return aks.ManagedClusterAgentPoolProfileArgs(
                name=pool_name,
                mode=mode,
                type="VirtualMachineScaleSets",
                os_type="Linux",
                os_sku="AzureLinux",
                vm_size=vm_size,
                os_disk_type="Ephemeral",
                os_disk_size_gb=64,
                enable_encryption_at_host=True,
                enable_node_public_ip=False,
                max_pods=props.max_pods,
                vnet_subnet_id=props.subnet_id,
                availability_zones=list(props.zones) or None,
                # The system pool runs critical add-ons only.
                node_taints=["CriticalAddonsOnly=true:NoSchedule"] if mode == "System" else None,
                node_labels={"workload": "inference"} if mode == "User" else None,
                count=count,
                enable_auto_scaling=enable_auto_scaling,
                min_count=min_count,
                max_count=max_count,
            )

        overlay = props.network_plugin_mode == "overlay"
        self.cluster = aks.ManagedCluster(
            f"{name}-aks",
            resource_name_=props.cluster_name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            dns_prefix=props.cluster_name,
            kubernetes_version=props.kubernetes_version,
            sku=aks.ManagedClusterSKUArgs(name="Base", tier="Standard"),
            identity=aks.ManagedClusterIdentityArgs(
                type=aks.ResourceIdentityType.USER_ASSIGNED, user_assigned_identities=[self.identity.id]
            ),
            enable_rbac=True,
            disable_local_accounts=True,
            aad_profile=aks.ManagedClusterAADProfileArgs(
                managed=True, enable_azure_rbac=True, tenant_id=props.tenant_id,
                admin_group_object_ids=list(props.admin_group_ids) or None,
            ),
            api_server_access_profile=aks.ManagedClusterAPIServerAccessProfileArgs(
                enable_private_cluster=True, enable_private_cluster_public_fqdn=False, private_dns_zone="system",
            ),
            public_network_access="Disabled",
            network_profile=aks.ContainerServiceNetworkProfileArgs(
                network_plugin="azure",
                network_plugin_mode="overlay" if overlay else None,
                network_dataplane="cilium" if overlay else "azure",
                network_policy="cilium" if overlay else "azure",
                pod_cidr=props.pod_cidr if overlay else None,
                service_cidr=props.service_cidr,
                dns_service_ip=props.dns_service_ip,
                load_balancer_sku="standard",
                outbound_type=OUTBOUND[props.egress],
            ),
            agent_pool_profiles=[
                pool("system", "System", props.system_vm_size, count=props.system_count),
                pool("inference", "User", props.inference_vm_size, enable_auto_scaling=True,
                     count=props.inference_min, min_count=props.inference_min, max_count=props.inference_max),
            ],
            auto_upgrade_profile=aks.ManagedClusterAutoUpgradeProfileArgs(
                upgrade_channel=props.upgrade_channel, node_os_upgrade_channel="NodeImage"
            ),
            addon_profiles={
                "omsagent": aks.ManagedClusterAddonProfileArgs(
                    enabled=True,
                    config={"logAnalyticsWorkspaceResourceID": props.log_analytics_id, "useAADAuth": "true"},
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
            ),
            tags=c.tags,
            opts=resource_opts(self, c, depends_on=[subnet_grant]),
        )
        add_diagnostics(self, f"{name}-aks", self.cluster.id, c.diagnostic_settings,
                        "Microsoft.ContainerService/managedClusters", log_group="audit")

        # Inference only, behind an internal load balancer in the scoring subnet.
        settings = {
            "enableTraining": "False",
            "enableInference": "True",
            "inferenceRouterServiceType": "LoadBalancer",
            "internalLoadBalancerProvider": "azure",
            "inferenceRouterHA": "True",
            "clusterPurpose": props.cluster_purpose,
            "allowInsecureConnections": "False" if props.tls_mode == "certificate" else "True",
        }
        protected: dict[str, pulumi.Input[str]] | None = None
        if props.tls_mode == "certificate":
            settings["sslCname"] = props.tls_cname or ""
            # InferenceProps.__post_init__ refuses certificate mode without both PEMs.
            assert props.tls_cert_pem is not None and props.tls_key_pem is not None
            protected = {"sslCertPemFile": props.tls_cert_pem, "sslKeyPemFile": props.tls_key_pem}
        self.extension = k8sconfig.Extension(
            f"{name}-azureml-extension",
            extension_name="azureml",
            extension_type="microsoft.azureml.kubernetes",
            cluster_rp="Microsoft.ContainerService",
            cluster_resource_name="managedClusters",
            cluster_name=self.cluster.name,
            resource_group_name=c.resource_group_name,
            auto_upgrade_minor_version=True,
            release_train="stable",
            scope=k8sconfig.ScopeArgs(cluster=k8sconfig.ScopeClusterArgs(release_namespace="azureml")),
            identity=k8sconfig.IdentityArgs(type=k8sconfig.ResourceIdentityType.SYSTEM_ASSIGNED),
            configuration_settings=settings,
            configuration_protected_settings=protected,
            opts=resource_opts(self, c),
        )

        self.compute = ml.Compute(
            f"{name}-attach",
            compute_name=props.compute_name,
            workspace_name=props.workspace_name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            properties=ml.KubernetesArgs(
                compute_type="Kubernetes",
                resource_id=self.cluster.id,
                disable_local_auth=True,
                description=f"Real-time inference on {props.cluster_name}",
                properties=ml.KubernetesPropertiesArgs(
                    namespace=props.namespace,
                    default_instance_type=props.default_instance_type,
                    instance_types={
                        key: ml.InstanceTypeSchemaArgs(
                            resources=ml.InstanceTypeSchemaResourcesArgs(
                                requests={"cpu": t.cpu, "memory": t.memory},
                                limits={"cpu": t.cpu_limit, "memory": t.memory_limit,
                                        **({"nvidia.com/gpu": str(t.gpu)} if t.gpu else {})},
                            ),
                            node_selector={"workload": "inference"},
                        )
                        for key, t in props.instance_types.items()
                    },
                ),
            ),
            tags=c.tags,
            opts=resource_opts(self, c, depends_on=[self.extension]),
        )
        self.id = self.cluster.id
        self.register_outputs({"cluster_id": self.cluster.id, "compute_name": props.compute_name})
