"""The interface every component shares, shaped like Azure Verified Modules' (RMFR4/RMFR5).

AVM gives every resource module the same optional settings under the same names: `tags`, `lock`,
`role_assignments`, `diagnostic_settings`, `private_endpoints`, `managed_identities` and
`customer_managed_key` (https://azure.github.io/Azure-Verified-Modules/specs/shared/interfaces and the
schemas in Azure/Azure-Verified-Modules docs/static/includes/interfaces). Here they travel together in
`Common`, beside what places a component (resource group, region, subscription) and Pulumi's own `protect`.

A component declares the settings it supports (`Component.SUPPORTS`); a `Common` that carries any other is
refused with a PropsError naming the component and the setting, before the component declares anything,
so no setting is ever silently dropped. The helpers below turn the settings into resources parented to
the component, so every component handles them the same way.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import ClassVar, Literal, Mapping, Sequence

import pulumi
from pulumi_azure_native import authorization, monitor, network

from infra.config.rbac import PrincipalType
from infra.azure_facts.diagnostic_categories import ALL_LOGS, for_type
from infra.azure_facts.dns_zones import ZONES_BY_GROUP
from infra.azure_facts.roles import BUILTIN_ROLES, role_definition_id
from infra.naming import RULES, stable_guid

LockKind = Literal["CanNotDelete", "ReadOnly"]

# The shared settings a component may support (Common's fields beside its placement), in AVM's names.
SETTINGS = frozenset({"tags", "lock", "role_assignments", "diagnostic_settings", "private_endpoints",
                      "managed_identities", "customer_managed_key", "protect"})
# A role definition ID as ARM takes it: subscription-scoped or tenant-scoped.
_ROLE_DEFINITION_ID = re.compile(
    r"^(/subscriptions/[0-9a-fA-F-]{36})?/providers/Microsoft\.Authorization/roleDefinitions/[0-9a-fA-F-]{36}$")
# Management lock names: "a maximum of 260 characters. It cannot contain <, > %, &, :, \, ?, /, or any control
# characters"; notes: "Maximum of 512 characters" (Management Locks - Create Or Update By Scope, REST reference).
_LOCK_NAME_FORBIDDEN = re.compile(r"[<>%&:\\?/\x00-\x1f\x7f]")
LOCK_NAME_MAX, LOCK_NOTES_MAX = 260, 512


class PropsError(ValueError):
    """Props that would fail on Azure, caught before any resource is declared."""


def check_name(rule: str, name: str) -> str:
    problem = RULES[rule].check(name)
    if problem:
        raise PropsError(f"{rule} name {name!r} {problem}")
    return name


@dataclass(frozen=True)
class Lock:
    """A management lock on the component's stateful resource (AVM `lock`)."""

    kind: LockKind
    """CanNotDelete: the resource can change but not be deleted; ReadOnly: neither. A lock applies to everything
    below the resource too (extension resources such as role assignments included)."""
    name: str | None = None
    """The lock's name; None: lock-<the component's resource key>."""
    notes: str | None = None
    """Why the lock is there (at most 512 characters); None: the component says what the resource holds."""

    def __post_init__(self) -> None:
        if self.kind not in ("CanNotDelete", "ReadOnly"):
            raise PropsError(f"lock kind must be CanNotDelete or ReadOnly, got {self.kind!r}")
        if self.name is not None and (not self.name or len(self.name) > LOCK_NAME_MAX
                                      or _LOCK_NAME_FORBIDDEN.search(self.name)):
            raise PropsError(f"lock name {self.name!r} must be 1-{LOCK_NAME_MAX} characters without < > % & : \\ ? / "
                             "or control characters")
        if self.notes is not None and len(self.notes) > LOCK_NOTES_MAX:
            raise PropsError(f"lock notes must be at most {LOCK_NOTES_MAX} characters (these have {len(self.notes)})")

    def notes_for(self, what: str) -> str:
        """The notes the lock carries: its own, or a line saying what `what` holds and how to remove the lock."""
        if self.notes is not None:
            return self.notes
        if self.kind == "CanNotDelete":
            return f"amlplatform: the {what} holds state; remove this lock deliberately before deleting it."
        return f"amlplatform: the {what} is read-only; remove this lock deliberately before changing or deleting it."


