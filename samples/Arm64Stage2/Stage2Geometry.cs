using PamtGen;
using PamtGen.Formats;

namespace Arm64Stage2;

/// <summary>
/// An arm64 stage-2 (IPA to PA) table with the 64 KiB granule and a 48-bit IPA space: 3 levels, a 64-entry
/// top table, 512 MiB per level-2 (pmd) entry, as KVM sets up with VTCR_EL2.TG0 = 64K and T0SZ = 16. Its entries are
/// real stage-2 descriptors (bits[1:0] 11 for tables and pages, MemAttr, S2AP, SH, AF), read and built through the
/// generated <c>Stage2.Entry</c>.
/// </summary>
[PageTableGeometry(PageShift = 16, PmdShift = 29, PtrsPerPte = 8192, Levels = 3, VirtualAddressBits = 48)]
[Arm64Stage2Granule64KEntryFormat]
public static partial class Stage2;
