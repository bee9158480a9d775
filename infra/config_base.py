"""Shared pieces of the config models: the section base class and cross-field rule errors."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=False, frozen=False)


class _Rule(ValueError):
    """A cross-field rule; carries the key path it is about."""

    def __init__(self, path: str, message: str, value: Any) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.value = value
