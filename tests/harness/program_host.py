"""Stands in for Pulumi's `pulumi-language-python-exec`, with the offline ARM emulator as the engine.

Launched the way the Python language host launches its executor (tests/pulumi_launch.py), it does
what that executor does (sdk/python/cmd/pulumi-language-python-exec in pulumi/pulumi): read the
config from PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS, configure the runtime from the command line,
change to --pwd, and run PROGRAM with `runpy.run_path(PROGRAM, run_name="__main__")` inside
`pulumi.runtime.run_in_stack`. The only difference: the resource monitor is the project's emulator
(pulumi.runtime.set_mocks with infra.offline.emulator's ArmEmulator and Recorder), and what it
recorded is written as JSON to the file named by HARNESS_RECORD (taken out of the environment
before the program starts, so the program sees only what the engine gives it). HARNESS_REFERENCES,
when set, names a JSON file of fully qualified stack name -> outputs: the stacks a StackReference may
read, as the engine reads them from the backend (also taken out before the program starts).

Exit codes as the executor's: 0, 1 after a pulumi.RunError (its message logged, no traceback), 32
after any other exception (logged with its traceback).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import runpy
import sys
import traceback

# The executor's own directory heads sys.path; this harness's directory (tests/harness) must not
# make anything importable that a real launch would not find.
sys.path[0] = os.path.dirname(os.path.abspath(sys.executable))

import pulumi  # noqa: E402
import pulumi.runtime  # noqa: E402
from pulumi.runtime import settings as pulumi_settings  # noqa: E402
from pulumi.runtime.mocks import set_mocks  # noqa: E402

USER_ERROR_EXIT = 32


def arguments() -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    for flag in ("project", "root_directory", "stack", "parallel", "dry_run", "pwd", "monitor", "engine", "tracing",
                 "organization"):
        ap.add_argument(f"--{flag}")
    ap.add_argument("PROGRAM")
    ap.add_argument("ARGS", nargs="*")
    return ap.parse_args()


def record(recorder, path: str) -> None:
    from infra.offline.engine import normalise

    rows = [
        {"urn": urn, "type": r.type, "parent": r.parent, "inputs": normalise(r.inputs), "dependencies": r.dependencies,
         "protect": r.protect, "retain_on_delete": r.retain_on_delete}
        for urn, r in sorted(recorder.registrations.items())
    ]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(rows, f, indent=1, sort_keys=True)


def main() -> int:
    out = os.environ.pop("HARNESS_RECORD")
    references_file = os.environ.pop("HARNESS_REFERENCES", None)
    references = {}
    if references_file:
        with open(references_file, encoding="utf-8") as f:
            references = json.load(f)
    args = arguments()
    pulumi.runtime.set_all_config(pulumi.runtime.get_config_env(), pulumi.runtime.get_config_secret_keys_env())

    from infra.offline.emulator import OFFLINE_SUBSCRIPTION, ArmEmulator, Recorder

    logging.basicConfig(stream=sys.stderr, format="%(levelname)s: %(message)s")
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # The subscription Azure answers for is the deployer's login (ARM_SUBSCRIPTION_ID, as in CI).
    recorder = Recorder(ArmEmulator(subscription_id=os.environ.get("ARM_SUBSCRIPTION_ID", OFFLINE_SUBSCRIPTION),
                                    references=references))
    set_mocks(recorder.mocks, project=args.project, stack=args.stack, preview=args.dry_run == "true",
              monitor=recorder, organization=args.organization)
    # set_mocks makes a root stack of its own (not recorded); the executor's is run_in_stack's.
    pulumi_settings.ROOT.set(None)

    sys.argv = [args.PROGRAM, *args.ARGS]
    if args.pwd is not None:
        os.chdir(args.pwd)
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    code = 1
    try:
        loop.run_until_complete(pulumi.runtime.run_in_stack(lambda: runpy.run_path(args.PROGRAM, run_name="__main__")))
        code = 0
    except pulumi.RunError as exc:
        pulumi.log.error(str(exc))
    except Exception:  # noqa: BLE001 - the executor reports any other failure with its traceback
        pulumi.log.error("Program failed with an unhandled exception:\n" + traceback.format_exc())
        code = USER_ERROR_EXIT
    finally:
        loop.close()
    if code == 0:
        record(recorder, out)
    return code


if __name__ == "__main__":
    sys.exit(main())
