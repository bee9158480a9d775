"""Read an assets folder: find each AML CLI v2 YAML file, tell its kind, load it with azure-ai-ml.

Every mistake in the folder is collected (file, field, rule) and raised as one ConfigError,
before anything is declared. Kinds come from `$schema` (or `type`); files without either
must be something an asset references (a conda file, a code folder's own YAML).
"""

from __future__ import annotations

import logging
import re
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml

from .errors import Problems, schema_errors
from .model import PLATFORM_STORAGE, Asset, AssetSet, Kind, Upload
from .hashing import path_sha256

SCHEMAS: dict[str, tuple[Kind, str | None]] = {
    "azureBlob.schema.json": ("datastore", "azure_blob"),
    "azureDataLakeGen2.schema.json": ("datastore", "azure_data_lake_gen2"),
    "azureFile.schema.json": ("datastore", "azure_file"),
    "environment.schema.json": ("environment", None),
    "commandComponent.schema.json": ("component", "command"),
    "data.schema.json": ("data", None),
    "pipelineJob.schema.json": ("pipeline", "pipeline"),
    "schedule.schema.json": ("schedule", None),
}
TYPES: dict[str, Kind] = {
    "azure_blob": "datastore", "azure_data_lake_gen2": "datastore", "azure_file": "datastore",
    "command": "component", "uri_file": "data", "uri_folder": "data", "mltable": "data", "pipeline": "pipeline",
}
UNSUPPORTED = {
    "azureDataLakeGen1.schema.json": "ADLS Gen1 is retired; use an ADLS Gen2 datastore",
    "pipelineComponent.schema.json": "only command components are seeded",
    "sparkComponent.schema.json": "only command components are seeded",
    "commandJob.schema.json": "a single job is not an asset; wrap it in a pipeline and schedule that",
}
CREDENTIAL_KINDS = (
    (("account_key",), "an account key"),
    (("sas_token",), "a SAS token"),
    (("client_secret", "client_id", "tenant_id"), "a service principal secret"),
    (("certificate", "thumbprint"), "a certificate"),
)
VALIDATE_ONLY_ACCOUNT = "platformstorage"  # stands in for ${platform.storageAccount} when no stack is given

_VERSION = re.compile(r"^(auto|\d+(\.\d+){0,2}(-[0-9A-Za-z][0-9A-Za-z.\-]*)?)$")
_DATASTORE_NAME = re.compile(r"^[A-Za-z0-9_]{1,255}$")
_COMPONENT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,254}$")
_ASSET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,254}$")


@contextmanager
def _quiet() -> Iterator[None]:
    """azure-ai-ml logs a warning for every experimental schema class it touches; keep plans readable."""
    logs = [logging.getLogger(n) for n in ("azure.ai.ml", "azure.ai.ml._utils._experimental")]
    levels = [log.level for log in logs]
    for log in logs:
        log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # marshmallow 4 deprecations inside azure-ai-ml's schemas
            yield
    finally:
        for log, level in zip(logs, levels, strict=True):
            log.setLevel(level)


def kind_of(raw: dict[str, Any]) -> tuple[Kind | None, str | None]:
    """(kind, problem): from `$schema`, else `type`; (None, None) for files that are not assets."""
    schema = raw.get("$schema")
    typ = raw.get("type")
    if isinstance(schema, str) and schema:
        base = schema.rsplit("/", 1)[-1]
        if base in UNSUPPORTED:
            return None, f"{base}: {UNSUPPORTED[base]}"
        if base not in SCHEMAS:
            return None, (f"{base} is not a kind the platform seeds (datastores, environments, command components, "
                          "data, pipeline jobs, schedules)")
        kind, expected = SCHEMAS[base]
        if expected and typ is not None and typ != expected:
            return None, f"type {typ!r} does not match $schema {base} (expected {expected!r})"
        return kind, None
    if isinstance(typ, str) and typ in TYPES:
        return TYPES[typ], None
    return None, None