def stack_lock(locks: bool) -> Lock | None:
    """The lock a stack's `protection.locks` switch puts on its stateful resources: CanNotDelete, or none."""
    return Lock("CanNotDelete") if locks else None


@dataclass(frozen=True)
class RoleAssignment:
    """Grant a role on the component's main resource to a principal (AVM `role_assignments`).

    The Azure name is a uuid5 of scope, principal and role, so a grant keeps its name across runs and a
    second declaration of the same grant is caught as a duplicate rather than answered with a 409."""

    key: str
    """Names the grant in the Pulumi URN (<component>-ra-<key>); unique within one Common."""
    role: pulumi.Input[str]
    """A built-in role's name (infra/azure_facts/roles.py BUILTIN_ROLES) or a role definition ID
    (/subscriptions/<GUID>/providers/Microsoft.Authorization/roleDefinitions/<GUID>, or a custom role's ID)."""
    principal_id: pulumi.Input[str]
    """The object ID of the user, group or service principal (a managed identity's principal ID)."""
    principal_type: PrincipalType
    """What the principal is; stated so ARM need not look it up (a new identity may not have replicated yet)."""
    description: str = ""
    """Shown with the assignment in the portal; empty: none."""
    condition: str | None = None
    """An ABAC condition limiting the grant (Azure ABAC, conditions-format), such as a blob container prefix."""
    condition_version: Literal["2.0"] | None = None
    """The condition language's version: "2.0", the only one ARM accepts; set exactly when `condition` is."""

    def __post_init__(self) -> None:
        if not self.key:
            raise PropsError("a role assignment needs a key (it names the grant in the Pulumi URN)")
        if isinstance(self.role, str) and self.role not in BUILTIN_ROLES and not _ROLE_DEFINITION_ID.match(self.role):
            raise PropsError(f"role {self.role!r} is not in infra/azure_facts/roles.py BUILTIN_ROLES, nor a role "
                             "definition ID (/subscriptions/<GUID>/providers/Microsoft.Authorization/roleDefinitions/"
                             "<GUID>)")
        if (self.condition is None) != (self.condition_version is None):
            raise PropsError(f"role assignment {self.key!r}: condition and condition_version go together "
                             "(conditionVersion 2.0 with a condition, neither without)")
        if self.condition_version not in (None, "2.0"):
            raise PropsError(f"role assignment {self.key!r}: condition_version must be 2.0, the only version ARM "
                             f"accepts, got {self.condition_version!r}")

    def role_definition_id(self, subscription_id: pulumi.Input[str]) -> pulumi.Input[str]:
        """The role definition ID ARM takes: a built-in role's under the subscription, or the ID as given."""
        if isinstance(self.role, str) and self.role in BUILTIN_ROLES:
            return builtin_role_id(subscription_id, self.role)
        return pulumi.Output.from_input(self.role)


@dataclass(frozen=True)
class DiagnosticSettings:
    """Send a resource's logs and metrics to a Log Analytics workspace (AVM `diagnostic_settings`)."""

    workspace_id: pulumi.Input[str]
    """The Log Analytics workspace's ARM resource ID."""


@dataclass(frozen=True)
class PrivateEndpoints:
    """Where a component's private endpoints go and which DNS zones register them (AVM `private_endpoints`)."""

    subnet_id: pulumi.Input[str]
    """The ARM ID of the subnet the endpoints' network interfaces join."""
    zone_ids: Mapping[str, pulumi.Input[str]] | None = None
    """Private DNS zone name -> zone ID for the endpoints' zone groups; None: no zone groups (a landing-zone
    policy adds them)."""


@dataclass(frozen=True)
class ManagedIdentities:
    """The managed identities a resource runs as (AVM `managed_identities`)."""

    system_assigned: bool = False
    """Give the resource a system-assigned identity (created and deleted with it)."""
    user_assigned_resource_ids: Sequence[pulumi.Input[str]] = ()
    """ARM IDs of user-assigned identities to attach; where the resource has a primary identity, the first."""

    def __post_init__(self) -> None:
        if not self.system_assigned and not self.user_assigned_resource_ids:
            raise PropsError("managed_identities names no identity: set system_assigned or a user-assigned ID")

    @property
    def type(self) -> str:
        """The identity type as ARM's ManagedServiceIdentity spells it."""
        if self.system_assigned:
            return "SystemAssigned,UserAssigned" if self.user_assigned_resource_ids else "SystemAssigned"
        return "UserAssigned"


