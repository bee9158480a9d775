"""Regions with availability zones: where a zone-redundant resource can be asked for at all.

Source: Microsoft Learn, "Azure regions list", availability zone column (reliability/regions-list,
ms.date 2025-09-23; https://learn.microsoft.com/azure/reliability/regions-list). A region that gains
zones later is added here; asking for zones where a region has none is refused by ARM.
"""

from __future__ import annotations

ZONAL_REGIONS = frozenset(
    """
    australiaeast austriaeast belgiumcentral brazilsouth canadacentral centralindia centralus chilecentral
    eastasia eastus eastus2 francecentral germanywestcentral indonesiacentral israelcentral italynorth japaneast
    japanwest koreacentral malaysiawest mexicocentral newzealandnorth northeurope norwayeast polandcentral
    qatarcentral southafricanorth southcentralus southeastasia spaincentral swedencentral switzerlandnorth uaenorth
    uksouth westeurope westus2 westus3
    """.split()
)
# A zone-redundant resource lists every zone of its region.
ALL_ZONES = ["1", "2", "3"]


def zone_redundant(location: str) -> list[str] | None:
    """The zones a zone-redundant resource lists in `location`, or None where the region has no zones."""
    return list(ALL_ZONES) if location in ZONAL_REGIONS else None
