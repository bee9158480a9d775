"""Reading a stack's config: the stack file (YAML, with repeated keys refused), or the config the pulumi engine
hands the program (PULUMI_CONFIG), and the secrets that must stay secret."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Mapping, TypeAlias

import yaml

from infra.config.errors import MAX_SHOWN, ConfigError, ErrorLines
from infra.config.registry import REGISTRY_SECTION
from infra.config.stack import StackConfig
from infra.paths import REPO_ROOT

if TYPE_CHECKING:
    from infra.config.registry_stack import RegistryStackConfig
    from infra.config.team_stack import TeamStackConfig

NAMESPACE = "amlplatform"
STACKS_DIR = "stacks"
# Secrets the program reads with pulumi.Config.require_secret, and what each holds; set them with
# `pulumi config set --secret amlplatform:<key>` (never in plain text).
SECRET_KEYS = {
    "aksTlsCertPem": "With `aks.tls.mode: certificate`: the scoring router's PEM certificate.",
    "aksTlsKeyPem": "With `aks.tls.mode: certificate`: the certificate's PEM private key.",
    "databricksAccessToken": "With a Databricks `compute.attach`: the workspace's access token.",
}
# A Pulumi stack name, as stack files are named (Pulumi.<stack>.yaml).
STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
# The top-level keys of a stack file besides `config:` that Pulumi writes itself.
_PULUMI_KEYS = {"config", "encryptionsalt", "secretsprovider", "encryptedkey", "environment"}

LINES = ErrorLines(NAMESPACE, StackConfig)


def parse(raw: Mapping[str, Any], source: str, stack: str = "", from_file: bool = True) -> StackConfig:
    """Validate the `amlplatform:*` keys of a stack's config (other namespaces are ignored).

    A mistake raises ConfigError with one line: the first one pydantic reports, in the stack's key order.
    """
    prefix = NAMESPACE + ":"
    data = {k[len(prefix):]: v for k, v in raw.items() if k.startswith(prefix)}
    for key in SECRET_KEYS:
        if key in data:
            value = data.pop(key)
            if from_file and not is_secure(value):
                raise ConfigError(f"{source}: {prefix}{key}: must be a secret: set it with `pulumi config set "
                                  f"--secret {prefix}{key}` (it is stored encrypted, never in plain text)")
    for key, value in data.items():
        if is_secure(value):
            raise ConfigError(
                f"{source}: {prefix}{key}: must not be a secret: platform settings are plain values "
                "(keep secrets out of stack config)"
            )
    if REGISTRY_SECTION in data:
        raise ConfigError(f"{source}: {prefix}{REGISTRY_SECTION}: this is the registry stack, not an environment "
                          "stack (its file is planned with `amlplatform plan`; environment stacks name it in "
                          f"{prefix}mlRegistryRef)")
    if "platform" not in data:
        raise ConfigError(f"{source}: {prefix}platform: required key is missing")
    cfg = LINES.validate(data, source)
    cfg._source = source
    cfg._stack = stack
    return cfg


def is_secure(value: Any) -> bool:
    """A stack file's encrypted value: `{secure: <ciphertext>}`."""
    return isinstance(value, Mapping) and set(value) == {"secure"}


def stack_file(stack: str, root: Path | str = ".") -> Path:
    return Path(root) / STACKS_DIR / f"Pulumi.{stack}.yaml"


def read_stack_file(path: Path) -> dict[str, Any]:
    """The `config:` mapping of a stack file, with YAML mistakes reported by file and line."""
    shown = display(path)
    if not path.is_file():
        raise ConfigError(f"{shown}: no such stack file")
    try:
        doc = _parse(path.read_text(encoding="utf-8"), shown)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{shown}:{where}: not valid YAML: {problem}") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ConfigError(f"{shown}: must be a mapping with a `config:` key")
    unknown = sorted(str(k) for k in set(doc) - _PULUMI_KEYS)
    if unknown:
        raise ConfigError(f"{shown}: {unknown[0][:MAX_SHOWN]}: unknown top-level key; settings go under `config:`")
    config = doc.get("config") or {}
    if not isinstance(config, dict):
        raise ConfigError(f"{shown}: config: must be a mapping of keys to values")
    return config


