"""Upload a promoted model's files to the registry's storage, the only way the registry takes bytes.

A registry accepts files only through a temporary data reference it mints per asset version
(`PUT .../registries/<name>/tempdatarefs/<asset>/versions/<version>`, answered with a SAS URI on its
own storage account: azure-ai-ml 1.35 `_utils/_registry_utils.get_sas_uri_for_registry_asset`, used by
`az ml model create --registry-name`). The storage account lives in the registry's managed resource
group, where the platform has no RBAC of its own to grant, so there is no Entra-only path to it. This is
the least-bad option, kept narrow: the deployer asks for the reference with its Entra token (AzureML
Registry User on the registry: the CI/CD principal only), the SAS is scoped by the service to that one
asset version's path, short-lived, used at once in memory and never stored (not in state, not in the
plan, not in logs); the resource records the blob URI without its query string. Content-addressed and
written once: a registry version is immutable (the lock file sees to it).
"""

from __future__ import annotations

from typing import Any, Callable

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider

from infra.paths import REPO_ROOT
from infra.seeding.hashing import path_sha256
from infra.seeding.upload import UploadError, blob_names

REGISTRY_DATAPLANE_API = "2021-10-01-dataplanepreview"


def _strip_query(uri: str) -> str:
    return uri.split("?", 1)[0]


def upload_to_registry(props: dict[str, Any], sas_for: Callable[[dict[str, Any]], str],
                       container_for: Callable[[str], Any]) -> str:
    """Upload the source under the SAS's path; return the blob URI (no SAS) the model version points at."""
    source = REPO_ROOT / props["source"]
    if not source.exists():
        raise UploadError(f"{source} does not exist: this checkout lacks a file the plan uploads")
    if path_sha256(source) != props["sha256"]:
        raise UploadError(f"{source} changed since the plan: run `pulumi up` again")
    sas = sas_for(props)
    container = container_for(sas)
    base = _strip_query(sas).rstrip("/")
    prefix = base.split(f"/{container.container_name}/", 1)[-1] if f"/{container.container_name}/" in base else ""
    for path, name in blob_names(source, f"{prefix}/{source.name}" if prefix else source.name):
        container.upload_blob(name=name, data=path.read_bytes(), overwrite=False)
    return f"{base}/{source.name}"


def _sas_for(props: dict[str, Any]) -> str:
    from azure.ai.ml import MLClient
    from azure.ai.ml._utils._registry_utils import get_sas_uri_for_registry_asset
    from azure.identity import DefaultAzureCredential

    client = MLClient(DefaultAzureCredential(), props["subscriptionId"], props["resourceGroupName"],
                      registry_name=props["registryName"])
    body = {"assetId": f"azureml://registries/{props['registryName']}/models/{props['assetName']}/versions/"
                       f"{props['assetVersion']}", "temporaryDataReferenceType": "TemporaryBlobReference"}
    sas = get_sas_uri_for_registry_asset(client._service_client_10_2021_dataplanepreview, props["assetName"],
                                         props["assetVersion"], props["resourceGroupName"], props["registryName"],
                                         body)
    if not sas:
        raise UploadError(f"registry {props['registryName']} already holds {props['assetName']} "
                          f"{props['assetVersion']}: versions are immutable; bump the version")
    return sas


def _container_for(sas: str) -> Any:
    from azure.storage.blob import ContainerClient

    return ContainerClient.from_container_url(sas)


class RegistryUploadProvider(ResourceProvider):
    """Create uploads once; a registry version never changes, so any change replaces; delete keeps the blobs."""

    def __init__(self, sas_for: Callable[[dict[str, Any]], str] | None = None,
                 container_for: Callable[[str], Any] | None = None) -> None:
        super().__init__()
        self._sas_for = sas_for
        self._container_for = container_for

    def create(self, props: dict[str, Any]) -> CreateResult:
        uri = upload_to_registry(props, self._sas_for or _sas_for, self._container_for or _container_for)
        return CreateResult(id_=f"{props['registryName']}/{props['assetName']}/{props['assetVersion']}",
                            outs={**props, "uri": uri})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = ("sha256", "registryName", "assetName", "assetVersion")
        replaces = [k for k in keys if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(replaces), replaces=replaces, delete_before_replace=False)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Registry versions are retained on delete: their files stay."""


class RegistryUpload(pulumi.dynamic.Resource, module="amlplatform", name="RegistryUpload"):
    """One promoted version's files on the registry's storage; `uri` is where the version points."""

    uri: pulumi.Output[str]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(RegistryUploadProvider(), name, {**props, "uri": None}, opts)
