"""The value types config and props share (infra/types.py): each rule, its message, its normal form."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from infra import types as t


def error(tp, value) -> str:
    with pytest.raises(ValidationError) as exc:
        TypeAdapter(tp).validate_python(value)
    return exc.value.errors()[0]["msg"].removeprefix("Value error, ")


def test_guids_come_back_lowercase_and_name_what_they_are():
    assert TypeAdapter(t.SubscriptionId).validate_python("ABCDEF00-0000-0000-0000-00000000000A") == \
        "abcdef00-0000-0000-0000-00000000000a"
    assert error(t.SubscriptionId, "abc") == "must be a subscription GUID such as 00000000-0000-0000-0000-000000000000"
    assert error(t.ObjectId, "abc") == "must be an Entra object ID (a GUID)"
    assert error(t.UserObjectId, "00000000-0000-0000-0000-00000000000z") == "must be a user object ID (a GUID)"
    assert t.is_guid("00000000-0000-0000-0000-000000000000") and not t.is_guid("0000")


def test_regions_are_azure_names():
    assert TypeAdapter(t.AzureRegion).validate_python("swedencentral") == "swedencentral"
    assert error(t.AzureRegion, "West Europe").startswith("must be an Azure region name in lowercase")


@pytest.mark.parametrize("tp, value, message", [
    (t.PrivateCidr, "10.60.0.1/22", "must be an IPv4 CIDR range with no host bits set, such as 10.60.0.0/22"),
    (t.PrivateCidr, "20.0.0.0/16", "must be private address space (10/8, 172.16/12 or 192.168/16)"),
    (t.PrivateCidr, "fd00::/8", "must be an IPv4 range"),
    (t.Cidr, "300.0.0.0/8", "must be an IPv4 CIDR range with no host bits set, such as 10.60.0.0/22"),
    (t.FirewallRange, "10.1.0.0/16", "is a private or reserved range: firewall rules take public internet addresses only"),
    (t.FirewallRange, "20.0.0.0/8", "is wider than /16: an allow-list that broad is no allow-list"),
    (t.FirewallRange, "20.1.2.2/31", "is a /31, which the storage firewall refuses; list both addresses"),
])
def test_ranges_refuse_what_azure_would(tp, value, message):
    assert error(tp, value) == message


def test_ranges_come_back_as_azure_writes_them():
    assert TypeAdapter(t.Cidr).validate_python("203.0.113.0/24") == "203.0.113.0/24"
    # The storage firewall takes a single address without its /32.
    assert TypeAdapter(t.FirewallRange).validate_python("203.0.113.7/32") == "203.0.113.7"


@pytest.mark.parametrize("tp, good, bad, message", [
    (t.Prefix, "contoso", "Contoso", "must be 2-10 lowercase letters or digits"),
    (t.TeamName, "fraud-ml", "Fraud", "team names are 2-24 lowercase letters, digits or hyphens, starting with a "
                                      "letter"),
    (t.ContainerName, "fraud-raw", "fraud--raw", "must be 3-63 lowercase letters, digits and single hyphens, "
                                                 "starting and ending with a letter or digit"),
    (t.ComputeName, "cpu-cluster", "cpu-cluster-2", "must be letters, digits and hyphens, starting with a letter, "
                                                    "with a letter somewhere after the last hyphen (so not ending in -2)"),
    (t.MlRegistryName, "mlr_contoso", "x", "must be 3-33 letters, digits, '-' or '_', starting with a letter or "
                                           "digit (AML registry names; unique across Azure)"),
    (t.ResourceGroupName, "rg-net(1)", "rg.", "must be a resource group name: 1-90 letters, digits, -_.() and not "
                                              "end in '.'"),
])
def test_names_follow_their_rule(tp, good, bad, message):
    assert TypeAdapter(tp).validate_python(good) == good
    assert error(tp, bad) == message


def test_vm_sizes_come_back_canonical_and_retired_series_are_refused():
    assert TypeAdapter(t.VmSize).validate_python("standard_d4ds_v5") == "Standard_D4ds_v5"
    assert "retired" in error(t.VmSize, "Standard_NC6s_v3")


def test_resource_ids_match_their_provider_path_only():
    zone = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-dns/providers/Microsoft.Network/" \
           "privateDnsZones/privatelink.blob.core.windows.net"
    m = t.PRIVATE_DNS_ZONE_ID.match(zone)
    assert m and m.group("zone") == "privatelink.blob.core.windows.net"
    assert not t.PRIVATE_DNS_ZONE_ID.match(zone.replace("privateDnsZones", "dnsZones"))
