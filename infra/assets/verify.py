"""After `pulumi up`: ask the workspace (MLClient) whether every seeded asset and compute is there.

The check compares each versioned asset's `amlplatform.sha256` property with the folder's, so
an asset changed in the workspace by hand (or a version created outside the platform) shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config import ConfigError
from .model import AssetSet
from .spec import PROP_SHA


@dataclass(frozen=True)
class Expected:
    kind: str  # datastore | environment | component | data | schedule | compute
    name: str
    version: str | None = None
    sha256: str | None = None

    def label(self) -> str:
        return f"{self.kind} {self.name}" + (f" {self.version}" if self.version else "")


@dataclass(frozen=True)
class Finding:
    item: Expected
    status: str  # present | missing | differs
    detail: str = ""


def expected(assets: AssetSet | None, computes: list[str], team_datastores: list[str]) -> list[Expected]:
    out = [Expected("compute", c) for c in computes]
    out += [Expected("datastore", n) for n in team_datastores]
    if assets is not None:
        for a in assets.deployable():
            versioned = a.kind in ("environment", "component", "data")
            out.append(Expected(a.kind, a.name, a.version, a.sha256 if versioned else None))
    return sorted(out, key=lambda e: (e.kind, e.name, e.version or ""))


def _get(client: Any, item: Expected) -> Any:
    attr = {"compute": "compute", "datastore": "datastores", "environment": "environments",
            "component": "components", "data": "data", "schedule": "schedules"}[item.kind]
    ops = getattr(client, attr)
    if item.version is not None:
        return ops.get(name=item.name, version=item.version)
    return ops.get(name=item.name)


def check(items: list[Expected], client: Any) -> list[Finding]:
    """One finding per expected item; authentication and permission errors stop the check."""
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
                raise ConfigError(f"verify: access denied reading {item.label()}: the caller needs AzureML Data "
                                  "Scientist (or Reader) on the workspace, and network line of sight in private "
                                  "mode") from None
            raise
        if item.sha256:
            seeded = (getattr(found, "properties", None) or {}).get(PROP_SHA)
            if seeded != item.sha256:
                findings.append(Finding(item, "differs", f"workspace sha256 {str(seeded)[:12]}…, folder "
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
