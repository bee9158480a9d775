"""Stack config: the real stacks validate, every rule fails on bad input with one clear line."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from infra import config
from tests.conftest import ROOT, raw_stack

SRC = "stacks/Pulumi.dev.yaml"
PRIVATE = {"mode": "private", "addressSpace": ["10.60.0.0/22"],
           "subnets": {"privateEndpoints": "10.60.0.0/26", "training": "10.60.1.0/24", "scoring": "10.60.2.0/23"}}


def parse_with(stack: str = "dev", **sections):
    raw = copy.deepcopy(raw_stack(stack))
    for key, value in sections.items():
        if value is None:
            raw.pop(f"amlplatform:{key}", None)
        else:
            raw[f"amlplatform:{key}"] = value
    return config.parse(raw, f"stacks/Pulumi.{stack}.yaml", stack)


def error_of(stack: str = "dev", **sections) -> str:
    with pytest.raises(config.ConfigError) as exc:
        parse_with(stack, **sections)
    return str(exc.value)


def test_real_stacks_validate_with_environment_table(stack):
    cfg, _ = config.load_stack(stack, Path(__file__).resolve().parents[1])
    expected = {
        "dev": ("public", "Standard_LRS", "Basic", 30, False, False),
        "staging": ("private", "Standard_ZRS", "Premium", 90, True, False),
        "prod": ("private", "Standard_GZRS", "Premium", 365, True, True),
    }[stack]
    got = (cfg.network.mode, cfg.storage.replication, cfg.registry.sku, cfg.monitoring.retention_days,
           cfg.protection.locks, cfg.workspace.hbi)
    assert got == expected
    assert cfg.source == f"stacks/Pulumi.{stack}.yaml"


def test_defaults_come_from_environment_table_when_keys_are_left_out():
    cfg = config.parse(
        {"amlplatform:platform": {"environment": "prod", "prefix": "acme", "location": "northeurope"},
         # Prod's AKS runs KMS with the private vault, over API Server VNet Integration: its own /28.
         "amlplatform:network": {**{k: v for k, v in PRIVATE.items() if k != "mode"},
                                 "subnets": {**PRIVATE["subnets"], "apiServer": "10.60.0.64/28"}}},
        "stacks/Pulumi.x.yaml",
    )
    assert cfg.storage.replication == "Standard_GZRS"
    assert cfg.registry.zone_redundancy is True
    assert cfg.key_vault.sku == "premium"
    assert cfg.protection.protect is True
    assert cfg.network.mode == "private"
    assert cfg.network.egress == "natGateway" and cfg.network.dns == "create"
    cmk = cfg.encryption.customer_managed_key
    assert (cmk.enabled, cmk.key_type, cmk.key_size, cmk.aks_kms) == (True, "RSA-HSM", 3072, True)
    assert (cmk.rotate_after, cmk.expire_after, cmk.notify_before) == ("P1Y", "P2Y", "P30D")


# Keys the section models type as plain values (no None): every environment's column must set them,
# so a parsed stack never carries a section model's own field default.
FILLED_BY_ENVIRONMENT = [
    ("network", "mode"), ("storage", "replication"), ("keyVault", "sku"), ("registry", "sku"),
    ("registry", "zoneRedundancy"), ("monitoring", "retentionDays"), ("workspace", "hbi"),
    ("protection", "locks"), ("protection", "protect"), ("compute", "defaultPriority"),
    ("compute", "defaultMaxNodes"), ("aks", "enabled"), ("assets", "enabled"), ("assets", "schedulesEnabled"),
]


@pytest.mark.parametrize("env", sorted(config.ENVIRONMENT_DEFAULTS))
def test_every_environment_column_sets_the_keys_typed_as_required(env):
    column = config.ENVIRONMENT_DEFAULTS[env]
    missing = [f"{section}.{key}" for section, key in FILLED_BY_ENVIRONMENT if key not in column.get(section, {})]
    missing += [] if "enabled" in column["compute"].get("instances", {}) else ["compute.instances.enabled"]
    assert missing == []


def _defaults_below(model, column: dict, path: str) -> list[str]:
    """Where a model's own defaults differ from `column` (a part of the environment table)."""
    out = []
    for key, wanted in column.items():
        name = next(n for n, f in type(model).model_fields.items() if f.alias == key)
        have = getattr(model, name)
        if isinstance(wanted, dict):
            out += _defaults_below(have, wanted, f"{path}{key}.")
        elif have != wanted:
            out.append(f"{path}{key}: {have!r} != {wanted!r}")
    return out


