"""Read an assets folder: find each AML CLI v2 YAML file, tell its kind, run the project's own checks.

Every mistake in the folder is collected (rule, file, field, message) and raised as one error
before anything is declared. Kinds come from `$schema` (or `type`); files without either must be
something an asset references (a conda file, a YAML file in a code folder). Nothing here imports
azure-ai-ml: its schemas run afterwards (infra/seeding/sdk.py), only on a folder that passed these.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from infra.config.stack import ConfigError
from infra.seeding import kinds
from infra.seeding.errors import Problems
from infra.seeding.hashing import path_sha256
from infra.seeding.model import Asset, AssetSet, Kind, Promotions, Upload

# The registry's promotion list, inside the assets folder (`amlplatform promote` edits it).
PROMOTIONS = "registry/promotions.yml"

SCHEMAS: dict[str, tuple[Kind, str | None]] = {
    "azureBlob.schema.json": ("datastore", "azure_blob"),
    "azureDataLakeGen2.schema.json": ("datastore", "azure_data_lake_gen2"),
    "azureFile.schema.json": ("datastore", "azure_file"),
    "environment.schema.json": ("environment", None),
    "commandComponent.schema.json": ("component", "command"),
    "data.schema.json": ("data", None),
    "pipelineJob.schema.json": ("pipeline", "pipeline"),
    "schedule.schema.json": ("schedule", None),
    # Models and endpoints (infra/seeding/kinds_serving.py).
    "model.schema.json": ("model", None),
    "managedOnlineEndpoint.schema.json": ("online_endpoint", None),
    "kubernetesOnlineEndpoint.schema.json": ("online_endpoint", None),
    "managedOnlineDeployment.schema.json": ("online_deployment", None),
    "kubernetesOnlineDeployment.schema.json": ("online_deployment", None),
    "batchEndpoint.schema.json": ("batch_endpoint", None),
    "modelBatchDeployment.schema.json": ("batch_deployment", None),
    "batchDeployment.schema.json": ("batch_deployment", None),
}
TYPES: dict[str, Kind] = {
    "azure_blob": "datastore", "azure_data_lake_gen2": "datastore", "azure_file": "datastore",
    "command": "component", "uri_file": "data", "uri_folder": "data", "mltable": "data", "pipeline": "pipeline",
    "mlflow_model": "model", "triton_model": "model",
}
UNSUPPORTED = {
    "azureDataLakeGen1.schema.json": "ADLS Gen1 is retired; use an ADLS Gen2 datastore",
    "pipelineComponent.schema.json": "only command components are seeded",
    "sparkComponent.schema.json": "only command components are seeded",
    "commandJob.schema.json": "a single job is not an asset; wrap it in a pipeline and schedule that",
}
_VERSION = re.compile(r"^(auto|\d+(\.\d+){0,2}(-[0-9A-Za-z][0-9A-Za-z.\-]*)?)$")


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
                          "data, pipeline jobs, schedules, models, online and batch endpoints and deployments)")
        kind, expected = SCHEMAS[base]
        if expected and typ is not None and typ != expected:
            return None, f"type {typ!r} does not match $schema {base} (expected {expected!r})"
        return kind, None
    if isinstance(typ, str) and typ in TYPES:
        return TYPES[typ], None
    return None, None


def rel(folder: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return str(path)


def read_text(path: Path) -> str:
    """The file as UTF-8 text; UnicodeDecodeError (a ValueError) names the first bad byte."""
    return path.read_bytes().decode("utf-8")


def encoding_problem(exc: UnicodeDecodeError) -> tuple[str, str]:
    """(where, message) for a file that is not UTF-8: the line of the first bad byte."""
    line = exc.object[:exc.start].count(b"\n") + 1
    return f"line {line}", (f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x}): save the file as UTF-8, as "
                            "azure-ai-ml and AML read it")


class Loader:
    """One pass over the folder; `docs` holds every YAML document by absolute path."""

    def __init__(self, folder: Path, label: str) -> None:
        self.folder = folder
        self.problems = Problems(label)
        self.referenced: set[Path] = set()
        self.docs: dict[Path, dict[str, Any]] = {}

    # ---- discovery -------------------------------------------------------------

    def load(self) -> AssetSet:
        if not self.folder.is_dir():
            raise ConfigError(f"{self.problems.folder}: no such assets folder")
        self.folder = self.folder.resolve()
        unreadable: dict[Path, tuple[str, str, str]] = {}
        for path in sorted(p for ext in ("*.yml", "*.yaml") for p in self.folder.rglob(ext)):
            if any(part.startswith(".") for part in path.relative_to(self.folder).parts):
                continue
            doc, failure = self.parse(path)
            if failure is not None:
                unreadable[path] = failure
            else:
                self.docs[path] = doc if isinstance(doc, dict) else {}
        assets: list[Asset] = []
        others: list[Path] = []
        for path, raw in self.docs.items():
            if path == self.folder / PROMOTIONS:
                continue
            kind, problem = kind_of(raw)
            name = rel(self.folder, path)
            if problem:
                self.problems.add("kind", name, "$schema", problem)
            elif kind is None:
                others.append(path)
            else:
                asset = getattr(kinds, kind)(self, path, name, raw)
                if asset is not None:
                    assets.append(asset)
        for path, (rule, where, message) in unreadable.items():
            if path not in self.referenced:  # a conda file's problem is its environment's, said there
                self.problems.add(rule, rel(self.folder, path), where, message)
        for path in others:
            # An MLflow model folder's own YAML (conda.yaml, python_env.yaml) belongs to the model, named or not.
            if (path.parent / "MLmodel").is_file():
                continue
            if not any(path == r or r in path.parents for r in self.referenced):
                self.problems.add("stray-file", rel(self.folder, path), "$schema",
                                  "not an asset (no $schema or type) and no asset references it: add the AML "
                                  "$schema of its kind, or remove the file")
        self._duplicates(assets)
        promotions = self._promotions()
        self.problems.raise_if_any()
        return AssetSet(self.folder, assets, promotions)

    def _promotions(self) -> Promotions | None:
        """`registry/promotions.yml`, the registry's promotion list (resolve_serving.py checks its entries)."""
        path = self.folder / PROMOTIONS
        doc = self.docs.get(path)
        if doc is None:
            return None
        self.referenced.add(path)
        registry, entries = doc.get("registry"), doc.get("promotions")
        if not isinstance(registry, str) or not registry:
            self.problems.add("promotion", PROMOTIONS, "registry", "required: the name of the organisation's AML "
                              "registry (amlplatform:mlRegistry.name in the registry stack)")
            return None
        if entries is None:
            entries = []
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            self.problems.add("promotion", PROMOTIONS, "promotions", "must be a list of {kind, name, version}")
            return None
        return Promotions(PROMOTIONS, registry, entries)

    def _duplicates(self, assets: list[Asset]) -> None:
        seen: dict[tuple[str, str, str | None], str] = {}
        for a in assets:
            version = a.declared_version if a.declared_version != "auto" else None
            key = (a.kind, a.name, version)
            if a.kind == "pipeline":
                continue
            if key in seen:
                what = f"{a.kind} {a.name}" + (f" version {version}" if version else "")
                self.problems.add("duplicate", a.file, "name", f"{what} is also defined in {seen[key]}")
            else:
                seen[key] = a.file

    # ---- helpers the kinds share -------------------------------------------------

    @staticmethod
    def parse(path: Path) -> tuple[Any, tuple[str, str, str] | None]:
        """(document, None), or (None, (rule, where, message)) for a file that cannot be read."""
        try:
            return yaml.safe_load(read_text(path)), None
        except UnicodeDecodeError as exc:
            return None, ("encoding", *encoding_problem(exc))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
            return None, ("yaml", where, f"not valid YAML: {getattr(exc, 'problem', None) or exc}")

    def read_yaml(self, path: Path, file: str, field: str) -> Any:
        """A file an asset names (`field`: the key that names it), or None after recording, as the
        asset's problem, why it cannot be read."""
        doc, failure = self.parse(path)
        if failure is not None:
            rule, where, message = failure
            self.problems.add(rule, file, field, f"{rel(self.folder, path)} {where}: {message}")
        return doc

    def versioned(self, name: str, raw: dict[str, Any], kind: str) -> str | None:
        version = raw.get("version")
        if version is None:
            self.problems.add("version", name, "version", f"required: AML {kind} versions are immutable, so each file "
                              "names its version (MAJOR.MINOR.PATCH, an integer, or auto for one derived from the "
                              "content)")
            return None
        text = str(version)
        if isinstance(version, float) or not _VERSION.match(text):
            self.problems.add("version", name, "version", f"{text!r} must be an integer, a semantic version such as "
                              "1.2.0, or auto (quote versions like \"1.0\" so YAML keeps them as text)")
            return None
        return text

    def name(self, file: str, raw: dict[str, Any], pattern: re.Pattern[str], rule: str) -> str | None:
        value = raw.get("name")
        if not isinstance(value, str) or not pattern.match(value):
            self.problems.add("name", file, "name", f"{value!r} must be {rule}")
            return None
        return value

    def local(self, base: Path, value: str) -> Path:
        path = (base / value).resolve()
        self.referenced.add(path)
        return path

    def upload(self, path: Path) -> Upload:
        return Upload(path, rel(self.folder, path), path_sha256(path))


def load_folder(folder: Path, label: str | None = None) -> AssetSet:
    """Every file of the folder read and checked by the project's own rules; raise listing every problem."""
    return Loader(folder, label or folder.name).load()
