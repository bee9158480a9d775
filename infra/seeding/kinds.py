"""The project's own checks for each kind of asset file, on its YAML alone (no azure-ai-ml).

Each function takes the loader, the file's absolute path, its path relative to the folder and
its parsed YAML, records every problem it finds, and returns the Asset (entity still unset)
or None. Local files an asset names are checked here, so a missing conda file, build context
or code folder is one line naming the field, before azure-ai-ml's schema ever sees it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.seeding import checks
from infra.seeding.model import ASSET_NAME, ASSET_NAME_RULE, PLATFORM_STORAGE, Asset

if TYPE_CHECKING:
    from infra.seeding.loader import Loader

# Most specific first: a certificate credential also carries tenant_id and client_id.
CREDENTIAL_KINDS = (
    (("certificate", "thumbprint"), "a certificate"),
    (("account_key",), "an account key"),
    (("sas_token",), "a SAS token"),
    (("client_secret", "client_id", "tenant_id"), "a service principal secret"),
)
UNENCRYPTED = ("http", "wasb", "abfs")
REMOTE = ("https://", "abfss://", "wasbs://")
_DATASTORE_NAME = re.compile(r"^[A-Za-z0-9_]{1,255}$")
_COMPONENT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,254}$")


def datastore(r: Loader, path: Path, file: str, raw: dict[str, Any]) -> Asset | None:
    name = r.name(file, raw, _DATASTORE_NAME, "1-255 letters, digits or underscores (AML datastore names)")
    creds = raw.get("credentials")
    if creds:
        keys = set(creds) if isinstance(creds, dict) else set()
        what = next((label for fields, label in CREDENTIAL_KINDS if keys & set(fields)), "credentials")
        r.problems.add("datastore-credentials", file, "credentials", f"this datastore carries {what}; datastores "
                       "here are identity-based only: a stored secret is readable by anyone with workspace Reader "
                       "(listSecrets) and outlives the person who set it, and the platform's storage refuses shared "
                       "keys (allowSharedKeyAccess false). Remove `credentials`: jobs then reach the data as their "
                       "compute identity and people with their own Entra ID (grant them a Storage Blob Data role)")
        return None
    protocol = raw.get("protocol")
    if protocol in UNENCRYPTED:
        r.problems.add("datastore-protocol", file, "protocol", f"{protocol!r} is unencrypted: use https (or wasbs/abfss)")
        return None
    if name is None:
        return None
    account = raw.get("account_name")
    asset = Asset("datastore", name, file, raw, None, subtype=str(raw.get("type")))
    asset.refs["account"] = "platform" if account == PLATFORM_STORAGE else account
    return asset


def _conda(r: Loader, path: Path, file: str, value: str) -> Path | None:
    conda = r.local(path.parent, value)
    if not conda.is_file():
        r.problems.add("environment-conda-file", file, "conda_file", f"{value!r} is not a file next to this file")
        return None
    return conda if r.read_yaml(conda, file, "conda_file") is not None else None


def environment(r: Loader, path: Path, file: str, raw: dict[str, Any]) -> Asset | None:
    name = r.name(file, raw, ASSET_NAME, ASSET_NAME_RULE)
    version = r.versioned(file, raw, "environment")
    if isinstance(raw.get("conda_file"), str):
        r.local(path.parent, raw["conda_file"])  # referenced even when this file has other problems
    if name and name.startswith("AzureML-"):
        r.problems.add("environment-reserved-name", file, "name", "the AzureML- prefix is reserved for Microsoft's "
                       "curated environments")
        return None
    image, build, conda = raw.get("image"), raw.get("build"), raw.get("conda_file")
    if bool(image) == bool(build):
        r.problems.add("environment-source", file, "image", "give exactly one of image (optionally with conda_file) "
                       "or build (a Docker build context)")
        return None
    if build and conda:
        r.problems.add("environment-source", file, "conda_file", "a build context installs its own packages: "
                       "conda_file goes with image only")
        return None
    asset = Asset("environment", name or "", file, raw, None, declared_version=version)
    if isinstance(conda, str):
        found = _conda(r, path, file, conda)
        if found is None:
            return None
        asset.uploads["conda"] = r.upload(found)
    if isinstance(build, dict):
        context = r.local(path.parent, str(build.get("path", "")))
        dockerfile = str(build.get("dockerfile_path") or "Dockerfile")
        if not context.is_dir():
            r.problems.add("environment-build", file, "build.path", f"{build.get('path')!r} is not a folder next to "
                           "this file")
            return None
        if not (context / dockerfile).is_file():
            r.problems.add("environment-build", file, "build.dockerfile_path", f"{dockerfile!r} is not in "
                           f"{build.get('path')}")
            return None
        asset.uploads["build"] = r.upload(context)
    return asset if name and version else None


def component(r: Loader, path: Path, file: str, raw: dict[str, Any]) -> Asset | None:
    name = r.name(file, raw, _COMPONENT_NAME, "a lowercase letter, then up to 254 lowercase letters, digits or "
                  "underscores (AML component names)")
    version = r.versioned(file, raw, "component")
    code = raw.get("code")
    if not isinstance(code, str) or code.startswith(("azureml:", "git+", "http://", "https://")):
        r.problems.add("component-code", file, "code", f"{code!r}: give a local folder next to this file (the "
                       "platform uploads and versions it); remote and azureml: code references cannot be checked "
                       "offline")
        return None
    local = r.local(path.parent, code)
    if not local.exists():
        r.problems.add("component-code", file, "code", f"{code!r} does not exist next to this file")
        return None
    refused, unjudged = checks.bindings(raw.get("command"), raw.get("inputs"), raw.get("outputs"))
    if refused:
        r.problems.add("component-binding", file, "command",
                       checks.binding_message(refused, raw.get("inputs"), raw.get("outputs")))
        return None
    asset = Asset("component", name or "", file, raw, None, declared_version=version, subtype="command")
    asset.uploads["code"] = r.upload(local)
    asset.refs["environment"] = raw.get("environment")
    asset.refs["bindings"] = unjudged  # judged by azure-ai-ml once the component is loaded
    return asset if name and version else None


def _mltable_uris(r: Loader, mltable: Path, file: str) -> list[str] | None:
    doc = r.read_yaml(mltable, file, "path")
    if doc is None:
        return None
    out = []
    for entry in (doc.get("paths") if isinstance(doc, dict) else None) or []:
        if isinstance(entry, dict):
            out += [v for v in entry.values() if isinstance(v, str) and v.startswith("azureml://datastores/")]
    return out


def _local_data(r: Loader, asset: Asset, path: Path, target: str) -> bool:
    file, typ = asset.file, asset.subtype
    local = r.local(path.parent, target)
    if not local.exists():
        r.problems.add("data-path", file, "path", f"{target!r} does not exist next to this file")
        return False
    if typ == "uri_file" and not local.is_file() or typ in ("uri_folder", "mltable") and not local.is_dir():
        want = "a file" if typ == "uri_file" else "a folder"
        r.problems.add("data-path-type", file, "path", f"{target!r}: a data asset of type {typ} names {want} (`az ml "
                       "data create` refuses the other)")
        return False
    if typ == "mltable":
        if not (local / "MLTable").is_file():
            r.problems.add("data-path", file, "path", f"{target!r} must be a folder holding an MLTable file")
            return False
        uris = _mltable_uris(r, local / "MLTable", file)
        if uris is None:
            return False
        asset.refs["datastores"] = uris
    asset.uploads["path"] = r.upload(local)
    return True


def data(r: Loader, path: Path, file: str, raw: dict[str, Any]) -> Asset | None:
    name = r.name(file, raw, ASSET_NAME, ASSET_NAME_RULE)
    version = r.versioned(file, raw, "data")
    target = raw.get("path")
    asset = Asset("data", name or "", file, raw, None, declared_version=version, subtype=str(raw.get("type")))
    asset.refs["datastores"] = []
    if not isinstance(target, str):
        r.problems.add("data-path", file, "path", "required: an azureml://datastores/NAME/paths/... URI, an https/"
                       "abfss URL or a local path next to this file")
        return None
    if "sig=" in target:
        r.problems.add("data-path", file, "path", "carries a SAS token (sig=): reference the data through an "
                       "identity-based datastore (azureml://datastores/NAME/paths/...) instead")
        return None
    remote = target.startswith(("azureml://datastores/", *REMOTE))
    if not remote and ("://" in target or target.startswith("azureml:")):
        r.problems.add("data-path", file, "path", f"{target!r}: use azureml://datastores/NAME/paths/..., an https/"
                       "abfss URL or a local path next to this file")
        return None
    if remote and asset.subtype == "uri_file" and checks.uri_file_is_folder(target):
        r.problems.add("data-path-type", file, "path", f"{target!r} ends in '/': a uri_file names one file (jobs "
                       "that mount it find a folder); use type uri_folder, or name the file")
        return None
    if target.startswith("azureml://datastores/"):
        asset.refs["datastores"] = [target]
    elif not remote and not _local_data(r, asset, path, target):
        return None
    return asset if name and version else None


def _computes(raw: dict[str, Any]) -> dict[str, str]:
    """Field -> compute name, for every compute the pipeline job names."""
    settings = raw.get("settings") if isinstance(raw.get("settings"), dict) else {}
    found = {"compute": raw.get("compute"), "settings.default_compute": (settings or {}).get("default_compute")}
    for node, spec in (raw.get("jobs") or {}).items():
        if isinstance(spec, dict):
            found[f"jobs.{node}.compute"] = spec.get("compute")
    return {k: v.removeprefix("azureml:") for k, v in found.items() if isinstance(v, str) and v}


def _input_paths(r: Loader, file: str, raw: dict[str, Any]) -> dict[str, str]:
    """Pipeline-level inputs that point at data: `input name -> reference`."""
    out = {}
    for key, spec in (raw.get("inputs") or {}).items():
        if isinstance(spec, dict) and isinstance(spec.get("path"), str):
            value = spec["path"]
            if value.startswith(("azureml:", *REMOTE)):
                out[key] = value
            else:
                r.problems.add("data-ref", file, f"inputs.{key}.path", f"{value!r}: a scheduled pipeline reads "
                               "registered data (azureml:NAME:VERSION) or a datastore URI, not a local path")
    return out


def pipeline(r: Loader, path: Path, file: str, raw: dict[str, Any]) -> Asset | None:
    from infra.seeding.loader import rel

    components: dict[str, str] = {}
    for node, spec in (raw.get("jobs") or {}).items():
        comp = spec.get("component") if isinstance(spec, dict) else None
        if isinstance(comp, str) and comp.startswith("azureml:"):
            components[node] = comp
        elif isinstance(comp, str):
            components[node] = "file:" + rel(r.folder, r.local(path.parent, comp))
        else:
            r.problems.add("component-ref", file, f"jobs.{node}.component", "reference a seeded component "
                           "(azureml:NAME:VERSION or the path of its file); inline components are not seeded")
            return None
    asset = Asset("pipeline", path.stem, file, raw, None, subtype="pipeline")
    asset.refs["components"] = components
    asset.refs["computes"] = _computes(raw)
    asset.refs["inputs"] = _input_paths(r, file, raw)
    return asset


def _trigger(r: Loader, file: str, trigger: Any) -> bool:
    if not isinstance(trigger, dict):
        return True  # azure-ai-ml's schema requires one
    kind = str(trigger.get("type", "")).lower()
    if kind == "cron":
        problem = checks.cron(trigger.get("expression"))
        if problem:
            r.problems.add("schedule-cron", file, "trigger.expression", problem)
            return False
    elif kind == "recurrence":
        found = checks.recurrence(trigger.get("schedule"))
        for field, message in found:
            r.problems.add("schedule-recurrence", file, f"trigger.schedule.{field}", message)
        return not found
    return True


def schedule(r: Loader, path: Path, file: str, raw: dict[str, Any]) -> Asset | None:
    from infra.seeding.loader import kind_of, rel

    name = r.name(file, raw, ASSET_NAME, ASSET_NAME_RULE)
    job = raw.get("create_job")
    if not isinstance(job, str) or job.startswith("azureml:"):
        r.problems.add("schedule-job", file, "create_job", "give the path of a pipeline job file in this folder")
        return None
    target = r.local(path.parent, job)
    doc = r.docs.get(target)
    kind = kind_of(doc)[0] if doc is not None else None
    if kind != "pipeline":
        what = f"a {kind} file" if kind else ("no YAML file in this folder" if doc is None else "no asset")
        r.problems.add("schedule-job", file, "create_job", f"{job!r} is {what}, not a pipeline job: schedules here "
                       "run pipeline jobs only")
        return None
    if not _trigger(r, file, raw.get("trigger")):
        return None
    asset = Asset("schedule", name or "", file, raw, None)
    asset.refs["pipeline"] = rel(r.folder, target)
    return asset if name else None


# Models and endpoints: their own module, dispatched by kind name like the ones above.
from infra.seeding.kinds_serving import batch_deployment, batch_endpoint, model, online_deployment, online_endpoint  # noqa: E402,F401
