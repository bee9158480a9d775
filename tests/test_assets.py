"""Seeded assets: the starter set, every bad-input error, the lock, the plan per stack, uploads, verify, CLI."""

from __future__ import annotations

import copy
import functools
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from infra import seeding as assets

from infra.cli import main as cli

from infra import config
from infra.seeding import lock as lock_mod
from infra.seeding import upload as upload_mod
from infra.seeding import verify as verify_mod
from infra.seeding.hashing import auto_version, path_sha256
from infra.seeding.components import AssetsProps
from infra.components.common import Common, PropsError
from infra.naming import Names
from infra.offline import arm
from policies import relaxations
from infra.offline import stack as offline_stack
from tests.assets_corpus import relock
from tests.conftest import ROOT, raw_stack

ML = "azure-native:machinelearningservices:"
UPLOAD = "pulumi-python:dynamic/amlplatform:WorkspaceUpload"
STARTER = ROOT / "assets"
SEEDED = [
    "component evaluate_model 1.0.0", "component prep_data 1.0.1", "component train_model 1.0.0",
    "data credit_defaults_curated {curated}", "data credit_defaults_raw 1", "data credit_defaults_table 1.0.0",
    "datastore curated_adls", "datastore landing_blob", "environment batch-score {batch}",
    "environment sklearn-train 1.0.0", "schedule weekly_retrain",
    # Issue 16: the sample MLflow model and the three sample endpoints with their deployments.
    "model credit-default-model 1", "online_endpoint credit-online", "online_deployment credit-online/blue",
    "online_endpoint credit-aks", "online_deployment credit-aks/blue", "batch_endpoint credit-batch",
    "batch_deployment credit-batch/nightly",
]


def starter_set():
    """The starter folder as `assets validate` loads it: with azure-ai-ml every time (entities set)."""
    return assets.load(STARTER, use_cache=False)


@functools.lru_cache(maxsize=None)
def _rooted(stack: str):
    """The stack as `amlplatform plan` and `pulumi up` see it: loaded with the repository (and assets/)."""
    raw = raw_stack(stack)
    cfg = config.parse(raw, f"stacks/Pulumi.{stack}.yaml", stack)
    cfg._root = str(ROOT)
    return cfg, offline_stack.plan_stack(cfg, raw)[0]


def stack_plan(stack: str):
    return _rooted(stack)[1]


def stack_config(stack: str):
    return _rooted(stack)[0]


def expected_summary() -> list[str]:
    s = starter_set()
    auto = {"curated": s.find("data", "credit_defaults_curated").version,
            "batch": s.find("environment", "batch-score").version}
    return sorted(line.format(**auto) for line in SEEDED)


@pytest.fixture()
def repo(tmp_path) -> Path:
    """A copy of the repository's stacks and starter assets to break."""
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks")
    shutil.copytree(STARTER, tmp_path / "assets", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new))


def problems(folder: Path) -> list[str]:
    with pytest.raises(config.ConfigError) as err:
        assets.load(folder)
    return str(err.value).splitlines()


# ---- the starter set -------------------------------------------------------------


def test_every_starter_asset_validates_with_its_version():
    s = starter_set()
    assert s.summary() == expected_summary()
    for kind, name, version in [("environment", "sklearn-train", "1.0.0"), ("component", "prep_data", "1.0.1"),
                                ("data", "credit_defaults_raw", "1"), ("data", "credit_defaults_table", "1.0.0")]:
        assert s.find(kind, name).version == version
    # `version: auto` is the first 12 hex digits of the content hash.
    for kind, name in [("environment", "batch-score"), ("data", "credit_defaults_curated")]:
        a = s.find(kind, name)
        assert a.declared_version == "auto" and a.version == auto_version(a.sha256) and len(a.version) == 12
    # The loaders are azure-ai-ml's own.
    types = {a.name: type(a.entity).__name__ for a in s.assets}
    assert types["landing_blob"] == "AzureBlobDatastore" and types["curated_adls"] == "AzureDataLakeGen2Datastore"
    assert types["prep_data"] == "CommandComponent" and types["weekly_retrain"] == "JobSchedule"
    assert types["retrain"] == "PipelineJob" and types["credit_defaults_table"] == "Data"


def test_starter_components_uploads_and_references():
    s = starter_set()
    prep = s.find("component", "prep_data")
    assert prep.entity.is_deterministic is True
    assert set(prep.entity.inputs) == {"raw_data", "target_column", "test_size", "oversample", "seed"}
    assert set(prep.entity.outputs) == {"train_data", "test_data"}
    assert prep.uploads["code"].relative == "components/src/prep"
    assert prep.uploads["code"].sha256 == path_sha256(STARTER / "components/src/prep")
    assert (prep.refs["environment"].kind, prep.refs["environment"].name) == ("environment", "sklearn-train")
    curated = s.find("component", "evaluate_model").refs["environment"]
    assert curated.literal == "azureml:AzureML-sklearn-1.5:1"
    assert s.find("environment", "batch-score").uploads["build"].relative == "environments/batch-score-context"
    assert s.find("data", "credit_defaults_table").uploads["path"].relative == "data/credit-defaults-mltable"
    pipe = s.find("pipeline", "retrain")
    assert {n: (r.name, r.version) for n, r in pipe.refs["components"].items()} == {
        "prep": ("prep_data", "1.0.1"), "train": ("train_model", "1.0.0"), "evaluate": ("evaluate_model", "1.0.0")}
    assert pipe.refs["computes"] == {"settings.default_compute": "cpu-cluster"}
    assert s.find("schedule", "weekly_retrain").refs["pipeline"] is pipe


def test_lock_file_holds_exactly_the_starter_versions():
    s = starter_set()
    locked = json.loads((STARTER / "assets.lock.json").read_text())
    assert locked["format"] == 1
    current = {a.key: a.sha256 for a in s.assets if a.kind in ("environment", "component", "data")}
    assert {k: v["sha256"] for k, v in locked["assets"].items() if k in current} == current
    assert set(current) <= set(locked["assets"])


# ---- bad input: one clear error per case ----------------------------------------------


def test_broken_schema_names_file_and_field(repo):
    f = repo / "assets/components/prep_data.yml"
    edit(f, "is_deterministic: true", "is_deterministic: maybe")
    edit(f, "    type: boolean", "    type: boolen")
    relock(repo / "assets")  # as after a version bump: the lock is not what this test is about
    lines = problems(repo / "assets")
    where = f"{repo}/assets/components/prep_data.yml"
    assert f"{where}: is_deterministic: Not a valid boolean" in lines
    assert (f"{where}: inputs.oversample.type: 'boolen' is not one of: boolean, integer, number, string, path, "
            "custom_model, mlflow_model, mltable, triton_model, uri_file, uri_folder") in lines
    assert len(lines) == 2