@dataclass(frozen=True)
class UserAssignedIdentity:
    """A user-assigned managed identity as other resources refer to it."""

    resource_id: pulumi.Input[str]
    """Its ARM resource ID (/subscriptions/.../Microsoft.ManagedIdentity/userAssignedIdentities/<name>)."""
    client_id: pulumi.Input[str] | None = None
    """Its client (application) ID, for resources that name an identity by it (a container registry's key
    settings); None where no consumer needs it."""


@dataclass(frozen=True)
class CustomerManagedKey:
    """A key in a key vault that encrypts the resource's data, and the identity that reaches it (AVM
    `customer_managed_key`).

    Each service takes the key in its own shape: storage its vault URI and name (no version: it adopts
    new versions), the registry the versionless key URI, the workspace and AKS KMS a versioned key URI.
    The key carries all of them; each component picks what its API takes."""

    key_vault_resource_id: pulumi.Input[str]
    """The vault's ARM resource ID."""
    key_vault_uri: pulumi.Input[str]
    """The vault's URI (https://<vault>.vault.azure.net/)."""
    key_name: str
    """The key's name in the vault."""
    key_resource_id: pulumi.Input[str]
    """The key's ARM resource ID (.../vaults/<vault>/keys/<key>): where grants on the key are scoped."""
    key_uri: pulumi.Input[str]
    """The key's URI without a version: consumers that take it follow each new version."""
    key_uri_with_version: pulumi.Input[str]
    """The key's current version's URI: consumers that take it stay on it until moved."""
    user_assigned_identity: UserAssignedIdentity | None
    """The identity the resource reaches the key with; None: the resource's own identity (a disk encryption
    set's system-assigned one, the AKS cluster's)."""


@dataclass
class Common:
    """Where a component goes and the shared settings it takes besides its own (AVM's interface)."""

    resource_group_name: pulumi.Input[str]
    """The resource group every resource of the component is created in."""
    location: str
    """The Azure region, as ARM names it (westeurope)."""
    subscription_id: pulumi.Input[str]
    """The subscription the resource group lives in; built-in role definition IDs are built under it."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags on every taggable resource of the component; empty: none."""
    lock: Lock | None = None
    """A management lock on the component's stateful resource; None: no lock."""
    role_assignments: Sequence[RoleAssignment] = ()
    """Grants on the component's main resource, keys unique."""
    diagnostic_settings: DiagnosticSettings | None = None
    """Where the component's resource logs and metrics go; None: nowhere."""
    private_endpoints: PrivateEndpoints | None = None
    """Where the component's private endpoints go; None: no private endpoints."""
    managed_identities: ManagedIdentities | None = None
    """The identities the component's main resource runs as; None: what the component gives it itself."""
    customer_managed_key: CustomerManagedKey | None = None
    """The key that encrypts the component's data; None: Microsoft-managed keys."""
    protect: bool = False
    """Pulumi's `protect` on the component's stateful resources: the stack cannot delete them."""

    def __post_init__(self) -> None:
        keys = [grant.key for grant in self.role_assignments]
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        if repeated:
            raise PropsError(f"role assignment key(s) {', '.join(repeated)} repeat: each names one grant")

    def carried(self) -> list[str]:
        """The shared settings this Common sets (anything but None, False or empty), in field order."""
        return [f.name for f in dataclasses.fields(self) if f.name in SETTINGS and getattr(self, f.name)]

    def only(self, *settings: str) -> "Common":
        """This Common with the named settings kept and the others emptied: what a component hands a child
        component that supports fewer settings than itself."""
        unknown = sorted(set(settings) - SETTINGS)
        if unknown:
            raise PropsError(f"unknown shared setting(s) {', '.join(unknown)}; known: {', '.join(sorted(SETTINGS))}")
        return Common(self.resource_group_name, self.location, self.subscription_id,
                      **{name: getattr(self, name) for name in settings})


