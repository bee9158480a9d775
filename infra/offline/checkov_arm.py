"""checkov's ARM runner alone, serving any number of scans from one process.

Run by checkov's own interpreter (.venv-checkov), never imported by the project: it needs only the
standard library and checkov. `checkov --framework arm` imports every framework checkov has
(Terraform, Kubernetes, Ansible, SCA ...) before it looks at the flag, which is most of its start-up;
this script imports the ARM runner and the report writers only, loads the custom checks once, and then
scans each target it is sent with the same runner, filter and report classes the CLI uses, so the
reports (checkov.json, .sarif, .xml) are the ones

    checkov --framework arm --skip-download --external-checks-dir DIR \\
        -o json -o sarif -o junitxml --output-file-path OUT (-f FILE | -d DIR)

writes, and the findings are the same (tests/test_checkov_gate.py compares them with the CLI's).

Protocol: argv[1] is the custom checks folder. Each stdin line is a JSON request
{"target": path, "out_dir": an existing folder}; each answer is one stdout line, in request order:
{"target": ..., "cpu": seconds this scan took, "startup": seconds the start-up took}, or with
"error": text instead. Log output goes to stderr.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from typing import Any

# The CLI's values for the options the project passes (checkov 3.3.30); they fill the JUnit
# properties block, as the CLI's parsed arguments do.
_CLI_OPTIONS: dict[str, Any] = {
    "add_check": False,
    "list": False,
    "output": ["json", "sarif", "junitxml"],
    "output_bc_ids": False,
    "include_all_checkov_policies": True,
    "quiet": False,
    "compact": False,
    "framework": ["arm"],
    "skip_framework": [],
    "run_all_external_checks": False,
    "soft_fail": False,
    "skip_results_upload": False,
    "branch": "master",
    "skip_download": True,
    "use_enforcement_rules": False,
    "external_modules_download_path": ".external_modules",
    "evaluate_variables": True,
    "no_cert_verify": False,
    "create_baseline": False,
    "output_baseline_as_skipped": False,
    "secrets_scan_file_type": [],
    "enable_secret_scan_all_files": False,
    "block_list_secret_scan": [],
    "summary_position": "top",
    "skip_resources_without_violations": False,
    "deep_analysis": False,
    "no_fail_on_crash": False,
    "scan_secrets_history": False,
    "secrets_history_timeout": "12h",
    "custom_tool_name": "Checkov",
}
_CLI_ORDER = ("add_check", "file", "directory", "external_checks_dir", "list", "output", "output_file_path",
              "output_bc_ids", "include_all_checkov_policies", "quiet", "compact", "framework", "skip_framework",
              "run_all_external_checks", "soft_fail", "skip_results_upload", "repo_id", "branch", "skip_download",
              "use_enforcement_rules", "external_modules_download_path", "evaluate_variables", "no_cert_verify",
              "create_baseline", "output_baseline_as_skipped", "secrets_scan_file_type",
              "enable_secret_scan_all_files", "block_list_secret_scan", "summary_position",
              "skip_resources_without_violations", "deep_analysis", "no_fail_on_crash", "mask",
              "scan_secrets_history", "secrets_history_timeout", "custom_tool_name")


def _properties(target: str, is_dir: bool, checks_dir: str, out_dir: str) -> dict[str, Any]:
    from collections import defaultdict

    values = dict(_CLI_OPTIONS)
    values["directory" if is_dir else "file"] = [target]
    values["external_checks_dir"] = [checks_dir]
    values["output_file_path"] = out_dir
    # The CLI names the repository after the scanned folder (or the file's folder).
    values["repo_id"] = f"cli_repo/{os.path.basename(os.path.abspath(target if is_dir else os.path.dirname(target)))}"
    values["mask"] = defaultdict(set)
    return {k: values[k] for k in _CLI_ORDER if k in values}


def _parse_with_libyaml() -> None:
    """checkov reads an ARM template, JSON, with PyYAML's pure-Python parser (for the line numbers it
    gives each mapping); that is nine tenths of a scan's time. The same loader on libyaml's parser gives
    the same mappings and lines ten times faster. A template libyaml refuses goes to checkov's own
    loader, as before (the CLI comparison tests in tests/test_checkov_gate.py hold both to the same reports)."""
    import yaml
    from checkov.common.parsers.yaml import loader

    if not getattr(yaml, "__with_libyaml__", False):
        return

    class LibyamlLineLoader(yaml.cyaml.CParser, loader.SafeLineLoader):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            yaml.cyaml.CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

    own = loader.loads

    def loads(content: str) -> list[dict[str, Any]]:
        try:
            return list(yaml.load_all(content, Loader=LibyamlLineLoader))
        except Exception:  # noqa: BLE001 - whatever libyaml refuses, checkov's own loader answers as before
            return own(content)

    loader.loads = loads


class Scanner:
    def __init__(self, checks_dir: str) -> None:
        from checkov.arm.registry import arm_resource_registry
        from checkov.common.checks_infra.registry import get_graph_checks_registry

        _parse_with_libyaml()
        self.checks_dir = checks_dir
        # Once per process: loading the same folder again would register its checks twice.
        arm_resource_registry.load_external_checks(checks_dir)
        get_graph_checks_registry("arm").load_external_checks(checks_dir)

    def scan(self, target: str, out_dir: str) -> None:
        from checkov.arm.runner import Runner
        from checkov.common.output.report import Report
        from checkov.common.output.sarif import Sarif
        from checkov.common.util.json_utils import CustomJSONEncoder
        from checkov.runner_filter import RunnerFilter

        is_dir = os.path.isdir(target)
        runner_filter = RunnerFilter(framework=["arm"], include_all_checkov_policies=True,
                                     download_external_modules=False, evaluate_variables=True,
                                     show_progress_bar=False)
        report = Runner().run(root_folder=target if is_dir else None, files=None if is_dir else [target],
                              runner_filter=runner_filter)
        reports = [r for r in (report if isinstance(report, list) else [report]) if not r.is_empty()]
        json_out: Any = [r.get_dict(is_quiet=False, url=None) for r in reports]
        if not json_out:
            json_out = Report("").get_summary()
        elif len(json_out) == 1:
            json_out = json_out[0]
        properties = _properties(target, is_dir, self.checks_dir, out_dir)
        suites = [r.get_test_suite(properties=properties, use_bc_ids=False) for r in reports] or [
            Report("").get_test_suite(properties=properties)]
        outputs = {
            "results_json.json": json.dumps(json_out, cls=CustomJSONEncoder),
            "results_sarif.sarif": json.dumps(Sarif(reports=reports, tool="Checkov").json, cls=CustomJSONEncoder),
            "results_junitxml.xml": Report.get_junit_xml_string(suites),
        }
        for name, text in outputs.items():
            with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
                f.write(text)


def main() -> int:
    answers = sys.stdout
    sys.stdout = sys.stderr  # checkov's own prints must not mix with the answers
    scanner = Scanner(sys.argv[1])
    startup = time.process_time()
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        answer: dict[str, Any] = {"target": request["target"], "startup": round(startup, 3)}
        before = time.process_time()
        try:
            scanner.scan(request["target"], request["out_dir"])
        except Exception:  # noqa: BLE001 - reported to the caller, which fails the gate with it
            answer["error"] = traceback.format_exc()
        answer["cpu"] = round(time.process_time() - before, 3)
        answers.write(json.dumps(answer) + "\n")
        answers.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
