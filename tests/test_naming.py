"""Names obey every ARM rule for any allowed prefix and environment; the rules reject bad names."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.naming import RULES, Names, stable_guid, unique_suffix

prefixes = st.from_regex(r"[a-z0-9]{2,10}", fullmatch=True)
environments = st.sampled_from(["dev", "staging", "prod"])
subscriptions = st.one_of(st.none(), st.uuids().map(str))
generations = st.integers(min_value=1, max_value=99)


@settings(max_examples=300, deadline=None)
@given(prefixes, environments, subscriptions, generations)
def test_every_name_obeys_its_rule(prefix, environment, subscription, generation):
    names = Names.for_stack(prefix, environment, subscription, generation)
    assert names.violations() == []


def test_longest_prefix_fits_storage_data_lake_key_vault_and_workspace():
    names = Names.for_stack("abcdefghij", "staging", None)
    assert len(names.storage) == 20 and len(names.data_lake) == 21 and len(names.key_vault) == 23
    assert names.storage == f"stabcdefghijstg{names.suffix}"
    assert names.data_lake == f"dlsabcdefghijstg{names.suffix}"
    assert names.key_vault == f"kv-abcdefghij-stg-{names.suffix}"
    assert Names.for_stack("abcdefghij", "staging", None, 99).workspace == "mlw-abcdefghij-stg-g99"


def test_names_are_deterministic_and_caf_shaped():
    a = Names.for_stack("contoso", "prod", "0b1f6471-1bf0-4dda-aec3-cb9272f09590")
    b = Names.for_stack("contoso", "prod", "0b1f6471-1bf0-4dda-aec3-cb9272f09590")
    assert a == b
    assert a.resource_group == "rg-contoso-prd"
    assert a.workspace == "mlw-contoso-prd"
    assert a.log_analytics == "log-contoso-prd"
    assert a.app_insights == "appi-contoso-prd"
    assert a.identity("workspace") == "id-contoso-prd-workspace"
    assert a.registry.startswith("crcontosoprd") and len(a.suffix) == 5


def test_suffix_separates_subscriptions_environments_and_generations():
    base = unique_suffix("contoso", "dev", None)
    assert unique_suffix("contoso", "dev", "0b1f6471-1bf0-4dda-aec3-cb9272f09590") != base
    assert unique_suffix("contoso", "prod", None) != base
    assert unique_suffix("contoso", "dev", None, 2) != base
    # Generation 1 is what the suffix always was: no deployed stack is renamed by the switch's existence.
    assert unique_suffix("contoso", "dev", None, 1) == base
    assert unique_suffix("contoso", "dev", "0B1F6471-1BF0-4DDA-AEC3-CB9272F09590") == \
        unique_suffix("contoso", "dev", "0b1f6471-1bf0-4dda-aec3-cb9272f09590")


def test_stable_guid_is_a_uuid5_and_case_insensitive():
    g = stable_guid("/SUBSCRIPTIONS/x", "p", "r")
    assert g == stable_guid("/subscriptions/x", "p", "r")
    assert g[14] == "5"


@pytest.mark.parametrize(
    "rule, name, problem",
    [
        ("storage", "st-contoso", "lowercase letters and digits"),
        ("storage", "s" * 25, "3-24 characters"),
        ("key_vault", "kv--contoso", "no '--'"),
        ("key_vault", "1kv-contoso", "start with a letter"),
        ("key_vault", "kv-contoso-", "end with a letter or digit"),
        ("registry", "cr-contoso", "letters and digits"),
        ("workspace", "-mlw", "start alphanumeric"),
        ("workspace", "m" * 34, "3-33 characters"),
        ("resource_group", "rg-x.", "not end in '.'"),
        ("compute", "9cluster", "starting with a letter"),
        ("compute", "c" * 25, "3-24 characters"),
        ("compute", "ab", "3-24 characters"),
        ("compute", "cpu-cluster-2", "a letter somewhere after the last hyphen"),
        ("compute", "cpu-", "a letter somewhere after the last hyphen"),
    ],
)
def test_rules_reject_bad_names(rule, name, problem):
    assert problem in RULES[rule].check(name)
