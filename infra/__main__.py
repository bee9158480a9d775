"""Pulumi entry point (`main: infra/` in Pulumi.yaml): `pulumi up -s dev` runs this file."""

import sys
from pathlib import Path

# The CLI runs this directory as a script; make the repository root importable
# so the program is the `infra` package whether or not it was pip-installed.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infra.program import main  # noqa: E402

main()