# libyaml's parser (in PyYAML's wheels) reads a 100-team stack file ten times faster than PyYAML's own;
# both build the document with PyYAML's SafeConstructor.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse(text: str, shown: str) -> Any:
    """The document, parsed once: its nodes checked for repeated keys, then constructed."""
    try:
        return _document(text, _FAST_LOADER, shown)
    except yaml.YAMLError:
        if _FAST_LOADER is yaml.SafeLoader:
            raise
    # A mistake is reported in PyYAML's own words and marks, which libyaml's differ from.
    return _document(text, yaml.SafeLoader, shown)


def _document(text: str, loader_class: Any, shown: str) -> Any:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        _refuse_repeated_keys(node, shown)
        return loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def _refuse_repeated_keys(node: yaml.Node | None, shown: str, path: str = "") -> None:
    """A key written twice in one mapping is an error: YAML loaders keep the last one silently.

    (A second `amlplatform:monitoring` would quietly replace the first, prod's 365-day retention
    with a default.) Nested mappings and list items are checked too; the message names the full key.
    """
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = key if path in ("", "config") else f"{path}.{key}"
            if key in seen:
                line = key_node.start_mark.line + 1
                raise ConfigError(f"{shown}: line {line}: {child}: written twice (first on line {seen[key]}); "
                                  "YAML would keep only the last one silently: merge them into one")
            seen[key] = key_node.start_mark.line + 1
            _refuse_repeated_keys(value_node, shown, child)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            name = next((v.value for k, v in item.value if k.value == "name" and isinstance(v, yaml.ScalarNode)),
                        None) if isinstance(item, yaml.MappingNode) else None
            _refuse_repeated_keys(item, shown, f"{path}[{name if name else i}]")


def check_stack_name(stack: str) -> None:
    if not STACK_NAME.match(stack):
        raise ConfigError(f"stack name {stack!r} must be 1-100 letters, digits, '-', '_' or '.'")


# What a stack file holds: a platform stack (an environment), a team stack on one (team_stack.py), or the
# organisation's registry stack (registry_stack.py). `stack_kind` tells them apart.
AnyStackConfig: TypeAlias = "StackConfig | TeamStackConfig | RegistryStackConfig"
StackKind = Literal["platform", "registry", "team"]
# The key whose presence makes a stack file a team stack or the registry stack; any other file is a platform stack.
TEAM_KEY = f"{NAMESPACE}:team"
# The key a team stack names its platform stack with (team_stack.py).
PLATFORM_STACK_KEY = f"{NAMESPACE}:platformStack"
REGISTRY_KEY = f"{NAMESPACE}:{REGISTRY_SECTION}"
# The order `plan --all` plans the kinds in: a team stack reads its platform stack's outputs.
KIND_ORDER: tuple[StackKind, ...] = ("platform", "registry", "team")


def stack_kind(raw: Mapping[str, Any]) -> StackKind:
    """The kind of stack a stack file's `config:` holds: the one place stack kinds are told apart (the
    program's entry point, the CLI, the preflight across stacks and the listings of stacks/ all ask here).
    A file with both keys is a team stack, whose validation then names the registry key as foreign."""
    if TEAM_KEY in raw:
        return "team"
    if REGISTRY_KEY in raw:
        return "registry"
    return "platform"


