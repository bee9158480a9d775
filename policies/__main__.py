"""CrossGuard entry point: `pulumi preview -s STACK --policy-pack policies --policy-pack-config
policies/config/STACK.json`. The rules are the ones `amlplatform check` runs offline."""

import importlib.util
import sys
from pathlib import Path

# The project is pip-installed in the virtualenv; run from a checkout without the install,
# the repo root (this file's grandparent) holds the package.
if importlib.util.find_spec("policies") is None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack

from policies.pack import PACK_NAME, policies

PolicyPack(name=PACK_NAME, policies=policies(), enforcement_level=EnforcementLevel.MANDATORY)
