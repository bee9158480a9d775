"""Answers the Pulumi engine's calls the way Azure Resource Manager would.

`ArmEmulator` (the SDK's `Mocks`) gives each resource the ARM ID Azure would
give it and the outputs a program reads back (principal IDs, endpoints, URIs),
all derived from the inputs so two runs agree byte for byte. `Recorder` (the
SDK's `MockMonitor`) keeps what `MockResourceArgs` does not carry: parent,
dependencies, protect and the other options.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from infra.offline.arm_types import NOT_ARM, UnmappedError, lookup, resource_id

OFFLINE_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
OFFLINE_TENANT = "11111111-1111-1111-1111-111111111111"
OFFLINE_CLIENT = "22222222-2222-2222-2222-222222222222"
_NS = uuid.UUID("0d7c5c1e-2f57-4f3e-8a7e-6b3a2c1d9e00")


def fake_guid(*parts: str) -> str:
    return str(uuid.uuid5(_NS, "/".join(parts)))


def _identity_outputs(inputs: dict, rid: str, tenant: str) -> dict:
    return {"principalId": fake_guid(rid, "principal"), "clientId": fake_guid(rid, "client"), "tenantId": tenant}


def _storage_outputs(inputs: dict, rid: str, tenant: str) -> dict:
    name = inputs["accountName"]
    return {
        "primaryEndpoints": {
            svc: f"https://{name}.{svc}.core.windows.net/" for svc in ("blob", "dfs", "file", "queue", "table", "web")
        },
        "provisioningState": "Succeeded",
    }


def _vault_outputs(inputs: dict, rid: str, tenant: str) -> dict:
    props = dict(inputs.get("properties") or {})
    props["vaultUri"] = f"https://{inputs['vaultName']}.vault.azure.net/"
    return {"properties": props}


def _key_outputs(inputs: dict, rid: str, tenant: str) -> dict:
    # Key Vault names a key version with 32 hex digits; the versionless URI follows the latest version.
    uri = f"https://{inputs['vaultName']}.vault.azure.net/keys/{inputs['keyName']}"
    return {"keyUri": uri, "keyUriWithVersion": f"{uri}/{uuid.UUID(fake_guid(rid, 'version')).hex}"}


def _disk_encryption_set_outputs(inputs: dict, rid: str, tenant: str) -> dict:
    identity = dict(inputs.get("identity") or {})
    if "SystemAssigned" in str(identity.get("type")):
        identity.update({"principalId": fake_guid(rid, "principal"), "tenantId": tenant})
    return {"identity": identity, "provisioningState": "Succeeded"}


def _registry_outputs(inputs: dict, rid: str, tenant: str) -> dict:
    return {"loginServer": f"{inputs['registryName'].lower()}.azurecr.io"}


def _workspace_outputs(inputs: dict, rid: str, tenant: str) -> dict:
    loc = inputs.get("location", "westeurope")
    return {
        "workspaceId": fake_guid(rid, "workspace"),
        "discoveryUrl": f"https://{loc}.api.azureml.ms/discovery",
        "mlFlowTrackingUri": f"azureml://{loc}.api.azureml.ms/mlflow/v1.0{rid}",
        "tenantId": tenant,
    }


def _log_analytics_outputs(inputs: dict, rid: str, tenant: str) -> dict:
    return {"customerId": fake_guid(rid, "customer")}


def _app_insights_outputs(inputs: dict, rid: str, tenant: str) -> dict:
    key = fake_guid(rid, "ikey")
    loc = inputs.get("location", "westeurope")
    return {
        "instrumentationKey": key,
        "appId": fake_guid(rid, "app"),
        "connectionString": f"InstrumentationKey={key};IngestionEndpoint=https://{loc}-0.in.applicationinsights.azure.com/",
    }


def _dcr_outputs(inputs: dict, rid: str, tenant: str) -> dict:
    return {"immutableId": "dcr-" + uuid.UUID(fake_guid(rid, "immutable")).hex, "provisioningState": "Succeeded"}


def _dce_outputs(inputs: dict, rid: str, tenant: str) -> dict:
    # <name>-<suffix>.<region>-1.handler.control / .ingest.monitor.azure.com, as Azure Monitor names them.
    host = f"{inputs['dataCollectionEndpointName'].lower()}-{fake_guid(rid, 'host')[:4]}.{inputs.get('location', '')}-1"
    return {
        "immutableId": "dce-" + uuid.UUID(fake_guid(rid, "immutable")).hex,
        "configurationAccess": {"endpoint": f"https://{host}.handler.control.monitor.azure.com"},
        "logsIngestion": {"endpoint": f"https://{host}.ingest.monitor.azure.com"},
        "provisioningState": "Succeeded",
    }


def _managed_namespace_outputs(inputs: dict, rid: str, tenant: str) -> dict:
    props = dict(inputs.get("properties") or {})
    props["provisioningState"] = "Succeeded"
    return {"properties": props}


def _ml_registry_outputs(inputs: dict, rid: str, tenant: str) -> dict:
    """The storage account and container registry Azure ML creates per region in the registry's managed group."""
    name = inputs["registryName"]
    sub = rid.split("/")[2]
    group = f"azureml-rg-{name}_{fake_guid(rid, 'managed-group')}"
    details = []
    for region in inputs.get("regionDetails") or []:
        tag = uuid.UUID(fake_guid(rid, region.get("location", ""))).hex
        account, acr = f"st{tag[:22]}", f"cr{tag[:20]}"
        base = f"/subscriptions/{sub}/resourceGroups/{group}/providers"
        storage = dict((region.get("storageAccountDetails") or [{}])[0].get("systemCreatedStorageAccount") or {})
        registry = dict((region.get("acrDetails") or [{}])[0].get("systemCreatedAcrAccount") or {})
        details.append({
            **region,
            "storageAccountDetails": [{"systemCreatedStorageAccount": {
                **storage, "storageAccountName": account,
                "armResourceId": {"resourceId": f"{base}/Microsoft.Storage/storageAccounts/{account}"}}}],
            "acrDetails": [{"systemCreatedAcrAccount": {
                **registry, "acrAccountName": acr,
                "armResourceId": {"resourceId": f"{base}/Microsoft.ContainerRegistry/registries/{acr}"}}}],
        })
    loc = inputs.get("location", "westeurope")
    return {
        "regionDetails": details,
        "managedResourceGroup": {"resourceId": f"/subscriptions/{sub}/resourceGroups/{group}"},
        "discoveryUrl": f"https://{loc}.api.azureml.ms/registrymanagement/v1.0/registries/{name}/discovery",
        "mlFlowRegistryUri": f"azureml://{loc}.api.azureml.ms/mlflow/v1.0{rid}",
    }


