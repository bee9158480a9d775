"""How the Pulumi engine launches this project, restated from its source for the launch tests.

Read in pulumi/pulumi (engine and Python language host; the SDK is the one in .venv):
- pkg/engine/project.go `getPwdMain`: without `main` the program's working directory is the project
  root and its entry point "."; `main` a directory: that directory, entry "."; `main` a file: the
  file's directory, entry its base name.
- sdk/python/toolchain/pip.go `resolveVirtualEnvironmentPath`: the program's `virtualenv` is relative
  to the project root; `InstallDependencies` (what `pulumi install` runs, with the program directory
  as cwd) runs `pip install -r requirements.txt` there, and silently skips it when the file is absent.
- sdk/python/cmd/pulumi-language-python/main.go `Run`/`constructArguments`: `<venv>/bin/python
  pulumi-language-python-exec --monitor A --engine A --project P --root_directory R --stack S --pwd D
  --dry_run B --parallel N --organization O ENTRY`, with PULUMI_CONFIG (a JSON object of
  `namespace:key` to string) and PULUMI_CONFIG_SECRET_KEYS (a JSON array, `[]` when none).
- pkg/resource/plugin/provider_plugin.go `NewProvider`: a provider plugin gets PULUMI_RUNTIME_<OPTION>
  for each runtime option (as written in Pulumi.yaml), PULUMI_PROJECT and PULUMI_CONFIG (its own
  namespace), and starts in the program's working directory (plugin.go `ExecPlugin`: cmd.Dir = pwd).
- sdk/python/dist/pulumi-resource-pulumi-python: a relative PULUMI_RUNTIME_VIRTUALENV is taken from
  $PWD; it runs `$VENV/bin/python -u -m pulumi.dynamic`, or stops when that python is missing.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
HARNESS = Path(__file__).resolve().parent / "harness"
# What the offline plan puts where a secret is not set (infra/offline/engine.py); any string does.
SECRET_PLACEHOLDER = "[secret]"


@dataclass(frozen=True)
class Launch:
    root: Path  # where Pulumi.yaml is
    pwd: Path  # the program's (and its providers') working directory
    entry: str  # what the language host hands runpy: "." or a file name in pwd
    options: dict[str, Any]  # runtime.options

    @property
    def program_venv(self) -> Path | None:
        """The language host's virtualenv: relative to the project root."""
        venv = self.options.get("virtualenv")
        return None if not venv else (self.root / venv if not Path(venv).is_absolute() else Path(venv))

    @property
    def provider_venv(self) -> Path | None:
        """The dynamic provider script's virtualenv: PULUMI_RUNTIME_VIRTUALENV, relative to its $PWD."""
        venv = self.provider_env().get("PULUMI_RUNTIME_VIRTUALENV")
        return None if not venv else (self.pwd / venv if not Path(venv).is_absolute() else Path(venv))

    def provider_env(self) -> dict[str, str]:
        env = {f"PULUMI_RUNTIME_{k.upper()}": _go_string(v) for k, v in self.options.items()}
        return {**env, "PULUMI_PROJECT": project(self.root)["name"], "PULUMI_CONFIG": "{}"}


def _go_string(value: Any) -> str:
    """fmt.Sprintf("%v", v) of a YAML scalar, as the engine formats runtime options."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def project(root: Path = ROOT) -> dict[str, Any]:
    return yaml.safe_load((root / "Pulumi.yaml").read_text())


def launch(root: Path = ROOT) -> Launch:
    proj = project(root)
    runtime = proj.get("runtime")
    options = (runtime.get("options") or {}) if isinstance(runtime, dict) else {}
    main = proj.get("main")
    if not main:
        return Launch(root, root, ".", options)
    target = Path(os.path.normpath(root / main))
    if target.is_dir():
        return Launch(root, target, ".", options)
    return Launch(root, target.parent, target.name, options)


def engine_config(raw: dict[str, Any], secrets: list[str]) -> dict[str, str]:
    """PULUMI_CONFIG and PULUMI_CONFIG_SECRET_KEYS for a stack file's `config:` mapping.

    The engine decrypts secure values (here: a placeholder for each listed secret and each
    `secure:` value) and hands every value over as a string, structured ones as JSON text."""
    config: dict[str, str] = {}
    secret_keys = []
    for key, value in raw.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[key] = SECRET_PLACEHOLDER
            secret_keys.append(key)
        else:
            config[key] = value if isinstance(value, str) else json.dumps(value)
    for key in secrets:
        if key not in config:
            config[key] = SECRET_PLACEHOLDER
            secret_keys.append(key)
    return {"PULUMI_CONFIG": json.dumps(config), "PULUMI_CONFIG_SECRET_KEYS": json.dumps(sorted(secret_keys))}


def venv_env(venv: Path) -> dict[str, str]:
    """toolchain.ActivateVirtualEnv: the venv's bin first on PATH, VIRTUAL_ENV set, PYTHONHOME unset."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "VIRTUAL_ENV") and not k.startswith("PULUMI_")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    return env


def program_command(lx: Launch, stack: str, *, dry_run: bool = False, parallel: int = 16) -> list[str]:
    """The language host's command line, with tests/harness/program_host.py as the executor."""
    venv = lx.program_venv
    assert venv is not None and (venv / "bin" / "python").is_file(), f"no virtualenv at {venv}"
    return [
        str(venv / "bin" / "python"), str(HARNESS / "program_host.py"),
        "--monitor", "emulator", "--engine", "emulator",
        "--project", project(lx.root)["name"], "--root_directory", str(lx.root), "--stack", stack,
        "--pwd", str(lx.pwd), "--dry_run", "true" if dry_run else "false", "--parallel", str(parallel),
        "--organization", "organization", lx.entry,
    ]
