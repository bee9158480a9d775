"""Cross-references, content hashes and versions, in dependency order.

Environments and data first (their hashes cover their own files), then components (whose
hash also covers the environment version they resolve to, so `@latest` moving under a
fixed component version is caught), then pipelines and schedules (unversioned).
"""

from __future__ import annotations

from infra.seeding.errors import Problems
from infra.seeding.hashing import asset_sha256, auto_version
from infra.seeding.model import Asset, AssetSet
from infra.seeding.refs import LabelError, RefError, Resolved, datastore_of, resolve_datastore, resolve_environment, resolve_named


def _rule(exc: RefError, rule: str) -> str:
    return "ref-label" if isinstance(exc, LabelError) else rule


def _finish(asset: Asset, parts: list[tuple[str, str]]) -> None:
    asset.sha256 = asset_sha256(asset.raw, parts)
    declared = asset.declared_version
    asset.version = auto_version(asset.sha256) if declared == "auto" else declared


def check_datastores(assets: AssetSet, asset: Asset, problems: Problems, extra: frozenset[str]) -> None:
    """Each datastore the asset's `path` URIs name is seeded, a team's or the workspace's own."""
    for uri in asset.refs.get("datastores", []):
        name = datastore_of(uri)
        if name:
            try:
                resolve_datastore(assets, name, extra)
            except RefError as exc:
                problems.add("datastore-ref", asset.file, "path", str(exc))


def resolve(assets: AssetSet, problems: Problems, extra_datastores: frozenset[str] = frozenset()) -> None:
    """Resolve every reference and version in place; record what does not resolve."""
    for ds in assets.of_kind("datastore"):
        ds.sha256 = asset_sha256(ds.raw, [])

    for environment in assets.of_kind("environment"):
        _finish(environment, [(role, up.sha256) for role, up in environment.uploads.items()])

    for data in assets.of_kind("data"):
        check_datastores(assets, data, problems, extra_datastores)
        _finish(data, [(role, up.sha256) for role, up in data.uploads.items()])

    for comp in assets.of_kind("component"):
        parts = [(role, up.sha256) for role, up in comp.uploads.items()]
        try:
            env_ref = resolve_environment(assets, comp.refs.get("environment"))
            comp.refs["environment"] = env_ref
            parts.append(("environment", env_ref.key))
        except RefError as exc:
            problems.add(_rule(exc, "environment-ref"), comp.file, "environment", str(exc))
        _finish(comp, parts)

    by_file = {a.file: a for a in assets.assets}
    for pipe in assets.of_kind("pipeline"):
        resolved: dict[str, Resolved] = {}
        for node, ref in pipe.refs.get("components", {}).items():
            try:
                if ref.startswith("file:"):
                    target = by_file.get(ref[5:])
                    if target is None or target.kind != "component":
                        raise RefError(f"{ref[5:]!r} is not a component file in this folder")
                    resolved[node] = resolve_named(assets, "component", f"azureml:{target.name}:{target.version}")
                else:
                    resolved[node] = resolve_named(assets, "component", ref)
            except RefError as exc:
                problems.add(_rule(exc, "component-ref"), pipe.file, f"jobs.{node}.component", str(exc))
        pipe.refs["components"] = resolved
        data_refs = {}
        for key, ref in pipe.refs.get("inputs", {}).items():
            if ref.startswith("azureml://datastores/"):
                try:
                    resolve_datastore(assets, datastore_of(ref) or "", extra_datastores)
                except RefError as exc:
                    problems.add("datastore-ref", pipe.file, f"inputs.{key}.path", str(exc))
            elif ref.startswith("azureml:"):
                try:
                    data_refs[key] = resolve_named(assets, "data", ref)
                except RefError as exc:
                    problems.add(_rule(exc, "data-ref"), pipe.file, f"inputs.{key}.path", str(exc))
        pipe.refs["data"] = data_refs

    for sched in assets.of_kind("schedule"):
        pipeline = by_file.get(sched.refs.get("pipeline", ""))
        if pipeline is None or pipeline.kind != "pipeline":
            problems.add("schedule-job", sched.file, "create_job", f"{sched.refs.get('pipeline')!r} is not a "
                         "pipeline job file in this folder")
        else:
            sched.refs["pipeline"] = pipeline
        sched.sha256 = asset_sha256(sched.raw, [("pipeline", pipeline.file if pipeline else "")])

    # Models, the registry's promotion list, endpoints and their deployments (resolve_serving.py).
    from infra.seeding.resolve_serving import resolve_endpoints, resolve_models, resolve_promotions

    resolve_models(assets, problems, extra_datastores)
    resolve_promotions(assets, problems)
    resolve_endpoints(assets, problems)
