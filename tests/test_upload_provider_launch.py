"""The WorkspaceUpload dynamic provider works where the Pulumi engine runs it: a fresh process.

The provider is serialised as pulumi.dynamic serialises it (dill, inside the SDK's serialisation
context), and Pulumi's own provider host (pulumi.dynamic.__main__) deserialises it and serves
`create` over gRPC, in a process started as `pulumi-resource-pulumi-python` starts it: the
engine's provider working directory and environment, the virtualenv resolved as that script does
(tests/pulumi_launch.py). Only Azure is fake (tests/harness/provider_host.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime._serialization import _serialize
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from infra.config import stack as config
from infra.seeding.hashing import files_of
from infra.seeding.upload import MARKER, UploadProvider
from infra.offline import stack as offline_stack
from tests.conftest import ROOT
from tests.pulumi_launch import HARNESS, launch

UPLOAD = "pulumi-python:dynamic/amlplatform:WorkspaceUpload"


def planned_upload(stack: str, name: str) -> tuple[str, dict[str, Any]]:
    """URN and inputs of one upload as the program plans it (`amlplatform plan`)."""
    cfg, raw = config.load_stack(stack, ROOT)
    plan, _ = offline_stack.plan_stack(cfg, raw)
    up = plan.one(UPLOAD, name)
    return up.urn, {k: v for k, v in up.inputs.items() if k != "__provider"}


def serialised_provider() -> str:
    """What dynamic.Resource.__init__ stores in `__provider`."""
    text, _ = _serialize(True, serialize_provider, UploadProvider())
    return text


def start_provider_host(record: Path, stderr: Path) -> tuple[subprocess.Popen[bytes], int]:
    lx = launch(ROOT)
    venv = lx.provider_venv
    # pulumi-resource-pulumi-python stops here when the virtualenv is not where it looks.
    assert venv is not None and (venv / "bin" / "python").is_file(), (
        f"The 'virtualenv' option in Pulumi.yaml is set to \"{venv}\", but \"{venv}\" doesn't exist.")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_") and k != "PYTHONHOME"}
    env.update(lx.provider_env(), PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
               HARNESS_RECORD=str(record))
    proc = subprocess.Popen([str(venv / "bin" / "python"), "-u", str(HARNESS / "provider_host.py")], cwd=lx.pwd,
                            env=env, stdout=subprocess.PIPE, stderr=stderr.open("wb"))
    assert proc.stdout is not None
    line = proc.stdout.readline().decode().strip()
    assert line.isdigit(), f"the provider host printed {line!r}: {stderr.read_text()[-3000:]}"
    return proc, int(line)


def create(port: int, urn: str, props: dict[str, Any]) -> provider_pb2.CreateResponse:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = provider_pb2_grpc.ResourceProviderStub(channel)
        stub.Configure(provider_pb2.ConfigureRequest(args=struct_pb2.Struct()), timeout=60)
        properties = struct_pb2.Struct()
        properties.update(props)
        return stub.Create(provider_pb2.CreateRequest(urn=urn, properties=properties), timeout=120)


def test_upload_provider_creates_in_a_fresh_provider_process(tmp_path):
    urn, props = planned_upload("dev", "assets-upload-environment-batch-score-build")
    source = props["source"]
    assert not Path(source).is_absolute()  # state stays portable between checkouts
    provider = serialised_provider()
    # dill pickles the class by reference: the provider process imports this project's package.
    assert b"infra.seeding.upload" in base64.b64decode(provider)

    record, stderr = tmp_path / "blobs.jsonl", tmp_path / "provider.err"
    proc, port = start_provider_host(record, stderr)
    try:
        try:
            resp = create(port, urn, {**props, "__provider": provider})
        except grpc.RpcError as exc:
            raise AssertionError(f"create failed: {exc.details()}") from None
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    assert resp.id == f"{props['accountName']}/{props['containerName']}/{props['prefix']}"
    folder = ROOT / source
    expected = {f"{props['prefix']}/{f.relative_to(folder).as_posix()}": hashlib.sha256(f.read_bytes()).hexdigest()
                for f in files_of(folder)}
    assert sorted(expected) == [f"{props['prefix']}/Dockerfile", f"{props['prefix']}/requirements.txt"]
    written = [json.loads(line) for line in record.read_text().splitlines()]
    marker = f"{props['prefix'].rsplit('/', 1)[0]}/{MARKER}"
    assert {w["name"]: w["sha256"] for w in written if w["name"] != marker} == expected
    # The content hash the plan recorded matched the files read (upload() checks it before writing).
    [manifest] = [json.loads(w["text"]) for w in written if w["name"] == marker]
    assert manifest == {"sha256": props["sha256"], "files": len(expected), "digests": expected}
