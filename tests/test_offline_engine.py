"""The offline engine: ARM-shaped IDs and outputs, recorded options, determinism, loud failures."""

from __future__ import annotations

import copy
import dataclasses
import gc
import json

import pulumi
import pytest
from pulumi_azure_native import resources, storage

from infra import config
from infra.offline.stack import plan_stack
from infra.offline import engine
from infra.offline.arm_types import UnmappedError
from tests.conftest import ROOT, raw_stack, stack_plan

SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"


def test_two_runs_are_byte_identical(stack):
    # The shared plan may come from another process or an earlier run of the suite (the plan
    # cache): a fresh run here must match it byte for byte.
    cfg = config.parse(raw_stack(stack), f"stacks/Pulumi.{stack}.yaml", stack)
    assert plan_stack(cfg, raw_stack(stack))[0].to_json() == stack_plan(stack).to_json()


def test_missing_secrets_become_placeholders_and_are_reported():
    cfg = config.parse(raw_stack("prod"), "stacks/Pulumi.prod.yaml", "prod")
    plan, missing = plan_stack(cfg, raw_stack("prod"))
    assert missing == ["amlplatform:aksTlsCertPem", "amlplatform:aksTlsKeyPem"]
    assert plan.one("azure-native:kubernetesconfiguration:Extension").inputs["configurationProtectedSettings"] == "[secret]"


def test_ids_have_arm_shapes():
    plan = stack_plan("prod")
    assert plan.one("azure-native:resources:ResourceGroup").id == f"{SUB}/resourceGroups/rg-contoso-prd"
    blob = plan.one("azure-native:storage:BlobServiceProperties", "storage-blob")
    account = plan.one("azure-native:storage:StorageAccount", "storage-account")
    assert blob.id == f"{account.id}/blobServices/default"
    assert blob.physical_name == f"{account.physical_name}/default"
    ra = plan.of_type("azure-native:authorization:RoleAssignment")[0]
    assert ra.id == f"{ra.inputs['scope']}/providers/Microsoft.Authorization/roleAssignments/{ra.inputs['roleAssignmentName']}"


def test_identity_outputs_and_stack_outputs():
    plan = stack_plan("dev")
    uai = plan.one("azure-native:managedidentity:UserAssignedIdentity", "workspace-identity-uai")
    assert set(uai.outputs) >= {"principalId", "clientId", "tenantId"}
    out = plan.outputs
    ws_id = f"{SUB}/resourceGroups/rg-contoso-dev/providers/Microsoft.MachineLearningServices/workspaces/mlw-contoso-dev"
    assert out["workspaceId"] == ws_id
    assert out["workspaceName"] == "mlw-contoso-dev"
    assert out["resourceGroupName"] == "rg-contoso-dev"
    assert out["studioUrl"] == f"https://ml.azure.com/?wsid={ws_id}&tid=11111111-1111-1111-1111-111111111111"
    assert out["mlflowTrackingUri"] == f"azureml://westeurope.api.azureml.ms/mlflow/v1.0{ws_id}"
    assert out["workspaceIdentityPrincipalId"] == uai.outputs["principalId"]


def test_parent_and_dependencies_are_recorded():
    plan = stack_plan("staging")
    account = plan.one("azure-native:storage:StorageAccount", "storage-account")
    assert account.parent.endswith("amlplatform:components:Storage::storage")
    lake = plan.one("azure-native:storage:StorageAccount", "datalake-account")
    assert lake.parent.endswith("amlplatform:components:Storage::datalake")
    rg = plan.one("azure-native:resources:ResourceGroup")
    assert rg.urn in account.dependencies


def _bad_program_unmapped():
    from pulumi_azure_native import network

    network.BastionHost("bas", resource_group_name="rg", bastion_host_name="bas")


def test_unmapped_type_is_an_error_not_a_guess():
    with pytest.raises(UnmappedError, match="azure-native:network:BastionHost: no ARM mapping"):
        engine.run(_bad_program_unmapped, "t")


def test_resource_without_explicit_name_is_refused():
    def prog():
        resources.ResourceGroup("rg", location="westeurope")

    with pytest.raises(UnmappedError, match="'resourceGroupName' \\(the physical name\\) must be set explicitly"):
        engine.run(prog, "t")


