"""AKS hardening checkov lacks for ARM (Azure Policy 89f2d532, 28257686, af3c26b2): Command Invoke off, SSH off
on every node pool, Image Cleaner on. The same tests as the platform rules in policies/rules/aks.py."""

from __future__ import annotations

from typing import Any

from checkov.arm.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult

from policies.checkov._base import ValueCheck
from policies.rules.aks import image_cleaner_interval_ok, ssh_disabled

CLUSTER = "Microsoft.ContainerService/managedClusters"
AGENT_POOL = "Microsoft.ContainerService/managedClusters/agentPools"

ValueCheck(
    "CKV_AMLP_25", "Ensure AKS clusters have Command Invoke (az aks command invoke) disabled", [CLUSTER],
    "properties/apiServerAccessProfile/disableRunCommand", [True], CheckCategories.KUBERNETES,
)


class NodeSshOff(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(name="Ensure every AKS node pool has SSH disabled", id="CKV_AMLP_26",
                         categories=[CheckCategories.KUBERNETES], supported_resources=[CLUSTER, AGENT_POOL])

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        props = conf.get("properties") or {}
        pools = [props] if conf.get("type") == AGENT_POOL else props.get("agentPoolProfiles") or []
        ok = bool(pools) and all(isinstance(p, dict) and ssh_disabled(p) for p in pools)
        return CheckResult.PASSED if ok else CheckResult.FAILED


class ImageCleaner(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(name="Ensure AKS clusters run Image Cleaner with an interval AKS accepts", id="CKV_AMLP_27",
                         categories=[CheckCategories.KUBERNETES], supported_resources=[CLUSTER])

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        cleaner = ((conf.get("properties") or {}).get("securityProfile") or {}).get("imageCleaner") or {}
        ok = isinstance(cleaner, dict) and image_cleaner_interval_ok(cleaner)
        return CheckResult.PASSED if ok else CheckResult.FAILED


NodeSshOff()
ImageCleaner()