def _registry_upload_outputs(inputs: dict, rid: str, tenant: str) -> dict:
    """Where the registry's temporary data reference puts a version's files (the URI without its SAS)."""
    tag = uuid.UUID(fake_guid(str(inputs.get("registryName")), "upload")).hex
    source = str(inputs.get("source", "")).rsplit("/", 1)[-1]
    return {"uri": f"https://st{tag[:22]}.blob.core.windows.net/{fake_guid(rid, 'container')}/"
                   f"{inputs.get('assetName')}/{inputs.get('assetVersion')}/{source}"}


OUTPUTS: dict[str, Callable[[dict, str, str], dict]] = {
    "azure-native:machinelearningservices:Registry": _ml_registry_outputs,
    "pulumi-python:dynamic/amlplatform:RegistryUpload": _registry_upload_outputs,
    "azure-native:managedidentity:UserAssignedIdentity": _identity_outputs,
    "azure-native:storage:StorageAccount": _storage_outputs,
    "azure-native:keyvault:Vault": _vault_outputs,
    "azure-native:keyvault:Key": _key_outputs,
    "azure-native:compute:DiskEncryptionSet": _disk_encryption_set_outputs,
    "azure-native:containerregistry:Registry": _registry_outputs,
    "azure-native:machinelearningservices:Workspace": _workspace_outputs,
    "azure-native:operationalinsights:Workspace": _log_analytics_outputs,
    "azure-native:applicationinsights:Component": _app_insights_outputs,
    "azure-native:monitor:DataCollectionRule": _dcr_outputs,
    "azure-native:monitor:DataCollectionEndpoint": _dce_outputs,
    "azure-native:containerservice:ManagedNamespace": _managed_namespace_outputs,
}


STACK_REFERENCE = "pulumi:pulumi:StackReference"