def test_protect_option_is_seen():
    def prog():
        rg = resources.ResourceGroup("rg", resource_group_name="rg-x", location="westeurope")
        storage.StorageAccount("st", account_name="stx1", resource_group_name=rg.name, kind="StorageV2",
                               sku=storage.SkuArgs(name="Standard_LRS"), opts=pulumi.ResourceOptions(protect=True))

    plan = engine.run(prog, "t")
    assert plan.one("azure-native:storage:StorageAccount").protect is True
    assert plan.one("azure-native:resources:ResourceGroup").protect is False


def _sdk_functions() -> tuple:
    import pulumi.resource
    import pulumi.runtime.resource as runtime_resource
    import pulumi.runtime.rpc as runtime_rpc

    return (pulumi.Alias, pulumi.resource.collapse_alias_to_urn, runtime_resource.prepare_aliases,
            runtime_resource._get_stack_trace, runtime_rpc.transfer_properties)


def test_alias_and_stack_trace_work_is_skipped_inside_a_run_only():
    before = _sdk_functions()
    inside = []

    def prog():
        inside.append(_sdk_functions())
        rg = resources.ResourceGroup("rg", resource_group_name="rg-x", location="westeurope")
        # pulumi-azure-native's one Alias per API version of the type: one shared stand-in, nothing made.
        inside.append({type(a).__name__ for a in rg._aliases})

    engine.run(prog, "t")
    assert inside == [(engine._no_alias, engine._alias_unresolved, engine._no_aliases, engine._no_stack_trace,
                       engine._lazy_transfer_properties), {"_OfflineAlias"}]
    assert _sdk_functions() == before  # the real engine (pulumi up) still gets aliases and source positions
    assert before[0] is pulumi.resource.Alias
    with pytest.raises(UnmappedError):
        engine.run(_bad_program_unmapped, "t")
    assert _sdk_functions() == before  # put back after a failed run too


def test_no_full_garbage_collection_inside_a_run_only():
    before = gc.get_threshold()
    inside = []

    def prog():
        inside.append(gc.get_threshold())
        resources.ResourceGroup("rg", resource_group_name="rg-x", location="westeurope")

    engine.run(prog, "t")
    assert inside == [(before[0], before[1], 2**31 - 1)]  # the young generations are still collected
    assert gc.get_threshold() == before
    with pytest.raises(UnmappedError):
        engine.run(_bad_program_unmapped, "t")
    assert gc.get_threshold() == before  # put back after a failed run too


def test_output_properties_become_outputs_only_when_read():
    seen: dict[str, object] = {}
    made: dict[str, object] = {}

    def prog():
        rg = resources.ResourceGroup("rg", resource_group_name="rg-x", location="westeurope")
        account = storage.StorageAccount("st", account_name="stx1", resource_group_name=rg.name, kind="StorageV2",
                                         sku=storage.SkuArgs(name="Standard_LRS"))
        made["unread before"] = "primary_endpoints" in vars(account)
        # Read before the registration answers, and read only once it has: both get the emulator's value.
        rg.location.apply(lambda v: seen.setdefault("location", v))

        def late(_: object) -> None:
            made["unread after"] = "primary_endpoints" in vars(account)
            blob = account.primary_endpoints.apply(lambda v: seen.setdefault("blob", v["blob"]))
            # A value read late still carries its resource as a dependency.
            resources.ResourceGroup("rg2", resource_group_name="rg-y", location="westeurope", tags={"blob": blob})
        account.id.apply(late)

    plan = engine.run(prog, "t")
    assert made == {"unread before": False, "unread after": False}
    assert seen == {"location": "westeurope", "blob": "https://stx1.blob.core.windows.net/"}
    later = plan.one("azure-native:resources:ResourceGroup", "rg2")
    assert later.inputs["tags"] == {"blob": "https://stx1.blob.core.windows.net/"}
    assert later.dependencies == [plan.one("azure-native:storage:StorageAccount").urn]


def test_plan_round_trips_through_json():
    plan = stack_plan("prod")
    again = engine.Plan.from_json(plan.to_json())
    assert again == plan and again.to_json() == plan.to_json()
    # The fields written by hand are dataclasses.asdict's, in its layout.
    assert plan.to_json() == json.dumps(dataclasses.asdict(plan), indent=2, sort_keys=True) + "\n"


