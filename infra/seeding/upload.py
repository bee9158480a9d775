"""Upload code folders, Docker build contexts and local data to the workspace's default datastore.

Why this and not the obvious tools (see the README's "Seeded assets"):
- the storage account refuses shared keys (allowSharedKeyAccess false);
- azure-native's `storage.Blob` writes with the account key (pulumi-azure-native #2015, #2948);
- azure-ai-ml 1.35 uploads code through a SAS the service mints (startPendingUpload), which its own
  error text says is account-key derived unless the workspace was moved to the preview key-less mode.
So the platform writes with the deployer's Entra token (azure-identity's DefaultAzureCredential,
OAuth on the Blob API), exactly as azure-ai-ml does for an identity-based datastore, after asking
MLClient which datastore is the default and checking it is identity-based. Content-addressed:
`LocalUpload/<sha256>/<name>`, written once, never deleted (retained asset versions point at it).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any, Callable

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

from infra.paths import REPO_ROOT
from infra.seeding.hashing import files_of, path_sha256

MARKER = ".amlplatform-upload.json"
# New role assignments take minutes to reach the storage data plane.
RBAC_RETRY_SECONDS = 600


class UploadError(Exception):
    """An upload that cannot proceed; the message says what to fix."""


def marker_name(prefix: str) -> str:
    """The completion marker sits beside the uploaded folder, never inside it (not part of the snapshot)."""
    return f"{prefix.rsplit('/', 1)[0]}/{MARKER}"


def blob_names(source: Path, prefix: str) -> list[tuple[Path, str]]:
    """(local file, blob name) for every file of an upload."""
    if source.is_file():
        return [(source, prefix)]
    return [(f, f"{prefix}/{f.relative_to(source).as_posix()}") for f in files_of(source)]


def check_default_datastore(ml_client: Any, account: str, container: str) -> None:
    """Refuse unless the workspace's default datastore is identity-based and is the expected container."""
    ds = ml_client.datastores.get_default()
    creds = type(getattr(ds, "credentials", None)).__name__
    if creds not in ("NoneCredentialConfiguration", "NoneType"):
        raise UploadError(f"the workspace's default datastore {ds.name} holds {creds}; the platform uploads only to an "
                          "identity-based default datastore (workspace systemDatastoresAuthMode: identity)")
    where = (getattr(ds, "account_name", None), getattr(ds, "container_name", None))
    if where != (account, container):
        raise UploadError(f"the workspace's default datastore {ds.name} is {where[0]}/{where[1]}, not the planned "
                          f"{account}/{container}")


def upload(source: Path, sha256: str, prefix: str, container_client: Any,
           sleep: Callable[[float], None] = time.sleep, retry_seconds: float = RBAC_RETRY_SECONDS) -> int:
    """Upload `source` under `prefix` unless its marker says it is there; return the number of blobs written."""
    if not source.exists():
        raise UploadError(f"{source} does not exist: this checkout lacks a file the plan uploads")
    actual = path_sha256(source)
    if actual != sha256:
        raise UploadError(f"{source} changed since the plan (sha256 {actual[:12]}…, planned {sha256[:12]}…): "
                          "run `pulumi up` again")
    marker = marker_name(prefix)
    deadline = time.monotonic() + retry_seconds
    while True:
        try:
            if container_client.get_blob_client(marker).exists():
                return 0
            break
        except Exception as exc:  # azure.core HttpResponseError: 403 until the role assignment propagates
            if getattr(exc, "status_code", None) != 403 or time.monotonic() > deadline:
                raise UploadError(f"cannot read {container_client.container_name}: {exc}. The deploying identity "
                                  "needs Storage Blob Data Contributor on it (rbac.deployment gets it) and network "
                                  "line of sight to the storage account (private endpoint in private mode)") from exc
            sleep(15)
    written = 0
    files = blob_names(source, prefix)
    for path, name in files:
        container_client.upload_blob(name=name, data=path.read_bytes(), overwrite=True)
        written += 1
    manifest = {"sha256": sha256, "files": len(files),
                "digests": {n: hashlib.sha256(p.read_bytes()).hexdigest() for p, n in files}}
    container_client.upload_blob(name=marker, data=json.dumps(manifest, sort_keys=True).encode(), overwrite=True)
    return written + 1


def _clients(props: dict[str, Any]) -> tuple[Any, Any]:
    from azure.ai.ml import MLClient
    from azure.identity import DefaultAzureCredential
    from azure.storage.blob import ContainerClient

    credential = DefaultAzureCredential()
    ml_client = MLClient(credential, props["subscriptionId"], props["resourceGroupName"], props["workspaceName"])
    container = ContainerClient(f"https://{props['accountName']}.blob.core.windows.net", props["containerName"],
                                credential=credential)
    return ml_client, container


class UploadProvider(ResourceProvider):
    """CRUD for `WorkspaceUpload`: create uploads; a changed hash or target replaces; delete keeps the blobs."""

    REPLACE_ON = ("sha256", "prefix", "accountName", "containerName", "workspaceName")

    def __init__(self, clients: Callable[[dict[str, Any]], tuple[Any, Any]] | None = None) -> None:
        super().__init__()
        self._factory = clients

    def _do(self, props: dict[str, Any]) -> None:
        ml_client, container = (self._factory or _clients)(props)
        check_default_datastore(ml_client, props["accountName"], props["containerName"])
        # The plan records `source` relative to the repository (portable state); the engine starts this
        # provider in a process of its own, so the root comes from this module's location, not the cwd.
        upload(REPO_ROOT / props["source"], props["sha256"], props["prefix"], container)

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._do(props)
        return CreateResult(id_=f"{props['accountName']}/{props['containerName']}/{props['prefix']}", outs=props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in self.REPLACE_ON if olds.get(k) != news.get(k)]
        changed = replaces or [k for k in ("source", "uri") if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=news)  # same content at the same place: nothing to write

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Content-addressed blobs stay: asset versions (retained on delete) still point at them."""


class WorkspaceUpload(pulumi.dynamic.Resource, module="amlplatform", name="WorkspaceUpload"):
    """One content-addressed upload; `uri` is where AML finds it."""

    uri: pulumi.Output[str]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(UploadProvider(), name, props, opts)