def test_unknown_field_and_bad_enum_in_a_schedule(repo):
    edit(repo / "assets/schedules/weekly_retrain.yml", "frequency: week", "frequency: fortnight")
    lines = problems(repo / "assets")
    assert lines == [f"{repo}/assets/schedules/weekly_retrain.yml: trigger.frequency: 'fortnight' is not one of: "
                     "minute, hour, day, week, month"]


def test_invalid_yaml_is_reported_with_its_line(repo):
    (repo / "assets/data/broken.yml").write_text("name: x\n  version: [1\n")
    (line,) = problems(repo / "assets")
    assert line.startswith(f"{repo}/assets/data/broken.yml: line 2, column ") and "not valid YAML" in line


@pytest.mark.parametrize("secret, what", [
    ("account_key: c2VjcmV0", "an account key"),
    ("sas_token: sv=2022-11-02&sig=abc", "a SAS token"),
    ("tenant_id: 00000000-0000-0000-0000-000000000001\n  client_id: x\n  client_secret: y",
     "a service principal secret"),
])
def test_a_datastore_with_a_secret_is_rejected_with_the_reason(repo, secret, what):
    f = repo / "assets/datastores/landing_blob.yml"
    f.write_text(f.read_text() + f"credentials:\n  {secret}\n")
    (line,) = problems(repo / "assets")
    assert line.startswith(f"{repo}/assets/datastores/landing_blob.yml: credentials: this datastore carries {what}; "
                           "datastores here are identity-based only")
    assert "allowSharedKeyAccess false" in line and "Remove `credentials`" in line


def test_a_sas_token_in_a_data_path_is_rejected(repo):
    edit(repo / "assets/data/credit_defaults_raw.yml",
         "azureml://datastores/landing_blob/paths/credit/default_of_credit_card_clients.csv",
         "https://acct.blob.core.windows.net/c/file.csv?sv=2022&sig=abc")
    assert problems(repo / "assets") == [
        f"{repo}/assets/data/credit_defaults_raw.yml: path: carries a SAS token (sig=): reference the data through an "
        "identity-based datastore (azureml://datastores/NAME/paths/...) instead"]


def test_dangling_environment_reference(repo):
    edit(repo / "assets/components/train_model.yml", "azureml:sklearn-train:1.0.0", "azureml:sklearn-gpu:2")
    assert problems(repo / "assets") == [
        f"{repo}/assets/components/train_model.yml: environment: environment 'sklearn-gpu' is not seeded from this "
        "folder (seeded environments: batch-score, sklearn-train)"]


def test_missing_version_of_a_seeded_environment(repo):
    edit(repo / "assets/components/prep_data.yml", "azureml:sklearn-train:1.0.0", "azureml:sklearn-train:1.1.0")
    assert problems(repo / "assets") == [
        f"{repo}/assets/components/prep_data.yml: environment: environment sklearn-train has no version 1.1.0 in this "
        "folder (versions: 1.0.0)"]


def test_curated_environments_must_be_pinned(repo):
    edit(repo / "assets/components/evaluate_model.yml", "azureml:AzureML-sklearn-1.5:1",
         "azureml:AzureML-sklearn-1.5@latest")
    (line,) = problems(repo / "assets")
    assert line.endswith("environment: 'azureml:AzureML-sklearn-1.5@latest': pin the curated environment to a "
                         "version (azureml:AzureML-sklearn-1.5:N) so the component does not change when Microsoft "
                         "publishes a new one")


def test_schedule_pipeline_must_reference_seeded_components_and_data(repo):
    f = repo / "assets/pipelines/retrain.yml"
    edit(f, "azureml:evaluate_model:1.0.0", "azureml:score_model:1")
    edit(f, "azureml:credit_defaults_raw:1", "azureml:credit_defaults_raw:9")
    lines = problems(repo / "assets")
    assert lines == [
        f"{repo}/assets/pipelines/retrain.yml: jobs.evaluate.component: component 'score_model' is not seeded from "
        "this folder (seeded components: evaluate_model, prep_data, train_model)",
        f"{repo}/assets/pipelines/retrain.yml: inputs.raw_data.path: data credit_defaults_raw has no version 9 in "
        "this folder (versions: 1)",
    ]


def test_data_on_an_unknown_datastore(repo):
    edit(repo / "assets/data/credit_defaults_curated.yml", "datastores/curated_adls/", "datastores/gold/")
    (line,) = problems(repo / "assets")
    assert line.startswith(f"{repo}/assets/data/credit_defaults_curated.yml: path: datastore 'gold' is neither seeded")


def test_versions_are_required_and_well_formed(repo):
    edit(repo / "assets/environments/sklearn-train.yml", "version: 1.0.0\n", "")
    edit(repo / "assets/data/credit_defaults_raw.yml", "version: 1\n", "version: 1.5\n")
    lines = problems(repo / "assets")
    assert lines[0].startswith(f"{repo}/assets/data/credit_defaults_raw.yml: version: '1.5' must be an integer, a "
                               "semantic version such as 1.2.0, or auto")
    assert lines[1].startswith(f"{repo}/assets/environments/sklearn-train.yml: version: required: AML environment "
                               "versions are immutable")


def test_a_yaml_file_that_is_not_an_asset(repo):
    (repo / "assets/components/notes.yml").write_text("owner: ml-team\n")
    assert problems(repo / "assets") == [
        f"{repo}/assets/components/notes.yml: $schema: not an asset (no $schema or type) and no asset references it: "
        "add the AML $schema of its kind, or remove the file"]


def test_unsupported_kinds_say_why(repo):
    (repo / "assets/datastores/old.yml").write_text(
        "$schema: https://azuremlschemas.azureedge.net/latest/azureDataLakeGen1.schema.json\nname: old\n")
    assert problems(repo / "assets") == [
        f"{repo}/assets/datastores/old.yml: $schema: azureDataLakeGen1.schema.json: ADLS Gen1 is retired; use an ADLS "
        "Gen2 datastore"]


# ---- versions and the lock ------------------------------------------------------------


