"""Run a Pulumi program in-process against the ARM emulator and collect its plan.

The program is the same one `pulumi up` runs; only the engine underneath is
replaced. The plan lists every resource with its type token, names, inputs,
parent, dependencies and options, sorted so two runs are byte-identical.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import importlib
import inspect
import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import pulumi
from pulumi.runtime.proto import source_pb2
from pulumi.runtime import rpc as pulumi_rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.mocks import set_mocks
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra.offline.arm_types import NOT_ARM, TYPES
from infra.offline.emulator import OFFLINE_SUBSCRIPTION, OFFLINE_TENANT, ArmEmulator, Recorder

PROJECT = "amlplatform"
# The organization of every stack in a DIY backend (azblob and the like); a stack reference names it.
ORGANIZATION = "organization"
SECRET = "[secret]"
_SECRET_SIG = "4dabf18193072939515e22adb298388d"
_SDK_TRANSFER_PROPERTIES = pulumi_rpc.transfer_properties


@dataclass
class PlannedResource:
    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    id: str | None
    physical_name: str | None
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    dependencies: list[str]
    protect: bool
    retain_on_delete: bool
    # Input key -> URNs its value came from (CrossGuard sees the same map during a preview).
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    # Input paths the engine keeps from the state on update (the `ignore_changes` resource option).
    ignore_changes: list[str] = field(default_factory=list)
    # A real preview's inputs of the deployed resource (its step's oldState), None where nothing is deployed
    # yet (the offline plan, a create): the Azure rules compare them for create-time properties.
    prior_inputs: dict[str, Any] | None = None


_RESOURCE_FIELDS = fields(PlannedResource)
_JSON_LAYOUT: dict[str, Any] = {"indent": 2, "sort_keys": True}


@dataclass
class Plan:
    stack: str
    project: str
    subscription_id: str
    resources: list[PlannedResource]
    outputs: dict[str, Any] = field(default_factory=dict)
    # Stacks whose outputs the program read (StackReference), fully qualified: a team stack's platform stack.
    references: list[str] = field(default_factory=list)

    def by_urn(self) -> dict[str, PlannedResource]:
        return {r.urn: r for r in self.resources}

    def custom(self) -> list[PlannedResource]:
        """The Azure resources (not components, providers or helpers such as the RBAC pause)."""
        return [
            r for r in self.resources
            if r.custom and not r.type.startswith("pulumi:providers:") and r.type not in NOT_ARM
        ]

    def of_type(self, token: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == token]

    def one(self, token: str, name: str | None = None) -> PlannedResource:
        found = [r for r in self.of_type(token) if name is None or r.name == name]
        if len(found) != 1:
            raise LookupError(f"expected one {token} {name or ''}, found {[r.name for r in found]}")
        return found[0]

    def _data(self) -> dict[str, Any]:
        # Fields by hand, not dataclasses.asdict: it deep-copies every input of every resource first.
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["resources"] = [{f.name: getattr(r, f.name) for f in _RESOURCE_FIELDS} for r in self.resources]
        return data

    def to_json(self) -> str:
        return json.dumps(self._data(), **_JSON_LAYOUT) + "\n"

    def write_json(self, path: Path) -> None:
        """to_json's text, streamed into the file: a large plan's text is never held whole (with indentation
        json builds it from hundreds of thousands of pieces)."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self._data(), f, **_JSON_LAYOUT)
            f.write("\n")

    @classmethod
    def from_json(cls, text: str) -> "Plan":
        """The plan to_json wrote (plans are plain JSON, so the round trip is exact)."""
        data = json.loads(text)
        data["resources"] = [PlannedResource(**r) for r in data["resources"]]
        return cls(**data)


