"""Pulumi entry point of the bootstrap project: `pulumi up -s state` in state-backend/ runs this file."""

import sys
from pathlib import Path

# Pulumi runs this folder as a script; make the repository root importable so the
# program is the `infra` package whether or not the repository was pip-installed.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infra.state_backend.program import main  # noqa: E402

main()
