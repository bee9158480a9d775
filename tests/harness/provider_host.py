"""Stands in for `python -u -m pulumi.dynamic` as `pulumi-resource-pulumi-python` starts it, with fake Azure.

The test resolves the virtualenv as that script does and starts this file with its python, in the
engine's provider working directory and environment (tests/pulumi_launch.py). Like `-m`, sys.path
starts with the working directory. It replaces infra.seeding.upload's Azure clients with fakes
that append every blob written (name, sha256, size) as a JSON line to the file named by
HARNESS_RECORD, then runs Pulumi's own dynamic provider host (pulumi.dynamic.__main__), which prints
its port and deserialises each provider from its `__provider` property (dill) on the first call.
"""

from __future__ import annotations

import hashlib
import json
import os
import runpy
import sys
from types import SimpleNamespace
from typing import Any

sys.path[0] = os.getcwd()
RECORD = os.environ.pop("HARNESS_RECORD")


class FakeBlob:
    def exists(self) -> bool:
        return False


class FakeContainer:
    def __init__(self, name: str) -> None:
        self.container_name = name

    def get_blob_client(self, _name: str) -> FakeBlob:
        return FakeBlob()

    def upload_blob(self, name: str, data: bytes, overwrite: bool = False) -> None:
        with open(RECORD, "a", encoding="utf-8") as f:
            f.write(json.dumps({"name": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
                                "overwrite": overwrite, "text": data.decode() if name.endswith(".json") else None})
                    + "\n")


def fake_clients(props: dict[str, Any]) -> tuple[Any, Any]:
    default = SimpleNamespace(name="workspaceblobstore", credentials=None, account_name=props["accountName"],
                              container_name=props["containerName"])
    ml_client = SimpleNamespace(datastores=SimpleNamespace(get_default=lambda: default))
    return ml_client, FakeContainer(props["containerName"])


import infra.seeding.upload  # noqa: E402 - after sys.path is what `-m` gives

infra.seeding.upload._clients = fake_clients  # type: ignore[assignment]
runpy.run_module("pulumi.dynamic", run_name="__main__", alter_sys=True)
