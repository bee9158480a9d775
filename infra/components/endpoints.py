"""Online (managed and Kubernetes) and batch endpoints with their deployments, from the assets folder's YAML.

Each is a typed azure-native resource (OnlineEndpoint, OnlineDeployment, BatchEndpoint, BatchDeployment).
Names get the environment's code (`credit-online` -> `credit-online-stg`): endpoint names are unique per
region, and dev, staging and prod may share one. Network posture comes from the stack unless the YAML
says otherwise (checkov and the platform rules then judge it): public network access Disabled in the
VNet modes; managed deployments in private mode (no workspace managed network) with
`egressPublicNetworkAccess: Disabled`, and none in a managed-network workspace, where Azure ML ignores
the flag (concept-secure-online-endpoint). Entra tokens (`aad_token`) by default on managed endpoints,
`aml_token` on Kubernetes ones (they do not take aad_token: how-to-authenticate-online-endpoint).

Online and Kubernetes endpoints run as one user-assigned identity per stack that may read only what
deployments read: AcrPull on the workspace's container registry, Storage Blob Data Reader on the
workspace storage, Reader on the organisation's AML registry (models promoted there).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Sequence

import pulumi
import pulumiverse_time as time
from pulumi_azure_native import machinelearningservices as ml

from infra.seeding import spec
from infra.seeding.model import Asset, AssetSet
from infra.seeding.resolve_serving import RegistryRef
from infra.seeding.routing import EndpointRouting
from infra.components.common import Common, assign_role, builtin_role_id, resource_opts

AUTH_MODES = {"aad_token": "AADToken", "aml_token": "AMLToken", "key": "Key"}
DEFAULT_AUTH = {"managed": "aad_token", "kubernetes": "aml_token", "batch": "aad_token"}
# Routing is written by EndpointRouting after the deployments exist (infra/seeding/routing.py).
ROUTING_PATHS = {"online": ["properties.traffic", "properties.mirrorTraffic"], "batch": ["properties.defaults"]}


@dataclass(frozen=True)
class EndpointGrant:
    """A role the endpoints' identity holds, on one scope."""

    key: str
    role: str
    scope: pulumi.Input[str]


@dataclass
class EndpointsProps:
    common: Common
    assets: AssetSet
    workspace_name: pulumi.Input[str]
    workspace_id: pulumi.Input[str]
    resource_group: str
    env_code: str  # dev, stg, prd: appended to every endpoint name
    public: bool  # the stack's network mode is public (dev)
    managed_network: bool  # the workspace has an AML managed network (egress follows its rules)
    identity_id: pulumi.Input[str] | None = None
    identity_principal_id: pulumi.Input[str] | None = None
    grants: Sequence[EndpointGrant] = ()
    role_propagation_seconds: int = 60
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list)


