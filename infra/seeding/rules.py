"""Every rule the seeded assets must follow, by ID: what `amlplatform assets validate` and the plan enforce.

Each problem the loader records names one of these IDs (an unknown ID is a programming error),
README's "Asset rules" table lists the same IDs with the same text, and tests/ holds a broken
assets folder for each. Where a rule mirrors what `az ml <kind> create` (azure-ai-ml 1.35) or
Azure refuses, the README row names the source.
"""

from __future__ import annotations

RULES: dict[str, str] = {
    # ---- files ----
    "encoding": "every file the platform reads (asset YAML, conda files, MLTable files) is UTF-8 text",
    "yaml": "every `*.yml`/`*.yaml` file, conda file and MLTable file is valid YAML",
    "kind": "`$schema` names a kind the platform seeds (blob, ADLS Gen2 or file share datastore, environment, "
            "command component, data, pipeline job, schedule, model, managed or Kubernetes online endpoint and "
            "deployment, batch endpoint and model deployment) and `type` agrees with it",
    "stray-file": "a YAML file that is no asset is referenced by one (a conda file, a file in a code folder)",
    "schema": "azure-ai-ml's schema for the kind accepts the file, as `az ml <kind> create` loads it",
    "name": "names follow AML's pattern for the kind (datastores: letters, digits, `_`; components: lowercase "
            "letter, then lowercase letters, digits, `_`; others: alphanumeric, then letters, digits, `-_.`)",
    "duplicate": "each (kind, name, version) is defined in one file only",
    "version": "environments, components and data name their version: an integer, a semantic version, or `auto`",
    # ---- references ----
    "ref-label": "`azureml:NAME@LABEL` names a label, and the only label is `latest` (`azureml:NAME:VERSION` "
                 "names a version)",
    "environment-ref": "a component's environment is seeded from the folder, or a curated `AzureML-*` environment "
                       "of the `azureml` registry pinned to a version",
    "component-ref": "a pipeline job's components are seeded from the folder (`azureml:NAME:VERSION`, "
                     "`@latest`, or the component's file), never inline",
    "data-ref": "a pipeline job's data inputs are seeded data (`azureml:NAME:VERSION`) or datastore URIs, "
                "never local paths",
    "datastore-ref": "the datastores data and pipeline inputs name are seeded, a team's, or the workspace's own",
    # ---- datastores ----
    "datastore-credentials": "datastores hold no credentials (account key, SAS token, service principal secret, "
                             "certificate): identity-based only",
    "datastore-protocol": "datastores use an encrypted protocol (`https`, `wasbs`, `abfss`)",
    # ---- environments ----
    "environment-reserved-name": "the `AzureML-` name prefix is reserved for Microsoft's curated environments",
    "environment-source": "an environment gives exactly one of `image` (optionally with `conda_file`) or `build`",
    "environment-conda-file": "`conda_file` is a file next to the environment's YAML",
    "environment-build": "`build.path` is a folder next to the environment's YAML and holds its `dockerfile_path`",
    # ---- components ----
    "component-code": "a component's `code` is a local folder next to its YAML (the platform uploads it)",
    "component-binding": "a command's `${{...}}` data bindings name the component's declared inputs and outputs",
    # ---- data ----
    "data-path": "a data asset's `path` is an `azureml://datastores/` URI, an https/abfss/wasbs URL or a local "
                 "path that exists (an `mltable` folder holds an MLTable file), and carries no SAS token",
    "data-path-type": "a `uri_file` path names a file (no trailing `/`, not a local folder); a `uri_folder` path "
                      "names a folder",
    # ---- schedules ----
    "schedule-job": "a schedule's `create_job` is the path of a pipeline job file in the folder",
    "schedule-cron": "a cron expression has five fields: minutes 0-59, hours 0-23, days and months `*` "
                     "(AML ignores them), days of the week 0-6 or `sun`-`sat`",
    "schedule-recurrence": "a recurrence pattern's hours are 0-23, minutes 0-59, week days `monday`-`sunday`, "
                           "month days 1-31",
    # ---- models, endpoints, the registry ----
    "model-path": "a model's `path` is a local folder or file next to its YAML (an `mlflow_model` folder holds an "
                  "MLmodel file) or an `azureml://datastores/` URI, without a SAS token",
    "deployment-endpoint": "a deployment's `endpoint_name` is an endpoint file in the folder of its kind (managed, "
                           "Kubernetes or batch)",
    "deployment-model-ref": "a deployment's `model` is seeded from the folder (`azureml:NAME:VERSION`) or promoted to "
                            "the organisation's registry (`azureml://registries/REGISTRY/models/NAME/versions/N`); "
                            "MLflow models deploy without environment or code",
    "deployment-instance-type": "a managed deployment's `instance_type` is a VM size managed online endpoints offer",
    "endpoint-traffic": "an online endpoint's `traffic` names its own deployments with whole shares summing to 100; "
                        "a batch endpoint's default deployment is one of its own",
    "promotion": "`registry/promotions.yml` names the registry and promotes model versions the folder defines, "
                 "each once",
    # ---- the lock file ----
    "lock-file": "`assets.lock.json` exists and is the lock's JSON (format 1)",
    "lock-changed": "a locked version's content does not change (AML versions are immutable)",
    "lock-entry": "every version is in the lock (`amlplatform assets lock` after a deliberate new version)",
    # ---- the stack (with --stack, and always in the plan) ----
    "stack-compute": "the computes a pipeline job names exist in the stack",
    "stack-datastore-name": "a seeded datastore's name is not a team container's datastore name",
    "stack-container": "a datastore on `${platform.storageAccount}` is blob or ADLS Gen2 and names one of the "
                       "stack's team containers",
    "stack-registry-only": "in staging and prod every deployment's model is a registry version, of the registry the "
                           "stack names in `mlRegistryRef`",
    "stack-endpoint": "`assets.endpoints` names endpoints of the folder; the computes a Kubernetes endpoint or a "
                      "batch deployment names exist in the stack",
    "stack-instance-type": "a Kubernetes deployment's `instance_type` is one of the stack's `aks.instanceTypes`",
}
