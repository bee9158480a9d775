"""Network preflight: every rule fails on bad input with the stack file and key."""

from __future__ import annotations

import copy

import pytest

from infra.config import stack as config
from tests.conftest import raw_stack

SUB = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590"
HUB = {"vnetId": f"{SUB}/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/vnet-hub",
       "addressSpace": ["10.0.0.0/16"]}


def net(**over):
    base = {"mode": "private", "addressSpace": ["10.60.0.0/22"],
            "subnets": {"privateEndpoints": "10.60.0.0/26", "training": "10.60.1.0/24", "scoring": "10.60.2.0/23"}}
    base.update(over)
    return base


def parse(network, stack="staging"):
    raw = copy.deepcopy(raw_stack(stack))
    raw["amlplatform:network"] = network
    return config.parse(raw, f"stacks/Pulumi.{stack}.yaml", stack)


def error(network, stack="staging") -> str:
    with pytest.raises(config.ConfigError) as exc:
        parse(network, stack)
    return str(exc.value)


def test_valid_private_network_with_hub_and_firewall():
    cfg = parse(net(hub=HUB, egress="firewall", firewallIp="10.0.1.4"))
    assert cfg.network.hub.vnet_id.endswith("vnet-hub")
    assert cfg.network.egress == "firewall" and cfg.network.firewall_ip == "10.0.1.4"


@pytest.mark.parametrize(
    "network, expected",
    [
        (net(addressSpace=[]), "amlplatform:network.addressSpace: private mode needs the VNet's address ranges"),
        (net(addressSpace=["10.60.0.1/22"]),
         'addressSpace[0]: must be an IPv4 CIDR range with no host bits set, such as 10.60.0.0/22, got "10.60.0.1/22"'),
        (net(addressSpace=["20.60.0.0/22"]), "must be private address space"),
        (net(addressSpace=["10.60.0.0/22", "10.60.2.0/24"]),
         'addressSpace[1]: overlaps 10.60.0.0/22, also in addressSpace, got "10.60.2.0/24"'),
        (net(subnets={"privateEndpoints": "10.60.0.0/26", "training": "10.60.1.0/24"}),
         "amlplatform:network.subnets.scoring: private mode needs this subnet"),
        (net(subnets={"privateEndpoints": "10.61.0.0/26", "training": "10.60.1.0/24", "scoring": "10.60.2.0/23"}),
         "amlplatform:network.subnets.privateEndpoints: is not inside the VNet's address space 10.60.0.0/22, "
         'got "10.61.0.0/26"'),
        (net(subnets={"privateEndpoints": "10.60.0.0/28", "training": "10.60.1.0/24", "scoring": "10.60.2.0/23"},
             monitorPrivateLink=False),
         "amlplatform:network.subnets.privateEndpoints: must be /27 or larger"),
        (net(subnets={"privateEndpoints": "10.60.0.0/27", "training": "10.60.1.0/24", "scoring": "10.60.2.0/23"}),
         "amlplatform:network.subnets.privateEndpoints: must be /26 or larger: the Azure Monitor private link scope"),
        (net(subnets={"privateEndpoints": "10.60.0.0/26", "training": "10.60.1.0/27", "scoring": "10.60.2.0/23"}),
         "amlplatform:network.subnets.training: must be /26 or larger"),
        (net(subnets={"privateEndpoints": "10.60.0.0/26", "training": "10.60.1.0/24", "scoring": "10.60.2.0/25"}),
         "amlplatform:network.subnets.scoring: must be /24 or larger: a /24 holds AKS nodes"),
        (net(subnets={"privateEndpoints": "10.60.1.0/26", "training": "10.60.1.0/24", "scoring": "10.60.2.0/23"}),
         "amlplatform:network.subnets.training: overlaps subnets.privateEndpoints (10.60.1.0/26), got \"10.60.1.0/24\""),
        (net(hub={**HUB, "addressSpace": ["10.60.0.0/16"]}),
         "addressSpace[0]: overlaps the hub's 10.60.0.0/16: peering would fail, got \"10.60.0.0/22\""),
        (net(hub={**HUB, "vnetId": "vnet-hub"}), "amlplatform:network.hub.vnetId: must be a virtual network resource ID"),
        (net(egress="firewall"), "amlplatform:network.firewallIp: egress firewall needs the firewall's private IP"),
        (net(firewallIp="10.0.1.4"), "amlplatform:network.firewallIp: applies only to egress firewall"),
        (net(egress="firewall", firewallIp="20.1.1.1"), "must be the firewall's private IP address"),
        (net(egress="firewall", firewallIp="10.0.1.4", internetOutbound="deny"),
         "amlplatform:network.internetOutbound: deny would also block the route to the firewall"),
        (net(dns="existing"), "amlplatform:network.dnsZoneIds: dns existing needs an ID for every zone; missing"),
        (net(monitorPrivateLink=True, subnets={"privateEndpoints": "10.60.0.0/27", "training": "10.60.1.0/24",
                                                "scoring": "10.60.2.0/23"}),
         "amlplatform:network.subnets.privateEndpoints: must be /26 or larger: the Azure Monitor private link scope"),
        (net(dns="existing", dnsZoneIds={"privatelink.example.com": "x"}),
         "amlplatform:network.dnsZoneIds.privatelink.example.com: is not a zone the platform uses"),
        (net(dns="existing", dnsZoneIds={"privatelink.azurecr.io": f"{SUB}/resourceGroups/rg/providers/"
                                         "Microsoft.Network/privateDnsZones/privatelink.vaultcore.azure.net"}),
         "must be the resource ID of the private DNS zone privatelink.azurecr.io"),
        (net(dnsZoneIds={"privatelink.azurecr.io": "x"}), "amlplatform:network.dnsZoneIds: applies only to dns existing"),
        (net(outboundRules=[{"name": "pypi", "type": "FQDN", "destination": "pypi.org"}]),
         "amlplatform:network.outboundRules: applies only to managed mode"),
        (net(mode="managed", subnets={"privateEndpoints": "10.60.0.0/26", "training": "10.60.1.0/24"}),
         "amlplatform:network.subnets.training: not used in managed mode"),
        (net(mode="managed", subnets={"privateEndpoints": "10.60.0.0/26"}, egress="natGateway"),
         "amlplatform:network.egress: managed mode has no compute subnets"),
        (net(mode="managed", subnets={"privateEndpoints": "10.60.0.0/26"}, isolationMode="AllowInternetOutbound",
             outboundRules=[{"name": "pypi", "type": "FQDN", "destination": "pypi.org"}]),
         "FQDN rules apply only to isolationMode AllowOnlyApprovedOutbound"),
        (net(mode="managed", subnets={"privateEndpoints": "10.60.0.0/26"},
             outboundRules=[{"name": "pypi", "type": "FQDN", "destination": "https://pypi.org"}]),
         "must be a host name such as pypi.org"),
        (net(mode="managed", subnets={"privateEndpoints": "10.60.0.0/26"},
             outboundRules=[{"name": "tag", "type": "ServiceTag"}]), "a ServiceTag rule needs serviceTag"),
        (net(mode="managed", subnets={"privateEndpoints": "10.60.0.0/26"},
             outboundRules=[{"name": "abc", "type": "FQDN", "destination": "pypi.org"},
                            {"name": "abc", "type": "FQDN", "destination": "conda.anaconda.org"}]),
         "amlplatform:network.outboundRules[abc].name: repeats a rule name"),
    ],
)
def test_each_network_rule_fails_clearly(network, expected):
    msg = error(network)
    assert msg.startswith("stacks/Pulumi.staging.yaml: amlplatform:network")
    assert expected in msg
    assert "Traceback" not in msg


