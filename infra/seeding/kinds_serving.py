"""The project's own checks for models and endpoints (online, Kubernetes online, batch), on their YAML alone.

Same contract as kinds.py: each function records every problem it finds and returns the Asset (entity
still unset) or None. References between them (a deployment's endpoint and model, an endpoint's
traffic) are resolved in resolve_serving.py, once every file is read.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.seeding.model import ASSET_NAME, ASSET_NAME_RULE, Asset

if TYPE_CHECKING:
    from infra.seeding.loader import Loader

MODEL_TYPES = ("mlflow_model", "custom_model", "triton_model")
# Online and batch endpoint names: a letter, then letters, digits and '-', not ending in '-', 3-32 characters
# (reference-yaml-endpoint-online). The platform appends `-<env>` (dev, stg, prd): endpoint names are unique
# per region, and dev, staging and prod may share one; so a name here has at most 28 characters.
_ENDPOINT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,26}[A-Za-z0-9]$")
ENDPOINT_NAME_RULE = ("3-28 letters, digits or '-', starting with a letter and not ending in '-' (AML allows 32; "
                      "the platform appends -dev, -stg or -prd: endpoint names are unique per region)")
# Deployment names: a letter, then letters, digits and '-', 3-32 characters (reference-yaml-deployment-managed-online).
_DEPLOYMENT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,30}[A-Za-z0-9]$")
DEPLOYMENT_NAME_RULE = "3-32 letters, digits or '-', starting with a letter and not ending in '-'"
REMOTE_MODEL = ("azureml://datastores/", "https://", "abfss://", "wasbs://")
# VM sizes managed online endpoints offer ("Managed online endpoints SKU list",
# https://learn.microsoft.com/azure/machine-learning/reference-managed-online-endpoints-vm-sku-list):
# general purpose, compute optimized, memory optimized and GPU. NCv3 is left out (retired 2025-09-30).
MANAGED_SKUS = frozenset(
    """
    Standard_DS1_v2 Standard_DS2_v2 Standard_DS3_v2 Standard_DS4_v2 Standard_DS5_v2
    Standard_F2s_v2 Standard_F4s_v2 Standard_F8s_v2 Standard_F16s_v2 Standard_F32s_v2 Standard_F48s_v2
    Standard_F64s_v2 Standard_F72s_v2
    Standard_E2s_v3 Standard_E4s_v3 Standard_E8s_v3 Standard_E16s_v3 Standard_E32s_v3 Standard_E48s_v3
    Standard_E64s_v3
    Standard_NC4as_T4_v3 Standard_NC8as_T4_v3 Standard_NC16as_T4_v3 Standard_NC64as_T4_v3
    Standard_NC24ads_A100_v4 Standard_NC48ads_A100_v4 Standard_NC96ads_A100_v4
    Standard_ND96asr_v4 Standard_ND96amsr_A100_v4 Standard_ND40rs_v2
    """.split()
)


def model(r: Loader, path: Path, file: str, raw: dict[str, Any]) -> Asset | None:
    name = r.name(file, raw, ASSET_NAME, ASSET_NAME_RULE)
    version = r.versioned(file, raw, "model")
    typ = str(raw.get("type") or "custom_model")
    target = raw.get("path")
    asset = Asset("model", name or "", file, raw, None, declared_version=version, subtype=typ)
    if not isinstance(target, str) or not target:
        r.problems.add("model-path", file, "path", "required: a local folder or file next to this file (the "
                       "platform uploads it) or an azureml://datastores/NAME/paths/... URI")
        return None
    if "sig=" in target:
        r.problems.add("model-path", file, "path", "carries a SAS token (sig=): reference the files through an "
                       "identity-based datastore (azureml://datastores/NAME/paths/...) or ship them next to this file")
        return None
    if target.startswith(REMOTE_MODEL):
        asset.refs["datastores"] = [target] if target.startswith("azureml://datastores/") else []
        return asset if name and version else None
    if "://" in target or target.startswith("azureml:"):
        r.problems.add("model-path", file, "path", f"{target!r}: give a local folder, an azureml://datastores/ URI "
                       "or an https/abfss URL")
        return None
    local = r.local(path.parent, target)
    if not local.exists():
        r.problems.add("model-path", file, "path", f"{target!r} does not exist next to this file")
        return None
    if typ in ("mlflow_model", "triton_model") and not local.is_dir():
        r.problems.add("model-path", file, "path", f"{target!r}: a {typ} is a folder (az ml model create refuses a "
                       "single file for it)")
        return None
    if typ == "mlflow_model" and not (local / "MLmodel").is_file():
        r.problems.add("model-path", file, "path", f"{target!r} holds no MLmodel file: an mlflow_model folder is "
                       "what mlflow.save_model writes (MLmodel, the model file, its environment files)")
        return None
    asset.uploads["path"] = r.upload(local)
    asset.refs["datastores"] = []
    return asset if name and version else None


def _endpoint(r: Loader, file: str, raw: dict[str, Any], kind: str, subtype: str) -> Asset | None:
    name = r.name(file, raw, _ENDPOINT_NAME, ENDPOINT_NAME_RULE)
    if name is None:
        return None
    asset = Asset(kind, name, file, raw, None, subtype=subtype)  # type: ignore[arg-type]
    traffic = raw.get("traffic")
    asset.refs["traffic"] = dict(traffic) if isinstance(traffic, dict) else {}
    if subtype == "kubernetes":
        compute = raw.get("compute")
        asset.refs["compute"] = compute.removeprefix("azureml:") if isinstance(compute, str) else None
    return asset


def online_endpoint(r: Loader, path: Path, file: str, raw: dict[str, Any]) -> Asset | None:
    subtype = "kubernetes" if "kubernetesOnline" in str(raw.get("$schema", "")) else "managed"
    return _endpoint(r, file, raw, "online_endpoint", subtype)


def batch_endpoint(r: Loader, path: Path, file: str, raw: dict[str, Any]) -> Asset | None:
    asset = _endpoint(r, file, raw, "batch_endpoint", "batch")
    if asset is not None:
        defaults = raw.get("defaults") if isinstance(raw.get("defaults"), dict) else {}
        asset.refs["default_deployment"] = (defaults or {}).get("deployment_name")
    return asset


def _deployment(r: Loader, file: str, raw: dict[str, Any], kind: str, subtype: str) -> Asset | None:
    name = r.name(file, raw, _DEPLOYMENT_NAME, DEPLOYMENT_NAME_RULE)
    endpoint = raw.get("endpoint_name")
    if not isinstance(endpoint, str) or not endpoint:
        r.problems.add("deployment-endpoint", file, "endpoint_name", "required: the name of an endpoint file in "
                       "this folder")
        return None
    if name is None:
        return None
    asset = Asset(kind, f"{endpoint}/{name}", file, raw, None, subtype=subtype)  # type: ignore[arg-type]
    asset.refs["endpoint"] = endpoint
    asset.refs["deployment"] = name
    asset.refs["model"] = raw.get("model")
    asset.refs["environment"] = raw.get("environment")
    asset.refs["instance_type"] = raw.get("instance_type")
    code = raw.get("code_configuration")
    if isinstance(code, dict) and isinstance(code.get("code"), str):
        asset.refs["code"] = code["code"]
    return asset


def online_deployment(r: Loader, path: Path, file: str, raw: dict[str, Any]) -> Asset | None:
    subtype = "kubernetes" if "kubernetesOnline" in str(raw.get("$schema", "")) else "managed"
    asset = _deployment(r, file, raw, "online_deployment", subtype)
    itype = raw.get("instance_type")
    if asset is not None and subtype == "managed" and isinstance(itype, str) and itype not in MANAGED_SKUS:
        r.problems.add("deployment-instance-type", file, "instance_type", f"{itype!r} is not a VM size managed "
                       "online endpoints offer (reference-managed-online-endpoints-vm-sku-list), such as "
                       "Standard_DS3_v2 or Standard_F4s_v2")
        return None
    if asset is not None and "code" in asset.refs:
        r.problems.add("deployment-model-ref", file, "code_configuration", "the platform deploys MLflow models "
                       "without code (no-code deployment); scoring scripts are not seeded yet")
        return None
    return asset


def batch_deployment(r: Loader, path: Path, file: str, raw: dict[str, Any]) -> Asset | None:
    asset = _deployment(r, file, raw, "batch_deployment", "model")
    if asset is not None:
        compute = raw.get("compute")
        asset.refs["compute"] = compute.removeprefix("azureml:") if isinstance(compute, str) else None
        if "code" in asset.refs:
            r.problems.add("deployment-model-ref", file, "code_configuration", "the platform deploys MLflow models "
                           "without code (no-code deployment); scoring scripts are not seeded yet")
            return None
    return asset
