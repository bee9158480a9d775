"""Issue 13's platform rules: each passes what the shipped stacks declare and fails a resource without it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from infra.offline import platform_rules
from policies.rules import RULES, StackFacts, evaluate
from policies.rules import tokens as t
from policies.rules.data import sas_period_ok
from policies.rules.network import open_lateral_ports
from tests.conftest import edited_plan, stack_config, stack_plan
from tests.test_policy_rules import PROD, UNKNOWN, res

CENTRAL = StackFacts(environment="prod", flow_logs_central=True)
PRIVATE = StackFacts(environment="prod", private_ingestion=True)


def _rule(name: str):
    return next(r for r in RULES if r.name == name)


def _pool(name: str, ssh: str | None = "Disabled") -> dict[str, Any]:
    return {"name": name, "securityProfile": {"sshAccess": ssh} if ssh else {}}


CLUSTER = {
    "resourceName": "aks1",
    "apiServerAccessProfile": {"enablePrivateCluster": True, "disableRunCommand": True},
    "agentPoolProfiles": [_pool("system"), _pool("inference")],
    "securityProfile": {"workloadIdentity": {"enabled": True}, "imageCleaner": {"enabled": True, "intervalHours": 168}},
}


@pytest.mark.parametrize("rule, change, words", [
    ("aks-command-invoke-off", {"apiServerAccessProfile": {"enablePrivateCluster": True}},
     "cluster aks1: apiServerAccessProfile.disableRunCommand must be true"),
    ("aks-node-ssh-off", {"agentPoolProfiles": [_pool("system"), _pool("inference", "LocalUser")]},
     "node pool(s) inference: securityProfile.sshAccess must be Disabled on every pool"),
    ("aks-node-ssh-off", {"agentPoolProfiles": [_pool("system", None), _pool("inference")]},
     "node pool(s) system:"),
    ("aks-image-cleaner", {"securityProfile": {"imageCleaner": {"enabled": False, "intervalHours": 168}}},
     "securityProfile.imageCleaner must be enabled with intervalHours 24-2160"),
    ("aks-image-cleaner", {"securityProfile": {"imageCleaner": {"enabled": True}}}, "intervalHours 24-2160"),
    ("aks-image-cleaner", {"securityProfile": {"imageCleaner": {"enabled": True, "intervalHours": 12}}},
     "intervalHours 24-2160"),
])
def test_aks_rules_fail_a_cluster_without_the_setting(rule, change, words):
    check = _rule(rule).check
    assert check(res(t.AKS, copy.deepcopy(CLUSTER)), PROD) is None
    message = check(res(t.AKS, {**copy.deepcopy(CLUSTER), **change}), PROD)
    assert message and words in message


def test_a_separate_agent_pool_needs_ssh_off_too():
    check = _rule("aks-node-ssh-off").check
    assert check(res(t.AGENT_POOL, {"agentPoolName": "gpu", "securityProfile": {"sshAccess": "Disabled"}}), PROD) is None
    assert check(res(t.AGENT_POOL, {"agentPoolName": "gpu"}), PROD) == (
        "node pool(s) gpu: securityProfile.sshAccess must be Disabled on every pool")


def test_maintenance_windows_by_name_or_by_dependency():
    stack = _rule("aks-maintenance-windows").stack_check
    cluster = res(t.AKS, CLUSTER, "aks")
    node_os = res(t.MAINTENANCE_CONFIGURATION, {"resourceName": "aks1", "configName": "aksManagedNodeOSUpgradeSchedule"},
                  "m1")
    assert stack([cluster, node_os], PROD) == [(cluster.urn, (
        "cluster aks1: no planned maintenance configuration aksManagedAutoUpgradeSchedule; automatic upgrades then "
        "run at any time"))]
    # In a preview a new cluster's name is unknown: the configuration names it by dependency.
    upgrade = res(t.MAINTENANCE_CONFIGURATION, {"resourceName": UNKNOWN, "configName": "aksManagedAutoUpgradeSchedule"},
                  "m2", property_dependencies={"resourceName": (cluster.urn,)})
    assert stack([cluster, node_os, upgrade], PROD) == []


def test_registry_must_refuse_arm_audience_tokens():
    check = _rule("registry-arm-audience-tokens-off").check
    good = {"registryName": "cr1", "policies": {"azureADAuthenticationAsArmPolicy": {"status": "disabled"}}}
    assert check(res(t.REGISTRY, good), PROD) is None
    # The SDK fills `enabled` when the status is left out.
    for policies in ({"azureADAuthenticationAsArmPolicy": {"status": "enabled"}}, {}):
        message = check(res(t.REGISTRY, {"registryName": "cr1", "policies": policies}), PROD)
        assert message and message.startswith("registry cr1: policies.azureADAuthenticationAsArmPolicy.status is ")


@pytest.mark.parametrize("period, ok", [
    ("7.00:00:00", True), ("1.00:00:00", True), ("0.12:00:00", True), ("7.00:00:01", False), ("8.00:00:00", False),
    ("30.00:00:00", False), ("7", False), (None, False),
])
def test_sas_period_reads_like_the_built_in_policy(period, ok):
    assert sas_period_ok(period) is ok


def test_storage_sas_policy_needs_the_cap_and_block():
    check = _rule("storage-sas-policy").check
    good = {"accountName": "st1", "sasPolicy": {"sasExpirationPeriod": "7.00:00:00", "expirationAction": "Block"}}
    assert check(res(t.STORAGE, good), PROD) is None
    for policy in ({"sasExpirationPeriod": "7.00:00:00", "expirationAction": "Log"},
                   {"sasExpirationPeriod": "30.00:00:00", "expirationAction": "Block"}, None):
        message = check(res(t.STORAGE, {"accountName": "st1", "sasPolicy": policy}), PROD)
        assert message == ("storage account st1: sasPolicy must cap SAS at 7 days (sasExpirationPeriod d.hh:mm:ss) "
                           "with expirationAction Block")


DENY = {"name": "deny", "priority": 4000, "direction": "Outbound", "access": "Deny", "protocol": "Tcp",
        "sourceAddressPrefix": "VirtualNetwork", "destinationAddressPrefix": "VirtualNetwork",
        "destinationPortRanges": ["22", "3389"]}


@pytest.mark.parametrize("rules, open_", [
    ([DENY], []),
    ([], [22, 3389]),
    # A range is no literal port for PSRule's evaluator: the deny does not count.
    ([{**DENY, "destinationPortRanges": ["20-3390"]}], [22, 3389]),
    ([{**DENY, "destinationPortRanges": ["22"]}], [3389]),
    ([{**DENY, "protocol": "Udp"}], [22, 3389]),
    ([{**DENY, "destinationAddressPrefix": "*", "destinationPortRanges": None, "destinationPortRange": "*"}], []),
    # An allow before the deny opens the port again, to the tag, to any address, or through a range...
    ([{**DENY, "name": "a", "priority": 300, "access": "Allow", "destinationPortRanges": ["22"]}, DENY], [22]),
    ([{**DENY, "name": "a", "priority": 300, "access": "Allow", "destinationAddressPrefix": "10.0.0.0/8",
       "destinationPortRanges": ["0-1024"]}, DENY], [22]),
    # ...but not SSH kept inside one subnet (source and destination the same range), nor a later allow.
    ([{**DENY, "name": "a", "priority": 3990, "access": "Allow", "sourceAddressPrefix": "10.0.1.0/24",
       "destinationAddressPrefix": "10.0.1.0/24", "destinationPortRanges": ["22"]}, DENY], []),
    ([DENY, {**DENY, "name": "a", "priority": 4001, "access": "Allow"}], []),
    # Service tags other than VirtualNetwork are not the VNet.
    ([{**DENY, "name": "a", "priority": 100, "access": "Allow", "destinationAddressPrefix": "AzureCloud"}, DENY], []),
])
def test_lateral_traversal_evaluator(rules, open_):
    assert open_lateral_ports(rules) == open_


def test_lateral_traversal_rule_on_an_nsg_and_on_the_rendered_shape():
    check = _rule("nsg-lateral-traversal").check
    assert check(res(t.NSG, {"networkSecurityGroupName": "nsg1", "securityRules": [DENY]}), PROD) is None
    assert check(res(t.NSG, {"networkSecurityGroupName": "nsg1", "securityRules": []}), PROD) == (
        "NSG nsg1: outbound 22, 3389 to VirtualNetwork is allowed; deny SSH and RDP towards the VNet (lateral "
        "movement) with a rule naming each port")
    # ARM's shape (what checkov's CKV_AMLP_29 reads) gives the same answer.
    rendered = [{"name": "deny", "properties": {k: v for k, v in DENY.items() if k != "name"}}]
    assert open_lateral_ports(rendered) == []


FLOW_LOG = {"flowLogName": "fl1", "targetResourceId": "/vnets/v1", "enabled": True,
            "retentionPolicy": {"enabled": True, "days": 90},
            "flowAnalyticsConfiguration": {"networkWatcherFlowAnalyticsConfiguration": {
                "enabled": True, "trafficAnalyticsInterval": 10}}}


def _vnet() -> Any:
    return res(t.VNET, {"virtualNetworkName": "vnet1"}, "vnet", id="/vnets/v1")


@pytest.mark.parametrize("change, words", [
    (None, "VNet vnet1 has no flow log (NSG flow logs can no longer be created); add a VNet flow log, or set "
           "amlplatform:network.flowLogs.mode central where the landing zone records them"),
    ({"enabled": False}, "flow log fl1 of VNet vnet1 is not enabled"),
    ({"retentionPolicy": {"enabled": True, "days": 30}}, "keeps records 30 days; keep at least 90"),
    ({"retentionPolicy": {"enabled": True, "days": 0}}, "keeps records 0 days"),
    ({"flowAnalyticsConfiguration": {}}, "has no traffic analytics at a 10 or 60 minute interval"),
    ({"flowAnalyticsConfiguration": {"networkWatcherFlowAnalyticsConfiguration": {
        "enabled": True, "trafficAnalyticsInterval": 30}}}, "has no traffic analytics"),
])
def test_each_vnet_needs_a_flow_log_with_traffic_analytics(change, words):
    stack = _rule("vnet-flow-logs").stack_check
    vnet = _vnet()
    good = res(t.FLOW_LOG, FLOW_LOG, "fl")
    assert stack([vnet, good], PROD) == []
    bad = [vnet] if change is None else [vnet, res(t.FLOW_LOG, {**FLOW_LOG, **change}, "fl")]
    found = stack(bad, PROD)
    assert len(found) == 1 and words in found[0][1]
    # A landing zone that records flow logs itself: nothing is asked of the stack.
    assert stack([vnet], CENTRAL) == []


def test_a_flow_log_finds_its_vnet_by_dependency_in_a_preview():
    stack = _rule("vnet-flow-logs").stack_check
    vnet = res(t.VNET, {"virtualNetworkName": "vnet1"}, "vnet")
    fl = res(t.FLOW_LOG, {**FLOW_LOG, "targetResourceId": UNKNOWN}, "fl",
             property_dependencies={"targetResourceId": (vnet.urn,)})
    assert stack([vnet, fl], PROD) == []


def _monitoring(ingestion: str = "Disabled") -> list[Any]:
    law = res(t.LOG_ANALYTICS, {"workspaceName": "log1", "publicNetworkAccessForIngestion": ingestion}, "log",
              id="/law/1")
    appi = res(t.APP_INSIGHTS, {"resourceName": "appi1", "publicNetworkAccessForIngestion": ingestion}, "appi",
               id="/appi/1")
    scope = res(t.PRIVATE_LINK_SCOPE, {"accessModeSettings": {"ingestionAccessMode": "PrivateOnly",
                                                              "queryAccessMode": "Open"}}, "ampls")
    links = [res(t.SCOPED_RESOURCE, {"linkedResourceId": "/law/1"}, "s-log"),
             res(t.SCOPED_RESOURCE, {"linkedResourceId": UNKNOWN}, "s-appi",
                 property_dependencies={"linkedResourceId": (appi.urn,)})]
    return [law, appi, scope, *links]


def test_private_ingestion_when_the_stack_says_so():
    stack = _rule("private-ingestion").stack_check
    assert stack(_monitoring(), PRIVATE) == []
    public = _monitoring("Enabled")
    assert [m for _, m in stack(public, PRIVATE)] == [
        "Workspace log: publicNetworkAccessForIngestion must be Disabled (ingestion through the private link scope "
        "only)",
        "Component appi: publicNetworkAccessForIngestion must be Disabled (ingestion through the private link scope "
        "only)"]
    # Without the stack's switch nothing is asked (dev, or central DNS where the landing zone owns the scope).
    assert stack(public, PROD) == []
    unlinked = [r for r in _monitoring() if r.name != "s-log"]
    assert [m for _, m in stack(unlinked, PRIVATE)] == [
        "Workspace log is not linked to the private link scope (no scopedResources entry), so nothing can send to "
        "it once public ingestion is off"]
    open_scope = [r for r in _monitoring() if r.type != t.PRIVATE_LINK_SCOPE]
    assert len(stack(open_scope, PRIVATE)) == 2


def test_the_stack_facts_follow_the_stack_files():
    for stack in ("staging", "prod"):
        facts = platform_rules.facts_for(stack_config(stack), stack_plan(stack))
        assert facts.private_ingestion is True and facts.flow_logs_central is False
    assert platform_rules.facts_for(stack_config("dev")).private_ingestion is False


def test_central_flow_logs_pass_the_rules_without_a_flow_log():
    def edit(raw: dict[str, Any]) -> None:
        raw["amlplatform:network"]["flowLogs"] = {"mode": "central"}

    cfg, plan = edited_plan("staging", edit)
    assert not plan.of_type(t.FLOW_LOG)
    report = platform_rules.evaluate_plan(plan, platform_rules.facts_for(cfg, plan))
    assert report.ok, report.violations
    # The same plan judged as if the stack recorded its own flow logs fails on its VNet.
    strict = platform_rules.evaluate_plan(plan, StackFacts(environment="staging"))
    assert "vnet-flow-logs" in {v.rule for v in strict.mandatory}


def test_shipped_stacks_pass_every_hardening_rule():
    names = {"aks-command-invoke-off", "aks-node-ssh-off", "aks-image-cleaner", "aks-maintenance-windows",
             "registry-arm-audience-tokens-off", "storage-sas-policy", "nsg-lateral-traversal", "vnet-flow-logs",
             "private-ingestion"}
    for stack in ("staging", "prod"):
        plan = stack_plan(stack)
        rules = tuple(r for r in RULES if r.name in names)
        report = evaluate([platform_rules.to_resource(r) for r in plan.custom()],
                          platform_rules.facts_for(stack_config(stack), plan), rules)
        assert report.ok and not report.violations, report.violations
        assert report.checked > 0
