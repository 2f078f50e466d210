namespace PamtGen.Formats;

/// <summary>
/// arm64 stage 1 (VMSAv8-64, Arm ARM D8.3, 48-bit output addresses), 4K granule: bits[1:0] 01 is a block at Pmd (level 2), Pud (level 1), 11 a table above level 3 and a page at it; 01 where no block is allowed, and x0, are invalid.
/// Table descriptors carry the hierarchical limits PXNTable, UXNTable, APTable and NSTable.
/// </summary>
[EntryFormat(Name = "arm64 stage 1, 4K granule", PhysicalAddressBits = 48, ValidMask = 0x3, ValidValue = 0x3, TableAddressLow = 12, TableAddressHigh = 47, TableBits = 0x3, BreakBeforeMake = true, PageBits = 0x0060_0000_0000_0700, Permissions = PermissionModel.Arm64Stage1)]
[EntryLeaf(PageTableLevel.Pte, AddressLow = 12, AddressHigh = 47)]
[EntryLeaf(PageTableLevel.Pmd, ValidMask = 0x1, ValidValue = 0x1, LeafMask = 0x3, LeafValue = 0x1, AddressLow = 21, AddressHigh = 47)]
[EntryLeaf(PageTableLevel.Pud, ValidMask = 0x1, ValidValue = 0x1, LeafMask = 0x3, LeafValue = 0x1, AddressLow = 30, AddressHigh = 47)]
[EntryField("AttrIndx", 2, 4, Kinds = EntryKinds.Leaf, BreakBeforeMake = BreakBeforeMakeRule.OnChange)]
[EntryField("NonSecure", 5, Kinds = EntryKinds.Leaf)]
[EntryField("AccessPermissions", 6, 7, Kinds = EntryKinds.Leaf)]
[EntryField("Shareability", 8, 9, Kinds = EntryKinds.Leaf, BreakBeforeMake = BreakBeforeMakeRule.OnChange)]
[EntryField("AccessFlag", 10, Kinds = EntryKinds.Leaf, HardwareUpdated = true)]
[EntryField("NotGlobal", 11, Kinds = EntryKinds.Leaf, BreakBeforeMake = BreakBeforeMakeRule.OnSet)]
[EntryField("DirtyBitModifier", 51, Kinds = EntryKinds.Leaf)]
[EntryField("Contiguous", 52, Kinds = EntryKinds.Leaf, BreakBeforeMake = BreakBeforeMakeRule.OnChange)] // a change of block size: docs/FORMATS.md, "The Contiguous bit"
[EntryField("PrivilegedExecuteNever", 53, Kinds = EntryKinds.Leaf)]
[EntryField("UnprivilegedExecuteNever", 54, Kinds = EntryKinds.Leaf)]
[EntryField("Software", 55, 58)]
[EntryField("PxnTable", 59, Kinds = EntryKinds.Table)]
[EntryField("UxnTable", 60, Kinds = EntryKinds.Table)]
[EntryField("ApTable", 61, 62, Kinds = EntryKinds.Table)]
[EntryField("NsTable", 63, Kinds = EntryKinds.Table)]
// The kernel's checks of arch/arm64/include/asm/pgtable.h (v6.12): pmd_leaf() and pud_leaf() are "present and not a
// table" (present: valid, or PTE_PRESENT_INVALID, bit 11, without valid), pmd_bad() and pud_bad() "not a table" (bits[1:0]
// not 11), p4d_bad() bit 1 clear; no p4d_leaf().
[EntryKernelChecks(PageTableLevel.Pmd, LeafMasks = [0x3, 0x803, 0x803], LeafValues = [0x1, 0x800, 0x802], PresentMasks = [0x1, 0x801], PresentValues = [0x1, 0x800], TableMask = 0x3, TableValue = 0x3)]
[EntryKernelChecks(PageTableLevel.Pud, LeafMasks = [0x3, 0x803, 0x803], LeafValues = [0x1, 0x800, 0x802], PresentMasks = [0x1, 0x801], PresentValues = [0x1, 0x800], TableMask = 0x3, TableValue = 0x3)]
[EntryKernelChecks(PageTableLevel.P4d, TableMask = 0x2, TableValue = 0x2)]
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class Arm64Stage1Granule4KEntryFormatAttribute : Attribute;

