"""CrossGuard entry point: `pulumi preview -s STACK --policy-pack policies --policy-pack-config
policies/config/STACK.json`. The rules are the ones `amlplatform check` runs offline."""

import sys
from pathlib import Path

try:
    import policies.pack  # noqa: F401 - the project is pip-installed in the virtualenv
except ImportError:  # run from a checkout without the install: the repo root holds the package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack

from policies.pack import PACK_NAME, policies

PolicyPack(name=PACK_NAME, policies=policies(), enforcement_level=EnforcementLevel.MANDATORY)
