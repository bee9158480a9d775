"""What one stack must offer the assets: the computes pipelines name, the team containers datastores
on the stack's own data lake name. `assets validate --stack` and the plan run the same checks.
"""

from __future__ import annotations

from infra.seeding.errors import Problems
from infra.seeding.model import PLATFORM_STORAGE, AssetSet, StackContext


def check(assets: AssetSet, stack: StackContext, problems: Problems) -> None:
    """Record a problem for everything the folder needs and the stack lacks."""
    computes = ", ".join(sorted(stack.computes)) or "none"
    for pipe in assets.of_kind("pipeline"):
        for field, compute in pipe.refs.get("computes", {}).items():
            if compute not in stack.computes:
                problems.add("stack-compute", pipe.file, field, f"compute {compute!r} is not in this stack "
                             f"(computes: {computes}); leave compute out for serverless")
    for ds in assets.of_kind("datastore"):
        if ds.name in stack.team_datastores:
            problems.add("stack-datastore-name", ds.file, "name", f"datastore {ds.name!r} is also the datastore "
                         "the platform makes of the team container of that name: rename this one")
        if ds.refs.get("account") != "platform":
            continue
        if ds.subtype == "azure_file":
            problems.add("stack-container", ds.file, "account_name", f"{PLATFORM_STORAGE} serves blob and dfs "
                         "only; an azure_file datastore points at an existing share in another account")
            continue
        key = "container_name" if ds.subtype == "azure_blob" else "filesystem"
        container = str(ds.raw.get(key))
        if container not in stack.team_containers:
            problems.add("stack-container", ds.file, key, f"{container!r} is not a container of this stack's data "
                         f"lake (team containers: {', '.join(sorted(stack.team_containers)) or 'none'}); add it to "
                         "a team with `amlplatform onboard --containers` so it exists and has its grants")


def check_endpoint_names(assets: AssetSet, stack: StackContext, problems: Problems) -> None:
    """`assets.endpoints` names endpoints the folder defines (checked before the set is narrowed to them)."""
    if stack.endpoints is None:
        return
    known = {a.name for a in assets.assets if a.kind in ("online_endpoint", "batch_endpoint")}
    for name in sorted(stack.endpoints - known):
        problems.add("stack-endpoint", "", "", f"amlplatform:assets.endpoints: {name!r} is no endpoint of this "
                     f"folder (endpoints: {', '.join(sorted(known)) or 'none'})")


def check_serving(assets: AssetSet, stack: StackContext, problems: Problems) -> None:
    """What the stack's deployments need: registry versions (staging, prod), computes, instance types."""
    from infra.seeding.resolve_serving import RegistryRef

    computes = ", ".join(sorted(stack.computes)) or "none"
    for a in assets.assets:
        compute = a.refs.get("compute") if a.kind in ("online_endpoint", "batch_deployment") else None
        if compute and compute not in stack.computes:
            problems.add("stack-endpoint", a.file, "compute", f"compute {compute!r} is not in this stack (computes: "
                         f"{computes}); leave the endpoint out of this stack with amlplatform:assets.endpoints")
        if a.kind not in ("online_deployment", "batch_deployment"):
            continue
        ref = a.refs.get("model")
        if isinstance(ref, RegistryRef):
            if stack.registry != ref.registry:
                problems.add("stack-registry-only", a.file, "model", f"registry {ref.registry!r} is not the one this "
                             f"stack consumes (amlplatform:mlRegistryRef.name: {stack.registry or 'not set'})")
        elif stack.registry_only and ref is not None:
            problems.add("stack-registry-only", a.file, "model", f"{a.raw.get('model')!r} is a workspace model: "
                         f"{stack.environment} deploys registry versions only; promote it (`amlplatform promote "
                         f"{ref.name}@{ref.version} --to registry`) and reference azureml://registries/"
                         f"{stack.registry or 'REGISTRY'}/models/{ref.name}/versions/{ref.version}")
        if a.kind == "online_deployment" and a.subtype == "kubernetes":
            itype = a.refs.get("instance_type")
            # Without the AKS compute the endpoint's own line (stack-endpoint) says what is missing.
            if itype is not None and stack.instance_types and itype not in stack.instance_types:
                problems.add("stack-instance-type", a.file, "instance_type", f"{itype!r} is not an instance type of "
                             f"the stack's AKS compute (aks.instanceTypes: "
                             f"{', '.join(sorted(stack.instance_types)) or 'none'})")
