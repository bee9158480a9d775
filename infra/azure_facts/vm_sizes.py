"""Azure VM sizes the platform can ask Azure ML (and AKS) for, and the grammar of their names.

Names follow "Azure virtual machine sizes naming conventions"
(https://learn.microsoft.com/azure/virtual-machines/vm-naming-conventions):

    [Family] + [Sub-family]* + [# of vCPUs] + [Constrained vCPUs]* + [Additive Features]
    + [Accelerator Type]* + [Version]

e.g. Standard_NC24ads_A100_v4 is family N, sub-family C, 24 vCPUs, features a (AMD), d (local
temp disk), s (premium storage), accelerator A100, version 4. The N family is the accelerated one;
its GPU sub-families are C, D, V and G (NP is FPGA, NM a media accelerator).

A name that parses is not yet a size that exists (there is no Standard_D3ds_v5), so every size the
platform accepts is listed in SERIES below, per series, with whether it has a local temp disk
(ephemeral OS disks need one) and, for series Azure retires, the retirement date: a retired
series can no longer be created ("Retired Azure VM size series",
https://learn.microsoft.com/azure/virtual-machines/sizes/retirement/retired-sizes-list; Azure ML's
own list: https://learn.microsoft.com/azure/machine-learning/concept-compute-target#supported-vm-series-and-sizes).

Table as of 2026-11-30. To add a series: take its size names from its Microsoft Learn page
(https://learn.microsoft.com/azure/virtual-machines/sizes/overview), or from
`az ml compute list-sizes` / `az vm list-skus --resource-type virtualMachines` in the target
region, and add one entry with the page as its source.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

_DOCS = "https://learn.microsoft.com/azure/virtual-machines/sizes/"
_RETIRED = _DOCS + "retirement/retired-sizes-list"
_AML_RETIRED = "https://learn.microsoft.com/azure/machine-learning/concept-compute-target#supported-vm-series-and-sizes"

# The naming convention as a pattern: family and sub-family (capitals), vCPUs, constrained vCPUs,
# additive features (lower case), accelerator, version; old series carry _Promo.
GRAMMAR = re.compile(
    r"^Standard_(?P<family>[A-Z])(?P<subfamily>[A-Z]{0,2})(?P<vcpus>\d+)(?:-(?P<constrained>\d+))?"
    r"(?P<features>[a-z]*)(?:_(?P<accelerator>[A-Z][A-Za-z0-9]*?))?(?:_v(?P<version>\d+))?(?:_Promo)?$"
)
GPU_SUBFAMILIES = ("C", "CC", "D", "V", "G")


@dataclass(frozen=True)
class Series:
    name: str
    gpu: bool
    sizes: tuple[str, ...]  # without the Standard_ prefix
    local_disk: bool
    source: str
    retired: datetime.date | None = None


def _sizes(template: str, numbers: str) -> tuple[str, ...]:
    return tuple(template.format(n) for n in numbers.split())


def _series(name: str, template: str, numbers: str, page: str, *, gpu: bool = False, disk: bool = True,
            retired: str | None = None, extra: tuple[str, ...] = ()) -> Series:
    when = datetime.date.fromisoformat(retired) if retired else None
    return Series(name, gpu, _sizes(template, numbers) + extra, disk, page if page.startswith("https:") else _DOCS + page, when)


_V5 = "2 4 8 16 32 48 64 96"
_E_V5 = "2 4 8 16 20 32 48 64 96"

SERIES: tuple[Series, ...] = (
    # General purpose. Dv2/DSv2 retire 2028-05-01 (announced 2025-03-31).
    _series("Dv2", "D{}_v2", "1 2 3 4 5 11 12 13 14 15", "general-purpose/dv2-series", retired="2028-05-01"),
    _series("DSv2", "DS{}_v2", "1 2 3 4 5 11 12 13 14 15", "general-purpose/dsv2-series", retired="2028-05-01",
            extra=("DS11-1_v2", "DS12-1_v2", "DS12-2_v2", "DS13-2_v2", "DS13-4_v2", "DS14-4_v2", "DS14-8_v2")),
    _series("Dv3", "D{}_v3", "2 4 8 16 32 48 64", "general-purpose/dv3-series"),
    _series("Dsv3", "D{}s_v3", "2 4 8 16 32 48 64", "general-purpose/dsv3-series"),
    _series("Dv4", "D{}_v4", "2 4 8 16 32 48 64", "general-purpose/dv4-series", disk=False),
    _series("Dsv4", "D{}s_v4", "2 4 8 16 32 48 64", "general-purpose/dsv4-series", disk=False),
    _series("Ddv4", "D{}d_v4", "2 4 8 16 32 48 64", "general-purpose/ddv4-series"),
    _series("Ddsv4", "D{}ds_v4", "2 4 8 16 32 48 64", "general-purpose/ddsv4-series"),
    _series("Dav4", "D{}a_v4", _V5, "general-purpose/dav4-series"),
    _series("Dasv4", "D{}as_v4", _V5, "general-purpose/dasv4-series"),
    _series("Dv5", "D{}_v5", _V5, "general-purpose/dv5-series", disk=False),
    _series("Dsv5", "D{}s_v5", _V5, "general-purpose/dsv5-series", disk=False),
    _series("Ddv5", "D{}d_v5", _V5, "general-purpose/ddv5-series"),
    _series("Ddsv5", "D{}ds_v5", _V5, "general-purpose/ddsv5-series"),
    _series("Dasv5", "D{}as_v5", _V5, "general-purpose/dasv5-series", disk=False),
    _series("Dadsv5", "D{}ads_v5", _V5, "general-purpose/dadsv5-series"),
    _series("Dlsv5", "D{}ls_v5", _V5, "general-purpose/dlsv5-series", disk=False),
    _series("Dldsv5", "D{}lds_v5", _V5, "general-purpose/dldsv5-series"),
    # Memory optimised.
    _series("Ev3", "E{}_v3", "2 4 8 16 20 32 48 64", "memory-optimized/ev3-series"),
    _series("Esv3", "E{}s_v3", "2 4 8 16 20 32 48 64", "memory-optimized/esv3-series"),
    _series("Eav4", "E{}a_v4", _E_V5, "memory-optimized/eav4-series"),
    _series("Easv4", "E{}as_v4", _E_V5, "memory-optimized/easv4-series"),
    _series("Ev4", "E{}_v4", "2 4 8 16 20 32 48 64", "memory-optimized/ev4-series", disk=False),
    _series("Esv4", "E{}s_v4", "2 4 8 16 20 32 48 64", "memory-optimized/esv4-series", disk=False),
    _series("Edv4", "E{}d_v4", "2 4 8 16 20 32 48 64", "memory-optimized/edv4-series"),
    _series("Edsv4", "E{}ds_v4", "2 4 8 16 20 32 48 64", "memory-optimized/edsv4-series"),
    _series("Ev5", "E{}_v5", _E_V5, "memory-optimized/ev5-series", disk=False),
    _series("Esv5", "E{}s_v5", _E_V5, "memory-optimized/esv5-series", disk=False),
    _series("Edv5", "E{}d_v5", _E_V5, "memory-optimized/edv5-series"),
    _series("Edsv5", "E{}ds_v5", _E_V5, "memory-optimized/edsv5-series"),
    _series("Easv5", "E{}as_v5", _E_V5, "memory-optimized/easv5-series", disk=False),
    _series("Eadsv5", "E{}ads_v5", _E_V5, "memory-optimized/eadsv5-series"),
    # Compute optimised. Fsv2 retires 2028-11-15 (announced 2025-10-15).
    _series("Fsv2", "F{}s_v2", "2 4 8 16 32 48 64 72", "compute-optimized/fsv2-series", retired="2028-11-15"),
    # GPU. NCv3 retired 2025-09-30 (https://learn.microsoft.com/azure/virtual-machines/ncv3-retirement);
    # NC, NCv2, ND and NV (v1) on 2023-08-31 (Azure ML's "retiring VMs" note in concept-compute-target);
    # NVv3 and NVv4 on 2026-09-30 (retired-sizes-list).
    _series("NCasT4_v3", "NC{}as_T4_v3", "4 8 16 64", "gpu-accelerated/ncast4v3-series", gpu=True),
    _series("NC_A100_v4", "NC{}ads_A100_v4", "24 48 96", "gpu-accelerated/nca100v4-series", gpu=True),
    _series("NCads_H100_v5", "NC{}ads_H100_v5", "40", "gpu-accelerated/ncadsh100v5-series", gpu=True,
            extra=("NC80adis_H100_v5",)),
    _series("NDasrA100_v4", "ND{}asr_v4", "96", "gpu-accelerated/ndasra100v4-series", gpu=True),
    _series("NDamsrA100_v4", "ND{}amsr_A100_v4", "96", "gpu-accelerated/ndma100v4-series", gpu=True),
    _series("ND_H100_v5", "ND{}isr_H100_v5", "96", "gpu-accelerated/ndh100v5-series", gpu=True),
    _series("ND_H200_v5", "ND{}isr_H200_v5", "96", "gpu-accelerated/nd-h200-v5-series", gpu=True),
    _series("NDv2", "ND{}rs_v2", "40", "gpu-accelerated/ndv2-series", gpu=True),
    _series("NVadsA10_v5", "NV{}ads_A10_v5", "6 12 18 36 72", "gpu-accelerated/nvadsa10v5-series", gpu=True,
            extra=("NV36adms_A10_v5",)),
    _series("NCv3", "NC{}s_v3", "6 12 24", "gpu-accelerated/ncv3-series", gpu=True, retired="2025-09-30",
            extra=("NC24rs_v3",)),
    _series("NCv2", "NC{}s_v2", "6 12 24", _AML_RETIRED, gpu=True, retired="2023-08-31",
            extra=("NC24rs_v2",)),
    _series("NC", "NC{}", "6 12 24", _AML_RETIRED, gpu=True, retired="2023-08-31",
            extra=("NC24r", "NC6_Promo", "NC12_Promo", "NC24_Promo", "NC24r_Promo")),
    _series("ND", "ND{}s", "6 12 24", _AML_RETIRED, gpu=True, retired="2023-08-31",
            extra=("ND24rs",)),
    _series("NV", "NV{}", "6 12 24", _AML_RETIRED, gpu=True, retired="2023-08-31",
            extra=("NV6_Promo", "NV12_Promo", "NV24_Promo")),
    _series("NVv3", "NV{}s_v3", "12 24 48", "gpu-accelerated/nvv3-series", gpu=True, retired="2026-09-30"),
    _series("NVv4", "NV{}as_v4", "4 8 16 32", "gpu-accelerated/nvv4-series", gpu=True, retired="2026-09-30"),
    # High performance compute. HB (v1) and Av1 retired 2024-08-31 (Azure ML's note); HBv2 and HC
    # retire 2027-05-31 (retirement/hbv2-series-retirement, retirement/hc-series-retirement).
    _series("HBv3", "HB{}rs_v3", "120", "high-performance-compute/hbv3-series",
            extra=("HB120-16rs_v3", "HB120-32rs_v3", "HB120-64rs_v3", "HB120-96rs_v3")),
    _series("HBv2", "HB{}rs_v2", "120", "retirement/hbv2-series-retirement", retired="2027-05-31"),
    _series("HC", "HC{}rs", "44", "retirement/hc-series-retirement", retired="2027-05-31",
            extra=("HC44-16rs", "HC44-32rs")),
    _series("HB", "HB{}rs", "60", _AML_RETIRED, retired="2024-08-31"),
    _series("Av1", "A{}", "0 1 2 3 4 5 6 7", _AML_RETIRED, retired="2024-08-31"),
)

_BY_SIZE: dict[str, Series] = {f"standard_{size}".lower(): s for s in SERIES for size in s.sizes}


@dataclass(frozen=True)
class Size:
    name: str  # as Azure spells it
    series: Series

    @property
    def gpu(self) -> bool:
        return self.series.gpu

    @property
    def local_disk(self) -> bool:
        return self.series.local_disk


class SizeError(ValueError):
    """A size name that is malformed, unknown or retired; the message says which, in plain words."""


def parse(value: str, today: datetime.date | None = None) -> Size:
    """The size `value` names, spelled as Azure spells it; SizeError when it cannot be created."""
    series = _BY_SIZE.get(value.lower())
    if series is None:
        if not GRAMMAR.match(value):
            raise SizeError("is not an Azure VM size name: Standard_<family><vCPUs><features>[_<accelerator>]"
                            "[_v<version>], such as Standard_D4ds_v5 or Standard_NC24ads_A100_v4")
        raise SizeError("is not a size in this platform's table of Azure ML VM sizes (infra/azure_facts/vm_sizes.py, "
                        "as of 2026-11-30); check the name against " + _DOCS + "overview, or add its series")
    canonical = next(f"Standard_{s}" for s in series.sizes if f"standard_{s}".lower() == value.lower())
    when = today or datetime.date.today()
    if series.retired and series.retired <= when:
        raise SizeError(f"is in the {series.name} series, retired on {series.retired.isoformat()}: Azure no "
                        f"longer creates it ({_RETIRED}); pick a current series")
    return Size(canonical, series)


def is_gpu_name(value: str) -> bool:
    """Whether a size name is in a GPU sub-family of the N family, by the naming convention alone."""
    m = GRAMMAR.match(value)
    return m is not None and m.group("family") == "N" and m.group("subfamily") in GPU_SUBFAMILIES
