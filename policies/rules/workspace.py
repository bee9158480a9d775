"""The AML workspace and its computes (mirrors CKV_AMLP_1-3 and 11-16)."""

from __future__ import annotations

from typing import Sequence

from .core import Resource, Rule, StackFacts, dig, unknown
from .tokens import COMPUTE, EXTENSION, WORKSPACE


def user_identity(res: Resource, facts: StackFacts) -> str | None:
    kinds = str(dig(res.props, "identity.type", "")).replace(" ", "").split(",")
    if "UserAssigned" in kinds and dig(res.props, "identity.userAssignedIdentities") and res.props.get(
        "primaryUserAssignedIdentity"
    ):
        return None
    return "the workspace must run as a user-assigned identity (identity.type UserAssigned and " \
           "primaryUserAssignedIdentity set)"


def identity_datastores(res: Resource, facts: StackFacts) -> str | None:
    mode = res.props.get("systemDatastoresAuthMode")
    if mode == "identity":
        return None
    return f"systemDatastoresAuthMode is {mode!r}; set 'identity' so the workspace never stores account keys"


def no_public_behind_vnet(res: Resource, facts: StackFacts) -> str | None:
    if res.props.get("allowPublicAccessWhenBehindVnet") is False:
        return None
    return "allowPublicAccessWhenBehindVnet must be false"


def _compute(res: Resource) -> tuple[str, dict, dict]:
    outer = res.props.get("properties") or {}
    return str(outer.get("computeType", "")), outer, outer.get("properties") or {}


VM = ("AmlCompute", "ComputeInstance")


def compute_local_auth(res: Resource, facts: StackFacts) -> str | None:
    kind, outer, _ = _compute(res)
    if kind in VM + ("Kubernetes", "SynapseSpark") and outer.get("disableLocalAuth") is not True:
        return f"{kind} {res.props.get('computeName')}: disableLocalAuth must be true"
    return None


MANAGED_NETWORK = ("AllowInternetOutbound", "AllowOnlyApprovedOutbound")


def _workspace_of(compute: Resource, workspaces: Sequence[Resource]) -> Resource | None:
    """The compute's workspace: by name, or (in a preview, where a new workspace's name is unknown) by
    the resource its workspaceName came from."""
    name = compute.props.get("workspaceName")
    sources = set(compute.property_dependencies.get("workspaceName") or ())
    for ws in workspaces:
        if ws.urn in sources or (name and not unknown(name) and ws.props.get("workspaceName") == name):
            return ws
    return None


def compute_in_vnet(resources: Sequence[Resource], facts: StackFacts) -> list[tuple[str, str]]:
    """Clusters and instances sit in a subnet, or in a workspace whose AML managed network holds them
    (managed-network compute has no subnet of ours)."""
    workspaces = [r for r in resources if r.type == WORKSPACE]
    out = []
    for res in (r for r in resources if r.type == COMPUTE):
        kind, _, inner = _compute(res)
        if kind not in VM or dig(inner, "subnet.id"):
            continue
        ws = _workspace_of(res, workspaces)
        if ws is not None and dig(ws.props, "managedNetwork.isolationMode") in MANAGED_NETWORK:
            continue
        if ws is None and res.props.get("workspaceName") in facts.managed_network_workspaces:
            continue  # another stack's workspace (a team stack's platform), known to have a managed network
        out.append((res.urn, f"{kind} {res.props.get('computeName')}: no subnet and no managed network on its "
                             "workspace; compute joins the stack's training subnet or the AML managed VNet"))
    return out


def compute_idle_shutdown(res: Resource, facts: StackFacts) -> str | None:
    kind, _, inner = _compute(res)
    if kind == "ComputeInstance" and not inner.get("idleTimeBeforeShutdown"):
        return f"compute instance {res.props.get('computeName')}: set idleTimeBeforeShutdown"
    return None


def compute_no_public_ip(res: Resource, facts: StackFacts) -> str | None:
    kind, _, inner = _compute(res)
    if kind in VM and inner.get("enableNodePublicIp") is not False:
        return f"{kind} {res.props.get('computeName')}: enableNodePublicIp must be false"
    return None


def compute_ssh_off(res: Resource, facts: StackFacts) -> str | None:
    kind, _, inner = _compute(res)
    if kind == "AmlCompute" and inner.get("remoteLoginPortPublicAccess") != "Disabled":
        return f"cluster {res.props.get('computeName')}: remoteLoginPortPublicAccess must be Disabled"
    if kind == "ComputeInstance" and dig(inner, "sshSettings.sshPublicAccess") != "Disabled":
        return f"compute instance {res.props.get('computeName')}: sshSettings.sshPublicAccess must be Disabled"
    return None


def inference_tls(res: Resource, facts: StackFacts) -> str | None:
    if str(res.props.get("extensionType", "")).lower() != "microsoft.azureml.kubernetes":
        return None
    settings = res.props.get("configurationSettings") or {}
    if facts.inference_http:
        return None
    if str(settings.get("allowInsecureConnections", "False")).lower() == "true" or not settings.get("sslCname"):
        return "the AML inference extension must serve HTTPS only (allowInsecureConnections False, sslCname set)"
    return None


RULES = (
    Rule("aml-workspace-user-identity", "The workspace runs as a user-assigned identity",
         frozenset({WORKSPACE}), user_identity, checkov="CKV_AMLP_1"),
    Rule("aml-workspace-identity-datastores", "System datastores are reached with identities, not keys",
         frozenset({WORKSPACE}), identity_datastores, checkov="CKV_AMLP_2"),
    Rule("aml-workspace-no-public-behind-vnet", "No public access to a workspace behind a VNet",
         frozenset({WORKSPACE}), no_public_behind_vnet, checkov="CKV_AMLP_3"),
    Rule("aml-compute-local-auth", "AML compute has local (key) authentication disabled",
         frozenset({COMPUTE}), compute_local_auth, checkov="CKV_AMLP_11"),
    Rule("aml-compute-in-vnet", "Clusters and instances run in a subnet or in a managed-network workspace",
         frozenset(), stack_check=compute_in_vnet, checkov="CKV_AMLP_12"),
    Rule("aml-compute-idle-shutdown", "Compute instances shut down when idle", frozenset({COMPUTE}),
         compute_idle_shutdown, checkov="CKV_AMLP_13"),
    Rule("aml-compute-no-public-ip", "Compute nodes have no public IP", frozenset({COMPUTE}), compute_no_public_ip,
         checkov="CKV_AMLP_14"),
    Rule("aml-compute-ssh-off", "SSH to compute is disabled", frozenset({COMPUTE}), compute_ssh_off,
         checkov="CKV_AMLP_15"),
    Rule("aml-inference-tls", "The AML inference extension serves HTTPS only", frozenset({EXTENSION}),
         inference_tls, checkov="CKV_AMLP_16"),
)