def test_content_change_without_a_version_bump_fails_then_a_bump_and_lock_pass(repo):
    folder = repo / "assets"
    script = folder / "components/src/train/train.py"
    script.write_text(script.read_text() + "\n# tuned\n")
    (line,) = problems(folder)
    assert line.startswith(f"{repo}/assets/components/train_model.yml: version: component train_model 1.0.0: "
                           "content changed but the version did not (locked sha256 ")
    assert line.endswith("AML versions are immutable, so Azure would refuse the change: bump `version` (or use "
                         "`version: auto`), then run `amlplatform assets lock` and commit the lock file")
    # `assets lock` refuses to paper over it, and leaves the lock untouched.
    before = (folder / "assets.lock.json").read_bytes()
    with pytest.raises(config.ConfigError, match="content changed but the version did not"):
        assets.write_lock(folder)
    assert (folder / "assets.lock.json").read_bytes() == before

    edit(folder / "components/train_model.yml", "version: 1.0.0", "version: 1.1.0")
    edit(folder / "pipelines/retrain.yml", "azureml:train_model:1.0.0", "azureml:train_model@latest")
    assert problems(folder) == [
        f"{repo}/assets/components/train_model.yml: version: component train_model 1.1.0 is not in assets.lock.json: "
        "run `amlplatform assets lock` after a deliberate new version and commit the lock file"]
    added, _ = assets.write_lock(folder)
    assert added == ["component/train_model/1.1.0"]
    lock = json.loads((folder / "assets.lock.json").read_text())["assets"]
    assert "component/train_model/1.0.0" in lock and "component/train_model/1.1.0" in lock  # history kept
    assert assets.load(folder).find("component", "train_model").version == "1.1.0"


def test_version_auto_follows_the_content(repo):
    folder = repo / "assets"
    before = assets.load(folder).find("environment", "batch-score").version
    edit(folder / "environments/batch-score-context/requirements.txt", "pandas==2.2.2", "pandas==2.2.3")
    (line,) = problems(folder)
    after = assets.load(folder, check_lock=False).find("environment", "batch-score").version
    assert after != before and len(after) == 12
    assert f"environment batch-score {after} is not in assets.lock.json" in line  # a new version, not a conflict


def test_latest_reference_moving_under_a_fixed_component_version_is_caught(repo):
    folder = repo / "assets"
    comp = folder / "components/prep_data.yml"
    edit(comp, "azureml:sklearn-train:1.0.0", "azureml:sklearn-train@latest")
    edit(comp, "version: 1.0.1", "version: 1.0.2")
    edit(folder / "pipelines/retrain.yml", "azureml:prep_data:1.0.1", "azureml:prep_data:1.0.2")
    assert assets.write_lock(folder)[0] == ["component/prep_data/1.0.2"]
    # A newer environment moves @latest: the component's content changes under version 1.0.1.
    (folder / "environments/sklearn-train-2.yml").write_text(
        (folder / "environments/sklearn-train.yml").read_text().replace("version: 1.0.0", "version: 2.0.0"))
    lines = problems(folder)
    assert [x for x in lines if "content changed" in x] == [
        x for x in lines if x.startswith(f"{folder}/components/prep_data.yml: version: component prep_data 1.0.2: "
                                         "content changed but the version did not")]
    assert len([x for x in lines if "content changed" in x]) == 1


def test_comments_and_key_order_do_not_change_the_hash(repo):
    import yaml

    f = repo / "assets/data/credit_defaults_raw.yml"
    f.write_text("# rewritten: other comments, keys sorted\n" + yaml.safe_dump(yaml.safe_load(f.read_text()),
                                                                             sort_keys=True))
    assert assets.load(repo / "assets").find("data", "credit_defaults_raw").version == "1"


def test_a_missing_lock_file_is_an_error(repo):
    (repo / "assets/assets.lock.json").unlink()
    assert problems(repo / "assets") == [
        f"{repo}/assets/assets.lock.json: missing: run `amlplatform assets lock` and commit the lock file (it records "
        "each version's content hash)"]


def test_lock_writes_atomically(repo, monkeypatch):
    path = repo / "assets/assets.lock.json"
    before = path.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(lock_mod.os, "replace", boom)
    with pytest.raises(OSError):
        lock_mod.write_atomically(path, "{}")
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".assets.lock")] == []


# ---- the plan per stack -----------------------------------------------------------------

COUNTS = {"Datastore": 2, "EnvironmentContainer": 2, "EnvironmentVersion": 2, "CodeContainer": 3, "CodeVersion": 3,
          "ComponentContainer": 3, "ComponentVersion": 3, "DataContainer": 3, "DataVersion": 3, "Schedule": 1}


def assets_of(plan):
    return [r for r in plan.resources if "components:Assets" in r.urn and r.custom]


def test_plan_lists_every_asset_with_its_version(stack):
    plan = stack_plan(stack)
    ws = Names.for_stack("contoso", stack_config(stack).platform.environment).workspace
    found = {}
    for r in assets_of(plan):
        found.setdefault(r.type.split(":")[-1], []).append(r.physical_name)
    # The sample model is seeded in every workspace (its folder upload is the sixth WorkspaceUpload).
    assert {k: len(v) for k, v in found.items()} == {**COUNTS, "ModelContainer": 1, "ModelVersion": 1,
                                                    "WorkspaceUpload": 6, "RoleAssignment": 1}
    s = starter_set()
    versions = sorted(f"{ws}/{a.name}/{a.version}" for a in s.assets if a.kind in ("component",))
    assert sorted(found["ComponentVersion"]) == versions
    assert sorted(found["EnvironmentVersion"]) == sorted(
        [f"{ws}/sklearn-train/1.0.0", f"{ws}/batch-score/{s.find('environment', 'batch-score').version}"])
    assert sorted(found["Datastore"]) == [f"{ws}/curated_adls", f"{ws}/landing_blob"]
    # Dev has no AKS compute: its assets.endpoints leaves the Kubernetes endpoint out.
    assert plan.outputs["seededAssets"] == [line for line in expected_summary()
                                            if stack != "dev" or "credit-aks" not in line]
    for r in assets_of(plan):
        kind = r.type.split(":")[-1]
        assert r.protect is False
        # Versions and their containers stay when they leave the folder; a version's body is immutable.
        assert r.retain_on_delete is kind.endswith(("Version", "Container")), r.urn
        assert r.ignore_changes == (["properties"] if kind.endswith("Version") else []), r.urn


def _engine_update_inputs(olds: dict, news: dict, ignore_changes: list[str]) -> dict:
    """The inputs the Pulumi engine diffs against the state: news with each ignored top-level path
    reset to its value in the state (pulumi pkg/resource/deploy/step_generator.go processIgnoreChanges)."""
    out = copy.deepcopy(news)
    for path in ignore_changes:
        if path in olds:
            out[path] = copy.deepcopy(olds[path])
    return out


