namespace PamtGen.Generator.Probe;

// docs/KERNEL.md section 4 (x86 32-bit non-PAE included); every one with the TDX refcount table.

/// <summary>x86-64, 4-level paging.</summary>
[PageTableGeometry(PageShift = 12, PmdShift = 21, PtrsPerPte = 512, Levels = 4, VirtualAddressBits = 48)]
[RefcountTable(ElementSize = 4)]
public static partial class X86_64FourLevel;

/// <summary>x86-64, 5-level paging (LA57).</summary>
[PageTableGeometry(PageShift = 12, PmdShift = 21, PtrsPerPte = 512, Levels = 5, VirtualAddressBits = 57)]
[RefcountTable(ElementSize = 4)]
public static partial class X86_64FiveLevel;

/// <summary>arm64, 4K granule, 48-bit VA.</summary>
[PageTableGeometry(PageShift = 12, PmdShift = 21, PtrsPerPte = 512, Levels = 4, VirtualAddressBits = 48)]
[RefcountTable(ElementSize = 4)]
public static partial class Arm64Granule4K;

/// <summary>arm64, 16K granule, 48-bit VA.</summary>
[PageTableGeometry(PageShift = 14, PmdShift = 25, PtrsPerPte = 2048, Levels = 4, VirtualAddressBits = 48)]
[RefcountTable(ElementSize = 4)]
public static partial class Arm64Granule16K;

/// <summary>arm64, 64K granule, 48-bit VA.</summary>
[PageTableGeometry(PageShift = 16, PmdShift = 29, PtrsPerPte = 8192, Levels = 3, VirtualAddressBits = 48)]
[RefcountTable(ElementSize = 4)]
public static partial class Arm64Granule64K;

/// <summary>arm64, 64K granule, 52-bit VA.</summary>
[PageTableGeometry(PageShift = 16, PmdShift = 29, PtrsPerPte = 8192, Levels = 3, VirtualAddressBits = 52)]
[RefcountTable(ElementSize = 4)]
public static partial class Arm64Granule64K52Bit;

/// <summary>x86 32-bit without PAE: 2 levels of 4-byte entries.</summary>
[PageTableGeometry(PageShift = 12, PmdShift = 22, PtrsPerPte = 1024, Levels = 2, VirtualAddressBits = 32, EntrySize = 4)]
[RefcountTable(ElementSize = 4)]
public static partial class X86NonPae;
