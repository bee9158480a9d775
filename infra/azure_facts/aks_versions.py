"""Kubernetes minor versions AKS creates clusters with, and until when.

From "Supported Kubernetes versions in AKS", the AKS Kubernetes release calendar
(https://learn.microsoft.com/azure/aks/supported-kubernetes-versions#aks-kubernetes-release-calendar):
each minor is GA for about 12 months; an end of life given as a month is that month's last day.
Clusters on the Standard tier (this platform's) get no long-term support, and a version in
platform support (N-3) cannot create clusters, so a minor is offered from its AKS GA date to its
end of life.

Only `major.minor` is accepted: AKS then runs that minor's latest GA patch ("Alias minor
version" on the same page), and the auto-upgrade channel keeps patches current. Table as of
2026-11-30; refresh it from the calendar above, or `az aks get-versions --location <region>`.
"""

from __future__ import annotations

import calendar
import datetime
import re

SOURCE = "https://learn.microsoft.com/azure/aks/supported-kubernetes-versions#aks-kubernetes-release-calendar"
AS_OF = "2026-11-30"

# minor: (AKS GA month, end of life) as the calendar prints them.
CALENDAR: dict[str, tuple[str, str]] = {
    "1.32": ("2025-04", "2026-03"),
    "1.33": ("2025-06", "2026-07"),
    "1.34": ("2025-11", "2026-11"),
    "1.35": ("2026-03", "2027-03"),
    "1.36": ("2026-06", "2027-06"),
    "1.37": ("2026-10", "2027-10"),
}

_VERSION = re.compile(r"^(?P<minor>\d+\.\d+)(?P<patch>\.\d+)?$")


def _month_start(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text + "-01")


def _month_end(text: str) -> datetime.date:
    first = _month_start(text)
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def offered(today: datetime.date | None = None) -> list[str]:
    """Minors AKS creates clusters with on `today` (default: the current date)."""
    when = today or datetime.date.today()
    return [m for m, (ga, eol) in CALENDAR.items() if _month_start(ga) <= when <= _month_end(eol)]


def problem(version: str, today: datetime.date | None = None) -> str | None:
    """Why AKS would refuse `version` for a new cluster, or None."""
    m = _VERSION.match(version)
    now = offered(today)
    listed = ", ".join(now) or f"none in this table (as of {AS_OF}): refresh it"
    if not m:
        return f"must be a Kubernetes minor version such as {now[-1] if now else '1.35'} (AKS offers {listed})"
    if m.group("patch"):
        return (f"give the minor version only ({m.group('minor')}): AKS runs its latest patch and the upgrade "
                "channel keeps it current")
    if m.group("minor") not in now:
        return f"is not a minor AKS creates clusters with today (AKS offers {listed}; see {SOURCE})"
    return None