class Component(pulumi.ComponentResource):
    """A platform component: refuses shared settings it does not support before it declares anything.

    Subclasses list what they support in SUPPORTS (names of Common's settings)."""

    SUPPORTS: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        unknown = sorted(cls.SUPPORTS - SETTINGS)
        if unknown:
            raise TypeError(f"{cls.__name__}.SUPPORTS names unknown setting(s) {', '.join(unknown)}")

    def __init__(self, type_name: str, name: str, common: Common, opts: pulumi.ResourceOptions | None = None) -> None:
        refuse_unsupported(type(self).__name__, name, common, self.SUPPORTS)
        super().__init__(type_name, name, None, opts)


def refuse_unsupported(component: str, name: str, common: Common, supports: frozenset[str]) -> None:
    """A PropsError naming the first setting `common` carries that `supports` lacks."""
    for setting in common.carried():
        if setting not in supports:
            raise PropsError(f"{component} {name!r} does not support common.{setting} (it supports: "
                             f"{', '.join(sorted(supports)) or 'none of the shared settings'}); stop passing it")


def assign_role(
    owner: pulumi.Resource,
    name: str,
    scope: pulumi.Input[str],
    principal_id: pulumi.Input[str],
    principal_type: PrincipalType,
    role_definition_id: pulumi.Input[str],
    description: str = "",
    condition: str | None = None,
    condition_version: str | None = None,
) -> authorization.RoleAssignment:
    """One role assignment; its Azure name is a uuid5 of scope, principal and role (stable, no 409s)."""
    parts = (scope, principal_id, role_definition_id)
    guid: pulumi.Input[str]
    if all(isinstance(p, str) for p in parts):
        # Known now (a team stack's scopes from the platform's outputs): no Output to resolve.
        guid = stable_guid(str(scope), str(principal_id), str(role_definition_id).rsplit("/", 1)[-1])
    else:
        guid = pulumi.Output.all(*parts).apply(lambda p: stable_guid(p[0], p[1], p[2].rsplit("/", 1)[-1]))
    return authorization.RoleAssignment(
        name,
        role_assignment_name=guid,
        scope=scope,
        principal_id=principal_id,
        principal_type=principal_type,
        role_definition_id=role_definition_id,
        description=description or None,
        condition=condition,
        condition_version=condition_version,
        opts=pulumi.ResourceOptions(parent=owner),
    )


def builtin_role_id(subscription_id: pulumi.Input[str], role: str) -> pulumi.Input[str]:
    """The role's ID in the subscription; a plain string when the subscription is one (the program's
    getClientConfig answer), so each grant costs no Output of its own."""
    if isinstance(subscription_id, str):
        return role_definition_id(subscription_id, role)
    sub: pulumi.Output[str] = pulumi.Output.from_input(subscription_id)
    return sub.apply(lambda s: role_definition_id(s, role))


def add_role_assignment(owner: pulumi.Resource, name: str, scope: pulumi.Input[str], grant: RoleAssignment,
                        subscription_id: pulumi.Input[str]) -> authorization.RoleAssignment:
    """The role assignment `grant` describes, on `scope`."""
    return assign_role(owner, name, scope, grant.principal_id, grant.principal_type,
                       grant.role_definition_id(subscription_id), grant.description, grant.condition,
                       grant.condition_version)


def add_role_assignments(
    owner: pulumi.Resource, prefix: str, scope: pulumi.Input[str], common: Common
) -> list[authorization.RoleAssignment]:
    return [add_role_assignment(owner, f"{prefix}-ra-{grant.key}", scope, grant, common.subscription_id)
            for grant in common.role_assignments]


