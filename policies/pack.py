"""The platform rules as CrossGuard policies, for `pulumi preview --policy-pack policies`.

Facts come from the policy pack config (`--policy-pack-config policies/config/<stack>.json`,
written by `amlplatform check STACK --write-policy-config`); the enforcement level too:
advisory in dev, mandatory in staging and prod.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.rules import RULES, Resource, Rule, StackFacts

PACK_NAME = "amlplatform"
# The facts each policy reads from its config; the rest need none.
FACT_SCHEMA: dict[str, dict[str, Any]] = {
    "environment": {"type": "string", "enum": ["dev", "staging", "prod"], "default": "prod"},
    "platformOwners": {"type": "array", "items": {"type": "string"}, "default": []},
    "workspaceIdentityName": {"type": "string", "default": "workspace-identity-uai"},
    "instanceIdentityName": {"type": "string", "default": "instance-identity-uai"},
    "requiredTags": {"type": "array", "items": {"type": "string"},
                     "default": ["environment", "managed-by", "project"]},
    "allowedLocations": {"type": "array", "items": {"type": "string"}, "default": []},
    "protectStateful": {"type": "boolean", "default": True},
    "inferenceHttp": {"type": "boolean", "default": False},
    "managedNetworkWorkspaces": {"type": "array", "items": {"type": "string"}, "default": []},
    "flowLogsCentral": {"type": "boolean", "default": False},
    "privateIngestion": {"type": "boolean", "default": False},
    # A stack this repository does not define gets the strictest facts: its keys are required.
    "customerManagedKey": {"type": "boolean", "default": True},
    "aksKms": {"type": "boolean", "default": True},
}
POLICY_FACTS: dict[str, tuple[str, ...]] = {
    "rbac-privileged-roles": ("platformOwners", "workspaceIdentityName", "instanceIdentityName"),
    "required-tags": ("requiredTags",),
    "allowed-locations": ("allowedLocations",),
    "allowed-skus": ("environment",),
    "protect-stateful": ("protectStateful",),
    "aml-inference-tls": ("inferenceHttp",),
    "aml-compute-in-vnet": ("managedNetworkWorkspaces",),
    "vnet-flow-logs": ("flowLogsCentral",),
    "private-ingestion": ("privateIngestion",),
    "cmk-workspace": ("customerManagedKey",),
    "cmk-storage": ("customerManagedKey",),
    "cmk-registry": ("customerManagedKey",),
    "cmk-aks-disks": ("customerManagedKey",),
    "cmk-aks-kms": ("aksKms",),
}


def facts_from_config(config: Mapping[str, Any] | None) -> StackFacts:
    c = {k: s["default"] for k, s in FACT_SCHEMA.items()}
    c.update({k: v for k, v in (config or {}).items() if k in FACT_SCHEMA})
    return StackFacts(
        environment=c["environment"],
        platform_owners=frozenset(str(o).lower() for o in c["platformOwners"]),
        workspace_identity_name=c["workspaceIdentityName"],
        instance_identity_name=c["instanceIdentityName"],
        required_tags=tuple(c["requiredTags"]),
        allowed_locations=tuple(c["allowedLocations"]),
        protect_stateful=bool(c["protectStateful"]),
        secrets_visible=False,
        inference_http=bool(c["inferenceHttp"]),
        managed_network_workspaces=tuple(c["managedNetworkWorkspaces"]),
        flow_logs_central=bool(c["flowLogsCentral"]),
        private_ingestion=bool(c["privateIngestion"]),
        customer_managed_key=bool(c["customerManagedKey"]),
        aks_kms=bool(c["aksKms"]),
    )


def plain(value: Any) -> Any:
    """pulumi-policy's proxies as plain dicts and lists; unknowns stay as the engine's sentinels
    so a rule decides what an unknown means instead of the whole policy being skipped."""
    if isinstance(value, Mapping):
        target = value["__target"] if not isinstance(value, dict) else value
        return {k: plain(v) for k, v in target.items()}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        target = value["__target"] if not isinstance(value, list) else value  # type: ignore[call-overload]
        return [plain(v) for v in target]
    return value


def _resource(kind: str, props: Any, urn: str, name: str, protect: bool,
              deps: Sequence[PolicyResource] = (), prop_deps: Mapping[str, Sequence[PolicyResource]] | None = None
              ) -> Resource:
    return Resource(
        urn=urn, type=kind, name=name, props=plain(props), protect=bool(protect),
        dependencies=tuple(d.urn for d in deps),
        property_dependencies={k: tuple(d.urn for d in v) for k, v in (prop_deps or {}).items()},
    )


def _schema(rule: Rule) -> PolicyConfigSchema | None:
    keys = POLICY_FACTS.get(rule.name)
    return PolicyConfigSchema({k: FACT_SCHEMA[k] for k in keys}) if keys else None


def resource_policy(rule: Rule) -> ResourceValidationPolicy:
    check = rule.check
    assert check is not None

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if "*" not in rule.resource_types and args.resource_type not in rule.resource_types:
            return
        res = _resource(args.resource_type, args.props, args.urn, args.name, args.opts.protect)
        message = check(res, facts_from_config(args.get_config()))
        if message:
            report(message, args.urn)

    return ResourceValidationPolicy(rule.name, rule.description, validate, config_schema=_schema(rule))


def stack_policy(rule: Rule) -> StackValidationPolicy:
    check = rule.stack_check
    assert check is not None

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        resources = [
            _resource(r.resource_type, r.props, r.urn, r.name, r.opts.protect, r.dependencies, r.property_dependencies)
            for r in args.resources
        ]
        for urn, message in check(resources, facts_from_config(args.get_config())):
            report(message, urn)

    return StackValidationPolicy(rule.name, rule.description, validate, config_schema=_schema(rule))


def policies() -> list[Policy]:
    """Every rule as a policy: a StackValidationPolicy for stack checks, a ResourceValidationPolicy otherwise."""
    return [stack_policy(r) if r.stack_check else resource_policy(r) for r in RULES]


def level(environment: str) -> EnforcementLevel:
    return EnforcementLevel.ADVISORY if environment == "dev" else EnforcementLevel.MANDATORY