def test_a_refresh_that_rewrites_a_version_body_plans_no_update():
    plan = stack_plan("prod")
    prep = plan.one(ML + "ComponentVersion", "assets-component-prep_data-1.0.1")
    # After a refresh the state holds the body as AML answers it: REST type names, `_source` added
    # (what azure-ai-ml's Component._from_rest_object_to_init_params undoes).
    refreshed = copy.deepcopy(prep.inputs)
    spec = refreshed["properties"]["componentSpec"]
    spec["_source"] = "YAML.COMPONENT"
    for port in spec["inputs"].values():
        port["type"] = port["type"].capitalize()
    assert refreshed != prep.inputs
    assert _engine_update_inputs(refreshed, prep.inputs, prep.ignore_changes) == refreshed
    # Only the body: a new version is a new resource (the version is in its name), never an update.
    assert prep.ignore_changes == ["properties"] and prep.name.endswith("-1.0.1")


def test_datastores_are_identity_based(stack):
    plan = stack_plan(stack)
    blob = plan.one(ML + "Datastore", "assets-datastore-landing_blob").inputs["properties"]
    adls = plan.one(ML + "Datastore", "assets-datastore-curated_adls").inputs["properties"]
    assert blob["datastoreType"] == "AzureBlob" and blob["containerName"] == "landing"
    assert blob["accountName"] == "contosolanding"
    assert adls["datastoreType"] == "AzureDataLakeGen2" and adls["filesystem"] == "curated"
    assert adls["accountName"] == "contosodatalake"
    for r in plan.of_type(ML + "Datastore"):
        assert r.inputs["skipValidation"] is True  # as `az ml datastore create` sends it
    for ds in (blob, adls):
        assert ds["credentials"] == {"credentialsType": "None"}
        assert ds["protocol"] == "https" and ds["endpoint"] == "core.windows.net"
        assert ds["properties"]["amlplatform.file"].startswith("datastores/")
    # The seeded datastores need no container of the stack's own.
    assert plan.of_type("azure-native:storage:BlobContainer") == []


def test_schedules_run_only_in_prod(stack):
    props = stack_plan(stack).one(ML + "Schedule").inputs["properties"]
    assert props["isEnabled"] is (stack == "prod")
    assert props["trigger"] == {"triggerType": "Recurrence", "frequency": "Week", "interval": 1, "timeZone": "UTC",
                                "schedule": {"hours": [2], "minutes": [0], "weekDays": ["Monday"]}}


def test_schedule_job_points_at_the_seeded_versions_and_the_stacks_compute():
    plan = stack_plan("prod")
    ws = plan.one(ML + "Workspace").id
    job = plan.one(ML + "Schedule").inputs["properties"]["action"]["jobDefinition"]
    assert job["jobType"] == "Pipeline" and job["experimentName"] == "credit-default-retraining"
    ids = {n: j["componentId"] for n, j in job["jobs"].items()}
    assert ids == {n: plan.one(ML + "ComponentVersion", f"assets-component-{c}").id
                   for n, c in (("prep", "prep_data-1.0.1"), ("train", "train_model-1.0.0"),
                                ("evaluate", "evaluate_model-1.0.0"))}
    # The data version's ARM ID itself, as `az ml` resolves azureml:NAME:VERSION (no azureml: prefix).
    assert job["inputs"]["raw_data"] == {
        "jobInputType": "uri_file", "mode": "ReadOnlyMount",
        "uri": plan.one(ML + "DataVersion", "assets-data-credit_defaults_raw-1").id}
    assert job["inputs"]["min_auc"] == {"jobInputType": "literal", "value": "0.72"}
    assert job["settings"]["default_compute"] == f"{ws}/computes/cpu-cluster"
    assert job["outputs"]["model"] == {"jobOutputType": "mlflow_model", "mode": "ReadWriteMount"}
    sched = plan.one(ML + "Schedule")
    compute = plan.one(ML + "Compute", "compute-cluster-cpu-cluster").urn
    assert compute in sched.dependencies


def test_component_spec_uses_arm_ids_of_code_and_environment():
    plan = stack_plan("staging")
    prep = plan.one(ML + "ComponentVersion", "assets-component-prep_data-1.0.1")
    spec = prep.inputs["properties"]["componentSpec"]
    code = next(r for r in plan.of_type(ML + "CodeVersion") if r.inputs["name"] == "prep_data")
    env = plan.one(ML + "EnvironmentVersion", "assets-environment-sklearn-train-1.0.0")
    assert spec["code"] == "azureml:" + code.id and spec["environment"] == "azureml:" + env.id
    assert spec["is_deterministic"] is True and spec["type"] == "command" and spec["version"] == "1.0.1"
    assert spec["inputs"]["test_size"] == {"type": "number", "default": "0.2", "min": "0.05", "max": "0.5"}
    assert {code.urn, env.urn} <= set(prep.dependencies)
    evaluate = plan.one(ML + "ComponentVersion", "assets-component-evaluate_model-1.0.0").inputs["properties"]
    # A curated environment keeps its short form: the service expands it from the azureml registry.
    assert evaluate["componentSpec"]["environment"] == "azureml:AzureML-sklearn-1.5:1"
    assert prep.inputs["properties"]["properties"]["amlplatform.sha256"] == starter_set().find(
        "component", "prep_data").sha256


