"""Network rules: every subnet has an NSG (except the subnets Azure forbids one on)."""

from __future__ import annotations

from typing import Any

from checkov.arm.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult

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
