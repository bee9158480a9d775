"""The CrossGuard pack wraps the same rule functions; it sees props through pulumi-policy's proxies."""

from __future__ import annotations

import json

import pytest
import yaml
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

from infra.config import stack as config
from infra.offline import platform_rules
from policies import pack
from policies.rules import RULES

from .conftest import ROOT, STACKS

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
STORAGE = "azure-native:storage:StorageAccount"
TAGS = {"environment": "prod", "managed-by": "pulumi", "project": "amlplatform"}


def _opts(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def _policy(name: str):
    return next(p for p in pack.policies() if p.name == name)


def _run_resource(name: str, kind: str, props: dict, config: dict | None = None, protect: bool = False) -> list[str]:
    found: list[str] = []
    args = ResourceValidationArgs(kind, unknown_checking_proxy(props), f"urn:pulumi:prod::amlplatform::{kind}::r",
                                  "r", _opts(protect), None, config)
    _policy(name).validate(args, lambda message, urn=None: found.append(message))
    return found


def test_one_policy_per_rule_of_the_right_kind():
    policies = pack.policies()
    assert [p.name for p in policies] == [r.name for r in RULES]
    for policy, rule in zip(policies, RULES, strict=True):
        assert isinstance(policy, StackValidationPolicy if rule.stack_check else ResourceValidationPolicy)
        assert policy.description == rule.description


def test_resource_policy_reports_through_the_proxy():
    good = {"accountName": "st1", "allowSharedKeyAccess": False}
    assert _run_resource("storage-no-shared-key", STORAGE, good) == []
    assert _run_resource("storage-no-shared-key", STORAGE, {**good, "allowSharedKeyAccess": True}) == [
        "storage account st1: allowSharedKeyAccess must be false (Entra ID only)"]
    # Other types are not this policy's business.
    assert _run_resource("storage-no-shared-key", "azure-native:keyvault:Vault", {}) == []


def test_unknown_values_reach_the_rule_instead_of_skipping_the_policy():
    # pulumi-policy would raise UnknownValueError on access; the adapter hands the sentinel over.
    props = {"accountName": "st1", "location": UNKNOWN, "tags": TAGS}
    assert _run_resource("allowed-locations", STORAGE, props, {"allowedLocations": ["westeurope"]}) == []
    props["location"] = "eastus"
    assert _run_resource("allowed-locations", STORAGE, props, {"allowedLocations": ["westeurope"]}) == [
        "location 'eastus' is not allowed (allowed: westeurope)"]


def test_policy_config_carries_the_facts():
    props = {"accountName": "st1", "tags": TAGS}
    assert _run_resource("protect-stateful", STORAGE, props, {"protectStateful": False}) == []
    assert _run_resource("protect-stateful", STORAGE, props, {"protectStateful": True}) == [
        "StorageAccount r holds state: declare it with protect=True (amlplatform:protection.protect)"]
    assert _run_resource("protect-stateful", STORAGE, props, {"protectStateful": True}, protect=True) == []
    assert _run_resource("required-tags", STORAGE, props, {"requiredTags": ["owner"]}) == ["missing tag(s) owner"]


def test_stack_policy_uses_property_dependencies():
    contributor = "/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"
    uai = PolicyResource("azure-native:managedidentity:UserAssignedIdentity", unknown_checking_proxy({}),
                         "urn:pulumi:prod::amlplatform::azure-native:managedidentity:UserAssignedIdentity::"
                         "workspace-identity-uai", "workspace-identity-uai", _opts(), None, None, [], {})
    grant = PolicyResource(
        "azure-native:authorization:RoleAssignment",
        unknown_checking_proxy({"roleDefinitionId": contributor, "principalId": UNKNOWN, "principalType": "ServicePrincipal",
                                "scope": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/x/st1"}),
        "urn:pulumi:prod::amlplatform::azure-native:authorization:RoleAssignment::grant", "grant", _opts(), None,
        None, [], {"principalId": [uai]})
    found: list[tuple[str, str | None]] = []
    policy = _policy("rbac-privileged-roles")
    policy.validate(StackValidationArgs([uai, grant], {}), lambda m, urn=None: found.append((m, urn)))
    assert found == []
    grant.property_dependencies = {}
    policy.validate(StackValidationArgs([uai, grant], {}), lambda m, urn=None: found.append((m, urn)))
    assert len(found) == 1 and found[0][1] == grant.urn and "Contributor" in found[0][0]


@pytest.mark.parametrize("stack", [*STACKS, "registry"])
def test_committed_policy_config_matches_the_stack(stack):
    """policies/config/<stack>.json is what `amlplatform check STACK --write-policy-config` writes (the registry
    stack's too: its facts follow every fact the pack learns)."""
    cfg = config.load_stack(stack, ROOT)[0]
    committed = (ROOT / "policies" / "config" / f"{stack}.json").read_text()
    assert committed == platform_rules.policy_config_json(cfg), (
        f"run `amlplatform check {stack} --write-policy-config`")
    data = json.loads(committed)
    assert data["all"] == ("advisory" if stack == "dev" else "mandatory")
    facts = pack.facts_from_config({k: v for p in data.values() if isinstance(p, dict) for k, v in p.items()})
    offline = platform_rules.facts_for(cfg)
    assert (facts.environment, facts.platform_owners, facts.required_tags, facts.allowed_locations,
            facts.protect_stateful) == (offline.environment, offline.platform_owners, offline.required_tags,
                                        offline.allowed_locations, offline.protect_stateful)


def test_pack_project_file():
    doc = yaml.safe_load((ROOT / "policies" / "PulumiPolicy.yaml").read_text())
    assert doc["runtime"] == {"name": "python", "options": {"virtualenv": "../.venv"}}
    assert (ROOT / "policies" / "__main__.py").exists()
    assert (ROOT / "policies" / "requirements.txt").read_text().split() == ["-e", ".."]


def test_schema_names_only_known_facts():
    for name, keys in pack.POLICY_FACTS.items():
        assert name in {r.name for r in RULES}
        assert set(keys) <= set(pack.FACT_SCHEMA)
    assert pack.level("dev").value == "advisory" and pack.level("prod").value == "mandatory"