def test_uploads_go_to_the_default_datastore_and_feed_the_versions():
    plan = stack_plan("prod")
    guid = plan.one(ML + "Workspace").outputs["workspaceId"]
    # Uploads stay on the workspace's own storage (its default datastore), not the teams' lake.
    account = plan.one("azure-native:storage:StorageAccount", "storage-account").physical_name
    up = plan.one(UPLOAD, "assets-upload-component-prep_data-code")
    sha = path_sha256(STARTER / "components/src/prep")
    assert up.inputs["containerName"] == f"azureml-blobstore-{guid}" and up.inputs["accountName"] == account
    assert up.inputs["source"] == "assets/components/src/prep" and up.inputs["sha256"] == sha
    assert up.inputs["prefix"] == f"LocalUpload/{sha[:32]}/prep" and up.inputs["__provider"] == "[secret]"
    assert up.inputs["uri"] == f"https://{account}.blob.core.windows.net/azureml-blobstore-{guid}/LocalUpload/{sha[:32]}/prep"
    code = next(r for r in plan.of_type(ML + "CodeVersion") if r.inputs["name"] == "prep_data")
    assert code.inputs["version"] == sha[:12] and code.inputs["properties"]["codeUri"] == up.inputs["uri"]
    build = plan.one(UPLOAD, "assets-upload-environment-batch-score-build")
    env = next(r for r in plan.of_type(ML + "EnvironmentVersion") if r.inputs["name"] == "batch-score")
    assert env.inputs["properties"]["build"] == {"contextUri": build.inputs["uri"], "dockerfilePath": "Dockerfile"}
    assert build.inputs["uri"].endswith(f"/{build.inputs['prefix']}/")  # AML wants the context as a folder
    table = plan.one(ML + "DataVersion", "assets-data-credit_defaults_table-1.0.0").inputs["properties"]
    data_up = plan.one(UPLOAD, "assets-upload-data-credit_defaults_table-path")
    assert table["dataType"] == "mltable" and table["dataUri"] == (
        f"azureml://datastores/workspaceblobstore/paths/{data_up.inputs['prefix']}/")
    # What the MLTable file reads, as `az ml data create` computes it (MLTableMetadata.referenced_uris).
    assert table["referencedUris"] == ["azureml://datastores/landing_blob/paths/credit/*.csv"]
    sklearn = plan.one(ML + "EnvironmentVersion", "assets-environment-sklearn-train-1.0.0").inputs["properties"]
    assert sklearn["image"] == "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
    assert "scikit-learn==1.5.1" in sklearn["condaFile"] and sklearn["osType"] == "Linux"


def test_cicd_principal_may_write_only_the_default_containers(stack):
    plan = stack_plan(stack)
    (grant,) = [r for r in assets_of(plan) if r.type.endswith("RoleAssignment")]
    i = grant.inputs
    assert i["principalId"] == "00000000-0000-0000-0000-00000000a002" and i["principalType"] == "ServicePrincipal"
    assert i["roleDefinitionId"].endswith("ba92f5b4-2d11-453d-a403-e96b0029c9fe")  # Storage Blob Data Contributor
    assert i["scope"] == plan.one("azure-native:storage:StorageAccount", "storage-account").id
    # ABAC: every blob data action only in AML's default containers, never the teams' data.
    assert i["conditionVersion"] == "2.0"
    assert i["condition"].endswith("OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] "
                                   "StringStartsWith 'azureml-blobstore-'))")
    for action in ("read", "write", "add/action", "move/action", "delete"):
        assert f"!(ActionMatches{{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/{action}'}})" \
            in i["condition"]
    assert all(grant.urn in u.dependencies for u in plan.of_type(UPLOAD))


def test_platform_datastores_must_name_a_team_container(tmp_path):
    folder = tmp_path / "src"
    shutil.copytree(STARTER, folder)
    edit(folder / "datastores/curated_adls.yml", "account_name: contosodatalake", "account_name: ${platform.storageAccount}")
    with pytest.raises(config.ConfigError) as err:  # the plan loads the folder against the stack
        plan_with(tmp_path / "a", "dev", folder=folder)
    assert str(err.value) == (f"{tmp_path}/a/assets/datastores/curated_adls.yml: filesystem: 'curated' is not a "
                              "container of this stack's data lake (team containers: none); add it to a team with "
                              "`amlplatform onboard --containers` so it exists and has its grants")

    def teams(raw):
        raw["amlplatform:teams"] = {"fraud": {"containers": ["curated"]}, }
        # Dev keeps its endpoint list (no AKS: the Kubernetes endpoint is left out).
        raw["amlplatform:assets"] = {**raw["amlplatform:assets"], "teamDatastores": False}

    _, plan = plan_with(tmp_path / "b", "dev", teams, folder=folder)
    adls = plan.one(ML + "Datastore", "assets-datastore-curated_adls").inputs["properties"]
    # The platform's account in a datastore is the teams' data lake (ADLS Gen2), not the workspace storage.
    assert adls["accountName"] == plan.one("azure-native:storage:StorageAccount", "datalake-account").physical_name
    assert adls["resourceGroup"] == "rg-contoso-dev" and adls["subscriptionId"] == "00000000-0000-0000-0000-000000000000"


def test_arm_template_renders_assets_and_skips_uploads(stack):
    t = arm.render(stack_plan(stack), relaxations.for_stack(stack_config(stack)))
    by_type = {}
    for r in t["resources"]:
        by_type.setdefault(r["type"], []).append(r)
    base = "Microsoft.MachineLearningServices/workspaces/"
    assert len(by_type[base + "components/versions"]) == 3 and len(by_type[base + "schedules"]) == 1
    assert all(r["apiVersion"] == "2025-12-01" for r in by_type[base + "datastores"])
    assert not [r for r in t["resources"] if "WorkspaceUpload" in r["comments"]]
    code = next(r for r in by_type[base + "codes/versions"] if "/prep_data/" in r["name"])
    ws = next(r for r in by_type["Microsoft.MachineLearningServices/workspaces"])
    # The upload is not rendered: its dependencies pass through to the code version.
    assert any(d.endswith("/workspaces/" + ws["name"]) for d in code["dependsOn"])
    assert code["properties"]["codeUri"].startswith("https://")


# ---- stack config -------------------------------------------------------------------------


def plan_with(tmp_path: Path, stack: str, edit_raw=None, folder: Path | None = STARTER):
    raw = copy.deepcopy(raw_stack(stack))
    if edit_raw:
        edit_raw(raw)
    cfg = config.parse(raw, f"stacks/Pulumi.{stack}.yaml", stack)
    if folder is not None:
        shutil.copytree(folder, tmp_path / "assets", dirs_exist_ok=True)
    cfg._root = str(tmp_path)
    return cfg, offline_stack.plan_stack(cfg, raw)[0]


def test_assets_off_or_absent_seed_nothing(tmp_path):
    _, plan = plan_with(tmp_path / "a", "dev", lambda r: r.__setitem__("amlplatform:assets", {"enabled": False}))
    assert assets_of(plan) == [] and "seededAssets" not in plan.outputs
    _, plan = plan_with(tmp_path / "b", "dev", folder=None)  # a checkout without assets/
    assert assets_of(plan) == []
    # A config parsed from a mapping alone has no repository beside it: no assets.
    assert config.parse(raw_stack("dev"), "stacks/Pulumi.dev.yaml", "dev").root is None
    assert config.load_stack("dev", ROOT)[0].root == ROOT


