using PamtGen;
using PamtGen.Formats;

namespace NestedPaging;

/// <summary>An arm64 guest's stage 1: 4K granule, 48-bit VA, 4 levels (TCR_EL1.TG0 = 4K, T0SZ = 16).</summary>
[PageTableGeometry(PageShift = 12, Levels = 4, VirtualAddressBits = 48)]
[Arm64Stage1Granule4KEntryFormat]
public static partial class Arm64Guest;

/// <summary>
/// KVM's arm64 stage 2 for a 40-bit IPA space with the 4K granule: 3 levels starting at level 1 with 2 concatenated root
/// tables (VTCR_EL2.SL0 = 1, T0SZ = 24).
/// </summary>
[PageTableGeometry(PageShift = 12, Levels = 3, VirtualAddressBits = 40, RootTables = 2)]
[Arm64Stage2Granule4KEntryFormat]
public static partial class Arm64Stage2;

/// <summary>An x86-64 guest's 4-level page tables.</summary>
[PageTableGeometry(PageShift = 12, Levels = 4, VirtualAddressBits = 48)]
[X86_64EntryFormat]
public static partial class X86Guest;

/// <summary>AMD's nested page tables (NPT): the x86-64 4-level format with user-accessible tables (every nested access is a user access), translating guest-physical to host-physical addresses.</summary>
[PageTableGeometry(PageShift = 12, Levels = 4, VirtualAddressBits = 48)]
[X86_64NestedEntryFormat]
public static partial class X86Npt;