/// <summary>
/// arm64 stage 1 (VMSAv8-64, Arm ARM D8.3, 48-bit output addresses), 16K granule: bits[1:0] 01 is a block at Pmd (level 2), 11 a table above level 3 and a page at it; 01 where no block is allowed, and x0, are invalid.
/// Table descriptors carry the hierarchical limits PXNTable, UXNTable, APTable and NSTable.
/// </summary>
[EntryFormat(Name = "arm64 stage 1, 16K granule", PhysicalAddressBits = 48, ValidMask = 0x3, ValidValue = 0x3, TableAddressLow = 14, TableAddressHigh = 47, TableBits = 0x3, BreakBeforeMake = true, PageBits = 0x0060_0000_0000_0700, Permissions = PermissionModel.Arm64Stage1)]
[EntryLeaf(PageTableLevel.Pte, AddressLow = 14, AddressHigh = 47)]
[EntryLeaf(PageTableLevel.Pmd, ValidMask = 0x1, ValidValue = 0x1, LeafMask = 0x3, LeafValue = 0x1, AddressLow = 25, AddressHigh = 47)]
[EntryField("AttrIndx", 2, 4, Kinds = EntryKinds.Leaf, BreakBeforeMake = BreakBeforeMakeRule.OnChange)]
[EntryField("NonSecure", 5, Kinds = EntryKinds.Leaf)]
[EntryField("AccessPermissions", 6, 7, Kinds = EntryKinds.Leaf)]
[EntryField("Shareability", 8, 9, Kinds = EntryKinds.Leaf, BreakBeforeMake = BreakBeforeMakeRule.OnChange)]
[EntryField("AccessFlag", 10, Kinds = EntryKinds.Leaf, HardwareUpdated = true)]
[EntryField("NotGlobal", 11, Kinds = EntryKinds.Leaf, BreakBeforeMake = BreakBeforeMakeRule.OnSet)]
[EntryField("DirtyBitModifier", 51, Kinds = EntryKinds.Leaf)]
[EntryField("Contiguous", 52, Kinds = EntryKinds.Leaf, BreakBeforeMake = BreakBeforeMakeRule.OnChange)] // a change of block size: docs/FORMATS.md, "The Contiguous bit"
[EntryField("PrivilegedExecuteNever", 53, Kinds = EntryKinds.Leaf)]
[EntryField("UnprivilegedExecuteNever", 54, Kinds = EntryKinds.Leaf)]
[EntryField("Software", 55, 58)]
[EntryField("PxnTable", 59, Kinds = EntryKinds.Table)]
[EntryField("UxnTable", 60, Kinds = EntryKinds.Table)]
[EntryField("ApTable", 61, 62, Kinds = EntryKinds.Table)]
[EntryField("NsTable", 63, Kinds = EntryKinds.Table)]
// The kernel's checks of arch/arm64/include/asm/pgtable.h (v6.12): pmd_leaf() and pud_leaf() are "present and not a
// table" (present: valid, or PTE_PRESENT_INVALID, bit 11, without valid), pmd_bad() and pud_bad() "not a table" (bits[1:0]
// not 11), p4d_bad() bit 1 clear; no p4d_leaf().
[EntryKernelChecks(PageTableLevel.Pmd, LeafMasks = [0x3, 0x803, 0x803], LeafValues = [0x1, 0x800, 0x802], PresentMasks = [0x1, 0x801], PresentValues = [0x1, 0x800], TableMask = 0x3, TableValue = 0x3)]
[EntryKernelChecks(PageTableLevel.Pud, LeafMasks = [0x3, 0x803, 0x803], LeafValues = [0x1, 0x800, 0x802], PresentMasks = [0x1, 0x801], PresentValues = [0x1, 0x800], TableMask = 0x3, TableValue = 0x3)]
[EntryKernelChecks(PageTableLevel.P4d, TableMask = 0x2, TableValue = 0x2)]
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class Arm64Stage1Granule16KEntryFormatAttribute : Attribute;

