"""A corpus of broken assets folders: the shipped `assets/` with one mistake each, one case per rule
(infra/seeding/rules.py) at least. tests/test_assets_rules.py builds each folder and runs
`amlplatform assets validate` on it.

A case names the rule it breaks and the file and field the one error line must name. Cases whose
mistake only azure-ai-ml's schema sees edit a versioned file; `relock` then records the new hash,
as a data scientist's version bump and `amlplatform assets lock` would, so the lock does not
speak first.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from infra.seeding import lock as lock_mod
from infra.seeding.errors import Problems
from infra.seeding.loader import load_folder
from infra.seeding.resolve import resolve

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Edit:
    """Replace `old` with `new` in `file` (under assets/; `stacks/...` for a stack file). `old` None
    writes `new` as the whole file, `new` None deletes it; bytes are written as they are."""

    file: str
    old: str | None
    new: str | bytes | None


@dataclass(frozen=True)
class Case:
    id: str
    rule: str
    file: str  # the file the error line names, under assets/
    field: str  # the field it names
    edits: tuple[Edit, ...]
    relock: bool = False
    stack: str | None = None  # validate with --stack
    says: str = ""  # what the line must also say, where the file and field alone do not tell the rule apart


def relock(folder: Path) -> None:
    """Rewrite the lock with the current hashes (the project's own stages only, no azure-ai-ml)."""
    found = load_folder(folder)
    resolve(found, Problems(str(folder)), frozenset())
    (folder / lock_mod.LOCK_NAME).write_text(lock_mod.render(None, found))


def build(case: Case, into: Path) -> Path:
    """A copy of the repository's stacks and assets with the case's edits; returns the root."""
    shutil.copytree(ROOT / "stacks", into / "stacks")
    shutil.copytree(ROOT / "assets", into / "assets", ignore=shutil.ignore_patterns("__pycache__"))
    for e in case.edits:
        path = into / e.file if e.file.startswith("stacks/") else into / "assets" / e.file
        if e.new is None:
            path.unlink()
        elif isinstance(e.new, bytes):
            path.write_bytes(e.new)
        elif e.old is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(e.new)
        else:
            text = path.read_text()
            assert e.old in text, (case.id, e.file, e.old)
            path.write_text(text.replace(e.old, e.new, 1))
    if case.relock:
        relock(into / "assets")
    return into


def _text(file: str) -> str:
    return (ROOT / "assets" / file).read_text()


SCHEMA = "$schema: https://azuremlschemas.azureedge.net/latest/"
RAW = "data/credit_defaults_raw.yml"
PREP = "components/prep_data.yml"
TRAIN = "components/train_model.yml"
RETRAIN = "pipelines/retrain.yml"
WEEKLY = "schedules/weekly_retrain.yml"
BLOB = "datastores/landing_blob.yml"
ADLS = "datastores/curated_adls.yml"
SKLEARN = "environments/sklearn-train.yml"
BATCH = "environments/batch-score.yml"
CRON = "trigger:\n  type: cron\n  expression: \"{}\"\n  time_zone: UTC\n"
RECURRENCE = _text(WEEKLY)[_text(WEEKLY).index("trigger:"):_text(WEEKLY).index("create_job:")]
MODEL = "models/credit_default_model.yml"
ONLINE_EP = "endpoints/credit-online/online-endpoint.yml"
ONLINE_DEP = "endpoints/credit-online/online-deployment.yml"
AKS_EP = "endpoints/credit-aks/online-endpoint.yml"
AKS_DEP = "endpoints/credit-aks/online-deployment.yml"
PROMOTIONS = "registry/promotions.yml"
TEAM = "\n  amlplatform:teams:\n    fraud:\n      containers: [{}]\n"

CASES: tuple[Case, ...] = (
    # ---- files ----
    Case("asset-not-utf8", "encoding", RAW, "line 6",
         (Edit(RAW, None, _text(RAW).replace("Raw credit", "Raw cr\u00e9dit").encode("latin-1")),)),
    Case("conda-not-utf8", "encoding", SKLEARN, "conda_file",
         (Edit("environments/sklearn-train.conda.yml", None, b"name: caf\xe9\n"),)),
    Case("invalid-yaml", "yaml", "data/broken.yml", "line 2, column 10",
         (Edit("data/broken.yml", None, "name: x\n  version: [1\n"),)),
    Case("invalid-mltable", "yaml", "data/credit_defaults_table.yml", "path",
         (Edit("data/credit-defaults-mltable/MLTable", None, "paths: [\n"),)),
    Case("unsupported-kind", "kind", "datastores/old.yml", "$schema",
         (Edit("datastores/old.yml", None, f"{SCHEMA}azureDataLakeGen1.schema.json\nname: old\n"),)),
    Case("unknown-kind", "kind", "components/feature.yml", "$schema",
         (Edit("components/feature.yml", None, f"{SCHEMA}featureSet.schema.json\nname: m\n"),)),
    Case("type-against-schema", "kind", TRAIN, "$schema", (Edit(TRAIN, "type: command", "type: pipeline"),)),
    Case("stray-yaml", "stray-file", "components/notes.yml", "$schema",
         (Edit("components/notes.yml", None, "owner: ml-team\n"),)),
    Case("schedule-enum", "schema", WEEKLY, "trigger.frequency", (Edit(WEEKLY, "frequency: week", "frequency: fortnight"),)),
    Case("component-not-boolean", "schema", TRAIN, "is_deterministic",
         (Edit(TRAIN, "is_deterministic: true", "is_deterministic: maybe"),), relock=True),
    Case("component-name", "name", PREP, "name", (Edit(PREP, "name: prep_data", "name: prep-data"),)),
    Case("datastore-name", "name", BLOB, "name", (Edit(BLOB, "name: landing_blob", "name: landing-blob"),)),
    Case("schedule-name", "name", WEEKLY, "name", (Edit(WEEKLY, "name: weekly_retrain", "name: weekly retrain!"),)),
    Case("duplicate-version", "duplicate", "environments/sklearn-train2.yml", "name",
         (Edit("environments/sklearn-train2.yml", None, _text(SKLEARN)),)),
    Case("float-version", "version", RAW, "version", (Edit(RAW, "version: 1\n", "version: 1.5\n"),)),
    Case("missing-version", "version", SKLEARN, "version", (Edit(SKLEARN, "version: 1.0.0\n", ""),)),
    # ---- references ----
    Case("version-as-label", "ref-label", TRAIN, "environment",
         (Edit(TRAIN, "azureml:sklearn-train:1.0.0", "azureml:sklearn-train@1.0.0"),),
         says="@1.0.0 names a label, and AML has only @latest"),
    Case("component-version-as-label", "ref-label", RETRAIN, "jobs.train.component",
         (Edit(RETRAIN, "azureml:train_model:1.0.0", "azureml:train_model@1.0.0"),)),
    Case("dangling-environment", "environment-ref", TRAIN, "environment",
         (Edit(TRAIN, "azureml:sklearn-train:1.0.0", "azureml:sklearn-gpu:2"),)),
    Case("unpinned-curated", "environment-ref", "components/evaluate_model.yml", "environment",
         (Edit("components/evaluate_model.yml", "azureml:AzureML-sklearn-1.5:1", "azureml:AzureML-sklearn-1.5@latest"),)),
    Case("dangling-component", "component-ref", RETRAIN, "jobs.evaluate.component",
         (Edit(RETRAIN, "azureml:evaluate_model:1.0.0", "azureml:score_model:1"),)),
    Case("inline-component", "component-ref", RETRAIN, "jobs.evaluate.component",
         (Edit(RETRAIN, "component: azureml:evaluate_model:1.0.0", "component:\n      type: command"),)),
    Case("dangling-data", "data-ref", RETRAIN, "inputs.raw_data.path",
         (Edit(RETRAIN, "azureml:credit_defaults_raw:1", "azureml:credit_defaults_raw:9"),)),
    Case("local-pipeline-input", "data-ref", RETRAIN, "inputs.raw_data.path",
         (Edit(RETRAIN, "azureml:credit_defaults_raw:1", "./raw.csv"),)),
    Case("unknown-datastore", "datastore-ref", "data/credit_defaults_curated.yml", "path",
         (Edit("data/credit_defaults_curated.yml", "datastores/curated_adls/", "datastores/gold/"),)),
    # ---- datastores ----
    Case("certificate", "datastore-credentials", BLOB, "credentials",
         (Edit(BLOB, "tags:", "credentials:\n  tenant_id: 00000000-0000-0000-0000-000000000001\n  client_id: x\n"
               "  certificate: MIIC\n  thumbprint: AB12\ntags:"),), says="carries a certificate;"),
    Case("account-key", "datastore-credentials", BLOB, "credentials",
         (Edit(BLOB, "tags:", "credentials:\n  account_key: c2VjcmV0\ntags:"),), says="carries an account key;"),
    Case("plain-http", "datastore-protocol", BLOB, "protocol", (Edit(BLOB, "tags:", "protocol: http\ntags:"),)),
    # ---- environments ----
    Case("reserved-prefix", "environment-reserved-name", SKLEARN, "name",
         (Edit(SKLEARN, "name: sklearn-train", "name: AzureML-sklearn-train"),)),
    Case("image-and-build", "environment-source", BATCH, "image", (Edit(BATCH, "build:", "image: python:3.11\nbuild:"),)),
    Case("missing-conda-file", "environment-conda-file", SKLEARN, "conda_file",
         (Edit("environments/sklearn-train.conda.yml", None, None),)),
    Case("missing-build-context", "environment-build", BATCH, "build.path",
         (Edit(BATCH, "path: batch-score-context", "path: nope-context"),)),
    Case("missing-dockerfile", "environment-build", BATCH, "build.dockerfile_path",
         (Edit(BATCH, "dockerfile_path: Dockerfile", "dockerfile_path: Dockerfile.gpu"),)),
    # ---- components ----
    Case("missing-code", "component-code", PREP, "code", (Edit(PREP, "code: ./src/prep", "code: ./src/nope"),)),
    Case("remote-code", "component-code", PREP, "code", (Edit(PREP, "code: ./src/prep", "code: azureml:prep-code:1"),)),
    Case("undeclared-input", "component-binding", PREP, "command",
         (Edit(PREP, "--seed ${{inputs.seed}}", "--seed ${{inputs.nope}}"),),
         says="invalid data binding expression ${{inputs.nope}}"),
    Case("undeclared-output", "component-binding", TRAIN, "command",
         (Edit(TRAIN, "--model ${{outputs.model}}", "--model ${{outputs.mdl}}"),)),
    Case("unknown-binding-root", "component-binding", TRAIN, "command",
         (Edit(TRAIN, "--model ${{outputs.model}}", "--model ${{outputs.model}} --tag ${{job.nope}}"),), relock=True),
    # ---- data ----
    Case("sas-in-path", "data-path", RAW, "path",
         (Edit(RAW, "azureml://datastores/landing_blob/paths/credit/default_of_credit_card_clients.csv",
               "https://acct.blob.core.windows.net/c/file.csv?sv=2022&sig=abc"),)),
    Case("missing-local-data", "data-path", "data/credit_defaults_table.yml", "path",
         (Edit("data/credit_defaults_table.yml", "path: ./credit-defaults-mltable", "path: ./nope"),)),
    Case("uri-file-folder", "data-path-type", RAW, "path",
         (Edit(RAW, "paths/credit/default_of_credit_card_clients.csv", "paths/credit/"),)),
    Case("mltable-file", "data-path-type", "data/credit_defaults_table.yml", "path",
         (Edit("data/credit_defaults_table.yml", "path: ./credit-defaults-mltable",
               "path: ./credit-defaults-mltable/MLTable"),)),
    # ---- schedules ----
    Case("schedule-runs-a-component", "schedule-job", WEEKLY, "create_job",
         (Edit(WEEKLY, "../pipelines/retrain.yml", "../components/prep_data.yml"),),
         says="is a component file, not a pipeline job"),
    Case("cron-hour", "schedule-cron", WEEKLY, "trigger.expression",
         (Edit(WEEKLY, RECURRENCE, CRON.format("0 24 * * 1")),)),
    Case("cron-fields", "schedule-cron", WEEKLY, "trigger.expression", (Edit(WEEKLY, RECURRENCE, CRON.format("0 2 * *")),)),
    Case("cron-day-of-month", "schedule-cron", WEEKLY, "trigger.expression",
         (Edit(WEEKLY, RECURRENCE, CRON.format("0 2 1 * *")),)),
    Case("week-day-typo", "schedule-recurrence", WEEKLY, "trigger.schedule.week_days",
         (Edit(WEEKLY, "week_days: [monday]", "week_days: [mondey]"),)),
    Case("recurrence-hour", "schedule-recurrence", WEEKLY, "trigger.schedule.hours",
         (Edit(WEEKLY, "hours: [2]", "hours: [24]"),)),
    # ---- the lock file ----
    Case("lock-merge-conflict", "lock-file", "assets.lock.json", "line 1, column 1",
         (Edit("assets.lock.json", "{", "<<<<<<< HEAD\n{"),)),
    Case("lock-missing", "lock-file", "assets.lock.json", "", (Edit("assets.lock.json", None, None),)),
    Case("changed-code", "lock-changed", TRAIN, "version",
         (Edit("components/src/train/train.py", "import argparse", "import argparse  # tuned"),)),
    Case("unlocked-version", "lock-entry", RAW, "version",
         (Edit(RAW, "version: 1\n", "version: 2\n"), Edit(RETRAIN, "credit_defaults_raw:1", "credit_defaults_raw:2"))),
    # ---- the stack ----
    Case("compute-not-in-stack", "stack-compute", RETRAIN, "settings.default_compute",
         (Edit(RETRAIN, "azureml:cpu-cluster", "azureml:gpu-cluster"),), stack="dev"),
    Case("datastore-named-like-a-team-container", "stack-datastore-name", BLOB, "name",
         (Edit("stacks/Pulumi.dev.yaml", None, (ROOT / "stacks/Pulumi.dev.yaml").read_text() + TEAM.format("landing-blob")),),
         stack="dev"),
    Case("platform-container-not-a-team-container", "stack-container", ADLS, "filesystem",
         (Edit(ADLS, "account_name: contosodatalake", "account_name: ${platform.storageAccount}"),), stack="dev"),
    Case("platform-file-share", "stack-container", "datastores/share.yml", "account_name",
         (Edit("datastores/share.yml", None, f"{SCHEMA}azureFile.schema.json\ntype: azure_file\nname: share\n"
               "account_name: ${platform.storageAccount}\nfile_share_name: share\n"),), stack="dev"),
    # ---- models, endpoints, the registry ----
    Case("model-path-missing", "model-path", MODEL, "path",
         (Edit(MODEL, "path: credit-default-model", "path: credit-default-model-v2"),)),
    Case("deployment-unknown-endpoint", "deployment-endpoint", ONLINE_DEP, "endpoint_name",
         (Edit(ONLINE_DEP, "endpoint_name: credit-online", "endpoint_name: credit-offline"),)),
    Case("deployment-model-not-promoted", "deployment-model-ref", ONLINE_DEP, "model",
         (Edit(ONLINE_DEP, "credit-default-model/versions/1", "credit-default-model/versions/7"),),
         says="is not promoted to the registry"),
    Case("deployment-sku-not-offered", "deployment-instance-type", ONLINE_DEP, "instance_type",
         (Edit(ONLINE_DEP, "instance_type: Standard_DS3_v2", "instance_type: Standard_B2s"),)),
    Case("traffic-not-100", "endpoint-traffic", ONLINE_EP, "traffic",
         (Edit(ONLINE_EP, "blue: 100", "blue: 90"),), says="sum to 90, not 100"),
    Case("promotion-unknown-version", "promotion", PROMOTIONS, "promotions[0].version",
         (Edit(PROMOTIONS, 'version: "1"', 'version: "2"'),)),
    Case("prod-deploys-workspace-model", "stack-registry-only", ONLINE_DEP, "model",
         (Edit(ONLINE_DEP, "azureml://registries/mlr-contoso/models/credit-default-model/versions/1",
               "azureml:credit-default-model:1"),), stack="prod", says="deploys registry versions only"),
    Case("kubernetes-endpoint-in-dev", "stack-endpoint", AKS_EP, "compute",
         (Edit("stacks/Pulumi.dev.yaml", "endpoints: [credit-online, credit-batch]",
               "endpoints: [credit-online, credit-batch, credit-aks]"),), stack="dev"),
    Case("instance-type-not-on-cluster", "stack-instance-type", AKS_DEP, "instance_type",
         (Edit(AKS_DEP, "instance_type: defaultinstancetype", "instance_type: gpu-large"),), stack="staging"),
)
