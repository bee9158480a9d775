"""Shared pieces of the config models: the section base class and the rule errors they raise."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=False, frozen=False)


# A rule's value when the message should not echo one (the key is missing, or the value is a whole
# section or list: the line names the key, it does not repeat the file).
NO_VALUE: Any = object()


class _Rule(ValueError):
    """A cross-field rule; carries the full key path it is about (below `amlplatform:`)."""

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
