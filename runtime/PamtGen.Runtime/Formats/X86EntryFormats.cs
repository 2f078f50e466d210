namespace PamtGen.Formats;

// Each ready-made format is an attribute class carrying the format's declaration: a geometry takes it by applying the
// attribute, the generator reads the declaration from the attribute class, and the runtime reads the same attributes
// by reflection (EntryFormat.Of). The bit layouts, with the manual sections they come from, are in docs/FORMATS.md.

/// <summary>
/// x86-64 4- and 5-level paging (Intel SDM vol. 3A, 4.5, tables 4-15 to 4-20): P at bit 0; PS (bit 7) makes a PDPTE a
/// 1 GiB leaf and a PDE a 2 MiB leaf, whose PAT moves to bit 12; bit 7 of a PTE is PAT; no leaf in a PML4E or PML5E.
/// </summary>
[EntryFormat(Name = "x86-64", PhysicalAddressBits = 52, ValidMask = 0x1, TableAddressLow = 12, TableAddressHigh = 51, TableBits = 0x63, PageBits = 0x163, Permissions = PermissionModel.X86)]
[EntryLeaf(PageTableLevel.Pte, AddressLow = 12, AddressHigh = 51)]
[EntryLeaf(PageTableLevel.Pmd, LeafMask = 0x80, AddressLow = 21, AddressHigh = 51)]
[EntryLeaf(PageTableLevel.Pud, LeafMask = 0x80, AddressLow = 30, AddressHigh = 51)]
[EntryField("Writable", 1)]
[EntryField("User", 2)]
[EntryField("WriteThrough", 3)]
[EntryField("CacheDisable", 4)]
[EntryField("Accessed", 5, HardwareUpdated = true)]
[EntryField("Dirty", 6, Kinds = EntryKinds.Leaf, HardwareUpdated = true)]
[EntryField("Pat", 7, Levels = EntryLevels.Pte)]
[EntryField("Pat", 12, Levels = EntryLevels.Pmd | EntryLevels.Pud, Kinds = EntryKinds.Leaf)]
[EntryField("Global", 8, Kinds = EntryKinds.Leaf)]
[EntryField("Software", 9, 11)]
[EntryField("NoExecute", 63)]
// The kernel's pXd_leaf()/pXd_present()/pXd_bad() of arch/x86/include/asm/pgtable.h (v6.12), over the flags outside the
// PFN field [51:12]: pmd_leaf() is PSE alone, present or not; pmd_present() P, PROT_NONE (bit 8) or PSE; pmd_bad() any
// flag but U and A differing from _KERNPG_TABLE's P, R/W and D; pud_leaf() P and PSE; pud_bad() a flag beyond
// _KERNPG_TABLE and U; p4d_bad() the same with NX ignored, and pgd_bad() flags other than _KERNPG_TABLE's beside U and
// NX (CONFIG_MITIGATION_PAGE_TABLE_ISOLATION, as distribution kernels build); no p4d_leaf() or pgd_leaf().
[EntryKernelChecks(PageTableLevel.Pmd, LeafMasks = [0x80], PresentMasks = [0x1, 0x100, 0x80], TableMask = 0xfff0_0000_0000_0fdb, TableValue = 0x43)]
[EntryKernelChecks(PageTableLevel.Pud, LeafMasks = [0x81], PresentMasks = [0x1], TableMask = 0xfff0_0000_0000_0f98, TableValue = 0)]
[EntryKernelChecks(PageTableLevel.P4d, PresentMasks = [0x1], TableMask = 0x7ff0_0000_0000_0f98, TableValue = 0)]
[EntryKernelChecks(PageTableLevel.Pgd, PresentMasks = [0x1], TableMask = 0x7ff0_0000_0000_0ffb, TableValue = 0x63)]
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class X86_64EntryFormatAttribute : Attribute;

/// <summary>
/// AMD nested page tables (APM vol. 2, 15.25.5 "Nested Table Walk"): the x86-64 4- or 5-level format translating
/// guest-physical to host-physical addresses, where every nested access is a user access, so each entry on the way needs
/// U/S = 1 (and R/W = 1 where writes must pass). Tables are installed as `_PAGE_TABLE` (0x67: P, R/W, U/S, A, D), the
/// bits KVM's `make_nonleaf_spte()` gives an NPT table beside D; pages the model maps for itself as P, R/W, U/S, A, D.
/// </summary>
[EntryFormat(Name = "x86-64 nested (AMD NPT)", PhysicalAddressBits = 52, ValidMask = 0x1, TableAddressLow = 12, TableAddressHigh = 51, TableBits = 0x67, PageBits = 0x67, Permissions = PermissionModel.X86)]
[EntryLeaf(PageTableLevel.Pte, AddressLow = 12, AddressHigh = 51)]
[EntryLeaf(PageTableLevel.Pmd, LeafMask = 0x80, AddressLow = 21, AddressHigh = 51)]
[EntryLeaf(PageTableLevel.Pud, LeafMask = 0x80, AddressLow = 30, AddressHigh = 51)]
[EntryField("Writable", 1)]
[EntryField("User", 2)]
[EntryField("WriteThrough", 3)]
[EntryField("CacheDisable", 4)]
[EntryField("Accessed", 5, HardwareUpdated = true)]
[EntryField("Dirty", 6, Kinds = EntryKinds.Leaf, HardwareUpdated = true)]
[EntryField("Pat", 7, Levels = EntryLevels.Pte)]
[EntryField("Pat", 12, Levels = EntryLevels.Pmd | EntryLevels.Pud, Kinds = EntryKinds.Leaf)]
[EntryField("Global", 8, Kinds = EntryKinds.Leaf)]
[EntryField("Software", 9, 11)]
[EntryField("NoExecute", 63)]
// The same kernel checks as x86-64's (U is outside every one of them), so the generic walkers read KVM-built nested tables as tables.
[EntryKernelChecks(PageTableLevel.Pmd, LeafMasks = [0x80], PresentMasks = [0x1, 0x100, 0x80], TableMask = 0xfff0_0000_0000_0fdb, TableValue = 0x43)]
[EntryKernelChecks(PageTableLevel.Pud, LeafMasks = [0x81], PresentMasks = [0x1], TableMask = 0xfff0_0000_0000_0f98, TableValue = 0)]
[EntryKernelChecks(PageTableLevel.P4d, PresentMasks = [0x1], TableMask = 0x7ff0_0000_0000_0f98, TableValue = 0)]
[EntryKernelChecks(PageTableLevel.Pgd, PresentMasks = [0x1], TableMask = 0x7ff0_0000_0000_0ffb, TableValue = 0x63)]
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class X86_64NestedEntryFormatAttribute : Attribute;

