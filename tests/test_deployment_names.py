"""Global names are unique per deployment (the credentials' subscription) and per generation, and stay
deterministic offline; a stack file naming another subscription stops the run before any resource."""

from __future__ import annotations

import copy

import pytest

from infra import program

from infra.config import stack as config
from infra.offline import engine
from infra.offline.emulator import OFFLINE_SUBSCRIPTION
from tests.conftest import plan_raw, raw_stack

OTHER = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
GLOBAL = {
    "azure-native:storage:StorageAccount": ("storage-account", "datalake-account"),
    "azure-native:keyvault:Vault": ("keyvault-vault",),
    "azure-native:containerregistry:Registry": ("registry-registry",),
}


def names(plan) -> dict[str, str]:
    return {name: plan.one(token, name).physical_name for token, ns in GLOBAL.items() for name in ns}


def run_as(stack: str, subscription: str, raw: dict | None = None) -> engine.Plan:
    raw = copy.deepcopy(raw if raw is not None else raw_stack(stack))
    cfg = config.parse(raw, f"stacks/Pulumi.{stack}.yaml", stack)
    return engine.run(lambda: program.build(cfg), stack, raw, subscription_id=subscription)


def test_two_subscriptions_get_different_global_names_and_the_same_names_twice():
    mine, theirs = run_as("dev", OFFLINE_SUBSCRIPTION), run_as("dev", OTHER)
    assert set(names(mine).values()).isdisjoint(names(theirs).values())
    # Offline the emulator answers getClientConfig with the offline subscription: plans stay byte-identical.
    assert run_as("dev", OFFLINE_SUBSCRIPTION).to_json() == mine.to_json()
    # Names scoped to the resource group need no suffix and keep theirs.
    rg = "azure-native:resources:ResourceGroup"
    assert mine.one(rg).physical_name == theirs.one(rg).physical_name == "rg-contoso-dev"


def test_a_stack_file_for_another_subscription_stops_before_any_resource():
    raw = copy.deepcopy(raw_stack("dev"))
    raw["amlplatform:platform"]["subscriptionId"] = OTHER
    with pytest.raises(config.ConfigError) as err:
        run_as("dev", OFFLINE_SUBSCRIPTION, raw)
    assert str(err.value) == (
        f"stacks/Pulumi.dev.yaml: amlplatform:platform.subscriptionId: {OTHER} is not the subscription of the Azure "
        f"credentials this runs with ({OFFLINE_SUBSCRIPTION}); select it (az account set --subscription, or "
        "ARM_SUBSCRIPTION_ID) or correct the key")
    # The same key with matching credentials plans, under that subscription's names.
    plan = run_as("dev", OTHER, raw)
    assert names(plan) == names(run_as("dev", OTHER))


def test_a_new_generation_renames_what_azure_holds_after_a_delete():
    raw = copy.deepcopy(raw_stack("dev"))
    raw["amlplatform:platform"]["generation"] = 2
    _, first = plan_raw("dev", raw_stack("dev"))
    _, second = plan_raw("dev", raw)
    before, after = names(first), names(second)
    # The purge-protected key vault's name stays taken for its retention; the other global names move with it.
    assert all(before[k] != after[k] for k in before)
    ws = "azure-native:machinelearningservices:Workspace"
    # A soft-deleted workspace keeps its name 14 days.
    assert (first.one(ws).physical_name, second.one(ws).physical_name) == ("mlw-contoso-dev", "mlw-contoso-dev-g2")
    # Purge protection stays on.
    assert second.one("azure-native:keyvault:Vault").inputs["properties"]["enablePurgeProtection"] is True
    # Log Analytics comes back by its own name (re-created in the same group, a soft-deleted workspace is recovered).
    log = "azure-native:operationalinsights:Workspace"
    assert first.one(log).physical_name == second.one(log).physical_name == "log-contoso-dev"


@pytest.mark.parametrize("value", [0, 100, "two"])
def test_generation_must_be_1_to_99(value):
    raw = copy.deepcopy(raw_stack("dev"))
    raw["amlplatform:platform"]["generation"] = value
    with pytest.raises(config.ConfigError, match="amlplatform:platform.generation: must be"):
        config.parse(raw, "stacks/Pulumi.dev.yaml", "dev")