/// <summary>
/// arm64 stage 1 (VMSAv8-64, Arm ARM D8.3, 48-bit output addresses), 64K granule: bits[1:0] 01 is a block at Pmd (level 2), 11 a table above level 3 and a page at it; 01 where no block is allowed, and x0, are invalid.
/// Table descriptors carry the hierarchical limits PXNTable, UXNTable, APTable and NSTable.
/// </summary>
[EntryFormat(Name = "arm64 stage 1, 64K granule", PhysicalAddressBits = 48, ValidMask = 0x3, ValidValue = 0x3, TableAddressLow = 16, TableAddressHigh = 47, TableBits = 0x3, BreakBeforeMake = true, PageBits = 0x0060_0000_0000_0700, Permissions = PermissionModel.Arm64Stage1)]
[EntryLeaf(PageTableLevel.Pte, AddressLow = 16, AddressHigh = 47)]
[EntryLeaf(PageTableLevel.Pmd, ValidMask = 0x1, ValidValue = 0x1, LeafMask = 0x3, LeafValue = 0x1, AddressLow = 29, AddressHigh = 47)]
[EntryField("AttrIndx", 2, 4, Kinds = EntryKinds.Leaf, BreakBeforeMake = BreakBeforeMakeRule.OnChange)]
[EntryField("NonSecure", 5, Kinds = EntryKinds.Leaf)]
[EntryField("AccessPermissions", 6, 7, Kinds = EntryKinds.Leaf)]
[EntryField("Shareability", 8, 9, Kinds = EntryKinds.Leaf, BreakBeforeMake = BreakBeforeMakeRule.OnChange)]
[EntryField("AccessFlag", 10, Kinds = EntryKinds.Leaf, HardwareUpdated = true)]
[EntryField("NotGlobal", 11, Kinds = EntryKinds.Leaf, BreakBeforeMake = BreakBeforeMakeRule.OnSet)]
[EntryField("DirtyBitModifier", 51, Kinds = EntryKinds.Leaf)]
[EntryField("Contiguous", 52, Kinds = EntryKinds.Leaf, BreakBeforeMake = BreakBeforeMakeRule.OnChange)] // a change of block size: docs/FORMATS.md, "The Contiguous bit"
[EntryField("PrivilegedExecuteNever", 53, Kinds = EntryKinds.Leaf)]
[EntryField("UnprivilegedExecuteNever", 54, Kinds = EntryKinds.Leaf)]
[EntryField("Software", 55, 58)]
[EntryField("PxnTable", 59, Kinds = EntryKinds.Table)]
[EntryField("UxnTable", 60, Kinds = EntryKinds.Table)]
[EntryField("ApTable", 61, 62, Kinds = EntryKinds.Table)]
[EntryField("NsTable", 63, Kinds = EntryKinds.Table)]
// The kernel's checks of arch/arm64/include/asm/pgtable.h (v6.12): pmd_leaf() and pud_leaf() are "present and not a
// table" (present: valid, or PTE_PRESENT_INVALID, bit 11, without valid), pmd_bad() and pud_bad() "not a table" (bits[1:0]
// not 11), p4d_bad() bit 1 clear; no p4d_leaf().
[EntryKernelChecks(PageTableLevel.Pmd, LeafMasks = [0x3, 0x803, 0x803], LeafValues = [0x1, 0x800, 0x802], PresentMasks = [0x1, 0x801], PresentValues = [0x1, 0x800], TableMask = 0x3, TableValue = 0x3)]
[EntryKernelChecks(PageTableLevel.Pud, LeafMasks = [0x3, 0x803, 0x803], LeafValues = [0x1, 0x800, 0x802], PresentMasks = [0x1, 0x801], PresentValues = [0x1, 0x800], TableMask = 0x3, TableValue = 0x3)]
[EntryKernelChecks(PageTableLevel.P4d, TableMask = 0x2, TableValue = 0x2)]
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class Arm64Stage1Granule64KEntryFormatAttribute : Attribute;