/// <summary>
/// x86 32-bit paging without PAE (Intel SDM vol. 3A, 4.3, tables 4-4 to 4-6): 4-byte entries, a PDE with PS (CR4.PSE)
/// maps 4 MiB at [31:22] with PAT at bit 12; PSE-36's address bits [20:13] are left out (32 physical-address bits).
/// </summary>
[EntryFormat(Name = "x86 32-bit", PhysicalAddressBits = 32, ValidMask = 0x1, TableAddressLow = 12, TableAddressHigh = 31, TableBits = 0x63, PageBits = 0x163, Permissions = PermissionModel.X86)]
[EntryLeaf(PageTableLevel.Pte, AddressLow = 12, AddressHigh = 31)]
[EntryLeaf(PageTableLevel.Pmd, LeafMask = 0x80, AddressLow = 22, AddressHigh = 31)]
[EntryField("Writable", 1)]
[EntryField("User", 2)]
[EntryField("WriteThrough", 3)]
[EntryField("CacheDisable", 4)]
[EntryField("Accessed", 5, HardwareUpdated = true)]
[EntryField("Dirty", 6, Kinds = EntryKinds.Leaf, HardwareUpdated = true)]
[EntryField("Pat", 7, Levels = EntryLevels.Pte)]
[EntryField("Pat", 12, Levels = EntryLevels.Pmd, Kinds = EntryKinds.Leaf)]
[EntryField("Global", 8, Kinds = EntryKinds.Leaf)]
[EntryField("Software", 9, 11)]
// pmd_leaf(), pmd_present() and pmd_bad() of arch/x86/include/asm/pgtable.h (v6.12) over the 32-bit entry's flags [11:0];
// on 2 levels they read the page directory's entries.
[EntryKernelChecks(PageTableLevel.Pmd, LeafMasks = [0x80], PresentMasks = [0x1, 0x100, 0x80], TableMask = 0xfdb, TableValue = 0x43)]
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class X86NonPaeEntryFormatAttribute : Attribute;

/// <summary>
/// Intel EPT, 4 or 5 levels (SDM vol. 3C, 29.3.2, tables 29-1 to 29-6): an entry is present when any of R, W, X (bits
/// 2:0) is set; bit 7 makes a PDPTE a 1 GiB and a PDE a 2 MiB page; memory type (5:3) and ignore-PAT (6) in pages only,
/// accessed (8) everywhere and dirty (9) in pages, used when EPTP bit 6 enables them; user-execute (10) with MBEC. W
/// without R and the memory types 2, 3 and 7 are misconfigurations, as are bits 6:3 of a table entry. Tables are installed
/// as KVM's <c>make_nonleaf_spte()</c> makes them (R, W, X, A) with user-execute for MBEC; pages the model maps for itself
/// R, W, X, write-back, A, D and user-execute.
/// </summary>
[EntryFormat(Name = "Intel EPT", PhysicalAddressBits = 52, ValidIfAnySet = 0x7, TableAddressLow = 12, TableAddressHigh = 51, TableBits = 0x507, PageBits = 0x737,
    Permissions = PermissionModel.IntelEpt, TableReservedBits = 0x78, ReservedEncodingMasks = [0x3, 0x30, 0x38], ReservedEncodingValues = [0x2, 0x10, 0x38])]
[EntryLeaf(PageTableLevel.Pte, AddressLow = 12, AddressHigh = 51)]
[EntryLeaf(PageTableLevel.Pmd, LeafMask = 0x80, AddressLow = 21, AddressHigh = 51)]
[EntryLeaf(PageTableLevel.Pud, LeafMask = 0x80, AddressLow = 30, AddressHigh = 51)]
[EntryField("Read", 0)]
[EntryField("Write", 1)]
[EntryField("Execute", 2)]
[EntryField("MemoryType", 3, 5, Kinds = EntryKinds.Leaf)]
[EntryField("IgnorePat", 6, Kinds = EntryKinds.Leaf)]
[EntryField("Accessed", 8, HardwareUpdated = true)]
[EntryField("Dirty", 9, Kinds = EntryKinds.Leaf, HardwareUpdated = true)]
[EntryField("UserExecute", 10)]
[EntryField("Software", 11)]
[EntryField("VerifyGuestPaging", 57, Kinds = EntryKinds.Leaf)]
[EntryField("PagingWrite", 58, Kinds = EntryKinds.Leaf)]
[EntryField("SupervisorShadowStack", 60, Kinds = EntryKinds.Leaf)]
[EntryField("SuppressVe", 63, Kinds = EntryKinds.Leaf)]
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class IntelEptEntryFormatAttribute : Attribute;
