"""Where a stack's config deliberately relaxes a rule, say so in the scan.

Each entry returns, for a rendered resource and the stack's config, the
checkov checks the config relaxes and why, naming the config key and the
stack file. The renderer writes them as inline skips, so the report shows
every relaxation with its reason instead of a silent pass or a failure.
"""

from __future__ import annotations

from typing import Any, Callable

from infra.config import StackConfig, TeamStackConfig
from infra.topology import Posture, Topology
from policies.relaxations_encryption import encryption_skips

Skip = tuple[str, str]
Rule = Callable[[dict[str, Any], StackConfig], list[Skip]]

STORAGE = "Microsoft.Storage/storageAccounts"
REGISTRY = "Microsoft.ContainerRegistry/registries"
WORKSPACE = "Microsoft.MachineLearningServices/workspaces"
COMPUTE = "Microsoft.MachineLearningServices/workspaces/computes"


def _public(cfg: StackConfig, what: str, filtered: bool = True) -> str:
    ranges = ", ".join(cfg.network.allowed_ip_ranges)
    reach = f"denied except for {ranges}" if filtered else f"with no IP filter (the {what} has none)"
    return (
        f"{cfg.source} sets amlplatform:network.mode=public: the {what} keeps a public endpoint "
        f"(a dev-only relaxation), {reach}"
    )


def _no_private_endpoint(cfg: StackConfig, check: str, what: str) -> list[Skip]:
    if Topology.of(cfg).posture.private_endpoints:
        return []
    return [(check, f"{cfg.source} sets amlplatform:network.mode=public: the {what} has no private endpoint "
                    "in this environment (private and managed modes add one)")]


def _storage(res: dict[str, Any], cfg: StackConfig) -> list[Skip]:
    # Both accounts (the workspace's and the data lake): in public mode the AML managed VNet reaches them through
    # private-endpoint outbound rules, so CKV2_AMLP_2 passes without a skip.
    out = []
    if Topology.of(cfg).public:
        out.append(("CKV_AZURE_59", _public(cfg, "storage account")))
    if not cfg.is_geo_replicated:
        out.append((
            "CKV_AZURE_206",
            f"{cfg.source} sets amlplatform:storage.replication={cfg.storage.replication}: "
            f"{cfg.platform.environment} keeps its copies in one region by design (prod is geo-redundant)",
        ))
    return out


def _registry(res: dict[str, Any], cfg: StackConfig) -> list[Skip]:
    out = _no_private_endpoint(cfg, "CKV2_AMLP_4", "container registry")
    sku = cfg.registry.sku
    if Topology.of(cfg).public:
        out.append(("CKV_AZURE_139", _public(cfg, f"{sku} container registry", filtered=sku == "Premium")))
    if sku != "Premium":
        out.append((
            "CKV_AZURE_163",
            f"{cfg.source} sets amlplatform:registry.sku={sku}: Defender image scanning needs Standard or "
            "Premium, a cost the dev registry skips",
        ))
    if not cfg.registry.zone_redundancy:
        out.append((
            "CKV_AZURE_233",
            f"{cfg.source} sets amlplatform:registry.zoneRedundancy=false: zone redundancy is prod's "
            f"(and needs Premium); {cfg.platform.environment} accepts a zonal registry",
        ))
    if not cfg.registry.quarantine:
        out.append((
            "CKV_AZURE_166",
            f"{cfg.source} leaves amlplatform:registry.quarantine=false: quarantine holds every pushed image "
            "until a scanner releases it, which would block the images Azure ML builds for its own jobs",
        ))
    return out


def _workspace(res: dict[str, Any], cfg: StackConfig) -> list[Skip]:
    # The workspace's own outbound rules depend on it, which CKV2_AMLP_1 counts in the managed-VNet modes.
    out = []
    posture = Topology.of(cfg).posture
    if posture.public_endpoints:
        out.append(("CKV2_AZURE_49", _public(cfg, "workspace", filtered=False)))
    separate = ("the managed VNet's outbound rules are separate workspaces/outboundRules resources (inline rules "
                "would drift as AML adds its own); CKV2_AMLP_2 checks the storage rules")
    how = {
        Posture.PUBLIC: f"dev's compute runs in the AML managed VNet (AllowInternetOutbound): {separate}",
        Posture.PRIVATE: "inbound access goes through private endpoints in the stack's own VNet, not the AML managed "
                         "VNet this check looks for",
        Posture.MANAGED: separate,
    }[posture]
    out.append(("CKV_AZURE_243", f"{cfg.source} sets amlplatform:network.mode={posture.value}: {how}"))
    return out


def _aks(res: dict[str, Any], cfg: StackConfig) -> list[Skip]:
    # The first two are the known-unfixable pair for ARM; encryption at host is a stack switch.
    out = []
    if not cfg.aks.encryption_at_host:
        out.append(("CKV_AZURE_227", f"{cfg.source} sets amlplatform:aks.encryptionAtHost=false: the node pools "
                                     "run without encryption at host (the subscription lacks the "
                                     "Microsoft.Compute/EncryptionAtHost feature); OS disks stay encrypted at rest"))
    return out + [
        ("CKV_AZURE_6", f"{cfg.source} enables amlplatform:aks: the cluster is private "
                        "(apiServerAccessProfile.enablePrivateCluster), so its API server has no public endpoint "
                        "to restrict; checkov's ARM check knows no private-cluster exemption"),
        ("CKV_AZURE_172", f"{cfg.source} enables amlplatform:aks with secret rotation on "
                          "(azureKeyvaultSecretsProvider.config.enableSecretRotation), but ARM add-on config values "
                          "are strings ('true') and the check wants a JSON boolean"),
    ]


