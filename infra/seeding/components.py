"""The workspace's seeded assets: datastores, environments, code, components, data, schedules.

Every asset is a typed azure-native resource (ARM control plane): it shows with its version in
the plan and the ARM template, and `pulumi preview --refresh` shows drift. Versions are
immutable in AML, so version resources carry the version in their Pulumi name and are retained
on delete (jobs and lineage keep pointing at old versions). Bytes (code folders, Docker build
contexts, local data) go up through `WorkspaceUpload` (infra/seeding/upload.py) with the
deployer's Entra token: the storage account has no shared keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import pulumi
from pulumi_azure_native import authorization
from pulumi_azure_native import machinelearningservices as ml

from infra.seeding import spec, stack_rules
from infra.seeding.errors import Problems
from infra.seeding.model import Asset, AssetSet, StackContext, Upload
from infra.seeding.refs import datastore_of
from infra.seeding.upload import WorkspaceUpload
from infra.components.common import (
    Common,
    Component,
    PrincipalType,
    PropsError,
    RoleAssignment,
    add_role_assignment,
    resource_opts,
)

DATASTORE_TYPES = {"azure_blob": "AzureBlob", "azure_data_lake_gen2": "AzureDataLakeGen2", "azure_file": "AzureFile"}
BLOB_DATA_ACTIONS = ("read", "write", "add/action", "move/action", "delete")
# Every blob data action is allowed only inside AML's default containers (azureml-blobstore-<workspace ID>).
UPLOAD_CONDITION = (
    "((" + " AND ".join(f"!(ActionMatches{{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/{a}'}})"
                        for a in BLOB_DATA_ACTIONS)
    + ") OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] "
    "StringStartsWith 'azureml-blobstore-'))"
)
# `az ml datastore create` always sends skipValidation=true (azure-ai-ml DatastoreOperations.create_or_update);
# the platform sends what the CLI sends.
SKIP_VALIDATION = True
# The body of a version resource: immutable in AML once created (see AssetsComponent._opts).
VERSION_BODY = ("properties",)
JOB_INPUTS = {
    "literal": ml.LiteralJobInputArgs, "uri_file": ml.UriFileJobInputArgs, "uri_folder": ml.UriFolderJobInputArgs,
    "mltable": ml.MLTableJobInputArgs, "mlflow_model": ml.MLFlowModelJobInputArgs,
    "custom_model": ml.CustomModelJobInputArgs, "triton_model": ml.TritonModelJobInputArgs,
}
JOB_OUTPUTS = {
    "uri_file": ml.UriFileJobOutputArgs, "uri_folder": ml.UriFolderJobOutputArgs, "mltable": ml.MLTableJobOutputArgs,
    "mlflow_model": ml.MLFlowModelJobOutputArgs, "custom_model": ml.CustomModelJobOutputArgs,
    "triton_model": ml.TritonModelJobOutputArgs,
}


@dataclass(frozen=True)
class TeamDatastore:
    """A team container exposed as an identity-based ADLS Gen2 datastore."""

    name: str
    """The datastore's name in the workspace."""
    container: str
    """The team's container (filesystem) in the data lake."""
    team: str
    """The team it belongs to (a tag on the datastore)."""


def team_datastore(owner: pulumi.Resource, name: str, team: TeamDatastore, workspace: dict[str, Any],
                   account: pulumi.Input[str], resource_group: pulumi.Input[str], subscription_id: pulumi.Input[str],
                   opts: pulumi.ResourceOptions) -> ml.Datastore:
    """A team container as an identity-based ADLS Gen2 datastore (the platform's and a team stack's alike).

    `workspace` holds the datastore's workspace_name and resource_group_name."""
    args = ml.AzureDataLakeGen2DatastoreArgs(
        datastore_type="AzureDataLakeGen2",
        credentials=ml.NoneDatastoreCredentialsArgs(credentials_type="None"),
        account_name=account,
        filesystem=team.container,
        endpoint="core.windows.net",
        protocol="https",
        resource_group=resource_group,
        subscription_id=subscription_id,
        description=f"Team {team.team}'s container {team.container} (identity-based; the team's RBAC applies)",
        tags={"team": team.team},
    )
    return ml.Datastore(name, name=team.name, properties=args, **workspace, skip_validation=SKIP_VALIDATION, opts=opts)


