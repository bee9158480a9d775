"""What one stack must offer the assets: the computes pipelines name, the team containers datastores
on the stack's own data lake name. `assets validate --stack` and the plan run the same checks.
"""

from __future__ import annotations

from .errors import Problems
from .model import PLATFORM_STORAGE, AssetSet, StackContext


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
