"""Load every asset with azure-ai-ml's own loaders, as `az ml <kind> create` does, once the project's
own checks passed (importing azure-ai-ml takes seconds; a folder they refuse never pays for it).

Schema errors become one line per field (errors.schema_errors), with the folder's absolute path
taken out. Each entity becomes the one thing the program takes from it, its REST body (`Asset.body`, plain
JSON); infra/seeding/cache.py keeps those bodies so an unchanged folder does not import azure-ai-ml again.
"""

from __future__ import annotations

import copy
import json
import logging
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from infra.seeding import cache
from infra.seeding.errors import Problems, schema_errors
from infra.seeding.model import PLATFORM_STORAGE, Asset, AssetSet
from infra.seeding.spec import datastore_uri

VALIDATE_ONLY_ACCOUNT = "platformstorage"  # stands in for ${platform.storageAccount} when no stack is given


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


def _loaders(storage_account: str) -> dict[str, Callable[[Path, Asset], Any]]:
    from azure.ai.ml import load_component, load_data, load_datastore, load_environment, load_job
    from azure.ai.ml.entities._load_functions import load_schedule

    def datastore(path: Path, asset: Asset) -> Any:
        platform = asset.raw.get("account_name") == PLATFORM_STORAGE
        return load_datastore(path, params_override=[{"account_name": storage_account}] if platform else [])

    return {
        "datastore": datastore,
        "environment": lambda path, _: load_environment(path),
        "component": lambda path, _: load_component(path),
        "data": lambda path, _: load_data(path),
        "pipeline": lambda path, _: load_job(path),
        "schedule": lambda path, _: load_schedule(path),
        **_serving_loaders(),
    }


def _serving_loaders() -> dict[str, Callable[[Path, Asset], Any]]:
    """Models and endpoints, as `az ml model|online-endpoint|online-deployment|batch-endpoint|batch-deployment
    create` load them."""
    from azure.ai.ml import (
        load_batch_deployment,
        load_batch_endpoint,
        load_model,
        load_online_deployment,
        load_online_endpoint,
    )
    from azure.ai.ml.entities._load_functions import load_model_batch_deployment

    def batch(path: Path, asset: Asset) -> Any:
        # `az ml batch-deployment create` picks the model deployment's schema (settings: ...) by its $schema.
        if "modelBatchDeployment" in str(asset.raw.get("$schema", "")):
            return load_model_batch_deployment(path)
        return load_batch_deployment(path)

    return {
        "model": lambda path, _: load_model(path),
        "online_endpoint": lambda path, _: load_online_endpoint(path),
        "online_deployment": lambda path, _: load_online_deployment(path),
        "batch_endpoint": lambda path, _: load_batch_endpoint(path),
        "batch_deployment": batch,
    }


def _from_azure_ai_ml(exc: Exception) -> bool:
    return type(exc).__module__.startswith(("marshmallow", "azure.ai.ml", "yaml")) or isinstance(exc, OSError)


def _bindings(asset: Asset, problems: Problems) -> None:
    """What the project's check left to azure-ai-ml: bindings with a root other than inputs/outputs."""
    bad = [e for e in asset.refs.get("bindings", []) if not asset.entity._is_valid_data_binding_expression(e)]
    if bad:
        problems.add("component-binding", asset.file, "command", "invalid data binding expression "
                     + ", ".join("${{" + e + "}}" for e in bad) + " (`az ml component create` refuses it)")


def _referenced_uris(asset: Asset) -> None:
    """An MLTable's `referencedUris`, as `az ml data create` computes them (DataOperations._validate)."""
    from azure.ai.ml._utils._data_utils import read_local_mltable_metadata_contents
    from azure.ai.ml.entities._data.mltable_metadata import MLTableMetadata

    local = asset.uploads["path"].source
    contents = read_local_mltable_metadata_contents(path=str(local))
    asset.entity._referenced_uris = MLTableMetadata._load(contents, local / "MLTable").referenced_uris()


def _environment_body(entity: Any) -> dict[str, Any]:
    """EnvironmentVersion properties (camelCase), without the build context (the program sets the upload's URI)."""
    entity = copy.copy(entity)
    if entity.build is not None:
        entity.build = copy.copy(entity.build)
        entity.build.path = "{build}"
    body: dict[str, Any] = entity._to_rest_object().as_dict()["properties"]
    body.pop("build", None)
    return body


def _data_body(asset: Asset) -> dict[str, Any]:
    """DataVersion properties (camelCase); a local path as the default datastore's URI the upload writes to."""
    entity = asset.entity
    if "path" in asset.uploads:
        entity = copy.copy(entity)
        entity.path = datastore_uri(asset.uploads["path"])
    body: dict[str, Any] = entity._to_rest_object().as_dict()["properties"]
    return body


_DATASTORE_FIELDS = ("account_name", "description", "endpoint", "protocol", "tags", "container_name", "filesystem",
                     "file_share_name")


def _body(asset: Asset) -> dict[str, Any] | None:
    """What the program reads of the asset's entity; None for kinds it builds from the YAML alone."""
    entity = asset.entity
    if asset.kind == "datastore":
        return {f: getattr(entity, f) for f in _DATASTORE_FIELDS if hasattr(entity, f)}
    if asset.kind == "environment":
        return _environment_body(entity)
    if asset.kind == "data":
        return _data_body(asset)
    if asset.kind == "component":
        spec: dict[str, Any] = entity._to_rest_object().properties.component_spec
        return spec
    if asset.kind == "schedule":
        body: dict[str, Any] = entity._to_rest_object().as_dict()["properties"]
        return body
    return None


def load_entities(assets: AssetSet, problems: Problems, storage_account: str | None = None,
                  use_cache: bool = True) -> None:
    """Set each asset's body, from the cache when it holds this folder's, else from azure-ai-ml's entities (set
    too); record every schema error (file, field, first message). A folder with errors is never cached."""
    account = storage_account or VALIDATE_ONLY_ACCOUNT
    key = cache.key(assets, account) if use_cache else None
    cached = cache.read(key, [a.file for a in assets.assets]) if key else None
    if cached is not None:
        for asset in assets.assets:
            asset.body = cached[asset.file]
        return
    base = f"{assets.folder}/"
    with _quiet():
        loaders = _loaders(account)
        for asset in assets.assets:
            try:
                asset.entity = loaders[asset.kind](assets.folder / asset.file, asset)
                if asset.kind == "data" and asset.subtype == "mltable" and "path" in asset.uploads:
                    _referenced_uris(asset)
            except Exception as exc:  # azure-ai-ml raises marshmallow's, its own and YAML errors for a bad file
                if not _from_azure_ai_ml(exc):
                    raise
                for field, message in schema_errors(exc) or [("", str(exc))]:
                    problems.add("schema", asset.file, field, message.replace(base, ""))
                continue
            if asset.kind == "component":
                _bindings(asset, problems)
        if problems:
            return
        # Through JSON, as the cache gives them back: a hit and a miss hand the program the same values.
        bodies = json.loads(json.dumps({a.file: _body(a) for a in assets.assets}))
    for asset in assets.assets:
        asset.body = bodies[asset.file]
    if key and cache.key(assets, account) == key:  # a file saved while azure-ai-ml read them: not kept
        cache.write(key, bodies)