def test_the_sections_own_defaults_are_devs_column():
    # One source per default: a section built on its own (never in a parsed stack) gets dev's values.
    fields = {f.alias: f for f in config.StackConfig.model_fields.values()}
    differ = []
    for section, column in config.ENVIRONMENT_DEFAULTS["dev"].items():
        differ += _defaults_below(fields[section].get_default(call_default_factory=True), column, f"{section}.")
    assert differ == []


@pytest.mark.parametrize(
    "sections, expected",
    [
        ({"storage": {"replication": None}}, "amlplatform:storage.replication: must be one of Standard_LRS, "),
        ({"protection": {"locks": None}}, "amlplatform:protection.locks: must be true or false, got null"),
        ({"monitoring": {"retentionDays": None}}, "amlplatform:monitoring.retentionDays: must be a whole number"),
    ],
)
def test_explicit_null_does_not_replace_an_environment_default(sections, expected):
    assert expected in error_of(**sections)


def test_prefix_rule_message_names_file_key_rule_and_value():
    msg = error_of(platform={"environment": "dev", "prefix": "Contoso-ML!", "location": "westeurope"},
                   network={"mode": "public", "allowedIpRanges": ["20.1.2.0/24"]})
    assert msg == (
        'stacks/Pulumi.dev.yaml: amlplatform:platform.prefix: must be 2-10 lowercase letters or digits, '
        'got "Contoso-ML!"'
    )


@pytest.mark.parametrize(
    "sections, expected",
    [
        ({"platform": {"environment": "dev", "prefix": "ok", "location": "westeurope", "colour": "x"}},
         "amlplatform:platform.colour: unknown key "
         "(allowed: environment, prefix, location, subscriptionId, generation, tags, allowedLocations, "
         "registeredFeatures)"),
        ({"storage": {"replication": "Premium_LRS"}},
         "amlplatform:storage.replication: must be one of Standard_LRS, Standard_ZRS"),
        ({"platform": {"environment": "qa", "prefix": "ok", "location": "westeurope"}},
         "amlplatform:platform.environment: must be one of dev, staging or prod, got \"qa\""),
        # A list where a name belongs is the same mistake, not a crash in the environment table's lookup.
        ({"platform": {"environment": ["prod"], "prefix": "ok", "location": "westeurope"}},
         "amlplatform:platform.environment: must be one of dev, staging or prod"),
        ({"platform": {"environment": "dev", "prefix": "ok", "location": "West Europe"}},
         "amlplatform:platform.location: must be an Azure region name"),
        ({"platform": {"environment": "dev", "prefix": "ok", "location": "westeurope", "subscriptionId": "abc"}},
         "amlplatform:platform.subscriptionId: must be a subscription GUID"),
        ({"platform": {"environment": "dev", "prefix": "ok"}}, "amlplatform:platform.location: required key is missing"),
        ({"monitoring": {"retentionDays": 7}}, "amlplatform:monitoring.retentionDays: must be at least 30, got 7"),
        ({"protection": {"locks": "maybe"}}, "amlplatform:protection.locks: must be true or false"),
        ({"network": {"mode": "public", "allowedIpRanges": ["10.1.0.0/16"]}},
         'amlplatform:network.allowedIpRanges[0]: is a private or reserved range: firewall rules take public '
         'internet addresses only, got "10.1.0.0/16"'),
        ({"network": {"mode": "public", "allowedIpRanges": ["20.1.2.2/31"]}}, "is a /31, which the storage firewall"),
        ({"network": {"mode": "public", "allowedIpRanges": ["20.0.0.0/8"]}}, "is wider than /16"),
        ({"network": {"mode": "public", "allowedIpRanges": ["20.1.2.3/24"]}}, "no host bits set"),
        ({"network": {"mode": "public", "allowedIpRanges": ["2001:db8::/48"]}}, "must be IPv4"),
        ({"network": {"mode": "public", "allowedIpRanges": []}},
         "amlplatform:network.allowedIpRanges: public mode needs at least one public IP range"),
        ({"network": PRIVATE, "registry": {"sku": "Basic"}},
         "amlplatform:registry.sku: network mode private reaches the registry through a private endpoint, "
         "which needs the Premium SKU"),
        ({"registry": {"sku": "Standard", "zoneRedundancy": True}},
         "amlplatform:registry.zoneRedundancy: zone redundancy needs the Premium SKU"),
        ({"extra": {"a": 1}}, "amlplatform:extra: unknown key (allowed: platform, network"),
        ({"workspace": {"secure": "AAABAD"}}, "amlplatform:workspace: must not be a secret"),
    ],
)
def test_each_rule_fails_with_a_clear_line(sections, expected):
    msg = error_of(**sections)
    assert msg.startswith(SRC + ": ")
    assert expected in msg
    assert "Traceback" not in msg and "\n" not in msg


