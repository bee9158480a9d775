"""The base class of every config section."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class _Section(BaseModel):
    """A mapping of a stack file: camelCase keys, unknown keys refused.

    Each field's docstring (the string right below it) is its description: what the key does, its
    default where the environment or another key decides it, and its rule. README's config reference
    is generated from them (scripts/config_reference.py).
    """

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=False, frozen=False,
                              use_attribute_docstrings=True)
