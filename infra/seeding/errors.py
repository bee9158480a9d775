"""Turn azure-ai-ml's schema errors into one line per field: `file: field: message`."""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from infra.config.stack import ConfigError
from infra.seeding.rules import RULES

_NOT_IN_SET = re.compile(r"Value '([^']*)' passed is not in set \[([^\]]*)\]")


class AssetError(ConfigError):
    """The folder's problems, one line each; `findings` pairs each line with the rule (infra/seeding/rules.py)."""

    def __init__(self, findings: list[tuple[str, str]]) -> None:
        self.findings = findings
        super().__init__("\n".join(line for _, line in findings))


class Problems:
    """Every mistake found in the folder; raised together as one AssetError."""

    def __init__(self, folder_label: str) -> None:
        self.folder = folder_label
        self.findings: list[tuple[str, str]] = []

    def add(self, rule: str, file: str, field: str, message: str) -> None:
        if rule not in RULES:
            raise KeyError(f"assets: no rule {rule!r} in infra/seeding/rules.py")
        where = f"{self.folder}/{file}" if file else self.folder
        line = f"{where}: {field}: {message}" if field else f"{where}: {message}"
        if all(line != seen for _, seen in self.findings):
            self.findings.append((rule, line))

    @property
    def lines(self) -> list[str]:
        return [line for _, line in self.findings]

    def __bool__(self) -> bool:
        return bool(self.findings)

    def raise_if_any(self) -> None:
        if self.findings:
            raise AssetError(list(self.findings))


def schema_errors(exc: Exception) -> list[tuple[str, str]]:
    """(field path, message) pairs from an error azure-ai-ml raised: one per field, the first it gave.

    A union field (code: a local path, a URL, a git path, a registry or an ARM ID) fails once per
    alternative; the first alternative's message is the one a data scientist meant."""
    text = str(exc)
    payload = _json_after_failed(text)
    if payload is None:
        first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        pairs = [("", first)]
    else:
        pairs = _flatten(payload, "")
    out: dict[str, str] = {}
    for field, message in pairs:
        field = "" if field == "_schema" else field.removesuffix("._schema")  # marshmallow's whole-field key
        first = (message.strip().splitlines() or [""])[0].split(".; ")[0]
        out.setdefault(field, first)
    return list(out.items())


def _json_after_failed(text: str) -> Any:
    marker = text.find("failed:")
    start = text.find("{", marker if marker >= 0 else 0)
    if start < 0:
        return None
    depth, in_str, esc = 0, False, False
    for i in range(start, len(text)):
        ch = text[i]
        if in_str:
            esc = ch == "\\" and not esc
            if ch == '"' and not esc:
                in_str = False
            elif ch != "\\":
                esc = False
            continue
        if ch == '"':
            in_str = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                try:
                    return json.loads(text[start:i + 1])
                except ValueError:
                    return None
    return None


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix and key not in ("", "*") else (prefix or ("" if key == "*" else key))


def _flatten(node: Any, path: str) -> list[tuple[str, str]]:
    if isinstance(node, dict) and node.get("result") == "Failed" and isinstance(node.get("errors"), list):
        out: list[tuple[str, str]] = []
        for err in node["errors"]:
            inner = err.get("message", "")
            sub = _json_after_failed(inner) if "failed:" in inner else None
            where = _join(path, str(err.get("path") or ""))
            if sub is not None:
                out.extend(_flatten(sub, where))
            else:
                out.extend(_clean(where, inner))
        return out
    if isinstance(node, dict):
        out = []
        for key, value in node.items():
            out.extend(_flatten(value, _join(path, str(key))))
        return out
    if isinstance(node, list):
        if node and all(isinstance(x, dict) for x in node):
            # A union: one set of errors per alternative. Keep the alternatives whose `type`
            # matched (their errors are about the fields), or all when none did.
            matched = [alt for alt in node if not _type_mismatch(alt)]
            chosen = matched or node
            out = []
            for alt in chosen:
                out.extend(_flatten(alt, path))
            if not matched:
                return _merge_type_errors(out)
            return out
        out = []
        for item in node:
            out.extend(_flatten(item, path) if isinstance(item, (dict, list)) else _clean(path, str(item)))
        return out
    return _clean(path, str(node))


def _type_mismatch(alt: dict) -> bool:
    value = alt.get("type")
    return isinstance(value, list) and any(isinstance(v, str) and "not in set" in v for v in value)


_CLEANED = re.compile(r"^'(.*)' is not one of: (.*)$")


def _merge_type_errors(errors: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """No alternative of a union accepted the `type`: one line listing every allowed type."""
    allowed: list[str] = []
    got = base = None
    for path, msg in errors:
        m = _CLEANED.match(msg)
        if m and path.endswith("type"):
            got, base = m.group(1), path
            allowed += [a.strip() for a in m.group(2).split(",")]
    if got is None or base is None:
        return errors
    return [(base, f"{got!r} is not one of: {', '.join(dict.fromkeys(allowed))}")]


def _clean(path: str, message: str) -> list[tuple[str, str]]:
    message = message.strip()
    # Union messages arrive as Python reprs joined by "; ": {'type': ["Value 'x' ..."]}; {...}
    if message.startswith("{") and "not in set" in message:
        parts = []
        for chunk in message.split("; "):
            try:
                parts.append(ast.literal_eval(chunk))
            except (ValueError, SyntaxError):
                return [(path, message)]
        return _flatten(parts, path)
    m = _NOT_IN_SET.fullmatch(message.rstrip("."))
    if m:
        allowed = ", ".join(a.strip(" '") for a in m.group(2).split(","))
        return [(path, f"{m.group(1)!r} is not one of: {allowed}")]
    if message == "Unknown field.":
        return [(path, "unknown field (not in the AML CLI v2 schema)")]
    if message == "Missing data for required field.":
        return [(path, "required field is missing")]
    return [(path, message.rstrip("."))]
