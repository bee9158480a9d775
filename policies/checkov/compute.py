"""Azure ML compute rules (PSRule Azure.ML.ComputeIdleShutdown, ComputeVnet, DisableLocalAuth; Azure Policy),
and TLS on the AML inference extension. checkov has no ARM checks for AML computes."""

from __future__ import annotations

from typing import Any

from checkov.arm.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult

COMPUTES = ["Microsoft.MachineLearningServices/workspaces/computes"]
VM_COMPUTE = ("AmlCompute", "ComputeInstance")


def _props(conf: dict[str, Any]) -> tuple[str | None, dict[str, Any], dict[str, Any]]:
    outer = conf.get("properties") or {}
    return outer.get("computeType"), outer, outer.get("properties") or {}


class _ComputeCheck(BaseResourceCheck):
    applies_to: tuple[str, ...] = VM_COMPUTE

    def __init__(self, check_id: str, name: str, category: CheckCategories) -> None:
        super().__init__(name=name, id=check_id, categories=[category], supported_resources=COMPUTES)

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        kind, outer, inner = _props(conf)
        if kind not in self.applies_to:
            return CheckResult.UNKNOWN
        return CheckResult.PASSED if self.ok(kind, outer, inner) else CheckResult.FAILED

    def ok(self, kind: str, outer: dict[str, Any], inner: dict[str, Any]) -> bool:
        raise NotImplementedError


class LocalAuthDisabled(_ComputeCheck):
    applies_to = ("AmlCompute", "ComputeInstance", "Kubernetes", "SynapseSpark")

    def ok(self, kind, outer, inner) -> bool:
        return outer.get("disableLocalAuth") is True


class IdleShutdown(_ComputeCheck):
    applies_to = ("ComputeInstance",)

    def ok(self, kind, outer, inner) -> bool:
        return bool(inner.get("idleTimeBeforeShutdown"))


class NoPublicIp(_ComputeCheck):
    def ok(self, kind, outer, inner) -> bool:
        return inner.get("enableNodePublicIp") is False


class SshOff(_ComputeCheck):
    def ok(self, kind, outer, inner) -> bool:
        if kind == "AmlCompute":
            return inner.get("remoteLoginPortPublicAccess") == "Disabled"
        return (inner.get("sshSettings") or {}).get("sshPublicAccess") == "Disabled"


LocalAuthDisabled("CKV_AMLP_11", "Ensure AML compute has local (key) authentication disabled", CheckCategories.IAM)
# CKV_AMLP_12 (compute in a subnet or a managed-network workspace) needs the workspace: compute_network.yaml.
IdleShutdown("CKV_AMLP_13", "Ensure AML compute instances shut down when idle", CheckCategories.GENERAL_SECURITY)
NoPublicIp("CKV_AMLP_14", "Ensure AML compute nodes have no public IP", CheckCategories.NETWORKING)
SshOff("CKV_AMLP_15", "Ensure SSH to AML compute is disabled", CheckCategories.NETWORKING)


class InferenceTls(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure the Azure ML inference extension serves HTTPS only",
            id="CKV_AMLP_16",
            categories=[CheckCategories.ENCRYPTION],
            supported_resources=["Microsoft.KubernetesConfiguration/extensions"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        props = conf.get("properties") or {}
        if str(props.get("extensionType", "")).lower() != "microsoft.azureml.kubernetes":
            return CheckResult.UNKNOWN
        settings = props.get("configurationSettings") or {}
        insecure = str(settings.get("allowInsecureConnections", "False")).lower() == "true"
        return CheckResult.FAILED if insecure or not settings.get("sslCname") else CheckResult.PASSED


InferenceTls()
