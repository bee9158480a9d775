"""Endpoints and the organisation's AML registry (CKV_AMLP_17-20).

checkov has no ARM checks for Azure ML endpoints or registries. These mirror the platform rules in
policies/rules/serving.py: no public scoring endpoint or registry (dev's public endpoint is an inline
skip naming the stack file and key), Entra or AML tokens rather than static keys, and no public egress
from managed deployments outside a managed-network workspace.
"""

from __future__ import annotations

from typing import Any

from checkov.arm.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult

ONLINE = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"
DEPLOYMENT = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments"
BATCH = "Microsoft.MachineLearningServices/workspaces/batchEndpoints"
ML_REGISTRY = "Microsoft.MachineLearningServices/registries"


class _Check(BaseResourceCheck):
    def __init__(self, check_id: str, name: str, category: CheckCategories, resources: list[str]) -> None:
        super().__init__(name=name, id=check_id, categories=[category], supported_resources=resources)

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        verdict = self.ok(conf, conf.get("properties") or {})
        if verdict is None:
            return CheckResult.UNKNOWN
        return CheckResult.PASSED if verdict else CheckResult.FAILED

    def ok(self, conf: dict[str, Any], props: dict[str, Any]) -> bool | None:
        raise NotImplementedError


class EndpointNotPublic(_Check):
    def ok(self, conf, props) -> bool | None:
        if str(conf.get("kind", "")).upper() == "K8S":
            return None  # scoring goes through the cluster's internal load balancer
        return props.get("publicNetworkAccess") == "Disabled"


class EndpointTokenAuth(_Check):
    def ok(self, conf, props) -> bool | None:
        return props.get("authMode") in ("AADToken", "AMLToken")


class DeploymentPrivateEgress(_Check):
    def ok(self, conf, props) -> bool | None:
        if props.get("endpointComputeType") != "Managed":
            return None
        return props.get("egressPublicNetworkAccess") == "Disabled"


class RegistryNotPublic(_Check):
    def ok(self, conf, props) -> bool | None:
        return props.get("publicNetworkAccess") == "Disabled"


EndpointNotPublic("CKV_AMLP_17", "Ensure the AML online endpoint is not publicly reachable", CheckCategories.NETWORKING,
                  [ONLINE])
EndpointTokenAuth("CKV_AMLP_18", "Ensure AML endpoints authenticate with Entra or AML tokens, not static keys",
                  CheckCategories.IAM, [ONLINE, BATCH])
DeploymentPrivateEgress("CKV_AMLP_19", "Ensure managed online deployments have no public egress",
                        CheckCategories.NETWORKING, [DEPLOYMENT])
RegistryNotPublic("CKV_AMLP_20", "Ensure the AML registry is not publicly reachable", CheckCategories.NETWORKING,
                  [ML_REGISTRY])
