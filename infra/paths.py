"""Where the repository is, from this package's own location: never from the working directory.

The Pulumi engine starts the program, and separately each dynamic provider, in a working
directory that Pulumi.yaml's `main` decides (pulumi/pulumi pkg/engine/project.go), and tests and
the CLI run from anywhere. The package knows where it lives: requirements.txt installs this
repository editable (`-e .`), so `infra/` is the checkout's own folder and its parent the root
that holds Pulumi.yaml, stacks/ and assets/.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