class EndpointsComponent(pulumi.ComponentResource):
    def __init__(self, name: str, props: EndpointsProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:components:Endpoints", name, None, opts)
        self._name, self._props, c = name, props, props.common
        self._ws = pulumi.Output.from_input(props.workspace_id)
        grants = [
            assign_role(self, f"{name}-ra-{g.key}", g.scope, props.identity_principal_id, "ServicePrincipal",
                        builtin_role_id(c.subscription_id, g.role), f"AML endpoints' identity: {g.role} ({g.key})")
            for g in props.grants if props.identity_principal_id is not None
        ]
        ready: list[pulumi.Resource] = list(props.depends_on)
        if grants:
            ready.append(time.Sleep(f"{name}-role-propagation", create_duration=f"{props.role_propagation_seconds}s",
                                    opts=pulumi.ResourceOptions(parent=self, depends_on=grants)))
        self.endpoints: dict[str, pulumi.CustomResource] = {}
        self.deployments: dict[str, pulumi.CustomResource] = {}
        for ep in props.assets.of_kind("online_endpoint"):
            self.endpoints[ep.name] = self._online_endpoint(ep, ready)
        for ep in props.assets.of_kind("batch_endpoint"):
            self.endpoints[ep.name] = self._batch_endpoint(ep, ready)
        for dep in props.assets.of_kind("online_deployment"):
            self.deployments[dep.name] = self._online_deployment(dep)
        for dep in props.assets.of_kind("batch_deployment"):
            self.deployments[dep.name] = self._batch_deployment(dep)
        for ep in props.assets.of_kind("online_endpoint") + props.assets.of_kind("batch_endpoint"):
            self._routing(ep)
        self.names = sorted(self.physical(n) for n in self.endpoints)
        self.register_outputs({"endpoints": self.names})

    # ---- helpers -----------------------------------------------------------------

    def physical(self, name: str) -> str:
        return f"{name}-{self._props.env_code}"

    def _addr(self) -> dict[str, Any]:
        return {"workspace_name": self._props.workspace_name, "resource_group_name": self._props.common.resource_group_name}

    def _identity(self) -> ml.ManagedServiceIdentityArgs | None:
        p = self._props
        if p.identity_id is None:
            return None
        return ml.ManagedServiceIdentityArgs(type="UserAssigned", user_assigned_identities=[p.identity_id])

    def _public(self, raw: dict[str, Any]) -> str:
        value = raw.get("public_network_access")
        if isinstance(value, str):
            return value.capitalize()
        return "Enabled" if self._props.public else "Disabled"

    def _compute_id(self, compute: str) -> pulumi.Output[str]:
        return self._ws.apply(lambda w: f"{w}/computes/{compute}")

    def _model_id(self, ref: Any) -> pulumi.Input[str]:
        if isinstance(ref, RegistryRef):
            return ref.literal or ""
        return self._ws.apply(lambda w: spec.fill(spec.arm_id("model", ref.name, ref.version), w))

    def _tags(self, raw: dict[str, Any]) -> dict[str, str] | None:
        tags = {**self._props.common.tags, **{str(k): str(v) for k, v in (raw.get("tags") or {}).items()}}
        return tags or None

    # ---- endpoints -------------------------------------------------------------------

    def _online_endpoint(self, ep: Asset, ready: list[pulumi.Resource]) -> ml.OnlineEndpoint:
        c, raw = self._props.common, ep.raw
        k8s = ep.subtype == "kubernetes"
        auth = AUTH_MODES[str(raw.get("auth_mode") or DEFAULT_AUTH[ep.subtype])]
        return ml.OnlineEndpoint(
            f"{self._name}-online-{ep.name}",
            endpoint_name=self.physical(ep.name),
            location=c.location,
            identity=self._identity(),
            kind="K8S" if k8s else "Managed",
            properties=ml.OnlineEndpointPropertiesArgs(
                auth_mode=auth,
                compute=self._compute_id(ep.refs["compute"]) if k8s else None,
                description=raw.get("description"),
                public_network_access=None if k8s else self._public(raw),
                properties=spec.asset_properties(ep),
            ),
            tags=self._tags(raw),
            **self._addr(),
            opts=resource_opts(self, c, depends_on=ready, ignore_changes=ROUTING_PATHS["online"]),
        )

    def _batch_endpoint(self, ep: Asset, ready: list[pulumi.Resource]) -> ml.BatchEndpoint:
        c, raw = self._props.common, ep.raw
        return ml.BatchEndpoint(
            f"{self._name}-batch-{ep.name}",
            endpoint_name=self.physical(ep.name),
            location=c.location,
            properties=ml.BatchEndpointPropertiesArgs(
                # Batch endpoints take Entra tokens only.
                auth_mode="AADToken",
                description=raw.get("description"),
                properties=spec.asset_properties(ep),
            ),
            tags=self._tags(raw),
            **self._addr(),
            opts=resource_opts(self, c, depends_on=ready, ignore_changes=ROUTING_PATHS["batch"]),
        )

    # ---- deployments -----------------------------------------------------------------

    def _online_deployment(self, dep: Asset) -> ml.OnlineDeployment:
        c, raw, p = self._props.common, dep.raw, self._props
        endpoint = self.endpoints[dep.refs["endpoint"]]
        common: dict[str, Any] = {
            "description": raw.get("description"),
            "model": self._model_id(dep.refs["model"]),
            "instance_type": raw.get("instance_type"),
            "app_insights_enabled": bool(raw.get("app_insights_enabled", True)),
            "scale_settings": ml.DefaultScaleSettingsArgs(scale_type="Default"),
            "environment_variables": {str(k): str(v) for k, v in (raw.get("environment_variables") or {}).items()}
            or None,
            "properties": spec.asset_properties(dep),
        }
        if dep.subtype == "kubernetes":
            args: Any = ml.KubernetesOnlineDeploymentArgs(endpoint_compute_type="Kubernetes", **common)
        else:
            egress = raw.get("egress_public_network_access")
            if isinstance(egress, str):
                egress_value: str | None = egress.capitalize()
            else:
                # Private mode without a managed network: the deployment's own private endpoints (the legacy
                # method); in a managed-network workspace the flag no longer applies and is left out.
                egress_value = None if p.managed_network or p.public else "Disabled"
            args = ml.ManagedOnlineDeploymentArgs(endpoint_compute_type="Managed",
                                                  egress_public_network_access=egress_value, **common)
        return ml.OnlineDeployment(
            f"{self._name}-online-{dep.refs['endpoint']}-{dep.refs['deployment']}",
            endpoint_name=self.physical(dep.refs["endpoint"]),
            deployment_name=dep.refs["deployment"],
            location=c.location,
            # ARM requires the instance count as the deployment's SKU capacity.
            sku=ml.SkuArgs(name="Default", capacity=int(raw.get("instance_count") or 1)),
            properties=args,
            tags=self._tags(raw),
            **self._addr(),
            opts=resource_opts(self, c, depends_on=[endpoint]),
        )

    def _batch_deployment(self, dep: Asset) -> ml.BatchDeployment:
        c, raw = self._props.common, dep.raw
        endpoint = self.endpoints[dep.refs["endpoint"]]
        settings = raw.get("settings") or {}
        resources = raw.get("resources") or {}
        retry = settings.get("retry_settings") or {}
        output_action = str(settings.get("output_action") or "append_row")
        return ml.BatchDeployment(
            f"{self._name}-batch-{dep.refs['endpoint']}-{dep.refs['deployment']}",
            endpoint_name=self.physical(dep.refs["endpoint"]),
            deployment_name=dep.refs["deployment"],
            location=c.location,
            properties=ml.BatchDeploymentPropertiesArgs(
                description=raw.get("description"),
                compute=self._compute_id(dep.refs["compute"]),
                model=ml.IdAssetReferenceArgs(reference_type="Id", asset_id=self._model_id(dep.refs["model"])),
                resources=ml.DeploymentResourceConfigurationArgs(instance_count=int(resources.get("instance_count")
                                                                                    or 1)),
                max_concurrency_per_instance=settings.get("max_concurrency_per_instance"),
                mini_batch_size=settings.get("mini_batch_size"),
                output_action="AppendRow" if output_action == "append_row" else "SummaryOnly",
                output_file_name=settings.get("output_file_name"),
                error_threshold=settings.get("error_threshold"),
                logging_level=str(settings.get("logging_level") or "info").capitalize(),
                retry_settings=ml.BatchRetrySettingsArgs(
                    max_retries=retry.get("max_retries"),
                    timeout=f"PT{int(retry['timeout'])}S" if retry.get("timeout") is not None else None,
                ) if retry else None,
                properties=spec.asset_properties(dep),
            ),
            tags=self._tags(raw),
            **self._addr(),
            opts=resource_opts(self, c, depends_on=[endpoint]),
        )

    def _revision(self, ep: Asset) -> str:
        """A fingerprint of what the endpoint resource sends (its YAML, the stack's tags and network posture):
        when it changes, the endpoint is PUT again without its routing, so the routing is written again after."""
        body = {"yaml": ep.sha256, "tags": self._tags(ep.raw), "public": self._props.public}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    def _routing(self, ep: Asset) -> None:
        p = self._props
        online = ep.kind == "online_endpoint"
        deps = [d for key, d in self.deployments.items() if key.split("/", 1)[0] == ep.name]
        if not online and not ep.refs.get("default_deployment"):
            return
        EndpointRouting(
            f"{self._name}-routing-{ep.name}",
            {
                "kind": "online" if online else "batch",
                "subscriptionId": p.common.subscription_id,
                "resourceGroupName": p.resource_group,
                "workspaceName": p.workspace_name,
                "endpointName": self.physical(ep.name),
                "traffic": {k: int(v) for k, v in (ep.refs.get("traffic") or {}).items()} if online else None,
                "defaultDeployment": None if online else ep.refs.get("default_deployment"),
                "endpointRevision": self._revision(ep),
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.endpoints[ep.name], *deps]),
        )