class ArmEmulator(Mocks):
    def __init__(self, subscription_id: str = OFFLINE_SUBSCRIPTION, tenant_id: str = OFFLINE_TENANT,
                 references: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.subscription_id = subscription_id
        self.tenant_id = tenant_id
        # Fully qualified stack name -> that stack's outputs (its offline plan's), for StackReference reads.
        self.references = dict(references or {})

    def read_stack(self, name: str) -> tuple[str, dict]:
        """A StackReference read, as the engine answers it: the referenced stack's outputs (none secret here)."""
        if name not in self.references:
            known = ", ".join(sorted(self.references)) or "none"
            raise UnmappedError(f"StackReference {name}: no such stack offline (planned first: {known}); a team "
                                "stack references its platform stack as <organization>/<project>/<stack>")
        return name, {"name": name, "outputs": dict(self.references[name]), "secretOutputNames": []}

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict]:
        if args.typ == STACK_REFERENCE:
            return self.read_stack(args.resource_id or str(args.inputs.get("name", "")))
        if not args.custom:
            return None, {}
        if args.typ.startswith("pulumi:providers:") or args.typ in NOT_ARM:
            state = dict(args.inputs)
            helper = OUTPUTS.get(args.typ)
            if helper:  # a helper whose outputs the program reads (a registry upload's URI)
                state.update(helper(args.inputs, f"offline-{args.name}", self.tenant_id))
            return f"offline-{args.name}", state
        spec = lookup(args.typ)
        rid = resource_id(spec, args.inputs, self.subscription_id)
        state = dict(args.inputs)
        state.update({"id": rid, "name": rid.rsplit("/", 1)[-1], "type": spec.arm_type})
        identity = state.get("identity")
        if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
            # ARM answers with a map of identity ID -> its principal and client IDs.
            state["identity"] = {
                **identity,
                "userAssignedIdentities": {
                    uid: {"principalId": fake_guid(uid, "principal"), "clientId": fake_guid(uid, "client")}
                    for uid in identity["userAssignedIdentities"]
                },
            }
        extra = OUTPUTS.get(args.typ)
        if extra:
            state.update(extra(args.inputs, rid, self.tenant_id))
        return rid, state

    def call(self, args: MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        if args.token == "azure-native:authorization:getClientConfig":
            return {
                "clientId": OFFLINE_CLIENT,
                "objectId": fake_guid("deployer"),
                "subscriptionId": self.subscription_id,
                "tenantId": self.tenant_id,
            }, []
        raise UnmappedError(f"{args.token}: the offline emulator does not answer this function call")


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    inputs: dict
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    protect: bool
    retain_on_delete: bool
    ignore_changes: list[str] = field(default_factory=list)


class Recorder(MockMonitor):
    """A MockMonitor that also records parent, dependencies and options."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.registrations: dict[str, Registration] = {}
        # Stacks read through a StackReference (a read, not a registration: never a planned resource).
        self.references: list[str] = []
        self._lock = threading.Lock()

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        if request.type == STACK_REFERENCE:
            with self._lock:
                self.references.append(request.id)
        return super().ReadResource(request)

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        if request.type != "pulumi:pulumi:Stack":
            _ensure_event_loop()
            inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
            urn = self.make_urn(request.parent, request.type, request.name)
            reg = Registration(
                urn=urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                parent=request.parent,
                inputs=inputs,
                dependencies=sorted(set(request.dependencies)),
                # Only properties that depend on something (the SDK sends an empty list for every other).
                property_dependencies={
                    k: sorted(set(v.urns)) for k, v in sorted(request.propertyDependencies.items()) if v.urns
                },
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                ignore_changes=list(request.ignoreChanges),
            )
            with self._lock:
                if urn in self.registrations:
                    raise UnmappedError(f"{urn}: registered twice (two resources share a type and name)")
                self.registrations[urn] = reg
            if not request.transforms and not rpc.contains_unknowns(inputs):
                return self._answer(request, urn, inputs)
        return super().RegisterResource(request)

    def _answer(self, request: Any, urn: str, inputs: dict) -> Any:
        """MockMonitor's answer to a registration, from the inputs as read once above.

        MockMonitor reads the request's inputs again, without unknowns; an offline run is no preview and
        has none (one with an unknown, or with transforms, goes to MockMonitor itself). Reading them once
        saves a second copy of every resource's inputs, held until the run ends."""
        args = MockResourceArgs(typ=request.type, name=request.name, inputs=inputs, provider=request.provider,
                                resource_id=request.importId, custom=bool(request.custom))
        rid, state = self.mocks.new_resource(args)
        answer = _sync_await(rpc.serialize_properties(state, {}))
        # A component has no ID: None, as MockMonitor records it; the answer's ID is then empty.
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, rid, state)  # type: ignore[arg-type]
        return resource_pb2.RegisterResourceResponse(urn=urn, id=rid or "", object=answer)