def test_vnet_keys_are_refused_in_public_mode():
    msg = error({"mode": "public", "allowedIpRanges": ["20.1.2.0/24"], "addressSpace": ["10.1.0.0/24"]}, "dev")
    assert "amlplatform:network.addressSpace: applies only to private or managed mode" in msg


def test_existing_dns_with_monitor_link_needs_the_monitor_zones():
    from infra.azure_facts.dns_zones import PLATFORM_GROUPS, ZONES_BY_GROUP

    ids = {z: f"{SUB}/resourceGroups/rg/providers/Microsoft.Network/privateDnsZones/{z}"
           for g in PLATFORM_GROUPS for z in ZONES_BY_GROUP[g]}
    assert parse(net(dns="existing", dnsZoneIds=ids)).network.dns == "existing"
    msg = error(net(dns="existing", dnsZoneIds=ids, monitorPrivateLink=True))
    assert "missing privatelink.agentsvc.azure-automation.net, privatelink.monitor.azure.com" in msg


def test_registry_with_private_endpoint_on_basic_fails_preflight():
    raw = copy.deepcopy(raw_stack("staging"))
    raw["amlplatform:registry"] = {"sku": "Basic"}
    with pytest.raises(config.ConfigError, match="amlplatform:registry.sku: network mode private reaches the "
                                                 "registry through a private endpoint, which needs the Premium SKU"):
        config.parse(raw, "stacks/Pulumi.staging.yaml", "staging")
