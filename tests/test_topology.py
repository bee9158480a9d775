"""The topology: one reading of a stack's network posture, compute and identity names, and team role keys."""

from __future__ import annotations

import copy
import json

import pytest

from infra.access_grants import TEAM_GRANTS
from infra import config
from infra.naming import Names
from infra.offline.platform_rules import facts_for
from infra.paths import REPO_ROOT
from infra.topology import (INFERENCE_COMPUTE, INSTANCE_IDENTITY, TEAM_ROLE_KEYS, WORKSPACE_IDENTITY, Posture,
                            Topology, identity_resource)
from policies.pack import FACT_SCHEMA
from policies.rules import StackFacts
from tests.conftest import raw_stack

SUB = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"


def stack(name: str, **sections) -> config.StackConfig:
    raw = copy.deepcopy(raw_stack(name))
    raw.update({f"amlplatform:{k}": v for k, v in sections.items()})
    return config.parse(raw, f"stacks/Pulumi.{name}.yaml", name)


def test_dev_is_public_behind_its_ip_filter_with_compute_in_the_managed_vnet():
    cfg = stack("dev")
    topo = Topology.of(cfg)
    assert topo.posture is Posture.PUBLIC and topo.public and not topo.posture.own_vnet
    assert topo.isolation == "AllowInternetOutbound" and topo.managed_network
    assert topo.allowed_ip_ranges == tuple(cfg.network.allowed_ip_ranges) and topo.allowed_ip_ranges
    assert topo.dns == "public" and topo.inference_compute is None


@pytest.mark.parametrize("name", ["staging", "prod"])
def test_staging_and_prod_are_private_with_their_own_vnet_and_aks_inference(name):
    topo = Topology.of(stack(name))
    assert topo.posture is Posture.PRIVATE and topo.posture.own_vnet and topo.posture.private_endpoints
    assert topo.posture.compute_subnets and not topo.public
    assert topo.isolation is None and not topo.managed_network
    assert topo.allowed_ip_ranges == () and topo.dns == "create"
    assert topo.inference_compute == INFERENCE_COMPUTE == "aks-inference"


def test_managed_mode_has_a_vnet_for_inbound_only_and_the_stacks_isolation_mode():
    network = {"mode": "managed", "addressSpace": ["10.60.0.0/22"], "subnets": {"privateEndpoints": "10.60.0.0/26"},
               "isolationMode": "AllowInternetOutbound"}
    topo = Topology.of(stack("staging", network=network, aks={"enabled": False}))
    assert topo.posture is Posture.MANAGED and topo.posture.own_vnet and not topo.posture.compute_subnets
    assert topo.isolation == "AllowInternetOutbound" and topo.inference_compute is None and not topo.public
    assert Topology.of(stack("staging", network={**network, "isolationMode": "AllowOnlyApprovedOutbound"},
                             aks={"enabled": False})).isolation == "AllowOnlyApprovedOutbound"


def test_compute_names_are_clusters_instances_attached_and_aks_inference():
    cfg = stack("staging")
    names = Names.for_stack(cfg.platform.prefix, cfg.platform.environment, SUB, cfg.platform.generation)
    expected = sorted({*(c.name for c in cfg.compute.clusters or []), *(a.name for a in cfg.compute.attach),
                       *(names.instance(u) for u in Topology.of(cfg).instance_users), "aks-inference"})
    assert Topology.of(cfg).compute_names(cfg, names) == expected


def test_instance_users_are_the_listed_users_or_every_member_once():
    dev = stack("dev")
    members = list(dict.fromkeys(m for t in dev.teams.values() for m in t.members))
    listed = dev.compute.instances.users
    assert list(Topology.of(dev).instance_users) == (listed if listed is not None else members)
    off = stack("dev", compute={**raw_stack("dev")["amlplatform:compute"], "instances": {"enabled": False}})
    assert Topology.of(off).instance_users == ()


def test_identity_names_match_the_pack_and_rule_defaults():
    # The CrossGuard pack runs without this repository's infra package: its defaults stay literals, pinned here.
    ws, inst = identity_resource(WORKSPACE_IDENTITY), identity_resource(INSTANCE_IDENTITY)
    assert (ws, inst) == ("workspace-identity-uai", "instance-identity-uai")
    assert FACT_SCHEMA["workspaceIdentityName"]["default"] == ws
    assert FACT_SCHEMA["instanceIdentityName"]["default"] == inst
    assert (StackFacts().workspace_identity_name, StackFacts().instance_identity_name) == (ws, inst)
    facts = facts_for(stack("prod"))
    assert (facts.workspace_identity_name, facts.instance_identity_name) == (ws, inst)
    for path in sorted((REPO_ROOT / "policies" / "config").glob("*.json")):
        policy = json.loads(path.read_text())["rbac-privileged-roles"]
        assert (policy["workspaceIdentityName"], policy["instanceIdentityName"]) == (ws, inst), path


def test_team_role_tables_share_the_configs_keys():
    from infra.cli.onboarding import ROLE_OPTIONS

    assert TEAM_ROLE_KEYS == ("readers", "dataScientists", "computeOperators", "jobSubmitters")
    assert set(TEAM_GRANTS) == set(TEAM_ROLE_KEYS)
    assert ROLE_OPTIONS == {"readers": "readers", "data_scientists": "dataScientists",
                            "compute_operators": "computeOperators", "job_submitters": "jobSubmitters"}
