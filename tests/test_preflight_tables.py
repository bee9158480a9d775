"""The dated tables preflight relies on: VM sizes, Windows time zones, AKS minor versions."""

from __future__ import annotations

import datetime

import pytest

from infra.azure_facts import aks_versions

from infra.azure_facts import vm_sizes
from infra.config.compute import cron_problem
from infra.azure_facts.time_zones import WINDOWS_TIME_ZONES


def test_every_size_in_the_table_follows_the_naming_grammar_and_its_gpu_flag():
    for series in vm_sizes.SERIES:
        for size in series.sizes:
            name = f"Standard_{size}"
            assert vm_sizes.GRAMMAR.match(name), name
            assert vm_sizes.is_gpu_name(name) == series.gpu, name


@pytest.mark.parametrize("name, grammar_gpu", [
    ("Standard_NC24ads_A100_v4", True), ("Standard_ND96isr_H100_v5", True), ("Standard_NV36ads_A10_v5", True),
    ("Standard_NP10s", False), ("Standard_D4ds_v5", False), ("Standard_DS11-1_v2", False),
    ("Standard_M128-64ms", False), ("Standard_NCC40ads_H100_v5", True),
])
def test_gpu_follows_family_and_subfamily_not_the_first_letter(name, grammar_gpu):
    assert vm_sizes.is_gpu_name(name) is grammar_gpu


def test_sizes_are_spelled_as_azure_spells_them_and_retired_series_carry_their_date():
    assert vm_sizes.parse("standard_ds3_V2").name == "Standard_DS3_v2"
    assert vm_sizes.parse("Standard_D4ds_v5").local_disk and not vm_sizes.parse("Standard_D4s_v5").local_disk
    with pytest.raises(vm_sizes.SizeError, match="NCv3 series, retired on 2025-09-30"):
        vm_sizes.parse("Standard_NC6s_v3")
    # Announced retirements apply from their date on.
    assert vm_sizes.parse("Standard_DS3_v2", today=datetime.date(2028, 4, 30)).name == "Standard_DS3_v2"
    with pytest.raises(vm_sizes.SizeError, match="retired on 2028-05-01"):
        vm_sizes.parse("Standard_DS3_v2", today=datetime.date(2028, 5, 1))


def test_time_zone_table_is_azure_ml_own():
    from azure.ai.ml.constants import TimeZone

    assert WINDOWS_TIME_ZONES == {z.value for z in TimeZone}
    assert "W. Europe Standard Time" in WINDOWS_TIME_ZONES and "Europe/Berlin" not in WINDOWS_TIME_ZONES


@pytest.mark.parametrize("expression, problem", [
    ("0 19 * * 1-5", None), ("30 7 1,15 1-12 0", None), ("* * * * *", None),
    ("0 24 * * *", "hour field '24' must stay within 0-23"), ("60 1 * * *", "minute field '60'"),
    ("0 1 0 * *", "day of month field '0'"), ("0 1 * 13 *", "month field '13'"),
    ("0 1 * * 7", "day of week field '7'"), ("0 1 * * 5-1", "ranges low-high"),
    ("0 19 * *", "five-field cron expression"), ("*/5 * * * *", "must be *, a number or a range"),
])
def test_cron_fields_stay_in_range(expression, problem):
    got = cron_problem(expression)
    assert (got is None) if problem is None else (problem in (got or ""))


def test_aks_offers_a_minor_from_its_ga_to_its_end_of_life():
    assert aks_versions.offered(datetime.date(2026, 11, 30)) == ["1.34", "1.35", "1.36", "1.37"]
    assert aks_versions.offered(datetime.date(2026, 12, 1)) == ["1.35", "1.36", "1.37"]
    assert aks_versions.problem("1.35", datetime.date(2026, 11, 30)) is None
    assert "is not a minor AKS creates" in (aks_versions.problem("1.33", datetime.date(2026, 11, 30)) or "")
    assert "minor version only" in (aks_versions.problem("1.35.2", datetime.date(2026, 11, 30)) or "")