@dataclass(frozen=True)
class Uploader:
    """The principal that runs `pulumi up` in CI: it writes uploads to the default datastore."""

    object_id: str
    """Its Entra object ID."""
    type: PrincipalType
    """User, Group or ServicePrincipal."""


@dataclass
class AssetsProps:
    common: Common
    """Placement only (AML assets take no tags, locks or endpoints of their own); no shared setting."""
    assets: AssetSet
    """The loaded, checked assets folder."""
    repo_root: Path
    """The repository root upload sources are named relative to."""
    workspace_name: pulumi.Input[str]
    """The workspace the assets are registered in."""
    workspace_id: pulumi.Input[str]
    """The workspace's ARM ID (asset IDs are built under it)."""
    workspace_guid: pulumi.Input[str]
    """The workspace's immutable ID: AML names its default blob container azureml-blobstore-<it>."""
    resource_group: str
    """The workspace's resource group, by name (the upload provider's calls)."""
    storage_account_name: str
    """The workspace storage account's name: uploads go to its default container."""
    storage_account_id: pulumi.Input[str]
    """Its ARM ID: the scope of the uploader's grant."""
    computes: Sequence[str]
    """The stack's compute names (schedules and deployments must name one of them)."""
    schedules_enabled: bool
    """Schedules run (True) or are declared disabled."""
    data_lake_account_name: str
    """The teams' data lake (ADLS Gen2): team datastores and datastores whose account is the platform's
    (`${platform.storageAccount}`) point at it. Uploads stay on the workspace storage."""
    team_datastores: Sequence[TeamDatastore] = ()
    """The teams' containers exposed as datastores."""
    team_containers: Sequence[str] = ()
    """Containers the stack's storage component creates (teams.<name>.containers)."""
    uploader: Uploader | None = None
    """The CI/CD principal uploads are written as; None: no grant (uploads need one some other way)."""
    schedule_depends_on: Sequence[pulumi.Resource] = field(default_factory=list)
    """What schedules wait for besides their assets (the stack's computes)."""

    def __post_init__(self) -> None:
        # The same checks `assets validate --stack` runs (infra/seeding/stack_rules.py).
        offer = StackContext(storage_account=self.storage_account_name,
                             team_datastores=frozenset(t.name for t in self.team_datastores),
                             team_containers=frozenset(self.team_containers), computes=frozenset(self.computes))
        problems = Problems(self.assets.folder.name)
        stack_rules.check(self.assets, offer, problems)
        if problems:
            raise PropsError("\n".join(problems.lines))


