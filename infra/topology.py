"""What a stack's config implies for its shape, worked out once: network posture, compute and identity names.

The program, the team program, seeding, the platform rules' facts and the checkov relaxations all read
these instead of decoding `network.mode` (or spelling a shared name) each on their own. No Pulumi here:
validating and checking a stack stays light.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from infra.config.rbac import TEAM_ROLES
from infra.config import StackConfig
from infra.naming import Names

# The AML Kubernetes compute that attaches the stack's AKS cluster (private mode with aks.enabled).
INFERENCE_COMPUTE = "aks-inference"

# The identities' component keys; each component names its UserAssignedIdentity `<key>-uai`
# (infra/components/identity.py), the name the platform rules know it by in a preview.
WORKSPACE_IDENTITY = "workspace-identity"
COMPUTE_IDENTITY = "compute-identity"
INSTANCE_IDENTITY = "instance-identity"
ENDPOINTS_IDENTITY = "endpoints-identity"


def identity_resource(key: str) -> str:
    """The logical name of an identity component's UserAssignedIdentity."""
    return f"{key}-uai"


# The team role keys a team grants (`amlplatform:teams.<team>.<key>`), in the config's order; what each
# grants is infra/access_grants.py's TEAM_GRANTS.
TEAM_ROLE_KEYS: tuple[str, ...] = TEAM_ROLES


class Posture(enum.Enum):
    """`network.mode`: how the stack reaches Azure and how its compute reaches out.

    public: no VNet of its own; stores keep public endpoints behind their IP filters, compute runs in the
        AML managed VNet with internet outbound (dev: no firewall to pay for).
    private: the stack's own VNet holds private endpoints, private DNS and the compute subnets
        (training, scoring, AKS); public network access is off.
    managed: the stack's own VNet holds the inbound private endpoints and DNS only; compute runs in the
        AML managed VNet with `network.isolationMode`.
    """

    PUBLIC = "public"
    PRIVATE = "private"
    MANAGED = "managed"

    @property
    def own_vnet(self) -> bool:
        """The stack declares a VNet (private endpoints, DNS zones, flow logs)."""
        return self is not Posture.PUBLIC

    @property
    def public_endpoints(self) -> bool:
        """The stores and the workspace keep public network access (behind `network.allowedIpRanges`)."""
        return self is Posture.PUBLIC

    @property
    def private_endpoints(self) -> bool:
        """The stores and the workspace get private endpoints in the stack's VNet."""
        return self.own_vnet

    @property
    def compute_subnets(self) -> bool:
        """Compute joins the stack's own VNet (training and scoring subnets); otherwise the AML managed VNet."""
        return self is Posture.PRIVATE


@dataclass(frozen=True)
class Topology:
    """The stack's shape as its config decides it."""

    posture: Posture
    # The AML managed VNet's isolation mode, or None where compute joins the stack's own VNet. Compute
    # without public IPs needs a VNet, and dev has none of its own: public mode runs its compute in the
    # managed VNet with internet outbound (no firewall to pay for).
    isolation: str | None
    # The public endpoints' IP filter (public posture only).
    allowed_ip_ranges: tuple[str, ...]
    # How private DNS is resolved: `network.dns` (create, existing, none), or "public" without a VNet.
    dns: str
    # The AKS inference compute's name, or None without AKS (AKS runs in private mode's scoring subnet).
    inference_compute: str | None
    # Whom a personal compute instance is declared for (none when instances are off).
    instance_users: tuple[str, ...]

    @classmethod
    def of(cls, cfg: StackConfig) -> Topology:
        n = cfg.network
        posture = Posture(n.mode)
        isolation = {Posture.PUBLIC: "AllowInternetOutbound", Posture.MANAGED: n.isolation_mode}.get(posture)
        return cls(
            posture=posture,
            isolation=isolation,
            allowed_ip_ranges=tuple(n.allowed_ip_ranges) if posture.public_endpoints else (),
            dns=n.dns if posture.own_vnet else "public",
            inference_compute=INFERENCE_COMPUTE if cfg.aks.enabled and posture.compute_subnets else None,
            instance_users=_instance_users(cfg),
        )

    @property
    def public(self) -> bool:
        return self.posture.public_endpoints

    @property
    def managed_network(self) -> bool:
        """The workspace has an AML managed VNet (public and managed posture)."""
        return self.isolation is not None

    def compute_names(self, cfg: StackConfig, names: Names) -> list[str]:
        """Every compute the workspace gets from this stack: clusters, instances, attached, AKS inference."""
        out = [c.name for c in cfg.compute.clusters or []]
        out += [names.instance(user) for user in self.instance_users]
        out += [a.name for a in cfg.compute.attach]
        if self.inference_compute:
            out.append(self.inference_compute)
        return sorted(set(out))


def _instance_users(cfg: StackConfig) -> tuple[str, ...]:
    """One personal compute instance per team member (or per listed user) when instances are on."""
    inst = cfg.compute.instances
    if not inst.enabled:
        return ()
    if inst.users is not None:
        return tuple(inst.users)
    return tuple(dict.fromkeys(m for team in cfg.teams.values() for m in team.members))
