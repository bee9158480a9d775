"""Set an endpoint's traffic split (online) or default deployment (batch) once its deployments exist.

Azure ML refuses traffic to, or a default of, a deployment that does not exist yet, and a deployment
is a child of its endpoint: the endpoint must exist first. One Pulumi resource cannot PUT the
endpoint twice, so the endpoint resource is created without them (and ignores them on refresh) and
this small dynamic-provider resource sets them afterwards, as `az ml online-endpoint update --traffic`
and `az ml batch-endpoint update --set defaults.deployment_name=...` do, with the deployer's Entra
credential (DefaultAzureCredential). The traffic itself is declared in the endpoint's YAML.

Sources: reference-yaml-endpoint-online ("you can't set this field during online endpoint creation, as
the deployments under that endpoint must be created before traffic can be set"); Pulumi has no typed
way to write a property of a resource after its children (pulumi/pulumi-azure-native#3090, circular
dependencies). The endpoint resource ignores its routing, so a later PUT of it (its tags, description,
network flag) sends none: `endpointRevision` fingerprints what that resource sends, and a change of it
writes the routing again, after the endpoint's update.
"""

from __future__ import annotations

from typing import Any, Callable

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult


def apply_routing(ml_client: Any, props: dict[str, Any]) -> None:
    """Write the traffic (online) or the default deployment (batch) on the live endpoint."""
    name = props["endpointName"]
    if props["kind"] == "online":
        endpoint = ml_client.online_endpoints.get(name=name)
        endpoint.traffic = {k: int(v) for k, v in props["traffic"].items()}
        ml_client.online_endpoints.begin_create_or_update(endpoint).result()
    else:
        endpoint = ml_client.batch_endpoints.get(name=name)
        endpoint.defaults.deployment_name = props["defaultDeployment"]
        ml_client.batch_endpoints.begin_create_or_update(endpoint).result()


def _client(props: dict[str, Any]) -> Any:
    from azure.ai.ml import MLClient
    from azure.identity import DefaultAzureCredential

    return MLClient(DefaultAzureCredential(), props["subscriptionId"], props["resourceGroupName"],
                    props["workspaceName"])


class RoutingProvider(ResourceProvider):
    """Create and update write the routing; delete leaves it (the endpoint goes with its own resource)."""

    def __init__(self, client: Callable[[dict[str, Any]], Any] | None = None) -> None:
        super().__init__()
        self._client = client

    def create(self, props: dict[str, Any]) -> CreateResult:
        apply_routing((self._client or _client)(props), props)
        return CreateResult(id_=f"{props['workspaceName']}/{props['endpointName']}/routing", outs=props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = ("traffic", "defaultDeployment", "endpointName", "workspaceName", "endpointRevision")
        changed = [k for k in keys if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed), replaces=[k for k in changed if k in ("endpointName", "workspaceName")])

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        apply_routing((self._client or _client)(news), news)
        return UpdateResult(outs=news)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Nothing to undo: the endpoint's own resource deletes the endpoint."""


class EndpointRouting(pulumi.dynamic.Resource, module="amlplatform", name="EndpointRouting"):
    """The traffic split of an online endpoint, or the default deployment of a batch endpoint."""

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(RoutingProvider(), name, props, opts)
