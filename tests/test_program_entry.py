"""The Pulumi entry point runs as the pulumi CLI runs it: the `infra/` folder as a script."""

from __future__ import annotations

import copy
import runpy

import pulumi
import pytest

from infra.offline import engine
from tests.conftest import ROOT, raw_stack, stack_plan


def run_entry(stack: str, raw: dict):
    raw, _ = engine.with_secret_placeholders(["aksTlsCertPem", "aksTlsKeyPem"], raw)
    return engine.run(lambda: runpy.run_path(str(ROOT / "infra"), run_name="__main__"), stack, raw)


def test_entry_point_reads_pulumi_config_and_builds_the_same_plan():
    plan = run_entry("staging", raw_stack("staging"))
    assert plan.to_json() == stack_plan("staging").to_json()


def test_config_mistake_under_pulumi_is_a_run_error_without_traceback():
    raw = copy.deepcopy(raw_stack("prod"))
    raw["amlplatform:network"] = {"mode": "public", "allowedIpRanges": ["20.1.2.0/24"]}
    with pytest.raises(pulumi.RunError) as exc:
        run_entry("prod", raw)
    assert str(exc.value).startswith("stacks/Pulumi.prod.yaml: amlplatform:network.mode: public network access")