/// <summary>
/// arm64 stage 2 (VMSAv8-64, Arm ARM D8.3 and D8.6, 48-bit output addresses), 4K granule: bits[1:0] 01 is a block at Pmd (level 2), Pud (level 1), 11 a table above level 3 and a page at it; 01 where no block is allowed, and x0, are invalid.
/// Stage-2 table descriptors carry no permissions; the root may concatenate 2 to 16 tables (RootTables).
/// </summary>
[EntryFormat(Name = "arm64 stage 2, 4K granule", PhysicalAddressBits = 48, ValidMask = 0x3, ValidValue = 0x3, TableAddressLow = 12, TableAddressHigh = 47, TableBits = 0x3, BreakBeforeMake = true, PageBits = 0x7fc, Permissions = PermissionModel.Arm64Stage2)]
[EntryLeaf(PageTableLevel.Pte, AddressLow = 12, AddressHigh = 47)]
[EntryLeaf(PageTableLevel.Pmd, ValidMask = 0x1, ValidValue = 0x1, LeafMask = 0x3, LeafValue = 0x1, AddressLow = 21, AddressHigh = 47)]
[EntryLeaf(PageTableLevel.Pud, ValidMask = 0x1, ValidValue = 0x1, LeafMask = 0x3, LeafValue = 0x1, AddressLow = 30, AddressHigh = 47)]
[EntryField("MemAttr", 2, 5, Kinds = EntryKinds.Leaf, BreakBeforeMake = BreakBeforeMakeRule.OnChange)]
[EntryField("S2AccessPermissions", 6, 7, Kinds = EntryKinds.Leaf)]
[EntryField("Shareability", 8, 9, Kinds = EntryKinds.Leaf, BreakBeforeMake = BreakBeforeMakeRule.OnChange)]
[EntryField("AccessFlag", 10, Kinds = EntryKinds.Leaf, HardwareUpdated = true)]
[EntryField("DirtyBitModifier", 51, Kinds = EntryKinds.Leaf)]
[EntryField("Contiguous", 52, Kinds = EntryKinds.Leaf, BreakBeforeMake = BreakBeforeMakeRule.OnChange)] // a change of block size: docs/FORMATS.md, "The Contiguous bit"
[EntryField("ExecuteNever", 54, Kinds = EntryKinds.Leaf)]
[EntryField("Software", 55, 58)]
// Stage-2 tables are walked by KVM's walker, not the kernel's page-table code: kvm_pte_table() (valid, type table) and
// kvm_pte_valid() of arch/arm64/kvm/hyp/pgtable.c (v6.12) decide, at every level; a leaf is valid and not a table.
[EntryKernelChecks(PageTableLevel.Pmd, LeafMasks = [0x3], LeafValues = [0x1], PresentMasks = [0x1], TableMask = 0x3, TableValue = 0x3)]
[EntryKernelChecks(PageTableLevel.Pud, LeafMasks = [0x3], LeafValues = [0x1], PresentMasks = [0x1], TableMask = 0x3, TableValue = 0x3)]
[EntryKernelChecks(PageTableLevel.P4d, LeafMasks = [0x3], LeafValues = [0x1], PresentMasks = [0x1], TableMask = 0x3, TableValue = 0x3)]
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class Arm64Stage2Granule4KEntryFormatAttribute : Attribute;

/// <summary>
/// arm64 stage 2 (VMSAv8-64, Arm ARM D8.3 and D8.6, 48-bit output addresses), 16K granule: bits[1:0] 01 is a block at Pmd (level 2), 11 a table above level 3 and a page at it; 01 where no block is allowed, and x0, are invalid.
/// Stage-2 table descriptors carry no permissions; the root may concatenate 2 to 16 tables (RootTables).
/// </summary>
[EntryFormat(Name = "arm64 stage 2, 16K granule", PhysicalAddressBits = 48, ValidMask = 0x3, ValidValue = 0x3, TableAddressLow = 14, TableAddressHigh = 47, TableBits = 0x3, BreakBeforeMake = true, PageBits = 0x7fc, Permissions = PermissionModel.Arm64Stage2)]
[EntryLeaf(PageTableLevel.Pte, AddressLow = 14, AddressHigh = 47)]
[EntryLeaf(PageTableLevel.Pmd, ValidMask = 0x1, ValidValue = 0x1, LeafMask = 0x3, LeafValue = 0x1, AddressLow = 25, AddressHigh = 47)]
[EntryField("MemAttr", 2, 5, Kinds = EntryKinds.Leaf, BreakBeforeMake = BreakBeforeMakeRule.OnChange)]
[EntryField("S2AccessPermissions", 6, 7, Kinds = EntryKinds.Leaf)]
[EntryField("Shareability", 8, 9, Kinds = EntryKinds.Leaf, BreakBeforeMake = BreakBeforeMakeRule.OnChange)]
[EntryField("AccessFlag", 10, Kinds = EntryKinds.Leaf, HardwareUpdated = true)]
[EntryField("DirtyBitModifier", 51, Kinds = EntryKinds.Leaf)]
[EntryField("Contiguous", 52, Kinds = EntryKinds.Leaf, BreakBeforeMake = BreakBeforeMakeRule.OnChange)] // a change of block size: docs/FORMATS.md, "The Contiguous bit"
[EntryField("ExecuteNever", 54, Kinds = EntryKinds.Leaf)]
[EntryField("Software", 55, 58)]
// Stage-2 tables are walked by KVM's walker, not the kernel's page-table code: kvm_pte_table() (valid, type table) and
// kvm_pte_valid() of arch/arm64/kvm/hyp/pgtable.c (v6.12) decide, at every level; a leaf is valid and not a table.
[EntryKernelChecks(PageTableLevel.Pmd, LeafMasks = [0x3], LeafValues = [0x1], PresentMasks = [0x1], TableMask = 0x3, TableValue = 0x3)]
[EntryKernelChecks(PageTableLevel.Pud, LeafMasks = [0x3], LeafValues = [0x1], PresentMasks = [0x1], TableMask = 0x3, TableValue = 0x3)]
[EntryKernelChecks(PageTableLevel.P4d, LeafMasks = [0x3], LeafValues = [0x1], PresentMasks = [0x1], TableMask = 0x3, TableValue = 0x3)]
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class Arm64Stage2Granule16KEntryFormatAttribute : Attribute;

