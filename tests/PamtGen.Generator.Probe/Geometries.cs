using PamtGen.Formats;

namespace PamtGen.Generator.Probe;

// docs/KERNEL.md section 4 (x86 32-bit non-PAE included) with the entry formats of docs/FORMATS.md; every one with the
// TDX refcount table.

/// <summary>x86-64, 4-level paging.</summary>
[PageTableGeometry(PageShift = 12, PmdShift = 21, PtrsPerPte = 512, Levels = 4, VirtualAddressBits = 48)]
[X86_64EntryFormat]
[RefcountTable(ElementSize = 4)]
public static partial class X86_64FourLevel;

/// <summary>x86-64, 5-level paging (LA57).</summary>
[PageTableGeometry(PageShift = 12, PmdShift = 21, PtrsPerPte = 512, Levels = 5, VirtualAddressBits = 57)]
[X86_64EntryFormat]
[RefcountTable(ElementSize = 4)]
public static partial class X86_64FiveLevel;

/// <summary>arm64 stage 1, 4K granule, 48-bit VA.</summary>
[PageTableGeometry(PageShift = 12, PmdShift = 21, PtrsPerPte = 512, Levels = 4, VirtualAddressBits = 48)]
[Arm64Stage1Granule4KEntryFormat]
[RefcountTable(ElementSize = 4)]
public static partial class Arm64Granule4K;

/// <summary>arm64 stage 1, 16K granule, 48-bit VA.</summary>
[PageTableGeometry(PageShift = 14, PmdShift = 25, PtrsPerPte = 2048, Levels = 4, VirtualAddressBits = 48)]
[Arm64Stage1Granule16KEntryFormat]
[RefcountTable(ElementSize = 4)]
public static partial class Arm64Granule16K;

/// <summary>arm64 stage 1, 64K granule, 48-bit VA.</summary>
[PageTableGeometry(PageShift = 16, PmdShift = 29, PtrsPerPte = 8192, Levels = 3, VirtualAddressBits = 48)]
[Arm64Stage1Granule64KEntryFormat]
[RefcountTable(ElementSize = 4)]
public static partial class Arm64Granule64K;

/// <summary>arm64, 64K granule, 52-bit VA: the shape only, with the default (x86) entries; 52-bit arm64 output addresses are not shipped.</summary>
[PageTableGeometry(PageShift = 16, PmdShift = 29, PtrsPerPte = 8192, Levels = 3, VirtualAddressBits = 52)]
[RefcountTable(ElementSize = 4)]
public static partial class Arm64Granule64K52Bit;

/// <summary>x86 32-bit without PAE: 2 levels of 4-byte entries.</summary>
[PageTableGeometry(PageShift = 12, PmdShift = 22, PtrsPerPte = 1024, Levels = 2, VirtualAddressBits = 32, EntrySize = 4)]
[X86NonPaeEntryFormat]
[RefcountTable(ElementSize = 4)]
public static partial class X86NonPae;

/// <summary>arm64 stage 2, 4K granule, 40-bit IPA: starts at level 1 with 2 concatenated root tables (1024 entries, 8 KiB).</summary>
[PageTableGeometry(PageShift = 12, Levels = 3, VirtualAddressBits = 40, RootTables = 2)]
[Arm64Stage2Granule4KEntryFormat]
[RefcountTable(ElementSize = 4)]
public static partial class Arm64Stage2Ipa40;

/// <summary>RISC-V Sv39: 3 levels, 39-bit VA.</summary>
[PageTableGeometry(PageShift = 12, Levels = 3, VirtualAddressBits = 39)]
[RiscVSv39EntryFormat]
[RefcountTable(ElementSize = 4)]
public static partial class RiscVSv39;

/// <summary>RISC-V Sv48: 4 levels, 48-bit VA.</summary>
[PageTableGeometry(PageShift = 12, Levels = 4, VirtualAddressBits = 48)]
[RiscVSv48EntryFormat]
[RefcountTable(ElementSize = 4)]
public static partial class RiscVSv48;

/// <summary>RISC-V Sv57: 5 levels, 57-bit VA.</summary>
[PageTableGeometry(PageShift = 12, Levels = 5, VirtualAddressBits = 57)]
[RiscVSv57EntryFormat]
[RefcountTable(ElementSize = 4)]
public static partial class RiscVSv57;

/// <summary>RISC-V Sv39x4, the G-stage of the hypervisor extension: 41-bit guest-physical addresses, a 16 KiB root of 4 concatenated tables.</summary>
[PageTableGeometry(PageShift = 12, Levels = 3, VirtualAddressBits = 41, RootTables = 4)]
[RiscVSv39EntryFormat]
[RefcountTable(ElementSize = 4)]
public static partial class RiscVSv39x4;

/// <summary>AMD nested page tables, 4 levels: the x86-64 format with user-accessible tables.</summary>
[PageTableGeometry(PageShift = 12, PmdShift = 21, PtrsPerPte = 512, Levels = 4, VirtualAddressBits = 48)]
[X86_64NestedEntryFormat]
[RefcountTable(ElementSize = 4)]
public static partial class AmdNpt;

/// <summary>Intel EPT, a 4-level walk: present when R, W or X is set, misconfigurations apart from violations.</summary>
[PageTableGeometry(PageShift = 12, PmdShift = 21, PtrsPerPte = 512, Levels = 4, VirtualAddressBits = 48)]
[IntelEptEntryFormat]
[RefcountTable(ElementSize = 4)]
public static partial class IntelEpt;