def test_public_mode_is_refused_outside_dev():
    msg = error_of("prod", network={"mode": "public", "allowedIpRanges": ["20.1.2.0/24"]})
    assert msg == (
        "stacks/Pulumi.prod.yaml: amlplatform:network.mode: public network access is allowed only in dev "
        '(this stack\'s environment is prod); use private or managed, got "public"'
    )


def test_allow_list_outside_public_mode_is_refused():
    assert "applies only to public mode" in error_of("staging", network={**PRIVATE, "allowedIpRanges": ["20.1.2.0/24"]})


def test_single_address_is_written_without_prefix():
    cfg = parse_with(network={"mode": "public", "allowedIpRanges": ["20.1.2.3/32", "20.1.3.0/24"]})
    assert cfg.network.allowed_ip_ranges == ["20.1.2.3", "20.1.3.0/24"]


def test_missing_platform_section():
    with pytest.raises(config.ConfigError, match=r"^x.yaml: amlplatform:platform: required key is missing$"):
        config.parse({"azure-native:location": "westeurope"}, "x.yaml")


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.bad.yaml").write_text("config:\n  amlplatform:platform: {prefix: [\n")
    with pytest.raises(config.ConfigError, match=r"Pulumi\.bad\.yaml: line 3, column 1: not valid YAML"):
        config.load_stack("bad", tmp_path)


def test_libyaml_reads_stack_files_as_pyyaml_does(tmp_path):
    # The stack file is parsed by libyaml when PyYAML has it (it does in its wheels), ten times faster.
    from infra.config import loading

    assert loading._FAST_LOADER is yaml.CSafeLoader
    teams = {f"team{i:03d}": {"dataScientists": [{"objectId": f"00000000-0000-4000-8000-{i:012d}", "type": "Group"}],
                              "containers": [f"team{i:03d}-raw"], "note": "é ✓ \t", "on": "yes", "n": 1.5e3}
             for i in range(100)}
    big = tmp_path / "Pulumi.big.yaml"
    big.write_text(yaml.safe_dump({"config": {"amlplatform:teams": teams}}, allow_unicode=True))
    for path in [*sorted((ROOT / "stacks").glob("Pulumi.*.yaml")), big]:
        text = path.read_text(encoding="utf-8")
        assert loading._parse(text, path.name) == yaml.safe_load(text), path.name


def test_missing_stack_file_and_bad_stack_name(tmp_path):
    with pytest.raises(config.ConfigError, match="no such stack file"):
        config.load_stack("nope", tmp_path)
    with pytest.raises(config.ConfigError, match="stack name"):
        config.load_stack("../etc", tmp_path)


def test_settings_outside_config_key_are_refused(tmp_path):
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.x.yaml").write_text("amlplatform:platform: {}\n")
    with pytest.raises(config.ConfigError, match="settings go under `config:`"):
        config.load_stack("x", tmp_path)
