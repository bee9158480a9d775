"""Each asset as the REST body AML expects, from the body azure-ai-ml's serialisers gave it (sdk.py).

References become ARM IDs under the workspace, written with the WORKSPACE placeholder
(the workspace's ID is only known once it exists); `fill` substitutes it. Upload targets
become the URIs the platform's upload writes to.
"""

from __future__ import annotations

import copy
from typing import Any

from infra.seeding.model import Asset, Upload
from infra.seeding.refs import Resolved

WORKSPACE = "{workspace}"
DEFAULT_DATASTORE = "workspaceblobstore"
# What the assets' `properties` carry, so `verify` can tell the seeded content from a drift.
PROP_FILE = "amlplatform.file"
PROP_SHA = "amlplatform.sha256"


def fill(value: Any, workspace_id: str) -> Any:
    if isinstance(value, str):
        return value.replace(WORKSPACE, workspace_id)
    if isinstance(value, dict):
        return {k: fill(v, workspace_id) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, workspace_id) for v in value]
    return value


def arm_id(kind: str, name: str, version: str | None = None) -> str:
    segment = {"environment": "environments", "component": "components", "data": "data", "code": "codes",
               "datastore": "datastores", "compute": "computes", "schedule": "schedules",
               "model": "models"}[kind]
    out = f"{WORKSPACE}/{segment}/{name}"
    return out + (f"/versions/{version}" if version is not None else "")


def environment_ref(ref: Resolved) -> str:
    """A component's `environment` as azure-ai-ml sends it (OperationOrchestrator.get_asset_arm_id):
    a registry ID and a curated short form (`azureml:AzureML-NAME:VERSION`, which the service expands
    from the azureml registry) as written; a workspace environment as `azureml:` + its ARM ID."""
    if ref.literal:
        return ref.literal
    return "azureml:" + arm_id("environment", ref.name, ref.version)


def asset_properties(asset: Asset) -> dict[str, str]:
    return {PROP_FILE: asset.file, PROP_SHA: asset.sha256}


def blob_uri(account: str, container: str, upload: Upload, trailing_slash: bool = False) -> str:
    return f"https://{account}.blob.core.windows.net/{container}/{upload.prefix}" + ("/" if trailing_slash else "")


def datastore_uri(upload: Upload) -> str:
    return f"azureml://datastores/{DEFAULT_DATASTORE}/paths/{upload.prefix}" + ("/" if upload.is_dir else "")


def code_name(component: Asset) -> str:
    return component.name


def code_version(component: Asset) -> str:
    return component.uploads["code"].sha256[:12]


def component_spec(asset: Asset) -> dict[str, Any]:
    """The component's spec as `az ml component create` sends it, with code and environment as ARM IDs."""
    spec: dict[str, Any] = copy.deepcopy(asset.body)
    spec["version"] = asset.version
    spec["code"] = "azureml:" + arm_id("code", code_name(asset), code_version(asset))
    spec["environment"] = environment_ref(asset.refs["environment"])
    return spec


def schedule_rest(sched: Asset) -> dict[str, Any]:
    """The schedule's REST properties (camelCase) with components, data and computes as ARM IDs."""
    pipeline: Asset = sched.refs["pipeline"]
    body: dict[str, Any] = copy.deepcopy(sched.body)
    job = body["action"]["jobDefinition"]
    for node, ref in pipeline.refs["components"].items():
        job["jobs"][node]["componentId"] = arm_id("component", ref.name, ref.version)
        compute = (job["jobs"][node].get("computeId") or "").removeprefix("azureml:")
        if compute:
            job["jobs"][node]["computeId"] = arm_id("compute", compute)
    for key, ref in pipeline.refs.get("data", {}).items():
        # The ARM ID itself, as JobOperations._resolve_job_input leaves it (no azureml: prefix).
        job["inputs"][key]["uri"] = arm_id("data", ref.name, ref.version)
    for key, raw in (pipeline.raw.get("inputs") or {}).items():
        path = raw.get("path") if isinstance(raw, dict) else None
        if isinstance(path, str) and path.startswith("azureml://datastores/"):
            job["inputs"][key]["uri"] = path
    settings = job.get("settings") or {}
    if settings.get("default_compute"):
        settings["default_compute"] = arm_id("compute", str(settings["default_compute"]).removeprefix("azureml:"))
    if job.get("computeId"):
        job["computeId"] = arm_id("compute", str(job["computeId"]).removeprefix("azureml:"))
    return body
