"""The project's own checks on an asset's YAML, for what azure-ai-ml loads without complaint and
AML refuses later (at `az ml <kind> create`, at the first scheduled run, or never, silently).

Each function takes plain YAML values and returns (field, message) pairs; the loader names the
file and the rule (infra/seeding/rules.py). None of them imports azure-ai-ml.
"""

from __future__ import annotations

import re
from typing import Any

# azure-ai-ml's pattern for a data binding (`_utils/utils.py` get_all_data_binding_expressions).
_BINDING = re.compile(r"\$\{\{\s*(\S*?)\s*\}\}")
BINDING_ROOTS = ("inputs", "outputs")

# AML's week days (REST `WeekDay`; azure-ai-ml's RecurrencePatternSchema compares them lowercased).
WEEK_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# how-to-schedule-pipeline-job: "MINUTES HOURS DAYS MONTHS DAYS-OF-WEEK"; DAYS and MONTHS "not
# supported. The value will be ignored and treat as `*`"; days of the week 0-6, "Zero (0) means
# Sunday. Names of days also accepted" (NCrontab's three-letter names).
_CRON_DAY_NAMES = {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
CRON_FIELDS: tuple[tuple[str, int, int], ...] = (
    ("minutes", 0, 59), ("hours", 0, 23), ("days", 1, 31), ("months", 1, 12), ("days of the week", 0, 6))
_IGNORED_BY_AML = ("days", "months")
CRON_FORM = "five fields: MINUTES HOURS DAYS MONTHS DAYS-OF-WEEK"
RECURRENCE_RANGES = {"hours": (0, 23), "minutes": (0, 59), "month_days": (1, 31)}


def bindings(command: Any, inputs: Any, outputs: Any) -> tuple[list[str], list[str]]:
    """(refused, unjudged): `${{inputs.X}}`/`${{outputs.X}}` naming no declared port are refused, as
    `az ml component create` refuses them ("Invalid data binding expression"); expressions with any
    other root are left to azure-ai-ml's own check on the loaded component."""
    if not isinstance(command, str):
        return [], []
    declared = {"inputs": set(inputs or {}) if isinstance(inputs, dict) else set(),
                "outputs": set(outputs or {}) if isinstance(outputs, dict) else set()}
    refused, unjudged = [], []
    for expr in _BINDING.findall(command):
        root, _, rest = expr.partition(".")
        if root in BINDING_ROOTS:
            if rest.split(".")[0] not in declared[root]:
                refused.append(expr)
        else:
            unjudged.append(expr)
    return list(dict.fromkeys(refused)), list(dict.fromkeys(unjudged))


def binding_message(refused: list[str], inputs: Any, outputs: Any) -> str:
    names = {r: sorted(p) if isinstance(p, dict) else [] for r, p in (("inputs", inputs), ("outputs", outputs))}
    return ("invalid data binding expression " + ", ".join("${{" + e + "}}" for e in refused)
            + f" (`az ml component create` refuses it): declared inputs: {', '.join(names['inputs']) or 'none'}; "
            f"outputs: {', '.join(names['outputs']) or 'none'}")


def _cron_value(token: str, lo: int, hi: int, names: dict[str, int] | None) -> int | None:
    if names and token.lower() in names:
        return names[token.lower()]
    if token.isdigit() and lo <= int(token) <= hi:
        return int(token)
    return None


def _cron_field(value: str, name: str, lo: int, hi: int) -> str | None:
    names = _CRON_DAY_NAMES if name == "days of the week" else None
    for part in value.split(","):
        base, slash, step = part.partition("/")
        if slash and (not step.isdigit() or int(step) == 0):
            return f"{name} {value!r}: the step after / must be a positive integer"
        if base == "*":
            continue
        ends = base.split("-", 1)
        if any(_cron_value(e, lo, hi, names) is None for e in ends):
            extra = " or sun-sat" if names else ""
            return f"{name} {value!r} is not in {lo}-{hi}{extra}"
    return None


def cron(expression: Any) -> str | None:
    """What is wrong with a schedule's cron expression, or None."""
    if not isinstance(expression, str):
        return None  # azure-ai-ml's schema says it must be a string
    parts = expression.split()
    if len(parts) != len(CRON_FIELDS):
        return f"{expression!r} has {len(parts)} field(s); AML reads {CRON_FORM}"
    for value, (name, lo, hi) in zip(parts, CRON_FIELDS, strict=True):
        if name in _IGNORED_BY_AML and value != "*":
            return (f"{expression!r}: {name} must be * (AML ignores the {name} field and runs as if it were *; "
                    "use a recurrence trigger with month_days for days of the month)")
        problem = _cron_field(value, name, lo, hi)
        if problem:
            return f"{expression!r}: {problem} ({CRON_FORM})"
    return None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def recurrence(pattern: Any) -> list[tuple[str, str]]:
    """(field under `schedule`, message) for each value of a recurrence pattern AML refuses."""
    if not isinstance(pattern, dict):
        return []
    out = []
    for key, (lo, hi) in RECURRENCE_RANGES.items():
        if key not in pattern:
            continue
        bad = [v for v in _as_list(pattern[key]) if isinstance(v, int) and not isinstance(v, bool)
               and not lo <= v <= hi]
        if bad:
            out.append((key, f"{', '.join(map(str, bad))} not in {lo}-{hi}"))
    if "week_days" in pattern:
        bad = [v for v in _as_list(pattern["week_days"]) if not isinstance(v, str) or v.lower() not in WEEK_DAYS]
        if bad:
            out.append(("week_days", f"{', '.join(repr(v) for v in bad)} is not one of: {', '.join(WEEK_DAYS)}"))
    return out


def uri_file_is_folder(path: str) -> bool:
    """A remote `uri_file` path ending in `/` names a folder: jobs that mount it find no file."""
    return path.endswith("/")
