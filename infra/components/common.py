"""The interface every component shares (Azure Verified Modules' names).

Each component's props carry `tags`, `diagnostic_settings`, `role_assignments`,
`lock` and `protect`; the helpers here turn them into resources parented to
the component, so every component handles them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import pulumi
from pulumi_azure_native import authorization, monitor, network

from infra.config.rbac import PrincipalType
from infra.azure_facts.diagnostic_categories import ALL_LOGS, for_type
from infra.azure_facts.dns_zones import ZONES_BY_GROUP
from infra.naming import RULES, stable_guid
from infra.azure_facts.roles import BUILTIN_ROLES, role_definition_id



class PropsError(ValueError):
    """Props that would fail on Azure, caught before any resource is declared."""


def check_name(rule: str, name: str) -> str:
    problem = RULES[rule].check(name)
    if problem:
        raise PropsError(f"{rule} name {name!r} {problem}")
    return name


@dataclass(frozen=True)
class RoleAssignment:
    """Grant `role` on the component's main resource to a principal.

    `key` names the grant in the Pulumi URN (stable across runs); the Azure
    name is a uuid5 of scope, principal and role.
    """

    key: str
    role: str
    principal_id: pulumi.Input[str]
    principal_type: PrincipalType
    description: str = ""

    def __post_init__(self) -> None:
        if self.role not in BUILTIN_ROLES:
            raise PropsError(f"role {self.role!r} is not in infra/azure_facts/roles.py BUILTIN_ROLES")


@dataclass(frozen=True)
class DiagnosticSettings:
    """Send a resource's logs and metrics to a Log Analytics workspace."""

    workspace_id: pulumi.Input[str]


@dataclass(frozen=True)
class PrivateEndpoints:
    """Where a component's private endpoints go and which DNS zones register them.

    `zone_ids` maps zone name to zone ID; None means no zone groups (a landing-zone
    policy adds them)."""

    subnet_id: pulumi.Input[str]
    zone_ids: Mapping[str, pulumi.Input[str]] | None = None


@dataclass
class Common:
    """What every component takes besides its own settings."""

    resource_group_name: pulumi.Input[str]
    location: str
    subscription_id: pulumi.Input[str]
    tags: dict[str, str] = field(default_factory=dict)
    diagnostic_settings: DiagnosticSettings | None = None
    role_assignments: Sequence[RoleAssignment] = ()
    lock: bool = False
    protect: bool = False
    private_endpoints: PrivateEndpoints | None = None


def assign_role(
    owner: pulumi.Resource,
    name: str,
    scope: pulumi.Input[str],
    principal_id: pulumi.Input[str],
    principal_type: PrincipalType,
    role_definition_id: pulumi.Input[str],
    description: str = "",
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
        opts=pulumi.ResourceOptions(parent=owner),
    )


def builtin_role_id(subscription_id: pulumi.Input[str], role: str) -> pulumi.Input[str]:
    """The role's ID in the subscription; a plain string when the subscription is one (the program's
    getClientConfig answer), so each grant costs no Output of its own."""
    if isinstance(subscription_id, str):
        return role_definition_id(subscription_id, role)
    sub: pulumi.Output[str] = pulumi.Output.from_input(subscription_id)
    return sub.apply(lambda s: role_definition_id(s, role))


def add_role_assignments(
    owner: pulumi.Resource, prefix: str, scope: pulumi.Input[str], common: Common
) -> list[authorization.RoleAssignment]:
    return [
        assign_role(
            owner,
            f"{prefix}-ra-{grant.key}",
            scope,
            grant.principal_id,
            grant.principal_type,
            builtin_role_id(common.subscription_id, grant.role),
            grant.description,
        )
        for grant in common.role_assignments
    ]


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


def add_lock(owner: pulumi.Resource, prefix: str, scope: pulumi.Input[str], common: Common, what: str):
    if not common.lock:
        return None
    return authorization.ManagementLockByScope(
        f"{prefix}-lock",
        lock_name=f"lock-{prefix}",
        scope=scope,
        level="CanNotDelete",
        notes=f"amlplatform: the {what} holds state; remove this lock deliberately before deleting it.",
        opts=pulumi.ResourceOptions(parent=owner),
    )


def resource_opts(owner: pulumi.Resource, common: Common, stateful: bool = False, **kw) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=owner, protect=common.protect and stateful, **kw)
