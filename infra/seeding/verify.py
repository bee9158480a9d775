"""After `pulumi up`: ask the workspace (MLClient) whether every seeded asset, endpoint and compute is
there, or ask the organisation's registry whether every promoted version is.

The check compares each versioned asset's `amlplatform.sha256` property with the folder's, so
an asset changed in the workspace by hand (or a version created outside the platform) shows.
Endpoints are looked up by the name the stack gives them (`credit-online` -> `credit-online-prd`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.config.stack import ConfigError
from infra.seeding.model import AssetSet
from infra.seeding.spec import PROP_SHA


@dataclass(frozen=True)
class Expected:
    kind: str  # datastore | environment | component | data | model | schedule | compute | *_endpoint | *_deployment
    name: str  # deployments: ENDPOINT/DEPLOYMENT, the endpoint by its name in the workspace
    version: str | None = None
    sha256: str | None = None

    def label(self) -> str:
        return f"{self.kind} {self.name}" + (f" {self.version}" if self.version else "")


# Kinds whose versions carry the folder's content hash (spec.asset_properties).
VERSIONED = ("environment", "component", "data", "model")
# The MLClient operations that read each kind.
OPERATIONS = {"compute": "compute", "datastore": "datastores", "environment": "environments",
              "component": "components", "data": "data", "model": "models", "schedule": "schedules",
              "online_endpoint": "online_endpoints", "batch_endpoint": "batch_endpoints",
              "online_deployment": "online_deployments", "batch_deployment": "batch_deployments"}


@dataclass(frozen=True)
class Finding:
    item: Expected
    status: str  # present | missing | differs
    detail: str = ""


def expected(assets: AssetSet | None, computes: list[str], team_datastores: list[str],
             env_code: str = "") -> list[Expected]:
    """What the workspace should hold; endpoint names get the environment's code, as the program gives them."""
    out = [Expected("compute", c) for c in computes]
    out += [Expected("datastore", n) for n in team_datastores]
    if assets is not None:
        for a in assets.deployable():
            name = a.name
            if a.kind.endswith("_endpoint"):
                name = f"{a.name}-{env_code}"
            elif a.kind.endswith("_deployment"):
                name = f"{a.refs['endpoint']}-{env_code}/{a.refs['deployment']}"
            out.append(Expected(a.kind, name, a.version, a.sha256 if a.kind in VERSIONED else None))
    return sorted(out, key=lambda e: (e.kind, e.name, e.version or ""))


def expected_in_registry(promoted: AssetSet | None) -> list[Expected]:
    """The versions the registry should hold: every promoted one, with its content hash."""
    if promoted is None:
        return []
    return sorted((Expected(a.kind, a.name, a.version, a.sha256) for a in promoted.assets),
                  key=lambda e: (e.kind, e.name, e.version or ""))


def _get(client: Any, item: Expected) -> Any:
    ops = getattr(client, OPERATIONS[item.kind])
    if item.kind.endswith("_deployment"):
        endpoint, deployment = item.name.split("/", 1)
        return ops.get(name=deployment, endpoint_name=endpoint)
    if item.version is not None:
        return ops.get(name=item.name, version=item.version)
    return ops.get(name=item.name)


# Who may read what verify reads, per target (how-to-assign-roles; how-to-manage-registries: Reader uses a
# registry's assets).
_READERS = {"workspace": "AzureML Data Scientist (or Reader) on the workspace",
            "registry": "Reader (or AzureML Registry User) on the registry"}


def check(items: list[Expected], client: Any, where: str = "workspace") -> list[Finding]:
    """One finding per expected item; authentication and permission errors stop the check. `where` is
    "workspace" or "registry" (the client is an MLClient for that workspace or registry)."""
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError

    findings = []
    for item in items:
        try:
            found = _get(client, item)
        except ResourceNotFoundError:
            findings.append(Finding(item, "missing"))
            continue
        except ClientAuthenticationError as exc:
            raise ConfigError(f"verify: no usable Azure credential ({str(exc).splitlines()[0]}): sign in with "
                              "`az login`, or set AZURE_CLIENT_ID/AZURE_TENANT_ID with a federated token or a "
                              "managed identity (DefaultAzureCredential)") from None
        except HttpResponseError as exc:
            if exc.status_code in (401, 403):
                raise ConfigError(f"verify: access denied reading {item.label()}: the caller needs "
                                  f"{_READERS[where]}, and network line of sight in private mode") from None
            raise
        if item.sha256:
            seeded = (getattr(found, "properties", None) or {}).get(PROP_SHA)
            if seeded != item.sha256:
                findings.append(Finding(item, "differs", f"{where} sha256 {str(seeded)[:12]}…, folder "
                                        f"{item.sha256[:12]}…"))
                continue
        findings.append(Finding(item, "present"))
    return findings


def report(findings: list[Finding]) -> tuple[bool, str]:
    ok = all(f.status == "present" for f in findings)
    lines = [f"  {f.status:<8} {f.item.label()}" + (f"  ({f.detail})" if f.detail else "") for f in findings]
    counts = {s: sum(1 for f in findings if f.status == s) for s in ("present", "missing", "differs")}
    head = f"verify: {'PASS' if ok else 'FAIL'}  ({counts['present']} present, {counts['missing']} missing, " \
           f"{counts['differs']} differ)"
    return ok, "\n".join([head, *lines])