def load_stack(stack: str, root: Path | str = ".", kinds: tuple[StackKind, ...] = KIND_ORDER,
               what: str = "this command") -> tuple[AnyStackConfig, dict[str, Any]]:
    """Read and validate `stacks/Pulumi.<stack>.yaml` of any kind (`stack_kind`): a platform stack, a team
    stack (team_stack.py, with its platform stack's file and the preflight across stacks) or the registry
    stack (registry_stack.py); returns the model and the raw config. A kind not in `kinds` is refused in one
    line saying what `what` takes."""
    check_stack_name(stack)
    path = stack_file(stack, root)
    raw = read_stack_file(path)
    kind = stack_kind(raw)
    if kind not in kinds:
        _refuse_kind(path, stack, raw, kind, kinds, what)
    if kind == "team":
        from infra.config import team_stack

        return team_stack.load(stack, root, raw), raw
    if kind == "registry":
        from infra.config import registry_stack

        return registry_stack.load(stack, root, raw), raw
    cfg = parse(raw, display(path), stack)
    cfg._root = str(Path(root))
    return cfg, raw


def _refuse_kind(path: Path, stack: str, raw: Mapping[str, Any], kind: StackKind, kinds: tuple[StackKind, ...],
                 what: str) -> None:
    takes = " or ".join({"platform": "a platform stack (an environment)", "registry": "the registry stack",
                         "team": "a team stack"}[k] for k in kinds)
    if kind == "team":
        raise ConfigError(f"{display(path)}: {TEAM_KEY}: {stack} is a team stack on {raw.get(PLATFORM_STACK_KEY)}; "
                          f"{what} takes {takes}")
    key = REGISTRY_KEY if kind == "registry" else f"{NAMESPACE}:platform"
    raise ConfigError(f"{display(path)}: {key}: {stack} is {'the registry' if kind == 'registry' else 'a platform'} "
                      f"stack; {what} takes {takes}")


def load_platform_stack(stack: str, root: Path | str = ".", what: str = "this command"
                        ) -> tuple[StackConfig, dict[str, Any]]:
    """A platform stack's config; a team stack or the registry stack is refused in one line naming what needs
    a platform stack."""
    cfg, raw = load_stack(stack, root, ("platform",), what)
    assert isinstance(cfg, StackConfig)
    return cfg, raw


def stack_kinds(root: Path | str = ".") -> dict[str, StackKind]:
    """Every stack in stacks/ by name, with its kind. A file that does not read counts as a platform stack:
    whatever loads it next reports what is wrong with it, in one line."""
    out: dict[str, StackKind] = {}
    for path in sorted((Path(root) / STACKS_DIR).glob("Pulumi.*.yaml")):
        try:
            kind = stack_kind(read_stack_file(path))
        except ConfigError:
            kind = "platform"
        out[path.name[len("Pulumi."):-len(".yaml")]] = kind
    return out


def pulumi_config() -> dict[str, Any]:
    """The running stack's config as the pulumi engine hands it to the program (PULUMI_CONFIG), values that are
    JSON (sections, lists) decoded. The engine hands secrets over decrypted."""
    from pulumi.runtime.config import CONFIG, get_config_env

    merged: dict[str, Any] = {**get_config_env(), **CONFIG.get()}
    raw: dict[str, Any] = {}
    for key, value in merged.items():
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        raw[key] = value
    return raw


def from_pulumi(raw: dict[str, Any] | None = None) -> StackConfig:
    """The running stack's config, as the pulumi engine hands it to the program."""
    import pulumi

    raw = pulumi_config() if raw is None else raw
    stack = pulumi.get_stack()
    # Only stack files show whether a value is secure.
    cfg = parse(raw, f"{STACKS_DIR}/Pulumi.{stack}.yaml", stack, from_file=False)
    check_checkout()
    cfg._root = str(REPO_ROOT)
    return cfg


def check_checkout() -> None:
    """The stack files and assets/ are in the checkout this code runs from, whatever the working directory."""
    if not (REPO_ROOT / "Pulumi.yaml").is_file():
        raise ConfigError(f"{REPO_ROOT}: no Pulumi.yaml beside the running infra package: install the repository "
                          "editable (requirements.txt: -e .), as `pulumi install` and `make setup` do")


def display(path: Path) -> str:
    """A path as messages show it: relative to the working directory where it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