def test_a_named_folder_must_exist():
    raw = copy.deepcopy(raw_stack("dev"))
    raw["amlplatform:assets"] = {"folder": "ml/assets"}
    cfg = config.parse(raw, "stacks/Pulumi.dev.yaml", "dev")
    with pytest.raises(config.ConfigError, match=r"amlplatform:assets.folder: 'ml/assets' is not a folder"):
        offline_stack.plan_stack(cfg, raw)
    raw["amlplatform:assets"] = {"folder": "../elsewhere"}
    with pytest.raises(config.ConfigError, match="assets.folder: must be a folder inside the repository"):
        config.parse(raw, "stacks/Pulumi.dev.yaml", "dev")


def test_team_containers_become_datastores(tmp_path):
    def teams(raw):
        raw["amlplatform:teams"] = {"fraud": {"containers": ["fraud-raw"]}}

    folder = tmp_path / "src"
    shutil.copytree(STARTER, folder)
    edit(folder / "data/credit_defaults_curated.yml", "datastores/curated_adls/", "datastores/fraud_raw/")
    assets.write_lock(folder, frozenset({"fraud_raw"}))
    _, plan = plan_with(tmp_path, "dev", teams, folder=folder)
    ds = plan.one(ML + "Datastore", "assets-datastore-fraud_raw").inputs["properties"]
    assert ds["datastoreType"] == "AzureDataLakeGen2" and ds["filesystem"] == "fraud-raw"
    assert ds["credentials"] == {"credentialsType": "None"} and ds["tags"] == {"team": "fraud"}
    # On the teams' data lake, where the container is (the workspace's own storage is flat).
    assert ds["accountName"] == plan.one("azure-native:storage:StorageAccount", "datalake-account").physical_name
    assert "datastore fraud_raw" in plan.outputs["seededAssets"]


def test_a_pipeline_on_a_compute_the_stack_lacks_fails_the_plan(tmp_path):
    folder = tmp_path / "src"
    shutil.copytree(STARTER, folder)
    edit(folder / "pipelines/retrain.yml", "azureml:cpu-cluster", "azureml:gpu-cluster")
    with pytest.raises(config.ConfigError) as err:
        plan_with(tmp_path, "dev", folder=folder)
    line = ("pipelines/retrain.yml: settings.default_compute: compute 'gpu-cluster' is not in this stack (computes: "
            "cpu-cluster); leave compute out for serverless")
    assert str(err.value) == f"{tmp_path}/assets/{line}"
    # AssetsProps runs the same check on whatever it is given.
    with pytest.raises(PropsError) as err:
        AssetsProps(Common("rg", "westeurope", "s"), assets=assets.load(folder), repo_root=tmp_path,
                    workspace_name="mlw", workspace_id="ws", workspace_guid="g", resource_group="rg",
                    storage_account_name="st", storage_account_id="st-id", data_lake_account_name="dls",
                    computes=["cpu-cluster"],
                    schedules_enabled=False)
    assert str(err.value) == f"src/{line}"


# ---- the upload provider (no Azure: fake clients) ---------------------------------------------


class Forbidden(Exception):
    status_code = 403


class FakeBlob:
    def __init__(self, store, name):
        self.store, self.name = store, name

    def exists(self):
        if self.store.denied:
            self.store.denied -= 1
            raise Forbidden("AuthorizationPermissionMismatch")
        return self.name in self.store.blobs


class FakeContainer:
    container_name = "azureml-blobstore-x"

    def __init__(self, denied=0):
        self.blobs: dict[str, bytes] = {}
        self.denied = denied

    def get_blob_client(self, name):
        return FakeBlob(self, name)

    def upload_blob(self, name, data, overwrite):
        assert overwrite is True
        self.blobs[name] = data


def test_upload_writes_every_file_then_a_marker_and_only_once():
    src = STARTER / "components/src/prep"
    sha = path_sha256(src)
    prefix = f"LocalUpload/{sha[:32]}/prep"
    fake = FakeContainer()
    assert upload_mod.upload(src, sha, prefix, fake) == 2
    assert sorted(fake.blobs) == [f"LocalUpload/{sha[:32]}/.amlplatform-upload.json", f"{prefix}/prep.py"]
    assert fake.blobs[f"{prefix}/prep.py"] == (src / "prep.py").read_bytes()
    manifest = json.loads(fake.blobs[f"LocalUpload/{sha[:32]}/.amlplatform-upload.json"])
    assert manifest["sha256"] == sha and manifest["files"] == 1
    assert upload_mod.upload(src, sha, prefix, fake) == 0  # content-addressed: already there


def test_upload_refuses_content_that_changed_since_the_plan():
    with pytest.raises(upload_mod.UploadError, match="changed since the plan"):
        upload_mod.upload(STARTER / "components/src/prep", "0" * 64, "LocalUpload/x/prep", FakeContainer())


def test_upload_waits_for_rbac_propagation_then_gives_a_clear_error():
    src = STARTER / "components/src/train"
    sha = path_sha256(src)
    waits = []
    fake = FakeContainer(denied=2)
    assert upload_mod.upload(src, sha, f"LocalUpload/{sha[:32]}/train", fake, sleep=waits.append) == 2
    assert waits == [15, 15]
    with pytest.raises(upload_mod.UploadError, match="needs Storage Blob Data Contributor"):
        upload_mod.upload(src, sha, "p/train", FakeContainer(denied=5), sleep=lambda s: None, retry_seconds=0)


def test_default_datastore_must_be_identity_based_and_the_planned_container():
    from azure.ai.ml.entities import AccountKeyConfiguration, AzureBlobDatastore

    def client(ds):
        return SimpleNamespace(datastores=SimpleNamespace(get_default=lambda: ds))

    good = AzureBlobDatastore(name="workspaceblobstore", account_name="st", container_name="c")
    upload_mod.check_default_datastore(client(good), "st", "c")
    with pytest.raises(upload_mod.UploadError, match="not the planned st/other"):
        upload_mod.check_default_datastore(client(good), "st", "other")
    keyed = AzureBlobDatastore(name="workspaceblobstore", account_name="st", container_name="c",
                               credentials=AccountKeyConfiguration(account_key="k"))
    with pytest.raises(upload_mod.UploadError, match="holds AccountKeyConfiguration"):
        upload_mod.check_default_datastore(client(keyed), "st", "c")