def _vnet(res: dict[str, Any], cfg: StackConfig) -> list[Skip]:
    if cfg.network.flow_logs.mode != "central":
        return []
    return [("CKV2_AMLP_5", f"{cfg.source} sets amlplatform:network.flowLogs.mode=central: the landing zone records "
                            "this VNet's flow logs with traffic analytics (Azure Policy 6d7c9ba4 / 052c180e or its "
                            "own), so the stack adds none")]


def _ingestion(res: dict[str, Any], cfg: StackConfig) -> list[Skip]:
    if cfg.network.monitor_private_link:
        return []
    why = {
        "public": "dev's telemetry is sent over the public endpoints, Entra-only (it has no VNet for a scope's endpoint)",
        "create": "telemetry stays on the public endpoint (Entra-authorised) until the stack turns the scope on",
        "existing": "with central DNS zones Microsoft allows one private link scope per DNS, which the landing zone "
                    "owns; this stack's telemetry uses the public endpoint (Entra-authorised)",
        "none": "with policy-made DNS zones Microsoft allows one private link scope per DNS, which the landing zone "
                "owns; this stack's telemetry uses the public endpoint (Entra-authorised)",
    }[Topology.of(cfg).dns]
    return [("CKV_AMLP_30", f"{cfg.source} sets amlplatform:network.monitorPrivateLink=false: {why}")]


def _extension(res: dict[str, Any], cfg: StackConfig) -> list[Skip]:
    if cfg.aks.tls.mode == "internalHttp":
        return [("CKV_AMLP_16", f"{cfg.source} sets amlplatform:aks.tls.mode=internalHttp: scoring is plain HTTP "
                                "inside the private VNet behind the internal load balancer (a deliberate exception)")]
    return []


def _asset_file(res: dict[str, Any], cfg: StackConfig) -> str:
    """The seeded YAML file an endpoint came from (its `amlplatform.file` property), under the assets folder."""
    inner = (res.get("properties") or {}).get("properties") or {}
    return f"{cfg.assets.folder or 'assets'}/{inner.get('amlplatform.file', '?')}"


def _online_endpoint(res: dict[str, Any], cfg: StackConfig) -> list[Skip]:
    out = []
    props = res.get("properties") or {}
    if Topology.of(cfg).public and props.get("publicNetworkAccess") == "Enabled":
        out.append(("CKV_AMLP_17", _public(cfg, "online endpoint", filtered=False)))
    out += _key_auth(res, cfg)
    return out


def _key_auth(res: dict[str, Any], cfg: StackConfig) -> list[Skip]:
    if (res.get("properties") or {}).get("authMode") != "Key":
        return []
    return [("CKV_AMLP_18", f"{_asset_file(res, cfg)} sets auth_mode: key: clients score with a static key that never "
                            "expires (a deliberate exception; aad_token or aml_token otherwise)")]


def _deployment(res: dict[str, Any], cfg: StackConfig) -> list[Skip]:
    props = res.get("properties") or {}
    if props.get("endpointComputeType") != "Managed" or props.get("egressPublicNetworkAccess") == "Disabled":
        return []
    topo = Topology.of(cfg)
    if topo.managed_network:
        mode = topo.posture.value
        return [("CKV_AMLP_19", f"{cfg.source} sets amlplatform:network.mode={mode}: the deployment's outbound "
                                "traffic follows the workspace's AML managed network and its rules; the flag no longer "
                                "applies there (concept-secure-online-endpoint) and keeps the API's default, Enabled")]
    return []


RULES: dict[str, Rule] = {
    "Microsoft.MachineLearningServices/workspaces/onlineEndpoints": _online_endpoint,
    "Microsoft.MachineLearningServices/workspaces/batchEndpoints": _key_auth,
    "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments": _deployment,
    STORAGE: _storage,
    REGISTRY: _registry,
    WORKSPACE: _workspace,
    "Microsoft.ContainerService/managedClusters": _aks,
    "Microsoft.KubernetesConfiguration/extensions": _extension,
    "Microsoft.Network/virtualNetworks": _vnet,
    "Microsoft.OperationalInsights/workspaces": _ingestion,
    "Microsoft.Insights/components": _ingestion,
}


def _team_compute(res: dict[str, Any], team: TeamStackConfig) -> list[Skip]:
    """A team stack's compute sits in its platform stack's workspace, which its template does not hold:
    CKV_AMLP_12's graph cannot follow it there. Skipped only where the platform's workspace has a managed
    network (compute with a subnet passes anyway); the platform rule aml-compute-in-vnet still checks it."""
    platform = team.platform_config
    topo = Topology.of(platform)
    isolation = topo.isolation
    outer = res.get("properties") or {}
    if isolation is None or (outer.get("properties") or {}).get("subnet"):
        return []
    return [("CKV_AMLP_12", f"{team.source} is a team stack on {platform.source}: the compute runs in that stack's "
                            f"workspace, whose AML managed network (amlplatform:network.mode={topo.posture.value}, "
                            f"isolation {isolation}) holds it; that workspace is in the platform stack's template")]


def for_stack(cfg: StackConfig | TeamStackConfig) -> Callable[[dict[str, Any]], list[Skip]]:
    """The skip rule the renderer applies for this stack (a team stack's: its platform stack's, and its own)."""
    team = cfg if isinstance(cfg, TeamStackConfig) else None
    governing = cfg.platform_config if isinstance(cfg, TeamStackConfig) else cfg

    def skips(res: dict[str, Any]) -> list[Skip]:
        rule = RULES.get(res["type"])
        out = rule(res, governing) if rule else []
        if team is not None and res["type"] == COMPUTE:
            out += _team_compute(res, team)
        return out + encryption_skips(res, governing)

    return skips