def normalise(value: Any) -> Any:
    """Plain JSON: integral floats back to ints, secrets masked, keys sorted later by json."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        if value.get(_SECRET_SIG) == "1b47061264138c4ac30d75fd1eb44270":
            return SECRET
        return {k: normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    return value


def with_secret_placeholders(required: list[str], raw: dict[str, Any], namespace: str = "amlplatform"
                             ) -> tuple[dict[str, Any], list[str]]:
    """Secrets the program will read but the stack file lacks become placeholders offline.

    They are set with `pulumi config set --secret` on a machine with the stack's key; the
    offline plan reports them as missing instead of failing."""
    out = dict(raw)
    missing = []
    for key in required:
        full = f"{namespace}:{key}"
        if full not in out:
            out[full] = {"secure": "<not set>"}
            missing.append(full)
    return out, missing


def config_for_pulumi(raw: dict[str, Any]) -> dict[str, str]:
    """Stack-file values as the engine passes them: objects JSON-encoded, secrets unreadable offline."""
    out = {}
    for key, value in raw.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            out[key] = SECRET
        elif isinstance(value, str):
            out[key] = value
        else:
            out[key] = json.dumps(value)
    return out


def _quiet_expected_errors() -> None:
    """A failed resource leaves sibling futures unread; asyncio would print each with a traceback
    after the run. The error itself is raised to the caller once, so those echoes are dropped."""
    from infra.components.common import PropsError
    from infra.config import ConfigError
    from infra.offline.arm_types import UnmappedError

    quiet = (UnmappedError, ConfigError, PropsError)
    loop = asyncio.get_event_loop()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        while exc is not None and not isinstance(exc, quiet) and exc.__cause__ is not None:
            exc = exc.__cause__
        if isinstance(exc, quiet):
            return
        loop.default_exception_handler(context)

    loop.set_exception_handler(handler)


def _alias_unresolved(alias: Any, *_: Any) -> Any:
    return alias


class _OfflineAlias:
    """What `pulumi.Alias(...)` gives inside an offline run: one shared, empty stand-in. The generated
    resource classes make an Alias per API version of their type on every instance (9 for a role
    assignment, about 60 for a virtual network), which only the real engine reads."""

    __slots__ = ()


_OFFLINE_ALIAS = _OfflineAlias()


def _no_alias(*_: Any, **__: Any) -> _OfflineAlias:
    return _OFFLINE_ALIAS


async def _no_aliases(*_: Any) -> list[Any]:
    return []


def _no_stack_trace() -> source_pb2.StackTrace:
    return source_pb2.StackTrace()


class _Answer(tuple):
    """A property's answer that is not a plain known value (unknown, secret, with dependencies, or failed):
    (value, is_known, is_secret, deps, failed), as the SDK's resolver receives it."""

    __slots__ = ()


class _Unread:
    """A resource's output properties the program has not read. The engine's answers are kept as they come,
    a plain value as itself; a property becomes an Output (four futures and a task) only when the program
    reads it. One record per resource: a type has ten to fifty output properties, most never read."""

    __slots__ = ("resource", "names", "order", "answers", "waiting")

    def __init__(self, resource: Any, names: frozenset[str], order: tuple[str, ...]) -> None:
        self.resource = resource
        self.names = names
        self.order = order  # the names, sorted: resolved in the same order every run
        self.answers: dict[str, Any] = {}
        self.waiting: dict[str, tuple[asyncio.Future, ...]] = {}  # read before the answer came

    def resolve(self, name: str, value: Any, is_known: bool, is_secret: bool, deps: Any,
                failed: Exception | None) -> None:
        """The SDK's resolver for `name`, called once when the resource's registration answers."""
        plain = is_known and not is_secret and not deps and failed is None and not isinstance(value, _Answer)
        answer = value if plain else _Answer((value, is_known, is_secret, deps, failed))
        if name in self.waiting:
            self._settle(self.waiting.pop(name), answer)
        else:
            self.answers[name] = answer

    def output(self, name: str) -> pulumi.Output:
        futures: tuple[asyncio.Future, ...] = (asyncio.Future(), asyncio.Future(), asyncio.Future(), asyncio.Future())
        if name in self.answers:
            self._settle(futures, self.answers.pop(name))
        else:
            self.waiting[name] = futures
        value, known, secret, deps = futures
        return pulumi.Output(deps, value, known, secret)

    def _settle(self, futures: tuple[asyncio.Future, ...], answer: Any) -> None:
        # As the SDK's own resolver: the resource joins the dependencies; a failure fails every future.
        value_fut, known_fut, secret_fut, deps_fut = futures
        value, is_known, is_secret, deps, failed = answer if isinstance(answer, _Answer) else (
            answer, True, False, None, None)
        deps_fut.set_result({*(deps or ()), self.resource})
        if failed is not None:
            for fut in (value_fut, known_fut, secret_fut):
                fut.set_exception(failed)
        else:
            value_fut.set_result(value)
            known_fut.set_result(is_known)
            secret_fut.set_result(is_secret)