def test_provider_create_diff_delete():
    calls = []
    fake = FakeContainer()

    def clients(props):
        calls.append(props["workspaceName"])
        ds = SimpleNamespace(name="workspaceblobstore", credentials=None, account_name="st", container_name="c")
        return SimpleNamespace(datastores=SimpleNamespace(get_default=lambda: ds)), fake

    src = STARTER / "components/src/evaluate"
    sha = path_sha256(src)
    props = {"workspaceName": "mlw", "accountName": "st", "containerName": "c", "source": str(src), "sha256": sha,
             "prefix": f"LocalUpload/{sha[:32]}/evaluate", "uri": "https://st/c/x"}
    provider = upload_mod.UploadProvider(clients)
    result = provider.create(props)
    assert result.id == f"st/c/LocalUpload/{sha[:32]}/evaluate" and result.outs == props and calls == ["mlw"]
    assert f"{props['prefix']}/evaluate.py" in fake.blobs
    diff = provider.diff(result.id, props, {**props, "sha256": "1" * 64, "prefix": "LocalUpload/1/evaluate"})
    assert diff.changes is True and diff.replaces == ["sha256", "prefix"] and diff.delete_before_replace is False
    assert provider.diff(result.id, props, dict(props)).changes is False
    provider.delete(result.id, props)
    assert f"{props['prefix']}/evaluate.py" in fake.blobs  # retained versions still point at it


# ---- verify (MLClient-shaped fake) --------------------------------------------------------------


class FakeOps:
    def __init__(self, present: dict):
        self.present = present

    def get(self, name, version=None, endpoint_name=None):
        from azure.core.exceptions import ResourceNotFoundError

        key = (f"{endpoint_name}/{name}" if endpoint_name else name, version)
        if key not in self.present:
            raise ResourceNotFoundError(f"{name} not found")
        return SimpleNamespace(properties=self.present[key])


def fake_client(present):
    kinds = ("compute", "datastores", "environments", "components", "data", "models", "schedules", "online_endpoints",
             "online_deployments", "batch_endpoints", "batch_deployments")
    return SimpleNamespace(**{k: FakeOps(present.get(k, {})) for k in kinds})


def verify_repo(repo: Path) -> Path:
    f = repo / "stacks/Pulumi.prod.yaml"
    edit(f, "    location: westeurope\n", "    location: westeurope\n    subscriptionId: 12345678-1234-1234-1234-123456789012\n")
    return repo


def test_verify_reports_present_missing_and_changed(repo, capsys):
    verify_repo(repo)
    s = assets.load(repo / "assets")
    present = {
        "compute": {("cpu-cluster", None): {}, ("gpu-cluster", None): {}, ("aks-inference", None): {}},
        "datastores": {(a.name, None): {} for a in s.of_kind("datastore")},
        "schedules": {("weekly_retrain", None): {}},
        "environments": {(a.name, a.version): {"amlplatform.sha256": a.sha256} for a in s.of_kind("environment")},
        "components": {(a.name, a.version): {"amlplatform.sha256": a.sha256} for a in s.of_kind("component")},
        "data": {(a.name, a.version): {"amlplatform.sha256": a.sha256} for a in s.of_kind("data")},
        "models": {(a.name, a.version): {"amlplatform.sha256": a.sha256} for a in s.of_kind("model")},
        # Endpoints by the names prod gives them; deployments under their endpoint.
        "online_endpoints": {("credit-online-prd", None): {}, ("credit-aks-prd", None): {}},
        "online_deployments": {("credit-online-prd/blue", None): {}, ("credit-aks-prd/blue", None): {}},
        "batch_endpoints": {("credit-batch-prd", None): {}},
        "batch_deployments": {("credit-batch-prd/nightly", None): {}},
    }
    args = SimpleNamespace(stack="prod", root=str(repo))
    from infra.cli import seeding as cli_assets

    assert cli_assets.cmd_verify(args, lambda cfg, names: fake_client(present)) == 0
    out = capsys.readouterr().out
    assert "verify: PASS  (21 present, 0 missing, 0 differ)" in out and "workspace mlw-contoso-prd" in out
    assert "  present  online_deployment credit-aks-prd/blue" in out and "  present  model credit-default-model 1" in out
    del present["compute"][("gpu-cluster", None)]
    del present["batch_deployments"][("credit-batch-prd/nightly", None)]
    present["components"][("train_model", "1.0.0")] = {"amlplatform.sha256": "f" * 64}
    assert cli_assets.cmd_verify(args, lambda cfg, names: fake_client(present)) == 1
    out = capsys.readouterr().out
    assert "verify: FAIL  (18 present, 2 missing, 1 differ)" in out
    assert "  missing  batch_deployment credit-batch-prd/nightly" in out
    assert "  missing  compute gpu-cluster" in out
    assert "  differs  component train_model 1.0.0  (workspace sha256 ffffffffffff…" in out


def test_verify_registry_checks_every_promoted_version_and_its_hash(repo, capsys):
    f = repo / "stacks/Pulumi.registry.yaml"
    edit(f, "    location: westeurope\n", "    location: westeurope\n    subscriptionId: 12345678-1234-1234-1234-123456789012\n")
    model = assets.load(repo / "assets").find("model", "credit-default-model")
    seen = []

    def client(cfg, resource_group):
        seen.append((cfg.ml_registry.name, resource_group))
        return fake_client(present)

    present = {"models": {("credit-default-model", "1"): {"amlplatform.sha256": model.sha256}}}
    from infra.cli import seeding as cli_assets

    assert cli_assets.cmd_verify(SimpleNamespace(stack="registry", root=str(repo)), client) == 0
    out = capsys.readouterr().out
    assert seen == [("mlr-contoso", "rg-contoso-registry")]
    assert out == ("amlplatform verify registry  (registry mlr-contoso in rg-contoso-registry)\n"
                   "verify: PASS  (1 present, 0 missing, 0 differ)\n  present  model credit-default-model 1\n")
    present["models"][("credit-default-model", "1")] = {"amlplatform.sha256": "e" * 64}
    assert cli_assets.cmd_verify(SimpleNamespace(stack="registry", root=str(repo)), client) == 1
    assert "  differs  model credit-default-model 1  (registry sha256 eeeeeeeeeeee…" in capsys.readouterr().out


def test_verify_needs_the_subscription(repo, capsys):
    assert cli.main(["--root", str(repo), "verify", "prod"]) == 2
    assert "amlplatform:platform.subscriptionId: verify needs the stack's subscription" in capsys.readouterr().err