def _rel(folder: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return str(path)


class Loader:
    def __init__(self, folder: Path, label: str, storage_account: str | None) -> None:
        self.folder = folder
        self.problems = Problems(label)
        self.storage_account = storage_account or VALIDATE_ONLY_ACCOUNT
        self.referenced: set[Path] = set()

    # ---- discovery -------------------------------------------------------------

    def load(self) -> AssetSet:
        if not self.folder.is_dir():
            self.problems.add("", "", "no such folder")
            self.problems.raise_if_any()
        docs: dict[Path, dict[str, Any]] = {}
        self.folder = self.folder.resolve()
        for path in sorted(p for ext in ("*.yml", "*.yaml") for p in self.folder.rglob(ext)):
            if any(part.startswith(".") for part in path.relative_to(self.folder).parts):
                continue
            rel = _rel(self.folder, path)
            try:
                doc = yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
                self.problems.add(rel, where, f"not valid YAML: {getattr(exc, 'problem', None) or exc}")
                continue
            docs[path] = doc if isinstance(doc, dict) else {}

        assets: list[Asset] = []
        others: list[Path] = []
        with _quiet():
            for path, raw in docs.items():
                kind, problem = kind_of(raw)
                rel = _rel(self.folder, path)
                if problem:
                    self.problems.add(rel, "$schema", problem)
                elif kind is None:
                    others.append(path)
                else:
                    asset = self._load_one(kind, path, rel, raw)
                    if asset is not None:
                        assets.append(asset)
        for path in others:
            if not any(path == r or r in path.parents for r in self.referenced):
                self.problems.add(_rel(self.folder, path), "$schema",
                                  "not an asset (no $schema or type) and no asset references it: add the AML "
                                  "$schema of its kind, or remove the file")
        self._duplicates(assets)
        self.problems.raise_if_any()
        return AssetSet(self.folder, assets)

    def _duplicates(self, assets: list[Asset]) -> None:
        seen: dict[tuple[str, str, str | None], str] = {}
        for a in assets:
            version = a.declared_version if a.declared_version != "auto" else None
            key = (a.kind, a.name, version)
            if a.kind == "pipeline":
                continue
            if key in seen:
                what = f"{a.kind} {a.name}" + (f" version {version}" if version else "")
                self.problems.add(a.file, "name", f"{what} is also defined in {seen[key]}")
            else:
                seen[key] = a.file

    # ---- one file ----------------------------------------------------------------

    def _load_one(self, kind: Kind, path: Path, rel: str, raw: dict[str, Any]) -> Asset | None:
        loader: Callable[[Path, str, dict[str, Any]], Asset | None] = getattr(self, f"_{kind}")
        try:
            return loader(path, rel, raw)
        except Exception as exc:  # azure-ai-ml raises marshmallow's, its own and YAML errors for a bad file
            if not (type(exc).__module__.startswith(("marshmallow", "azure.ai.ml", "yaml"))
                    or isinstance(exc, OSError)):
                raise
            for field, message in schema_errors(exc) or [("", str(exc))]:
                self.problems.add(rel, field, message)
            return None

    def _versioned(self, rel: str, raw: dict[str, Any], kind: str) -> str | None:
        version = raw.get("version")
        if version is None:
            self.problems.add(rel, "version", f"required: AML {kind} versions are immutable, so each file names "
                              "its version (MAJOR.MINOR.PATCH, an integer, or auto for one derived from the content)")
            return None
        text = str(version)
        if isinstance(version, float) or not _VERSION.match(text):
            self.problems.add(rel, "version", f"{text!r} must be an integer, a semantic version such as 1.2.0, "
                              "or auto (quote versions like \"1.0\" so YAML keeps them as text)")
            return None
        return text

    def _name(self, rel: str, raw: dict[str, Any], pattern: re.Pattern[str], rule: str) -> str | None:
        name = raw.get("name")
        if not isinstance(name, str) or not pattern.match(name):
            self.problems.add(rel, "name", f"{name!r} must be {rule}")
            return None
        return name

    def _local(self, base: Path, value: str) -> Path:
        path = (base / value).resolve()
        self.referenced.add(path)
        return path

    def _upload(self, path: Path) -> Upload:
        return Upload(path, _rel(self.folder, path), path_sha256(path))

    # ---- kinds -------------------------------------------------------------------

    def _datastore(self, path: Path, rel: str, raw: dict[str, Any]) -> Asset | None:
        from azure.ai.ml import load_datastore

        name = self._name(rel, raw, _DATASTORE_NAME, "1-255 letters, digits or underscores (AML datastore names)")
        creds = raw.get("credentials")
        if creds:
            keys = set(creds) if isinstance(creds, dict) else set()
            what = next((label for fields, label in CREDENTIAL_KINDS if keys & set(fields)), "credentials")
            self.problems.add(rel, "credentials", f"this datastore carries {what}; datastores here are identity-based "
                              "only: a stored secret is readable by anyone with workspace Reader (listSecrets) and "
                              "outlives the person who set it, and the platform's storage refuses shared keys "
                              "(allowSharedKeyAccess false). Remove `credentials`: jobs then reach the data as their "
                              "compute identity and people with their own Entra ID (grant them a Storage Blob Data role)")
            return None
        account = raw.get("account_name")
        override = [{"account_name": self.storage_account}] if account == PLATFORM_STORAGE else []
        entity = load_datastore(path, params_override=override)
        if type(entity.credentials).__name__ not in ("NoneCredentialConfiguration", "NoneType"):
            self.problems.add(rel, "credentials", "must be absent: datastores are identity-based only")
            return None
        protocol = getattr(entity, "protocol", None)
        if protocol in ("http", "wasb", "abfs"):
            self.problems.add(rel, "protocol", f"{protocol!r} is unencrypted: use https (or wasbs/abfss)")
            return None
        if name is None:
            return None
        asset = Asset("datastore", name, rel, raw, entity, subtype=str(raw.get("type")))
        asset.refs["account"] = "platform" if account == PLATFORM_STORAGE else account
        return asset

    def _environment(self, path: Path, rel: str, raw: dict[str, Any]) -> Asset | None:
        from azure.ai.ml import load_environment

        name = self._name(rel, raw, _ASSET_NAME, "1-255 letters, digits, '-', '_' or '.', starting alphanumeric")
        version = self._versioned(rel, raw, "environment")
        if name and name.startswith("AzureML-"):
            self.problems.add(rel, "name", "the AzureML- prefix is reserved for Microsoft's curated environments")
            return None
        entity = load_environment(path)
        image, build, conda = raw.get("image"), raw.get("build"), raw.get("conda_file")
        if bool(image) == bool(build):
            self.problems.add(rel, "image", "give exactly one of image (optionally with conda_file) or build "
                              "(a Docker build context)")
            return None
        if build and conda:
            self.problems.add(rel, "conda_file", "a build context installs its own packages: conda_file goes with "
                              "image only")
            return None
        asset = Asset("environment", name or "", rel, raw, entity, declared_version=version)
        if isinstance(conda, str):
            asset.uploads["conda"] = self._upload(self._local(path.parent, conda))
        if isinstance(build, dict):
            context = self._local(path.parent, str(build.get("path", "")))
            dockerfile = str(build.get("dockerfile_path") or "Dockerfile")
            if not context.is_dir():
                self.problems.add(rel, "build.path", f"{build.get('path')!r} is not a folder next to this file")
                return None
            if not (context / dockerfile).is_file():
                self.problems.add(rel, "build.dockerfile_path", f"{dockerfile!r} is not in {build.get('path')}")
                return None
            asset.uploads["build"] = self._upload(context)
        return asset if name and version else None

    def _component(self, path: Path, rel: str, raw: dict[str, Any]) -> Asset | None:
        from azure.ai.ml import load_component

        name = self._name(rel, raw, _COMPONENT_NAME, "a lowercase letter, then up to 254 lowercase letters, digits "
                          "or underscores (AML component names)")
        version = self._versioned(rel, raw, "component")
        entity = load_component(path)
        if type(entity).__name__ != "CommandComponent":
            self.problems.add(rel, "type", "only command components are seeded")
            return None
        code = raw.get("code")
        if not isinstance(code, str) or code.startswith(("azureml:", "git+", "http://", "https://")):
            self.problems.add(rel, "code", f"{code!r}: give a local folder next to this file (the platform uploads "
                              "and versions it); remote and azureml: code references cannot be checked offline")
            return None
        local = self._local(path.parent, code)
        if not local.exists():
            self.problems.add(rel, "code", f"{code!r} does not exist next to this file")
            return None
        asset = Asset("component", name or "", rel, raw, entity, declared_version=version, subtype="command")
        asset.uploads["code"] = self._upload(local)
        asset.refs["environment"] = raw.get("environment")
        return asset if name and version else None

    def _data(self, path: Path, rel: str, raw: dict[str, Any]) -> Asset | None:
        from azure.ai.ml import load_data

        name = self._name(rel, raw, _ASSET_NAME, "1-255 letters, digits, '-', '_' or '.', starting alphanumeric")
        version = self._versioned(rel, raw, "data")
        entity = load_data(path)
        target = raw.get("path")
        asset = Asset("data", name or "", rel, raw, entity, declared_version=version, subtype=str(raw.get("type")))
        if not isinstance(target, str):
            self.problems.add(rel, "path", "required")
            return None
        if "sig=" in target:
            self.problems.add(rel, "path", "carries a SAS token (sig=): reference the data through an identity-based "
                              "datastore (azureml://datastores/NAME/paths/...) instead")
            return None
        if target.startswith("azureml://datastores/"):
            asset.refs["datastores"] = [target]
        elif target.startswith(("https://", "abfss://", "wasbs://")):
            asset.refs["datastores"] = []
        elif "://" in target or target.startswith("azureml:"):
            self.problems.add(rel, "path", f"{target!r}: use azureml://datastores/NAME/paths/..., an https/abfss URL "
                              "or a local path next to this file")
            return None
        else:
            local = self._local(path.parent, target)
            if not local.exists():
                self.problems.add(rel, "path", f"{target!r} does not exist next to this file")
                return None
            if raw.get("type") == "mltable":
                mltable = local / "MLTable"
                if not mltable.is_file():
                    self.problems.add(rel, "path", f"{target!r} must be a folder holding an MLTable file")
                    return None
                asset.refs["datastores"] = _mltable_paths(mltable)
            else:
                asset.refs["datastores"] = []
            asset.uploads["path"] = self._upload(local)
        return asset if name and version else None

    def _pipeline(self, path: Path, rel: str, raw: dict[str, Any]) -> Asset | None:
        from azure.ai.ml import load_job

        entity = load_job(path)
        jobs = raw.get("jobs") or {}
        components: dict[str, str] = {}
        for node, spec in jobs.items():
            comp = spec.get("component") if isinstance(spec, dict) else None
            if isinstance(comp, str) and comp.startswith("azureml:"):
                components[node] = comp
            elif isinstance(comp, str):
                components[node] = "file:" + _rel(self.folder, path.parent / comp)
            else:
                self.problems.add(rel, f"jobs.{node}.component", "reference a seeded component (azureml:NAME:VERSION "
                                  "or the path of its file); inline components are not seeded")
                return None
        asset = Asset("pipeline", path.stem, rel, raw, entity, subtype="pipeline")
        asset.refs["components"] = components
        asset.refs["computes"] = _computes(raw)
        asset.refs["inputs"] = _input_paths(raw, rel, self.problems)
        return asset

    def _schedule(self, path: Path, rel: str, raw: dict[str, Any]) -> Asset | None:
        from azure.ai.ml.entities._load_functions import load_schedule

        name = self._name(rel, raw, _ASSET_NAME, "1-255 letters, digits, '-', '_' or '.', starting alphanumeric")
        job = raw.get("create_job")
        if not isinstance(job, str) or job.startswith("azureml:"):
            self.problems.add(rel, "create_job", "give the path of a pipeline job file in this folder")
            return None
        entity = load_schedule(path)
        if type(entity.create_job).__name__ != "PipelineJob":
            self.problems.add(rel, "create_job", "schedules here run pipeline jobs only")
            return None
        target = self._local(path.parent, job)
        asset = Asset("schedule", name or "", rel, raw, entity)
        asset.refs["pipeline"] = _rel(self.folder, target)
        return asset if name else None


def _mltable_paths(mltable: Path) -> list[str]:
    try:
        doc = yaml.safe_load(mltable.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError:
        return []
    out = []
    for entry in doc.get("paths") or []:
        if isinstance(entry, dict):
            out += [v for v in entry.values() if isinstance(v, str) and v.startswith("azureml://datastores/")]
    return out


def _computes(raw: dict[str, Any]) -> list[str]:
    found = []
    settings = raw.get("settings") or {}
    for value in [raw.get("compute"), settings.get("default_compute")] + [
        (spec or {}).get("compute") for spec in (raw.get("jobs") or {}).values() if isinstance(spec, dict)
    ]:
        if isinstance(value, str) and value:
            found.append(value.removeprefix("azureml:"))
    return sorted(set(found))


def _input_paths(raw: dict[str, Any], rel: str, problems: Problems) -> dict[str, str]:
    """Pipeline-level inputs that point at data: `input name -> reference`."""
    out = {}
    for key, spec in (raw.get("inputs") or {}).items():
        if isinstance(spec, dict) and isinstance(spec.get("path"), str):
            value = spec["path"]
            if value.startswith(("azureml:", "https://", "abfss://", "wasbs://")):
                out[key] = value
            else:
                problems.add(rel, f"inputs.{key}.path", f"{value!r}: a scheduled pipeline reads registered data "
                             "(azureml:NAME:VERSION) or a datastore URI, not a local path")
    return out


def load_folder(folder: Path, label: str | None = None, storage_account: str | None = None) -> AssetSet:
    """Load and validate every file of the folder with azure-ai-ml; raise ConfigError listing every problem."""
    return Loader(folder, label or folder.name, storage_account).load()