def add_diagnostics(
    owner: pulumi.Resource,
    prefix: str,
    resource_uri: pulumi.Input[str],
    settings: DiagnosticSettings | None,
    resource_type: str,
    logs: bool = True,
    metrics: bool = True,
    log_group: str = ALL_LOGS,
    categories: Sequence[str] = (),
) -> monitor.DiagnosticSetting | None:
    """Logs (one category group, or the named `categories`) and metrics of a resource to Log Analytics,
    chosen by its ARM type.

    Azure refuses categories a type lacks (AllMetrics on storage is a 400), so what is asked for
    comes from infra/azure_facts/diagnostic_categories.py: the group if the type has it, its metric categories
    (Transaction for storage, AllMetrics elsewhere). A type with nothing to send gets no setting.
    Named categories are for scanners that read `category` only (PSRule's AKS log rules)."""
    if settings is None:
        return None
    supported = for_type(resource_type)
    if supported is None:
        raise PropsError(f"diagnostic setting {prefix}: {resource_type} is not in infra/azure_facts/diagnostic_categories.py; "
                         "add its log and metric categories from Azure Monitor's supported-logs/metrics reference")
    unknown = sorted(set(categories) - supported.logs)
    if unknown:
        raise PropsError(f"diagnostic setting {prefix}: {resource_type} has no log categor(ies) {', '.join(unknown)}")
    if logs and not categories and supported.groups and log_group not in supported.groups:
        raise PropsError(f"diagnostic setting {prefix}: {resource_type} has no log category group {log_group!r} "
                         f"(it has {', '.join(sorted(supported.groups))})")
    if categories:
        log_args = [monitor.DiagnosticsLogSettingsArgs(category=c, enabled=True) for c in categories] if logs else None
    else:
        log_args = [monitor.DiagnosticsLogSettingsArgs(category_group=log_group, enabled=True)] \
            if logs and supported.groups else None
    metric_args = [monitor.DiagnosticsMetricSettingsArgs(category=m, enabled=True) for m in sorted(supported.metrics)] \
        if metrics and supported.metrics else None
    if not log_args and not metric_args:
        return None
    return monitor.DiagnosticSetting(
        f"{prefix}-diag",
        # Unique per resource, so scans and the portal tell the settings apart.
        name=f"diag-{prefix}",
        resource_uri=resource_uri,
        workspace_id=settings.workspace_id,
        # Resource-specific tables where the service supports them; cheaper to query.
        log_analytics_destination_type="Dedicated",
        logs=log_args,
        metrics=metric_args,
        opts=pulumi.ResourceOptions(parent=owner),
    )


def add_private_endpoints(
    owner: pulumi.Resource, prefix: str, target_id: pulumi.Input[str], target_name: str, groups: Sequence[str],
    common: Common,
) -> list[network.PrivateEndpoint]:
    """One private endpoint per group (blob, vault, amlworkspace...), each with its DNS zone group."""
    spec = common.private_endpoints
    if spec is None:
        return []
    out = []
    for group in groups:
        if group not in ZONES_BY_GROUP:
            raise PropsError(f"private endpoint group {group!r} has no DNS zones in infra/azure_facts/dns_zones.py")
        pe = network.PrivateEndpoint(
            f"{prefix}-pe-{group}",
            private_endpoint_name=f"pe-{target_name}-{group}",
            custom_network_interface_name=f"nic-pe-{target_name}-{group}",
            resource_group_name=common.resource_group_name,
            location=common.location,
            subnet=network.SubnetArgs(id=spec.subnet_id),
            private_link_service_connections=[
                network.PrivateLinkServiceConnectionArgs(
                    name=f"plsc-{target_name}-{group}", private_link_service_id=target_id, group_ids=[group]
                )
            ],
            tags=common.tags,
            opts=pulumi.ResourceOptions(parent=owner),
        )
        if spec.zone_ids is not None:
            network.PrivateDnsZoneGroup(
                f"{prefix}-pe-{group}-dns",
                private_dns_zone_group_name="default",
                private_endpoint_name=pe.name,
                resource_group_name=common.resource_group_name,
                private_dns_zone_configs=[
                    network.PrivateDnsZoneConfigArgs(name=zone.replace(".", "-"), private_dns_zone_id=spec.zone_ids[zone])
                    for zone in ZONES_BY_GROUP[group]
                ],
                opts=pulumi.ResourceOptions(parent=owner),
            )
        out.append(pe)
    return out


def add_lock(owner: pulumi.Resource, prefix: str, scope: pulumi.Input[str], lock: Lock | None,
             what: str) -> authorization.ManagementLockByScope | None:
    """The management lock `lock` describes on `scope`, named lock-<prefix> unless it names itself."""
    if lock is None:
        return None
    return authorization.ManagementLockByScope(
        f"{prefix}-lock",
        lock_name=lock.name or f"lock-{prefix}",
        scope=scope,
        level=lock.kind,
        notes=lock.notes_for(what),
        opts=pulumi.ResourceOptions(parent=owner),
    )


def resource_opts(owner: pulumi.Resource, common: Common, stateful: bool = False, **kw) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=owner, protect=common.protect and stateful, **kw)
