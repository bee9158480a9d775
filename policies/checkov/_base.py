"""A small base for value checks: one key, the values that pass."""

from __future__ import annotations

from typing import Any, Iterable

from checkov.arm.base_resource_value_check import BaseResourceValueCheck
from checkov.common.models.enums import CheckCategories


class ValueCheck(BaseResourceValueCheck):
    def __init__(
        self, check_id: str, name: str, resources: Iterable[str], key: str, expected: list[Any],
        category: CheckCategories = CheckCategories.GENERAL_SECURITY,
    ) -> None:
        self._key = key
        self._expected = expected
        super().__init__(name=name, id=check_id, categories=[category], supported_resources=list(resources))

    def get_inspected_key(self) -> str:
        return self._key

    def get_expected_values(self) -> list[Any]:
        return self._expected
