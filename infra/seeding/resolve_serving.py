"""References of models, endpoints and deployments, and the registry's promotion list, resolved offline.

    deployment.model        azureml:NAME:VERSION (a model seeded from the folder)
                            azureml://registries/REGISTRY/models/NAME/versions/VERSION (promoted to the registry)
    deployment.endpoint_name  an endpoint file in the folder, of the same kind (online, batch)
    endpoint.traffic        deployments of that endpoint, percentages summing to 100
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from infra.seeding.errors import Problems
from infra.seeding.hashing import asset_sha256, auto_version
from infra.seeding.model import Asset, AssetSet
from infra.seeding.refs import RefError, Resolved, resolve_named
from infra.seeding.resolve import check_datastores

_REGISTRY_MODEL = re.compile(r"^azureml://registries/(?P<registry>[^/]+)/models/(?P<name>[^/]+)/"
                             r"(?P<what>versions|labels)/(?P<version>[^/]+)$")
PROMOTABLE = ("model",)


@dataclass(frozen=True)
class RegistryRef(Resolved):
    """A registry version: (model, name, version) in the named registry."""

    registry: str = ""


def _finish(asset: Asset) -> None:
    asset.sha256 = asset_sha256(asset.raw, [(role, up.sha256) for role, up in asset.uploads.items()])
    declared = asset.declared_version
    asset.version = auto_version(asset.sha256) if declared == "auto" else declared


def resolve_models(assets: AssetSet, problems: Problems, extra: frozenset[str]) -> None:
    for m in assets.of_kind("model"):
        check_datastores(assets, m, problems, extra)
        _finish(m)


def resolve_promotions(assets: AssetSet, problems: Problems) -> None:
    """Each promotion names a model version of the folder; the registry holds exactly those."""
    promo = assets.promotions
    if promo is None:
        return
    seen: set[tuple[str, str, str]] = set()
    before = len(problems.findings)
    for i, entry in enumerate(promo.entries):
        where = f"promotions[{i}]"
        kind, name, version = entry.get("kind", "model"), entry.get("name"), entry.get("version")
        if kind not in PROMOTABLE:
            problems.add("promotion", promo.file, f"{where}.kind", f"{kind!r}: only models are promoted to the registry "
                         "(an environment cannot be created in a registry whose container registry is private: "
                         "how-to-registry-network-isolation)")
            continue
        if not isinstance(name, str) or not isinstance(version, (str, int)) or isinstance(version, bool):
            problems.add("promotion", promo.file, where, "each promotion is {kind: model, name: NAME, version: "
                         "\"VERSION\"}")
            continue
        version = str(version)
        key = (kind, name, version)
        if key in seen:
            problems.add("promotion", promo.file, f"{where}.name", f"{kind} {name} {version} is promoted twice")
            continue
        seen.add(key)
        found = assets.find(kind, name, version)
        if found is None:
            have = sorted(a.version or "" for a in assets.versions(kind, name))
            problems.add("promotion", promo.file, f"{where}.version", f"{kind} {name} {version} is not seeded from "
                         f"this folder (versions: {', '.join(have) or 'none'}): promote a version the folder defines "
                         "(`amlplatform promote NAME@VERSION --to registry`)")
            continue
        promo.resolved.append(found)
    promo.broken = len(problems.findings) > before


def registry_model(assets: AssetSet, ref: str) -> RegistryRef:
    m = _REGISTRY_MODEL.match(ref)
    assert m is not None
    registry, name, version = m.group("registry"), m.group("name"), m.group("version")
    promo = assets.promotions
    if m.group("what") == "labels":
        raise RefError(f"{ref!r}: pin the registry model to a version (…/versions/N), not a label, so a deployment "
                       "does not change when a version is promoted")
    if promo is None or promo.registry != registry:
        known = promo.registry if promo else "none (no registry/promotions.yml)"
        raise RefError(f"{ref!r}: registry {registry!r} is not the organisation's registry ({known})")
    if not promo.broken and not any(a.kind == "model" and a.name == name and a.version == version
                                    for a in promo.resolved):
        promoted = sorted(f"{a.name}:{a.version}" for a in promo.resolved if a.kind == "model")
        raise RefError(f"{ref!r}: model {name} {version} is not promoted to the registry (promoted: "
                       f"{', '.join(promoted) or 'none'}): `amlplatform promote {name}@{version} --to registry`")
    return RegistryRef("model", name, version, literal=ref, registry=registry)


def resolve_model_ref(assets: AssetSet, ref: object) -> Resolved:
    if not isinstance(ref, str):
        raise RefError("required: a seeded model (azureml:NAME:VERSION) or a registry model "
                       "(azureml://registries/REGISTRY/models/NAME/versions/VERSION); inline models are not seeded")
    if _REGISTRY_MODEL.match(ref):
        return registry_model(assets, ref)
    return resolve_named(assets, "model", ref)


def resolve_endpoints(assets: AssetSet, problems: Problems) -> None:
    endpoints: dict[tuple[str, str], Asset] = {(a.kind, a.name): a for a in assets.assets
                                               if a.kind in ("online_endpoint", "batch_endpoint")}
    for dep in (a for a in assets.assets if a.kind in ("online_deployment", "batch_deployment")):
        ep_kind = dep.kind.replace("deployment", "endpoint")
        endpoint = endpoints.get((ep_kind, dep.refs["endpoint"]))
        if endpoint is None:
            names = sorted(n for k, n in endpoints if k == ep_kind)
            problems.add("deployment-endpoint", dep.file, "endpoint_name", f"{dep.refs['endpoint']!r} is no "
                         f"{ep_kind.replace('_', ' ')} in this folder ({', '.join(names) or 'none'})")
        elif dep.kind == "online_deployment" and endpoint.subtype != dep.subtype:
            problems.add("deployment-endpoint", dep.file, "endpoint_name", f"a {dep.subtype} deployment cannot "
                         f"serve the {endpoint.subtype} endpoint {endpoint.name}: managed deployments go to managed "
                         "endpoints, Kubernetes deployments to Kubernetes endpoints")
        else:
            dep.refs["endpoint_asset"] = endpoint
        try:
            dep.refs["model"] = resolve_model_ref(assets, dep.refs.get("model"))
        except RefError as exc:
            problems.add("deployment-model-ref", dep.file, "model", str(exc))
        if dep.refs.get("environment") is not None:
            problems.add("deployment-model-ref", dep.file, "environment", "an MLflow model deploys without an "
                         "environment (no-code deployment): remove `environment`")
        dep.sha256 = asset_sha256(dep.raw, [])
    for ep in endpoints.values():
        _traffic(assets, ep, problems)
        ep.sha256 = asset_sha256(ep.raw, [])


def _traffic(assets: AssetSet, ep: Asset, problems: Problems) -> None:
    kind = ep.kind.replace("endpoint", "deployment")
    if any(d.kind == kind and "endpoint_asset" not in d.refs for d in assets.assets):
        return  # a deployment names no endpoint of the folder: said on its own line first
    deployments = {d.refs.get("deployment") for d in assets.assets
                   if d.kind == kind and d.refs.get("endpoint") == ep.name}
    if ep.kind == "batch_endpoint":
        default = ep.refs.get("default_deployment")
        if default is not None and default not in deployments:
            problems.add("endpoint-traffic", ep.file, "defaults.deployment_name", f"{default!r} is no deployment of "
                         f"this endpoint ({', '.join(sorted(map(str, deployments))) or 'none'})")
        return
    traffic = ep.refs.get("traffic") or {}
    if not traffic:
        problems.add("endpoint-traffic", ep.file, "traffic", "required: the share of requests each deployment takes, "
                     "summing to 100 (for example traffic: {blue: 100})")
        return
    unknown = sorted(k for k in traffic if k not in deployments)
    if unknown:
        problems.add("endpoint-traffic", ep.file, f"traffic.{unknown[0]}", f"is no deployment of this endpoint "
                     f"({', '.join(sorted(map(str, deployments))) or 'none'}): AML refuses traffic to a deployment "
                     "that does not exist")
        return
    values = list(traffic.values())
    if any(not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 100 for v in values):
        problems.add("endpoint-traffic", ep.file, "traffic", "each share is a whole number from 0 to 100")
    elif sum(values) != 100:
        problems.add("endpoint-traffic", ep.file, "traffic", f"the shares sum to {sum(values)}, not 100: AML "
                     "refuses a traffic split that does not add up to 100")
