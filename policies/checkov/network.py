"""Network rules: every subnet has an NSG (except the subnets Azure forbids one on), NSGs deny SSH and RDP
towards the VNet, flow logs feed traffic analytics."""

from __future__ import annotations

from typing import Any

from checkov.arm.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult

from policies.rules.network import flow_log_problem, open_lateral_ports
from policies.rules.core import Resource

# Azure refuses or breaks with an NSG on these.
NO_NSG = {"GatewaySubnet", "AzureFirewallSubnet", "AzureFirewallManagementSubnet", "RouteServerSubnet"}


def _has_nsg(subnet: dict[str, Any]) -> bool:
    props = subnet.get("properties") or {}
    nsg = props.get("networkSecurityGroup") or {}
    return bool(subnet.get("name") in NO_NSG or (isinstance(nsg, dict) and nsg.get("id")))


class SubnetsHaveNsg(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure every subnet has a network security group",
            id="CKV_AMLP_10",
            categories=[CheckCategories.NETWORKING],
            supported_resources=["Microsoft.Network/virtualNetworks", "Microsoft.Network/virtualNetworks/subnets"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if conf.get("type") == "Microsoft.Network/virtualNetworks/subnets":
            name = str(conf.get("name", "")).split("/")[-1]
            return CheckResult.PASSED if _has_nsg({**conf, "name": name}) else CheckResult.FAILED
        subnets = (conf.get("properties") or {}).get("subnets") or []
        return CheckResult.PASSED if all(_has_nsg(s) for s in subnets if isinstance(s, dict)) else CheckResult.FAILED


SubnetsHaveNsg()


class NoLateralTraversal(BaseResourceCheck):
    """PSRule Azure.NSG.LateralTraversal: outbound SSH (22) and RDP (3389) towards VirtualNetwork denied."""

    def __init__(self) -> None:
        super().__init__(
            name="Ensure NSGs deny outbound SSH and RDP towards the virtual network (lateral movement)",
            id="CKV_AMLP_29",
            categories=[CheckCategories.NETWORKING],
            supported_resources=["Microsoft.Network/networkSecurityGroups"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        rules = (conf.get("properties") or {}).get("securityRules") or []
        return CheckResult.FAILED if open_lateral_ports(rules) else CheckResult.PASSED


class FlowLogAnalytics(BaseResourceCheck):
    """Azure Policy 2f080164 and 27960feb: enabled, with traffic analytics every 10 or 60 minutes."""

    def __init__(self) -> None:
        super().__init__(
            name="Ensure flow logs are enabled, keep 90 days and feed traffic analytics every 10 or 60 minutes",
            id="CKV_AMLP_32",
            categories=[CheckCategories.LOGGING],
            supported_resources=["Microsoft.Network/networkWatchers/flowLogs"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        res = Resource(urn="", type="", name="", props=conf.get("properties") or {})
        return CheckResult.FAILED if flow_log_problem(res) else CheckResult.PASSED


NoLateralTraversal()
FlowLogAnalytics()
