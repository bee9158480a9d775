"""The versions promoted to the registry: model containers and versions, their files uploaded first.

Registry versions are immutable and shared by every environment: retained on delete, their body
ignored on refresh (the service rewrites it, as for workspace versions: infra/seeding/components.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import pulumi
from pulumi_azure_native import machinelearningservices as ml

from infra.seeding import spec
from infra.seeding.model import Asset, AssetSet
from infra.seeding.registry_upload import RegistryUpload
from infra.components.common import Common, resource_opts

MODEL_TYPES = {"mlflow_model": "mlflow_model", "custom_model": "custom_model", "triton_model": "triton_model"}


@dataclass
class RegistryAssetsProps:
    common: Common
    promoted: AssetSet
    registry_name: pulumi.Input[str]
    registry_id: pulumi.Input[str]
    resource_group: str
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list)


class RegistryAssetsComponent(pulumi.ComponentResource):
    def __init__(self, name: str, props: RegistryAssetsProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:components:RegistryAssets", name, None, opts)
        self._name, self._props = name, props
        self._containers: dict[str, ml.RegistryModelContainer] = {}
        self.versions = {m.key: self._model(m) for m in props.promoted.of_kind("model")}
        self.seeded = [f"registry {a.describe()}" for a in props.promoted.assets]
        self.register_outputs({"seeded": sorted(self.seeded)})

    def _container(self, model: Asset) -> ml.RegistryModelContainer:
        p = self._props
        if model.name not in self._containers:
            self._containers[model.name] = ml.RegistryModelContainer(
                f"{self._name}-model-{model.name}",
                model_name=model.name,
                registry_name=p.registry_name,
                resource_group_name=p.common.resource_group_name,
                properties=ml.ModelContainerPropertiesArgs(description=f"Promoted by amlplatform from {model.file}"),
                opts=resource_opts(self, p.common, retain_on_delete=True, depends_on=list(p.depends_on)),
            )
        return self._containers[model.name]

    def _model(self, model: Asset) -> ml.RegistryModelVersion:
        p = self._props
        container = self._container(model)
        deps: list[pulumi.Resource] = [container]
        uri: pulumi.Input[str] | None = model.raw.get("path")
        if "path" in model.uploads:
            up = model.uploads["path"]
            upload = RegistryUpload(
                f"{self._name}-upload-model-{model.name}-{model.version}",
                {"subscriptionId": p.common.subscription_id, "resourceGroupName": p.resource_group,
                 "registryName": p.registry_name, "assetName": model.name, "assetVersion": model.version,
                 "source": (p.promoted.folder / up.relative).relative_to(p.promoted.folder.parent).as_posix(),
                 "sha256": up.sha256},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[container, *p.depends_on]),
            )
            uri, deps = upload.uri, [*deps, upload]
        return ml.RegistryModelVersion(
            f"{self._name}-model-{model.name}-{model.version}",
            model_name=model.name,
            version=model.version,
            registry_name=p.registry_name,
            resource_group_name=p.common.resource_group_name,
            properties=ml.ModelVersionPropertiesArgs(
                model_type=MODEL_TYPES[model.subtype],
                model_uri=uri,
                description=model.raw.get("description"),
                tags={str(k): str(v) for k, v in (model.raw.get("tags") or {}).items()} or None,
                properties=spec.asset_properties(model),
            ),
            opts=resource_opts(self, p.common, retain_on_delete=True, depends_on=deps, ignore_changes=["properties"]),
        )
