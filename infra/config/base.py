"""The base class of every config section."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, PrivateAttr
from pydantic.alias_generators import to_camel


class _Section(BaseModel):
    """A mapping of a stack file: camelCase keys, unknown keys refused.

    Each field's docstring (the string right below it) is its description: what the key does, its
    default where the environment or another key decides it, and its rule. README's config reference
    is generated from them (scripts/config_reference.py).
    """

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=False, frozen=False,
                              use_attribute_docstrings=True)


class _StackFile(_Section):
    """The root of a stack file's config (a platform, registry or team stack): where it was read from."""

    _source: str = PrivateAttr(default="<config>")
    _stack: str = PrivateAttr(default="")
    _root: str | None = PrivateAttr(default=None)

    @property
    def source(self) -> str:
        """The stack file this config came from, for messages."""
        return self._source

    @property
    def stack(self) -> str:
        """The stack's name (`dev` for stacks/Pulumi.dev.yaml)."""
        return self._stack

    @property
    def root(self) -> Path | None:
        """The repository root this stack was loaded from (load_stack, or the project under pulumi);
        None for a config parsed from a mapping alone, which has no files beside it (no assets)."""
        return Path(self._root) if self._root else None
