"""The azure-native type tokens the platform uses, and what each is in ARM.

The provider keeps this table in its binary only, so we keep our own for the
types we declare. The emulator builds resource IDs from it and the renderer
builds template resources from it; a token missing here is an error in both,
never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Scope = Literal["resourceGroup", "subscription", "extension"]

# Keys ARM keeps beside `properties` on most resources.
TOP_LEVEL = frozenset({"location", "tags", "sku", "kind", "identity", "zones", "extendedLocation", "plan"})


@dataclass(frozen=True)
class ArmType:
    token: str
    arm_type: str
    api_version: str
    # One entry per segment of the ARM name: an input key, or "=literal".
    name_keys: tuple[str, ...]
    scope: Scope = "resourceGroup"
    # For extension resources: the input holding the ID of the resource they attach to.
    scope_key: str | None = None
    top_level: frozenset[str] = TOP_LEVEL
    # azure-native input name -> ARM property name, at the level where it sits.
    renames: dict[str, str] = field(default_factory=dict)
    # The resource already takes a `properties` input (keyvault Vault, ML Compute...).
    has_properties_input: bool = False
    # Inputs the provider uses only to address the resource.
    addressing: frozenset[str] = frozenset({"resourceGroupName"})
    # Extension resources addressed by parts rather than one ID input: the inputs that
    # spell the parent (resource provider, resource type, name) under the resource group.
    parent_parts: tuple[str, str, str] | None = None

    def names(self, inputs: dict) -> list[str]:
        out = []
        for key in self.name_keys:
            if key.startswith("="):
                out.append(key[1:])
            else:
                value = inputs.get(key)
                if not isinstance(value, str) or not value:
                    raise UnmappedError(f"{self.token}: input {key!r} (the physical name) must be set explicitly")
                out.append(value)
        return out

    @property
    def name_inputs(self) -> frozenset[str]:
        return frozenset(k for k in self.name_keys if not k.startswith("="))


class UnmappedError(Exception):
    """A type token, or a shape, the offline engine does not know."""


_STORAGE_IP = {"iPAddressOrRange": "value"}
# Storage's customer-managed key settings: azure-native's names and ARM's (Microsoft.Storage 2024-01-01
# Encryption: `keyvaultproperties {keyname, keyversion, keyvaulturi}` and `identity {userAssignedIdentity,
# federatedIdentityClientId}`). Only the storage account has these names, so renaming at any depth is safe.
_STORAGE_ENCRYPTION = {
    "keyVaultProperties": "keyvaultproperties", "keyName": "keyname", "keyVersion": "keyversion",
    "keyVaultUri": "keyvaulturi", "encryptionIdentity": "identity",
    "encryptionUserAssignedIdentity": "userAssignedIdentity",
    "encryptionFederatedIdentityClientId": "federatedIdentityClientId",
}

TYPES: dict[str, ArmType] = {
    t.token: t
    for t in [
        ArmType("azure-native:resources:ResourceGroup", "Microsoft.Resources/resourceGroups", "2024-03-01",
                ("resourceGroupName",), scope="subscription", addressing=frozenset()),
        ArmType("azure-native:operationalinsights:Workspace", "Microsoft.OperationalInsights/workspaces",
                "2023-09-01", ("workspaceName",), top_level=TOP_LEVEL - {"sku"}),
        ArmType("azure-native:applicationinsights:Component", "Microsoft.Insights/components", "2020-02-02",
                ("resourceName",),
                renames={
                    "applicationType": "Application_Type", "workspaceResourceId": "WorkspaceResourceId",
                    "disableLocalAuth": "DisableLocalAuth", "ingestionMode": "IngestionMode",
                    "flowType": "Flow_Type", "requestSource": "Request_Source",
                    "retentionInDays": "RetentionInDays", "samplingPercentage": "SamplingPercentage",
                    "disableIpMasking": "DisableIpMasking",
                    "forceCustomerStorageForProfiler": "ForceCustomerStorageForProfiler",
                }),
        ArmType("azure-native:storage:StorageAccount", "Microsoft.Storage/storageAccounts", "2024-01-01",
                ("accountName",),
                renames={"enableHttpsTrafficOnly": "supportsHttpsTrafficOnly", "networkRuleSet": "networkAcls",
                         **_STORAGE_IP, **_STORAGE_ENCRYPTION}),
        ArmType("azure-native:storage:BlobServiceProperties", "Microsoft.Storage/storageAccounts/blobServices",
                "2024-01-01", ("accountName", "blobServicesName")),
        ArmType("azure-native:storage:FileServiceProperties", "Microsoft.Storage/storageAccounts/fileServices",
                "2024-01-01", ("accountName", "fileServicesName")),
        ArmType("azure-native:storage:BlobContainer", "Microsoft.Storage/storageAccounts/blobServices/containers",
                "2024-01-01", ("accountName", "=default", "containerName")),
        ArmType("azure-native:keyvault:Vault", "Microsoft.KeyVault/vaults", "2024-11-01", ("vaultName",),
                has_properties_input=True),
        ArmType("azure-native:storage:ManagementPolicy", "Microsoft.Storage/storageAccounts/managementPolicies",
                "2024-01-01", ("accountName", "managementPolicyName")),
        ArmType("azure-native:keyvault:Key", "Microsoft.KeyVault/vaults/keys", "2024-11-01",
                ("vaultName", "keyName"), has_properties_input=True),
        ArmType("azure-native:containerregistry:Registry", "Microsoft.ContainerRegistry/registries",
                "2023-01-01-preview", ("registryName",), renames=_STORAGE_IP),
        ArmType("azure-native:managedidentity:UserAssignedIdentity",
                "Microsoft.ManagedIdentity/userAssignedIdentities", "2023-01-31", ("resourceName",)),
        ArmType("azure-native:authorization:RoleAssignment", "Microsoft.Authorization/roleAssignments",
                "2022-04-01", ("roleAssignmentName",), scope="extension", scope_key="scope",
                addressing=frozenset()),
        # azure-native's `roleType` is the role definition's `properties.type` (CustomRole) in ARM.
        ArmType("azure-native:authorization:RoleDefinition", "Microsoft.Authorization/roleDefinitions",
                "2022-05-01-preview", ("roleDefinitionId",), scope="extension", scope_key="scope",
                addressing=frozenset(), renames={"roleType": "type"}),
        ArmType("azure-native:authorization:ManagementLockByScope", "Microsoft.Authorization/locks", "2020-05-01",
                ("lockName",), scope="extension", scope_key="scope", addressing=frozenset()),
        ArmType("azure-native:monitor:PrivateLinkScope", "Microsoft.Insights/privateLinkScopes",
                "2023-06-01-preview", ("scopeName",)),
        ArmType("azure-native:monitor:PrivateLinkScopedResource",
                "Microsoft.Insights/privateLinkScopes/scopedResources", "2023-06-01-preview",
                ("scopeName", "name")),
        ArmType("azure-native:monitor:DiagnosticSetting", "Microsoft.Insights/diagnosticSettings",
                "2021-05-01-preview", ("name",), scope="extension", scope_key="resourceUri",
                addressing=frozenset()),
        ArmType("azure-native:network:NetworkSecurityGroup", "Microsoft.Network/networkSecurityGroups",
                "2024-05-01", ("networkSecurityGroupName",)),
        ArmType("azure-native:network:VirtualNetwork", "Microsoft.Network/virtualNetworks", "2024-05-01",
                ("virtualNetworkName",)),
        ArmType("azure-native:network:VirtualNetworkPeering",
                "Microsoft.Network/virtualNetworks/virtualNetworkPeerings", "2024-05-01",
                ("virtualNetworkName", "virtualNetworkPeeringName")),
        ArmType("azure-native:network:PublicIPAddress", "Microsoft.Network/publicIPAddresses", "2024-05-01",
                ("publicIpAddressName",)),
        ArmType("azure-native:network:NatGateway", "Microsoft.Network/natGateways", "2024-05-01",
                ("natGatewayName",)),
        ArmType("azure-native:network:RouteTable", "Microsoft.Network/routeTables", "2024-05-01",
                ("routeTableName",)),
        ArmType("azure-native:network:PrivateEndpoint", "Microsoft.Network/privateEndpoints", "2024-05-01",
                ("privateEndpointName",)),
        ArmType("azure-native:network:PrivateDnsZoneGroup",
                "Microsoft.Network/privateEndpoints/privateDnsZoneGroups", "2024-05-01",
                ("privateEndpointName", "privateDnsZoneGroupName")),
        ArmType("azure-native:privatedns:PrivateZone", "Microsoft.Network/privateDnsZones", "2024-06-01",
                ("privateZoneName",)),
        ArmType("azure-native:privatedns:VirtualNetworkLink",
                "Microsoft.Network/privateDnsZones/virtualNetworkLinks", "2024-06-01",
                ("privateZoneName", "virtualNetworkLinkName")),
        ArmType("azure-native:machinelearningservices:Compute",
                "Microsoft.MachineLearningServices/workspaces/computes", "2025-12-01",
                ("workspaceName", "computeName"), has_properties_input=True),
        ArmType("azure-native:containerservice:ManagedCluster", "Microsoft.ContainerService/managedClusters",
                "2025-09-01", ("resourceName",)),
        # The AKS node disks' customer-managed key (infra/components/encryption.py).
        ArmType("azure-native:compute:DiskEncryptionSet", "Microsoft.Compute/diskEncryptionSets", "2024-03-02",
                ("diskEncryptionSetName",)),
        ArmType("azure-native:containerservice:MaintenanceConfiguration",
                "Microsoft.ContainerService/managedClusters/maintenanceConfigurations", "2025-09-01",
                ("resourceName", "configName")),
        # AKS Trusted Access: how Azure ML reaches a cluster whose local accounts are off (inference.py).
        ArmType("azure-native:containerservice:TrustedAccessRoleBinding",
                "Microsoft.ContainerService/managedClusters/trustedAccessRoleBindings", "2025-09-01",
                ("resourceName", "trustedAccessRoleBindingName")),
        # VNet flow logs (flow_logs.py): a child of the region's Network Watcher, in the watcher's own group.
        ArmType("azure-native:network:FlowLog", "Microsoft.Network/networkWatchers/flowLogs", "2024-05-01",
                ("networkWatcherName", "flowLogName")),
        ArmType("azure-native:containerservice:ManagedNamespace",
                "Microsoft.ContainerService/managedClusters/managedNamespaces", "2025-09-01",
                ("resourceName", "managedNamespaceName"), has_properties_input=True),
        # Container Insights with managed-identity auth (infra/components/inference.py).
        ArmType("azure-native:monitor:DataCollectionRule", "Microsoft.Insights/dataCollectionRules", "2022-06-01",
                ("dataCollectionRuleName",)),
        ArmType("azure-native:monitor:DataCollectionEndpoint", "Microsoft.Insights/dataCollectionEndpoints",
                "2022-06-01", ("dataCollectionEndpointName",)),
        ArmType("azure-native:monitor:DataCollectionRuleAssociation",
                "Microsoft.Insights/dataCollectionRuleAssociations", "2022-06-01", ("associationName",),
                scope="extension", scope_key="resourceUri", addressing=frozenset()),
        ArmType("azure-native:kubernetesconfiguration:Extension", "Microsoft.KubernetesConfiguration/extensions",
                "2023-05-01", ("extensionName",), scope="extension",
                parent_parts=("clusterRp", "clusterResourceName", "clusterName"),
                addressing=frozenset({"resourceGroupName", "clusterRp", "clusterResourceName", "clusterName"})),
        ArmType("azure-native:machinelearningservices:ManagedNetworkSettingsRule",
                "Microsoft.MachineLearningServices/workspaces/outboundRules", "2025-12-01",
                ("workspaceName", "ruleName"), has_properties_input=True),
        ArmType("azure-native:machinelearningservices:Workspace", "Microsoft.MachineLearningServices/workspaces",
                "2025-12-01", ("workspaceName",)),
        # Seeded assets (infra/seeding/components.py): each takes `properties`; `name` (and `version`)
        # with the workspace name make the ARM name. A datastore's `skipValidation` is a query
        # parameter of the PUT, not part of the body.
        *(ArmType(f"azure-native:machinelearningservices:{token}",
                  f"Microsoft.MachineLearningServices/workspaces/{segment}", "2025-12-01",
                  ("workspaceName", "name", *(("version",) if segment.endswith("/versions") else ())),
                  has_properties_input=True,
                  addressing=frozenset({"resourceGroupName", *(("skipValidation",) if token == "Datastore" else ())}))
          for token, segment in [
              ("Datastore", "datastores"),
              ("EnvironmentContainer", "environments"), ("EnvironmentVersion", "environments/versions"),
              ("CodeContainer", "codes"), ("CodeVersion", "codes/versions"),
              ("ComponentContainer", "components"), ("ComponentVersion", "components/versions"),
              ("DataContainer", "data"), ("DataVersion", "data/versions"),
              ("Schedule", "schedules"),
              ("ModelContainer", "models"), ("ModelVersion", "models/versions"),
          ]),
        # The organisation's AML registry and what is promoted to it (infra/components/ml_registry.py,
        # registry_assets.py). Registry children name themselves with `modelName`.
        ArmType("azure-native:machinelearningservices:Registry", "Microsoft.MachineLearningServices/registries",
                "2025-12-01", ("registryName",)),
        ArmType("azure-native:machinelearningservices:RegistryModelContainer",
                "Microsoft.MachineLearningServices/registries/models", "2025-12-01", ("registryName", "modelName"),
                has_properties_input=True),
        ArmType("azure-native:machinelearningservices:RegistryModelVersion",
                "Microsoft.MachineLearningServices/registries/models/versions", "2025-12-01",
                ("registryName", "modelName", "version"), has_properties_input=True),
        # Endpoints and deployments (infra/components/endpoints.py): `identity`, `kind`, `sku` stay beside
        # `properties` as on every ARM resource.
        ArmType("azure-native:machinelearningservices:OnlineEndpoint",
                "Microsoft.MachineLearningServices/workspaces/onlineEndpoints", "2025-12-01",
                ("workspaceName", "endpointName"), has_properties_input=True),
        ArmType("azure-native:machinelearningservices:OnlineDeployment",
                "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments", "2025-12-01",
                ("workspaceName", "endpointName", "deploymentName"), has_properties_input=True),
        ArmType("azure-native:machinelearningservices:BatchEndpoint",
                "Microsoft.MachineLearningServices/workspaces/batchEndpoints", "2025-12-01",
                ("workspaceName", "endpointName"), has_properties_input=True),
        ArmType("azure-native:machinelearningservices:BatchDeployment",
                "Microsoft.MachineLearningServices/workspaces/batchEndpoints/deployments", "2025-12-01",
                ("workspaceName", "endpointName", "deploymentName"), has_properties_input=True),
    ]
}


# Resources the program declares that are not Azure resources: planned, never rendered.
# Their dependencies pass through them to whatever depends on them.
NOT_ARM: dict[str, str] = {
    "time:index/sleep:Sleep": "a pause for Azure RBAC propagation (pulumiverse-time)",
    # infra/seeding/upload.py: a dynamic-provider resource that writes files to the workspace's default
    # datastore with Entra ID; the asset versions that point at its URI are ARM resources.
    "pulumi-python:dynamic/amlplatform:WorkspaceUpload": "a content-addressed upload of asset files "
    "(code, build context, local data) to the workspace's default datastore",
    # infra/seeding/registry_upload.py and routing.py: the registry's one upload path, and an endpoint's traffic
    # (or batch default) written once its deployments exist.
    "pulumi-python:dynamic/amlplatform:RegistryUpload": "a promoted version's files, uploaded through the "
    "registry's temporary data reference",
    "pulumi-python:dynamic/amlplatform:EndpointRouting": "an online endpoint's traffic split or a batch endpoint's "
    "default deployment, set after its deployments exist",
}


def lookup(token: str) -> ArmType:
    try:
        return TYPES[token]
    except KeyError:
        raise UnmappedError(
            f"{token}: no ARM mapping in infra/offline/arm_types.py; add the type (ARM type, API version, "
            "name inputs) before using it"
        ) from None


def resource_id(spec: ArmType, inputs: dict, subscription_id: str) -> str:
    """The ARM ID Azure gives a resource with these inputs."""
    names = spec.names(inputs)
    if spec.scope == "subscription":
        return f"/subscriptions/{subscription_id}/resourceGroups/{names[0]}"
    namespace, *types = spec.arm_type.split("/")
    path = "/".join(f"{t}/{n}" for t, n in zip(types, names, strict=True))
    if spec.parent_parts:
        rp, kind, parent = (inputs.get(k) for k in spec.parent_parts)
        rg = inputs.get("resourceGroupName")
        if not all(isinstance(v, str) and v for v in (rp, kind, parent, rg)):
            raise UnmappedError(f"{spec.token}: inputs {spec.parent_parts} and resourceGroupName must be set")
        return f"/subscriptions/{subscription_id}/resourceGroups/{rg}/providers/{rp}/{kind}/{parent}/providers/" \
               f"{namespace}/{path}"
    if spec.scope == "extension":
        scope = inputs.get(spec.scope_key or "")
        if not isinstance(scope, str) or not scope.startswith("/"):
            raise UnmappedError(f"{spec.token}: input {spec.scope_key!r} must be a resource ID")
        return f"{scope.rstrip('/')}/providers/{namespace}/{path}"
    rg = inputs.get("resourceGroupName")
    if not isinstance(rg, str) or not rg:
        raise UnmappedError(f"{spec.token}: input 'resourceGroupName' must be set")
    return f"/subscriptions/{subscription_id}/resourceGroups/{rg}/providers/{namespace}/{path}"