class _ResourceAttributes(dict):
    """A resource's attributes where an output property becomes an Output when first read.

    The SDK's generated properties read outputs with `pulumi.get`, that is `resource.__dict__.get(name)`."""

    __slots__ = ("unread",)
    unread: _Unread

    def get(self, key: Any, default: Any = None) -> Any:
        if key not in self and key in self.unread.names:
            self[key] = self.unread.output(key)
        return dict.get(self, key, default)


class _Resolvers(dict):
    """The SDK's resolver table (name -> resolver) with the unread properties' resolvers made when asked for.

    The SDK reads the table with `get` and `items` only (pulumi/runtime/rpc.py resolve_properties,
    resolve_outputs_due_to_exception); `[]` and `in` answer for the unread names too."""

    __slots__ = ("unread",)
    unread: _Unread

    def _lazy(self, name: str) -> Callable[..., None]:
        return functools.partial(self.unread.resolve, name)

    def get(self, key: Any, default: Any = None) -> Any:
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        return self._lazy(key) if key in self.unread.names else default

    def __getitem__(self, key: Any) -> Any:
        found = self.get(key, _MISSING)
        if found is _MISSING:
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or key in self.unread.names

    def items(self) -> Any:
        return [*dict.items(self), *((name, self._lazy(name)) for name in self.unread.order)]


_MISSING = object()
# The output properties of a resource class the offline run resolves lazily, by (class, property names,
# custom): as a set and sorted.
_LAZY_NAMES: dict[tuple[type, tuple[str, ...], bool], tuple[frozenset[str], tuple[str, ...]]] = {}


def _lazy_names(owner: type, props: Any, custom: bool) -> tuple[frozenset[str], tuple[str, ...]]:
    key = (owner, tuple(props), custom)
    if key not in _LAZY_NAMES:
        names = [name for name in props if name != "urn" and not (name == "id" and custom)
                 and isinstance(inspect.getattr_static(owner, name, None), property)]
        _LAZY_NAMES[key] = (frozenset(names), tuple(sorted(names)))
    return _LAZY_NAMES[key]


def _lazy_transfer_properties(res: Any, props: Any, custom: bool) -> dict[str, Any]:
    """`rpc.transfer_properties` with an Output made only for the output properties the program reads.

    The SDK gives every output property of every resource an Output up front (a resource type has ten to
    fifty); the offline program reads a few, and the rest only held memory and event-loop work. A name that
    is not one of the class's properties (read as a plain attribute) gets its Output up front, as before."""
    lazy, order = _lazy_names(type(res), props, custom)
    eager = {name: value for name, value in props.items() if name not in lazy}
    resolvers = _SDK_TRANSFER_PROPERTIES(res, eager, custom)
    if not lazy:
        return resolvers
    unread = _Unread(res, lazy, order)
    attributes = _ResourceAttributes(res.__dict__)
    attributes.unread = unread
    res.__dict__ = attributes
    table = _Resolvers(resolvers)
    table.unread = unread
    return table


# SDK work whose only reader is the real Pulumi engine. pulumi-azure-native gives each resource an alias
# per API version of its type (about 60 for a virtual network); the SDK turns every one into a URN
# (several Outputs each) in the Resource constructor and into an alias spec at registration, and walks
# the Python stack for each resource's source position. The emulator reads none of it: offline, the
# aliases are one shared stand-in and none becomes a URN, which takes a stack's program stage to about
# a third. (module, attribute, offline stand-in)
_OFFLINE_STUBS = (
    ("pulumi", "Alias", _no_alias),
    ("pulumi.resource", "collapse_alias_to_urn", _alias_unresolved),
    ("pulumi.runtime.resource", "prepare_aliases", _no_aliases),
    ("pulumi.runtime.resource", "_get_stack_trace", _no_stack_trace),
    ("pulumi.runtime.rpc", "transfer_properties", _lazy_transfer_properties),
)