/// <summary>
/// arm64 stage 2 (VMSAv8-64, Arm ARM D8.3 and D8.6, 48-bit output addresses), 64K granule: bits[1:0] 01 is a block at Pmd (level 2), 11 a table above level 3 and a page at it; 01 where no block is allowed, and x0, are invalid.
/// Stage-2 table descriptors carry no permissions; the root may concatenate 2 to 16 tables (RootTables).
/// </summary>
[EntryFormat(Name = "arm64 stage 2, 64K granule", PhysicalAddressBits = 48, ValidMask = 0x3, ValidValue = 0x3, TableAddressLow = 16, TableAddressHigh = 47, TableBits = 0x3, BreakBeforeMake = true, PageBits = 0x7fc, Permissions = PermissionModel.Arm64Stage2)]
[EntryLeaf(PageTableLevel.Pte, AddressLow = 16, AddressHigh = 47)]
[EntryLeaf(PageTableLevel.Pmd, ValidMask = 0x1, ValidValue = 0x1, LeafMask = 0x3, LeafValue = 0x1, AddressLow = 29, AddressHigh = 47)]
[EntryField("MemAttr", 2, 5, Kinds = EntryKinds.Leaf, BreakBeforeMake = BreakBeforeMakeRule.OnChange)]
[EntryField("S2AccessPermissions", 6, 7, Kinds = EntryKinds.Leaf)]
[EntryField("Shareability", 8, 9, Kinds = EntryKinds.Leaf, BreakBeforeMake = BreakBeforeMakeRule.OnChange)]
[EntryField("AccessFlag", 10, Kinds = EntryKinds.Leaf, HardwareUpdated = true)]
[EntryField("DirtyBitModifier", 51, Kinds = EntryKinds.Leaf)]
[EntryField("Contiguous", 52, Kinds = EntryKinds.Leaf, BreakBeforeMake = BreakBeforeMakeRule.OnChange)] // a change of block size: docs/FORMATS.md, "The Contiguous bit"
[EntryField("ExecuteNever", 54, Kinds = EntryKinds.Leaf)]
[EntryField("Software", 55, 58)]
// Stage-2 tables are walked by KVM's walker, not the kernel's page-table code: kvm_pte_table() (valid, type table) and
// kvm_pte_valid() of arch/arm64/kvm/hyp/pgtable.c (v6.12) decide, at every level; a leaf is valid and not a table.
[EntryKernelChecks(PageTableLevel.Pmd, LeafMasks = [0x3], LeafValues = [0x1], PresentMasks = [0x1], TableMask = 0x3, TableValue = 0x3)]
[EntryKernelChecks(PageTableLevel.Pud, LeafMasks = [0x3], LeafValues = [0x1], PresentMasks = [0x1], TableMask = 0x3, TableValue = 0x3)]
[EntryKernelChecks(PageTableLevel.P4d, LeafMasks = [0x3], LeafValues = [0x1], PresentMasks = [0x1], TableMask = 0x3, TableValue = 0x3)]
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class Arm64Stage2Granule64KEntryFormatAttribute : Attribute;
