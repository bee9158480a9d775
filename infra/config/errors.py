"""How a mistake in a stack file reaches the user: one line naming the file, the exact key and the rule.

The config models raise plain `ValueError`s (the value types of infra/types.py, field validators), `_At`
(a rule about a key below the one being validated) or `_Rule` (a rule across sections, with its full
key path); pydantic collects them and `ErrorLines` turns the first into the line the user sees, raised as
`ConfigError`. The platform's stack files (`amlplatform:`) and the state backend's (`bootstrap:`) share it.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import dataclass
from typing import Any, Generic, Literal, Mapping, TypeVar

from pydantic import BaseModel, ValidationError


class ConfigError(Exception):
    """A user mistake in a stack file: printed as is, never with a traceback.

    Under the pulumi CLI the program re-raises it as `pulumi.RunError`, which
    the engine also prints without a stack trace.
    """


# A rule's value when the message should not echo one (the key is missing, or the value is a whole
# section or list: the line names the key, it does not repeat the file).
NO_VALUE: Any = object()


class _Rule(ValueError):
    """A cross-field rule; carries the full key path it is about (below the namespace, `amlplatform:`)."""

    def __init__(self, path: str, message: str, value: Any = NO_VALUE) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.value = value


class _At(ValueError):
    """A rule broken at a key below the model or field that raises it.

    `key` is relative: `vmSize` (a field of this model) or `[2]` (an item of this list field);
    the error formatter joins it to where pydantic reports the error.
    """

    def __init__(self, key: str, message: str, value: Any = NO_VALUE) -> None:
        super().__init__(message)
        self.key = key
        self.message = message
        self.value = value


def refuse_repeats(values: list[Any], written: Any, message: str) -> list[Any]:
    """`values` (a list as validated, each item normalised) with no item twice; else `_At` the first repeat,
    showing it as the stack wrote it (`written`, the list before validation)."""
    for i, value in enumerate(values):
        if value in values[:i]:
            shown = written[i] if isinstance(written, list) and i < len(written) else value
            raise _At(f"[{i}]", message, shown)
    return values


# Pydantic's own error kinds, in plain words.
_TYPE_MESSAGES = {
    "missing": "required key is missing",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "string_type": "must be a string",
    "dict_type": "must be a mapping of keys to values",
    "model_type": "must be a mapping of keys to values",
    "model_attributes_type": "must be a mapping of keys to values",
    "list_type": "must be a list",
}
# Where a dict key (a team's name) broke its type's rule, pydantic's location ends in this part.
_DICT_KEY = "[key]"
MAX_SHOWN = 80

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class ErrorLines(Generic[M]):
    """Validates a namespace's keys against its root model; each mistake becomes one line.

    `values`: how a line echoes the value it refuses. `short`: scalars only, cut at about 80 characters (a
    section or list is named by its key, not repeated); `whole`: every value as JSON, however long.
    """

    namespace: str
    root: type[M]
    values: Literal["short", "whole"] = "short"

    def validate(self, data: Mapping[str, Any], source: str) -> M:
        """The root model of `data`, or ConfigError with the first mistake pydantic reports (in the file's order)."""
        try:
            return self.root.model_validate(data)
        except _Rule as rule:
            raise ConfigError(self.line(source, rule.path, rule.message, rule.value)) from None
        except ValidationError as exc:
            raise ConfigError(self.of(exc.errors()[0], source, data)) from None

    def line(self, source: str, key: str, message: str, value: Any = NO_VALUE) -> str:
        return f"{source}: {self.namespace}:{key}: {message}{self._got(value)}"

    def of(self, err: Mapping[str, Any], source: str, data: Any = None) -> str:
        """The line for one pydantic error; `data` (the keys as written) names list items by their `name`."""
        loc = tuple(err["loc"])
        kind = err["type"]
        path = _path(loc, data)
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, _Rule):
            return self.line(source, cause.path, cause.message, cause.value)
        if isinstance(cause, _At):
            return self.line(source, _join(path, cause.key), cause.message, cause.value)
        if kind == "extra_forbidden":
            parent = self._model_at(loc[:-1])
            allowed = f" (allowed: {_allowed_keys(parent)})" if parent else ""
            return self.line(source, path, f"unknown key{allowed}")
        if kind == "missing":
            return self.line(source, path, _TYPE_MESSAGES["missing"])
        return self.line(source, path, _message(err), err.get("input", NO_VALUE))

    def _got(self, value: Any) -> str:
        """`, got <value>`, or nothing (see `values`)."""
        if value is NO_VALUE:
            return ""
        text = json.dumps(value, default=str)
        if self.values == "whole":
            return f", got {text}"
        if isinstance(value, (dict, list, tuple)):
            return ""
        if len(text) > MAX_SHOWN:
            text = text[:MAX_SHOWN - 4] + '..."'
        return f", got {text}"

    def _model_at(self, loc: tuple[Any, ...]) -> type[BaseModel] | None:
        """The model a key path points into (through optional, list and name-keyed sections)."""
        current: Any = self.root
        for part in loc:
            if isinstance(current, type) and issubclass(current, BaseModel):
                field = next((f for f in current.model_fields.values() if f.alias == part), None)
                if field is None:
                    return None
                current = _unwrap(field.annotation)
            elif typing.get_origin(current) in (dict, list):
                current = _unwrap(typing.get_args(current)[-1])
            else:
                return None
        return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(tp: Any) -> Any:
    """`X` from `X | None`; anything else as is."""
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    return args[0] if typing.get_origin(tp) in (typing.Union, types.UnionType) and len(args) == 1 else tp


def _allowed_keys(model: type[BaseModel]) -> str:
    return ", ".join(f.alias or name for name, f in model.model_fields.items())


def _item_label(container: Any, index: int) -> str:
    """A list item by its name where it has one (clusters[gpu-cluster]), else by position."""
    item = container[index] if isinstance(container, list) and 0 <= index < len(container) else None
    name = item.get("name") if isinstance(item, dict) else None
    return f"[{name}]" if isinstance(name, str) and name else f"[{index}]"


def _path(loc: tuple[Any, ...], data: Any = None) -> str:
    """The key path of a pydantic location, list items named from the stack's own data."""
    out = ""
    node = data
    for part in loc:
        if part == _DICT_KEY:
            continue
        if isinstance(part, int):
            out += _item_label(node, part)
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
        else:
            out += ("." if out else "") + str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out


def _join(path: str, key: str) -> str:
    return path + key if key.startswith("[") or not path else f"{path}.{key}"


def _message(err: Mapping[str, Any]) -> str:
    kind = err["type"]
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    if kind == "literal_error":
        return "must be one of " + str(err["ctx"]["expected"]).replace("'", "")
    if kind in ("greater_than_equal", "less_than_equal"):
        ctx = err["ctx"]
        bound = ctx.get("ge", ctx.get("le"))
        return f"must be {'at least' if kind == 'greater_than_equal' else 'at most'} {bound}"
    if kind == "string_too_long":
        return f"must be at most {err['ctx']['max_length']} characters"
    return _TYPE_MESSAGES.get(kind, str(err["msg"]))