def test_verify_turns_a_denied_read_into_one_clear_error():
    from azure.core.exceptions import HttpResponseError

    class Denied:
        def get(self, **kw):
            err = HttpResponseError("forbidden")
            err.status_code = 403
            raise err

    client = SimpleNamespace(compute=Denied())
    with pytest.raises(config.ConfigError, match="access denied reading compute cpu-cluster: the caller needs"):
        verify_mod.check([verify_mod.Expected("compute", "cpu-cluster")], client)


# ---- the CLI ----------------------------------------------------------------------------------


def test_cli_validate_lists_every_asset(capsys):
    assert cli.main(["--root", str(ROOT), "assets", "validate"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("assets: 18 valid in assets/ (lock up to date)\n")
    assert "  component   prep_data 1.0.1  (components/prep_data.yml)" in out
    assert "  datastore   landing_blob  (datastores/landing_blob.yml)" in out


def test_cli_validate_bad_folder_exits_2_without_traceback(repo):
    edit(repo / "assets/components/train_model.yml", "azureml:sklearn-train:1.0.0", "azureml:nope:1")
    proc = subprocess.run([sys.executable, "-m", "infra.cli.main", "assets", "validate", "--root", str(repo)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (f"error: {repo}/assets/components/train_model.yml: environment: environment 'nope' "
                                   "is not seeded from this folder (seeded environments: batch-score, sklearn-train)")


def test_cli_lock_after_a_bump(repo, capsys):
    edit(repo / "assets/environments/sklearn-train.yml", "version: 1.0.0", "version: 1.0.1")
    for f, old, new in (("prep_data", "1.0.1", "1.0.2"), ("train_model", "1.0.0", "1.0.1")):
        p = repo / f"assets/components/{f}.yml"
        p.write_text(p.read_text().replace("sklearn-train:1.0.0", "sklearn-train:1.0.1")
                     .replace(f"version: {old}", f"version: {new}"))
        edit(repo / "assets/pipelines/retrain.yml", f"{f}:{old}", f"{f}:{new}")
    assert cli.main(["--root", str(repo), "assets", "validate"]) == 2
    assert cli.main(["assets", "lock", "--root", str(repo)]) == 0
    out = capsys.readouterr().out
    assert "added 3 version(s)" in out and "  + environment/sklearn-train/1.0.1" in out
    assert cli.main(["--root", str(repo), "assets", "validate"]) == 0
    assert cli.main(["--root", str(repo), "assets", "lock"]) == 0
    assert "already holds every version" in capsys.readouterr().out


# ---- the job scripts ---------------------------------------------------------------------------


def _load_script(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"job_{name}", STARTER / f"components/src/{name}/{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["prep", "train", "evaluate"])
def test_job_scripts_compile_and_match_their_component_commands(name):
    source = (STARTER / f"components/src/{name}/{name}.py").read_text()
    compile(source, name, "exec")
    component = {"prep": "prep_data", "train": "train_model", "evaluate": "evaluate_model"}[name]
    entity = starter_set().find("component", component).entity
    flags = {t[2:] for t in entity.command.split() if t.startswith("--")}
    assert flags == set(entity.inputs) | set(entity.outputs)
    for flag in flags:
        assert f'"--{flag}"' in source


@pytest.mark.slow
def test_job_scripts_run_end_to_end(tmp_path, monkeypatch):
    # The dev extra installs what the job scripts import (pandas, scikit-learn, mlflow): no skip.
    import numpy as np
    import pandas as pd
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"file://{tmp_path}/mlruns")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=400), rng.normal(size=400)
    y = ((x1 + 0.5 * x2 + rng.normal(scale=0.8, size=400)) > 1.2).astype(int)
    pd.DataFrame({"ID": range(400), "LIMIT_BAL": x1, "AGE": x2, "default payment next month": y}).to_csv(
        tmp_path / "raw.csv", index=False)
    t = str(tmp_path)
    _load_script("prep").main(["--raw_data", f"{t}/raw.csv", "--train_data", f"{t}/train", "--test_data", f"{t}/test"])
    train = pd.read_csv(tmp_path / "train/data.csv")
    assert train["default_payment_next_month"].mean() == 0.5  # oversampled to balance
    _load_script("train").main(["--train_data", f"{t}/train", "--n_estimators", "30", "--model", f"{t}/model"])
    _load_script("evaluate").main(["--model", f"{t}/model", "--test_data", f"{t}/test", "--min_auc", "0.6",
                                   "--metrics", f"{t}/metrics"])
    metrics = json.loads((tmp_path / "metrics/metrics.json").read_text())
    assert metrics["passed"] is True and metrics["test_auc"] > 0.6


def test_versions_and_schedules_wait_only_for_the_datastores_they_name():
    """A data version depends on the datastores its URIs name, a schedule on those its pipeline reads directly:
    never on the teams' datastores, so a team adds no edge to them (808 edges at 100 teams before)."""
    raw = copy.deepcopy(raw_stack("prod"))
    raw["amlplatform:teams"] = {f"team{i}": {"containers": [f"team{i}-raw"]} for i in range(3)}
    cfg = config.parse(raw, "stacks/Pulumi.prod.yaml", "prod")
    cfg._root = str(ROOT)
    plan = offline_stack.plan_stack(cfg, raw)[0]
    stores = {r.inputs["name"]: r.urn for r in plan.of_type(ML + "Datastore")}
    assert {"team0_raw", "team1_raw", "team2_raw", "curated_adls", "landing_blob"} <= set(stores)
    deps = {r.inputs["name"]: {n for n, u in stores.items() if u in r.dependencies} for r in plan.of_type(ML + "DataVersion")}
    assert deps == {"credit_defaults_curated": {"curated_adls"}, "credit_defaults_raw": {"landing_blob"},
                    # The MLTable's paths name the landing zone.
                    "credit_defaults_table": {"landing_blob"}}
    sched = plan.one(ML + "Schedule")
    assert not {u for u in stores.values()} & set(sched.dependencies)
    assert plan.one(ML + "DataVersion", "assets-data-credit_defaults_raw-1").urn in sched.dependencies


def test_the_registry_stacks_named_folder_must_exist_too():
    from infra.seeding.registry import folder_for

    cfg = config.load_stack("registry", ROOT)[0]
    cfg.ml_registry.assets.folder = "ml/assets"
    with pytest.raises(config.ConfigError) as err:
        folder_for(cfg)
    assert str(err.value) == (f"{cfg.source}: amlplatform:mlRegistry.assets.folder: 'ml/assets' is not a folder under "
                              f"the repository root {ROOT}")
    cfg.ml_registry.assets.folder = None
    assert folder_for(cfg) == ROOT / "assets"
