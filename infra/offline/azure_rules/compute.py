"""Compute without public IPs needs a network to live in."""

from __future__ import annotations

from typing import Any, Iterable

from infra.offline.azure_rules.base import AzureRule, PlanView

WORKSPACE = "Microsoft.MachineLearningServices/workspaces"
COMPUTE = "Microsoft.MachineLearningServices/workspaces/computes"
MANAGED = ("AllowInternetOutbound", "AllowOnlyApprovedOutbound")


def _managed(ws_inputs: dict[str, Any]) -> bool:
    return (ws_inputs.get("managedNetwork") or {}).get("isolationMode") in MANAGED


def no_public_ip_needs_network(view: PlanView) -> Iterable[tuple[str, str]]:
    """Clusters, instances and serverless compute with no public IP: a subnet, or a managed-network workspace."""
    for ws in view.of_arm_type(WORKSPACE):
        settings = ws.inputs.get("serverlessComputeSettings") or {}
        if settings.get("serverlessComputeNoPublicIP") is True and not settings.get("serverlessComputeCustomSubnet") \
                and not _managed(ws.inputs):
            yield ws.urn, ("serverless compute has no public IP but neither a custom subnet nor a managed network: "
                           "Azure ML supports no-public-IP compute only inside a virtual network")
    for c in view.of_arm_type(COMPUTE):
        outer = c.inputs.get("properties") or {}
        kind = outer.get("computeType")
        inner = outer.get("properties") or {}
        if kind not in ("AmlCompute", "ComputeInstance") or inner.get("enableNodePublicIp") is not False:
            continue
        if (inner.get("subnet") or {}).get("id"):
            continue
        # A team stack's compute sits in its platform stack's workspace (a referenced plan's).
        home = view.get((c.id or "").rsplit("/computes/", 1)[0])
        if home is not None and _managed(home.inputs):
            continue
        where = "its workspace has no managed network" if home is not None else "its workspace is not in the plan"
        yield c.urn, (f"{kind} {c.physical_name} has no public IP and no subnet, and {where}: Azure ML supports "
                      "no-public-IP compute only in a VNet subnet or a managed VNet")


RULES = (
    AzureRule(
        "azure-no-public-ip-compute-network",
        "No-public-IP compute runs in a subnet or in a workspace with a managed network",
        # "Compute instance/cluster or serverless compute with no public IP ... only valid when using an Azure
        # Virtual Network"; with a managed VNet the compute needs no subnet (hashicorp/terraform-provider-azurerm#25901).
        "https://learn.microsoft.com/azure/machine-learning/how-to-secure-training-vnet"
        "#compute-instancecluster-or-serverless-compute-with-no-public-ip",
        no_public_ip_needs_network,
    ),
)