def test_plan_and_template_files_are_streamed_with_the_same_bytes(tmp_path):
    from infra.offline import arm
    from tests.conftest import template_for

    plan = stack_plan("prod")
    plan.write_json(tmp_path / "plan.json")
    assert (tmp_path / "plan.json").read_text(encoding="utf-8") == plan.to_json()
    template = template_for("prod")
    arm.write_json(template, tmp_path / "template.json")
    assert (tmp_path / "template.json").read_text(encoding="utf-8") == arm.to_json(template)


def _register(monitor, type_: str, name: str, inputs: dict, custom: bool = True):
    from google.protobuf import struct_pb2
    from pulumi.runtime.proto import resource_pb2

    struct = struct_pb2.Struct()
    struct.update(inputs)
    request = resource_pb2.RegisterResourceRequest(type=type_, name=name, custom=custom, object=struct)
    return monitor.RegisterResource(request)


@pytest.mark.parametrize("inputs", [
    {"resourceGroupName": "rg-x", "accountName": "stx1", "location": "westeurope", "kind": "StorageV2",
     "sku": {"name": "Standard_LRS"}, "tags": {"a": "b"}},
    # An unknown input: answered by MockMonitor itself, which drops it.
    {"resourceGroupName": "rg-x", "accountName": "stx1", "location": "westeurope",
     "kind": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"},
])
def test_the_recorder_answers_a_registration_as_mockmonitor_does(inputs, monkeypatch):
    from pulumi.runtime.mocks import MockMonitor

    from infra.offline.emulator import ArmEmulator, Recorder

    answered = []
    own = Recorder._answer
    monkeypatch.setattr(Recorder, "_answer", lambda self, *a: answered.append(a[1]) or own(self, *a))
    pulumi.runtime.set_mocks(ArmEmulator(), project="p", stack="t", preview=False)
    recorder, plain = Recorder(ArmEmulator()), MockMonitor(ArmEmulator())
    ours = _register(recorder, "azure-native:storage:StorageAccount", "st", inputs)
    assert len(answered) == (0 if "04da6b54-80e4-46f7-96ec-b56ff0331ba9" in inputs.values() else 1)
    theirs = _register(plain, "azure-native:storage:StorageAccount", "st", inputs)
    assert ours.SerializeToString(deterministic=True) == theirs.SerializeToString(deterministic=True)
    assert ours.id == ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-x/providers/"
                       "Microsoft.Storage/storageAccounts/stx1")
    assert recorder.get_registered_resources() == plain.get_registered_resources()
    # A component: no ID, as MockMonitor answers.
    assert _register(recorder, "amlplatform:x:Y", "c", {}, custom=False).id == ""


@pytest.mark.slow
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_engines_shortcuts_plan_what_the_sdk_plans(stack, monkeypatch):
    """The lazy output properties and the Recorder's own answers change no byte of a plan."""
    from pulumi.runtime.mocks import MockMonitor

    from infra.offline.emulator import Recorder

    raw = raw_stack(stack)

    def plan() -> str:
        cfg = config.parse(raw, f"stacks/Pulumi.{stack}.yaml", stack)
        cfg._root = str(ROOT)  # with the seeded assets, as `amlplatform plan` has it
        return plan_stack(cfg, raw)[0].to_json()

    fast = plan()
    monkeypatch.setattr(engine, "_OFFLINE_STUBS", tuple(s for s in engine._OFFLINE_STUBS if s[1] != "transfer_properties"))
    monkeypatch.setattr(Recorder, "_answer", lambda self, request, urn, inputs: MockMonitor.RegisterResource(self, request))
    assert plan() == fast
    assert '"azure-native:machinelearningservices:DataVersion"' in fast


def test_the_emulator_never_changes_the_inputs_it_answers(stack):
    # The Recorder hands the emulator the very inputs the plan records.
    from pulumi.runtime.mocks import MockResourceArgs

    from infra.offline.emulator import ArmEmulator

    emulator = ArmEmulator()
    checked = 0
    for r in stack_plan(stack).custom():
        inputs = copy.deepcopy(r.inputs)
        emulator.new_resource(MockResourceArgs(typ=r.type, name=r.name, inputs=inputs, custom=True))
        assert inputs == r.inputs, r.urn
        checked += 1
    assert checked == len(stack_plan(stack).custom()) > 40