class AssetsComponent(Component):
    SUPPORTS = frozenset[str]()

    def __init__(self, name: str, props: AssetsProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:components:Assets", name, props.common, opts)
        self._name = name
        self._props = props
        c = props.common
        self._common = c
        ws_id = pulumi.Output.from_input(props.workspace_id)
        self._container = pulumi.Output.from_input(props.workspace_guid).apply(lambda g: f"azureml-blobstore-{g}")
        self.versions: dict[str, pulumi.CustomResource] = {}

        self.upload_grant = None
        if props.uploader is not None and any(a.uploads for a in props.assets.assets):
            self.upload_grant = self._uploader_grant(props.uploader)

        self.datastores = {ds.name: self._datastore(ds) for ds in props.assets.of_kind("datastore")}
        for team in props.team_datastores:
            self.datastores[team.name] = self._team_datastore(team)
        self._containers: dict[tuple[str, str], pulumi.CustomResource] = {}
        for env in props.assets.of_kind("environment"):
            self.versions[env.key] = self._environment(env)
        for data in props.assets.of_kind("data"):
            self.versions[data.key] = self._data(data)
        for comp in props.assets.of_kind("component"):
            self.versions[comp.key] = self._component(comp)
        for model in props.assets.of_kind("model"):
            self.versions[model.key] = self._model(model)
        self.schedules = {s.name: self._schedule(s, ws_id) for s in props.assets.of_kind("schedule")}

        self.seeded = props.assets.summary() + [f"datastore {t.name}" for t in props.team_datastores]
        self.register_outputs({"seeded": sorted(self.seeded)})

    # ---- helpers -----------------------------------------------------------------

    def _uploader_grant(self, who: Uploader) -> authorization.RoleAssignment:
        """Storage Blob Data Contributor for CI/CD, limited by an ABAC condition to AML's default containers.

        The condition (not a container scope) keeps the grant off the teams' data while the
        scope stays the account: the default container's name holds the workspace's ID, known
        only once the workspace exists."""
        grant = RoleAssignment(
            key="upload-blob-data",
            role="Storage Blob Data Contributor",
            principal_id=who.object_id,
            principal_type=who.type,
            description="amlplatform: CI/CD writes asset uploads (code, build contexts) to the workspace's default "
                        "datastore container only",
            condition=UPLOAD_CONDITION,
            condition_version="2.0",
        )
        return add_role_assignment(self, f"{self._name}-ra-{grant.key}", self._props.storage_account_id, grant,
                                   self._common.subscription_id)

    def _opts(self, versioned: bool = False, depends_on: Sequence[pulumi.Resource] = (),
              retained: bool = False) -> pulumi.ResourceOptions:
        deps = list(depends_on)
        if versioned:
            # AML versions are immutable records that jobs and lineage point at: a version that
            # leaves the folder stays in the workspace (the lock file keeps its hash). Its body
            # never changes under the same version (the lock refuses that before any plan), while
            # AML answers with a rewritten body (a component spec comes back with REST type names
            # and `_source`, which azure-ai-ml's Component._from_rest_object_to_init_params undoes);
            # after a refresh, azure-native's diff of the state against the program (input-input
            # diffing, pulumi-azure-native#4429, #2245) would plan a PUT on an immutable version.
            return resource_opts(self, self._common, depends_on=deps, retain_on_delete=True,
                                 ignore_changes=list(VERSION_BODY))
        if retained:
            # A container holds the versions retained on delete: it stays with them.
            return resource_opts(self, self._common, depends_on=deps, retain_on_delete=True)
        return resource_opts(self, self._common, depends_on=deps)

    def _addr(self) -> dict[str, Any]:
        return {"workspace_name": self._props.workspace_name, "resource_group_name": self._common.resource_group_name}

    def _container_for(self, kind: str, asset_name: str, args: Any) -> pulumi.CustomResource:
        key = (kind, asset_name)
        if key not in self._containers:
            cls = {"environment": ml.EnvironmentContainer, "component": ml.ComponentContainer,
                   "data": ml.DataContainer, "code": ml.CodeContainer, "model": ml.ModelContainer}[kind]
            self._containers[key] = cls(f"{self._name}-{kind}-{asset_name}", name=asset_name, properties=args,
                                        **self._addr(), opts=self._opts(retained=True))
        return self._containers[key]

    def _upload(self, role: str, asset: Asset, up: Upload) -> WorkspaceUpload:
        p = self._props
        account = p.storage_account_name
        if role == "path":
            uri: pulumi.Input[str] = spec.datastore_uri(up)
        else:
            uri = self._container.apply(lambda ct: spec.blob_uri(account, ct, up, trailing_slash=role == "build"))
        try:
            source = up.source.relative_to(p.repo_root.resolve()).as_posix()
        except ValueError:
            source = up.source.as_posix()
        return WorkspaceUpload(
            f"{self._name}-upload-{asset.kind}-{asset.name}-{role}",
            {
                "subscriptionId": self._common.subscription_id,
                "resourceGroupName": p.resource_group,
                "workspaceName": p.workspace_name,
                "accountName": account,
                "containerName": self._container,
                "source": source,
                "sha256": up.sha256,
                "prefix": up.prefix,
                "uri": uri,
            },
            opts=self._opts(depends_on=[self.upload_grant] if self.upload_grant else ()),
        )

    def _datastores_named(self, uris: Iterable[str]) -> list[pulumi.Resource]:
        """The declared datastores the azureml://datastores/<name>/... URIs name, once each, in order
        (the workspace's own datastores exist with the workspace and are not declared here)."""
        names = dict.fromkeys(n for n in (datastore_of(u) for u in uris) if n in self.datastores)
        return [self.datastores[n] for n in names if n is not None]

    def _props_of(self, asset: Asset) -> dict[str, str]:
        return spec.asset_properties(asset)

    # ---- kinds ---------------------------------------------------------------------

    def _datastore(self, ds: Asset) -> ml.Datastore:
        p, b = self._props, ds.body
        platform = ds.refs.get("account") == "platform"
        common: dict[str, Any] = {
            "credentials": ml.NoneDatastoreCredentialsArgs(credentials_type="None"),
            "datastore_type": DATASTORE_TYPES[ds.subtype],
            "account_name": p.data_lake_account_name if platform else b["account_name"],
            "description": b["description"],
            "endpoint": b["endpoint"],
            "protocol": b["protocol"],
            "tags": dict(b["tags"] or {}) or None,
            "properties": self._props_of(ds),
        }
        if platform:
            common.update(resource_group=p.resource_group, subscription_id=self._common.subscription_id)
        if ds.subtype == "azure_blob":
            args: Any = ml.AzureBlobDatastoreArgs(container_name=b["container_name"], **common)
        elif ds.subtype == "azure_data_lake_gen2":
            args = ml.AzureDataLakeGen2DatastoreArgs(filesystem=b["filesystem"], **common)
        else:
            args = ml.AzureFileDatastoreArgs(file_share_name=b["file_share_name"], **common)
        return ml.Datastore(f"{self._name}-datastore-{ds.name}", name=ds.name, properties=args, **self._addr(),
                            skip_validation=SKIP_VALIDATION,
                            opts=self._opts())

    def _team_datastore(self, team: TeamDatastore) -> ml.Datastore:
        p = self._props
        return team_datastore(self, f"{self._name}-datastore-{team.name}", team, self._addr(), p.data_lake_account_name,
                              p.resource_group, self._common.subscription_id, self._opts())

    def _environment(self, env: Asset) -> ml.EnvironmentVersion:
        body = env.body
        container = self._container_for("environment", env.name, ml.EnvironmentContainerPropertiesArgs(
            description=f"Seeded by amlplatform from {env.file}"))
        build = None
        deps: list[pulumi.Resource] = [container]
        if "build" in env.uploads:
            up = self._upload("build", env, env.uploads["build"])
            build = ml.BuildContextArgs(context_uri=up.uri,
                                        dockerfile_path=(env.raw.get("build") or {}).get("dockerfile_path")
                                        or "Dockerfile")
            deps.append(up)
        return ml.EnvironmentVersion(
            f"{self._name}-environment-{env.name}-{env.version}",
            name=env.name,
            version=env.version,
            properties=ml.EnvironmentVersionPropertiesArgs(
                image=body.get("image"),
                conda_file=body.get("condaFile"),
                build=build,
                os_type=body.get("osType") or "Linux",
                description=body.get("description"),
                tags=body.get("tags") or None,
                properties=self._props_of(env),
            ),
            **self._addr(),
            opts=self._opts(versioned=True, depends_on=deps),
        )

    def _data(self, data: Asset) -> ml.DataVersion:
        body = data.body
        container = self._container_for("data", data.name, ml.DataContainerPropertiesArgs(
            data_type=body["dataType"], description=f"Seeded by amlplatform from {data.file}"))
        # Only the datastores its URIs name: a version never waits for (nor grows with) other teams' datastores.
        deps: list[pulumi.Resource] = [container, *self._datastores_named(data.refs.get("datastores", []))]
        if "path" in data.uploads:
            deps.append(self._upload("path", data, data.uploads["path"]))
        cls = {"uri_file": ml.UriFileDataVersionArgs, "uri_folder": ml.UriFolderDataVersionArgs,
               "mltable": ml.MLTableDataArgs}[body["dataType"]]
        extra: dict[str, Any] = {"referenced_uris": body.get("referencedUris")} if body["dataType"] == "mltable" else {}
        properties: Any = cls(data_type=body["dataType"], data_uri=body["dataUri"], description=body.get("description"),
                              tags=body.get("tags") or None, properties=self._props_of(data), **extra)
        return ml.DataVersion(
            f"{self._name}-data-{data.name}-{data.version}",
            name=data.name,
            version=data.version,
            properties=properties,
            **self._addr(),
            opts=self._opts(versioned=True, depends_on=deps),
        )

    def _component(self, comp: Asset) -> ml.ComponentVersion:
        ws_id = pulumi.Output.from_input(self._props.workspace_id)
        up = self._upload("code", comp, comp.uploads["code"])
        self._container_for("code", spec.code_name(comp), ml.CodeContainerPropertiesArgs(
            description=f"Code of component {comp.name} (seeded by amlplatform)"))
        code = ml.CodeVersion(
            f"{self._name}-code-{spec.code_name(comp)}-{spec.code_version(comp)}",
            name=spec.code_name(comp),
            version=spec.code_version(comp),
            properties=ml.CodeVersionPropertiesArgs(
                code_uri=up.uri, description=f"{comp.uploads['code'].relative} for component {comp.name}",
                properties={spec.PROP_FILE: comp.uploads["code"].relative, spec.PROP_SHA: comp.uploads["code"].sha256},
            ),
            **self._addr(),
            opts=self._opts(versioned=True, depends_on=[self._containers[("code", spec.code_name(comp))], up]),
        )
        container = self._container_for("component", comp.name, ml.ComponentContainerPropertiesArgs(
            description=f"Seeded by amlplatform from {comp.file}"))
        deps: list[pulumi.Resource] = [container, code]
        env = comp.refs["environment"]
        if env.kind == "environment":
            deps.append(self.versions[f"environment/{env.name}/{env.version}"])
        template = spec.component_spec(comp)
        return ml.ComponentVersion(
            f"{self._name}-component-{comp.name}-{comp.version}",
            name=comp.name,
            version=comp.version,
            properties=ml.ComponentVersionPropertiesArgs(
                component_spec=ws_id.apply(lambda w: spec.fill(template, w)),
                description=comp.raw.get("description"),
                tags=dict(comp.raw.get("tags") or {}) or None,
                properties=self._props_of(comp),
            ),
            **self._addr(),
            opts=self._opts(versioned=True, depends_on=deps),
        )

    def _schedule(self, sched: Asset, ws_id: pulumi.Output[str]) -> ml.Schedule:
        body = spec.schedule_rest(sched)
        job = body["action"]["jobDefinition"]
        trigger = body["trigger"]
        pipeline: Asset = sched.refs["pipeline"]
        deps: list[pulumi.Resource] = [self.versions[f"component/{r.name}/{r.version}"]
                                       for r in pipeline.refs["components"].values()]
        deps += [self.versions[f"data/{r.name}/{r.version}"] for r in pipeline.refs.get("data", {}).values()]
        # Datastores its pipeline reads directly (azureml://datastores/...); data versions bring their own.
        deps += self._datastores_named(pipeline.refs.get("inputs", {}).values())
        deps += list(self._props.schedule_depends_on)

        def filled(value: Any) -> Any:
            return ws_id.apply(lambda w: spec.fill(value, w))

        inputs: dict[str, Any] = {
            key: JOB_INPUTS[i["jobInputType"]](
                job_input_type=i["jobInputType"], description=i.get("description"),
                **({"value": str(i.get("value"))} if i["jobInputType"] == "literal"
                   else {"uri": filled(i["uri"]), "mode": i.get("mode")}))
            for key, i in (job.get("inputs") or {}).items()
        }
        outputs: dict[str, Any] = {
            key: JOB_OUTPUTS[o["jobOutputType"]](job_output_type=o["jobOutputType"], description=o.get("description"),
                                                 mode=o.get("mode"), uri=o.get("uri"))
            for key, o in (job.get("outputs") or {}).items()
        }
        definition = ml.PipelineJobArgs(
            job_type="Pipeline",
            display_name=job.get("displayName"),
            description=job.get("description"),
            experiment_name=job.get("experimentName"),
            tags=job.get("tags") or None,
            properties=self._props_of(sched),
            jobs=filled(job.get("jobs") or {}),
            inputs=inputs or None,
            outputs=outputs or None,
            settings=filled(job.get("settings")) if job.get("settings") else None,
            compute_id=filled(job["computeId"]) if job.get("computeId") else None,
        )
        common_trigger = {"time_zone": trigger.get("timeZone"), "start_time": trigger.get("startTime"),
                          "end_time": trigger.get("endTime")}
        if trigger["triggerType"] == "Recurrence":
            rec = trigger.get("schedule")
            trigger_args: Any = ml.RecurrenceTriggerArgs(
                trigger_type="Recurrence",
                frequency=str(trigger["frequency"]).capitalize(),
                interval=int(trigger["interval"]),
                schedule=ml.RecurrenceScheduleArgs(
                    hours=rec.get("hours") or [], minutes=rec.get("minutes") or [],
                    week_days=[str(d).capitalize() for d in rec.get("weekDays") or []] or None,
                    month_days=rec.get("monthDays") or None,
                ) if rec else None,
                **common_trigger,
            )
        else:
            trigger_args = ml.CronTriggerArgs(trigger_type="Cron", expression=trigger["expression"], **common_trigger)
        return ml.Schedule(
            f"{self._name}-schedule-{sched.name}",
            name=sched.name,
            properties=ml.SchedulePropertiesArgs(
                action=ml.JobScheduleActionArgs(action_type="CreateJob", job_definition=definition),
                trigger=trigger_args,
                display_name=body.get("displayName"),
                description=body.get("description"),
                is_enabled=self._props.schedules_enabled,
                tags=body.get("tags") or None,
                properties=self._props_of(sched),
            ),
            **self._addr(),
            opts=self._opts(depends_on=deps),
        )

    def _model(self, model: Asset) -> ml.ModelVersion:
        """A model version as `az ml model create` registers it: its files uploaded, the version pointing at them."""
        container = self._container_for("model", model.name, ml.ModelContainerPropertiesArgs(
            description=f"Seeded by amlplatform from {model.file}"))
        deps: list[pulumi.Resource] = [container, *self.datastores.values()]
        uri: pulumi.Input[str] | None = model.raw.get("path")
        if "path" in model.uploads:
            up = self._upload("path", model, model.uploads["path"])
            uri = up.uri
            deps.append(up)
        return ml.ModelVersion(
            f"{self._name}-model-{model.name}-{model.version}",
            name=model.name,
            version=model.version,
            properties=ml.ModelVersionPropertiesArgs(
                model_type=model.subtype,
                model_uri=uri,
                description=model.raw.get("description"),
                tags={str(k): str(v) for k, v in (model.raw.get("tags") or {}).items()} or None,
                properties=self._props_of(model),
            ),
            **self._addr(),
            opts=self._opts(versioned=True, depends_on=deps),
        )