# Young collections between two full ones during a run: more than a run ever makes.
_NEVER = 2**31 - 1


@contextlib.contextmanager
def _young_collections_only() -> Iterator[None]:
    """No full garbage collection during the run; the young generations are collected as usual.

    A full collection walks every live object, the SDK's classes included (about 350,000 once
    pulumi-azure-native's modules are loaded); a run allocates enough to trigger 4 of them for prod
    alone and 9 with 100 teams: 0.6 and 2.1 CPU s of a 2.5 and 6.3 s program stage. The run's
    short-lived cycles die young, so the peak memory is the same with and without them (measured:
    173 and 226 MiB); Python's thresholds are put back afterwards."""
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], _NEVER)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


@contextlib.contextmanager
def offline_sdk() -> Iterator[None]:
    """Install the stand-ins for one offline run and put the SDK back as it was afterwards,
    so a real `pulumi up` in the same interpreter (or the Automation API) still sends aliases."""
    saved = []
    try:
        for module_name, attr, stand_in in _OFFLINE_STUBS:
            module = importlib.import_module(module_name)
            saved.append((module, attr, getattr(module, attr)))
            setattr(module, attr, stand_in)
        with _young_collections_only():
            yield
    finally:
        for module, attr, original in reversed(saved):
            setattr(module, attr, original)


def run(
    program: Callable[[], object],
    stack: str,
    config: dict[str, Any] | None = None,
    subscription_id: str = OFFLINE_SUBSCRIPTION,
    tenant_id: str = OFFLINE_TENANT,
    project: str = PROJECT,
    references: Mapping[str, Mapping[str, Any]] | None = None,
    organization: str = ORGANIZATION,
) -> Plan:
    """Run `program` as stack `stack` with the given stack-file config; return its plan.

    `program` may return an awaitable (a team stack's asynchronous entry point): it is awaited.
    `references` are the outputs of the stacks it may reference, by fully qualified name."""
    emulator = ArmEmulator(subscription_id=subscription_id, tenant_id=tenant_id, references=references)
    recorder = Recorder(emulator)
    pulumi_settings.ROOT.set(None)
    set_all_config(config_for_pulumi(config or {}), [])
    set_mocks(emulator, project=project, stack=stack, preview=False, monitor=recorder, organization=organization)
    pulumi_settings.SETTINGS.rpc_manager.clear()
    pulumi_settings.SETTINGS.outputs.clear()

    stack_outputs: dict[str, Any] = {}
    _quiet_expected_errors()

    async def body() -> None:
        result = program()
        if inspect.isawaitable(result):
            await result
        root = pulumi_settings.get_root_resource()
        exported = dict(getattr(root, "outputs", {}) or {})
        resolved = await pulumi.Output.from_input(exported).future()
        stack_outputs.update(resolved or {})

    try:
        with offline_sdk():
            _sync_await(run_pulumi_func(body))
    finally:
        pulumi_settings.ROOT.set(None)

    states = recorder.get_registered_resources()
    resources = []
    for urn, reg in sorted(recorder.registrations.items()):
        state = states.get(urn)
        rid = state.id if state and reg.custom else None
        physical = None
        spec = TYPES.get(reg.type)
        if spec and reg.custom:
            physical = "/".join(spec.names(reg.inputs))
        resources.append(
            PlannedResource(
                urn=urn,
                type=reg.type,
                name=reg.name,
                custom=reg.custom,
                parent=reg.parent,
                id=rid or None,
                physical_name=physical,
                inputs=normalise(reg.inputs),
                outputs=normalise({k: v for k, v in (state.state if state else {}).items() if k not in reg.inputs}),
                dependencies=reg.dependencies,
                protect=reg.protect,
                retain_on_delete=reg.retain_on_delete,
                property_dependencies=reg.property_dependencies,
                ignore_changes=list(reg.ignore_changes),
            )
        )
    return Plan(stack=stack, project=project, subscription_id=subscription_id, resources=resources,
                outputs=normalise(stack_outputs), references=sorted(set(recorder.references)))
