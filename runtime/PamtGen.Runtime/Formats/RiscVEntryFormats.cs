namespace PamtGen.Formats;

// RISC-V's formats: the privileged specification (The RISC-V Instruction Set Manual, Volume II: Privileged Architecture,
// version 20240411), chapter "Supervisor-Level ISA": sections "Sv32", "Sv39", "Sv48", "Sv57"; the bit tables are in
// docs/FORMATS.md. One attribute per mode, since each declares the leaves of the levels it has.

/// <summary>
/// RISC-V Sv39 (3 levels, 39-bit virtual addresses): V at bit 0; a valid entry with any of R, W, X is a leaf at any
/// level, with none of them a pointer to the next table (at the last level a page fault); the PPN at [53:10] holds
/// physical-address bit 12 up, and a superpage's low PPN bits are reserved (a misaligned superpage). Bits 63:54 are
/// reserved (no Svnapot, Svpbmt), as D, A and U are in a non-leaf entry, and W without R is a reserved encoding: all page
/// faults. PAGE_KERNEL is V, R, W, A, D, G (0xe7); a table entry V alone.
/// </summary>
[EntryFormat(Name = "RISC-V Sv39", PhysicalAddressBits = 56, ValidMask = 0x1, TableAddressLow = 10, TableAddressHigh = 53, TableAddressShift = 12, TableBits = 0x1, PageBits = 0xe7, Permissions = PermissionModel.RiscV,
    ReservedBits = 0xffc0_0000_0000_0000, TableReservedBits = 0xd0, ReservedEncodingMasks = [0x6], ReservedEncodingValues = [0x4])]
[EntryLeaf(PageTableLevel.Pte, AddressLow = 10, AddressHigh = 53, AddressShift = 12)]
[EntryLeaf(PageTableLevel.Pmd, LeafIfAnySet = 0xe, AddressLow = 19, AddressHigh = 53, AddressShift = 21)] // megapage
[EntryLeaf(PageTableLevel.Pud, LeafIfAnySet = 0xe, AddressLow = 28, AddressHigh = 53, AddressShift = 30)] // gigapage
[EntryField("Read", 1, Kinds = EntryKinds.Leaf)]
[EntryField("Write", 2, Kinds = EntryKinds.Leaf)]
[EntryField("Execute", 3, Kinds = EntryKinds.Leaf)]
[EntryField("User", 4, Kinds = EntryKinds.Leaf)]
[EntryField("Global", 5)]
[EntryField("Accessed", 6, Kinds = EntryKinds.Leaf, HardwareUpdated = true)]
[EntryField("Dirty", 7, Kinds = EntryKinds.Leaf, HardwareUpdated = true)]
[EntryField("Software", 8, 9)]
// The kernel's checks of arch/riscv/include/asm/pgtable.h (v6.12): pmd_present() is V, _PAGE_PROT_NONE (G) or any of R,
// W, X (a THP being split keeps its leaf bits with V clear), pmd_leaf() any of R, W, X, pmd_bad() "not present, or a
// leaf": so a good table entry has V and none of R, W, X. Of pmd_present()'s leaf alternatives only R is kept (three at
// most; PAGE_NONE is G and R, and W without R is reserved). pud, p4d and pgd are the hardware's: present is V, a leaf
// V with any of R, W, X, bad not present.
[EntryKernelChecks(PageTableLevel.Pmd, LeafMasks = [0x2, 0x4, 0x8], PresentMasks = [0x1, 0x20, 0x2], TableMask = 0xf, TableValue = 0x1)]
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RiscVSv39EntryFormatAttribute : Attribute;

/// <summary>
/// RISC-V Sv48 (4 levels, 48-bit virtual addresses): V at bit 0; a valid entry with any of R, W, X is a leaf at any
/// level, with none of them a pointer to the next table (at the last level a page fault); the PPN at [53:10] holds
/// physical-address bit 12 up, and a superpage's low PPN bits are reserved (a misaligned superpage). Bits 63:54 are
/// reserved (no Svnapot, Svpbmt), as D, A and U are in a non-leaf entry, and W without R is a reserved encoding: all page
/// faults. PAGE_KERNEL is V, R, W, A, D, G (0xe7); a table entry V alone.
/// </summary>
[EntryFormat(Name = "RISC-V Sv48", PhysicalAddressBits = 56, ValidMask = 0x1, TableAddressLow = 10, TableAddressHigh = 53, TableAddressShift = 12, TableBits = 0x1, PageBits = 0xe7, Permissions = PermissionModel.RiscV,
    ReservedBits = 0xffc0_0000_0000_0000, TableReservedBits = 0xd0, ReservedEncodingMasks = [0x6], ReservedEncodingValues = [0x4])]
[EntryLeaf(PageTableLevel.Pte, AddressLow = 10, AddressHigh = 53, AddressShift = 12)]
[EntryLeaf(PageTableLevel.Pmd, LeafIfAnySet = 0xe, AddressLow = 19, AddressHigh = 53, AddressShift = 21)] // megapage
[EntryLeaf(PageTableLevel.Pud, LeafIfAnySet = 0xe, AddressLow = 28, AddressHigh = 53, AddressShift = 30)] // gigapage
[EntryLeaf(PageTableLevel.P4d, LeafIfAnySet = 0xe, AddressLow = 37, AddressHigh = 53, AddressShift = 39)] // terapage
[EntryField("Read", 1, Kinds = EntryKinds.Leaf)]
[EntryField("Write", 2, Kinds = EntryKinds.Leaf)]
[EntryField("Execute", 3, Kinds = EntryKinds.Leaf)]
[EntryField("User", 4, Kinds = EntryKinds.Leaf)]
[EntryField("Global", 5)]
[EntryField("Accessed", 6, Kinds = EntryKinds.Leaf, HardwareUpdated = true)]
[EntryField("Dirty", 7, Kinds = EntryKinds.Leaf, HardwareUpdated = true)]
[EntryField("Software", 8, 9)]
// The kernel's checks of arch/riscv/include/asm/pgtable.h (v6.12): pmd_present() is V, _PAGE_PROT_NONE (G) or any of R,
// W, X (a THP being split keeps its leaf bits with V clear), pmd_leaf() any of R, W, X, pmd_bad() "not present, or a
// leaf": so a good table entry has V and none of R, W, X. Of pmd_present()'s leaf alternatives only R is kept (three at
// most; PAGE_NONE is G and R, and W without R is reserved). pud, p4d and pgd are the hardware's: present is V, a leaf
// V with any of R, W, X, bad not present.
[EntryKernelChecks(PageTableLevel.Pmd, LeafMasks = [0x2, 0x4, 0x8], PresentMasks = [0x1, 0x20, 0x2], TableMask = 0xf, TableValue = 0x1)]
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RiscVSv48EntryFormatAttribute : Attribute;

/// <summary>
/// RISC-V Sv57 (5 levels, 57-bit virtual addresses): V at bit 0; a valid entry with any of R, W, X is a leaf at any
/// level, with none of them a pointer to the next table (at the last level a page fault); the PPN at [53:10] holds
/// physical-address bit 12 up, and a superpage's low PPN bits are reserved (a misaligned superpage). Bits 63:54 are
/// reserved (no Svnapot, Svpbmt), as D, A and U are in a non-leaf entry, and W without R is a reserved encoding: all page
/// faults. PAGE_KERNEL is V, R, W, A, D, G (0xe7); a table entry V alone.
/// </summary>
[EntryFormat(Name = "RISC-V Sv57", PhysicalAddressBits = 56, ValidMask = 0x1, TableAddressLow = 10, TableAddressHigh = 53, TableAddressShift = 12, TableBits = 0x1, PageBits = 0xe7, Permissions = PermissionModel.RiscV,
    ReservedBits = 0xffc0_0000_0000_0000, TableReservedBits = 0xd0, ReservedEncodingMasks = [0x6], ReservedEncodingValues = [0x4])]
[EntryLeaf(PageTableLevel.Pte, AddressLow = 10, AddressHigh = 53, AddressShift = 12)]
[EntryLeaf(PageTableLevel.Pmd, LeafIfAnySet = 0xe, AddressLow = 19, AddressHigh = 53, AddressShift = 21)] // megapage
[EntryLeaf(PageTableLevel.Pud, LeafIfAnySet = 0xe, AddressLow = 28, AddressHigh = 53, AddressShift = 30)] // gigapage
[EntryLeaf(PageTableLevel.P4d, LeafIfAnySet = 0xe, AddressLow = 37, AddressHigh = 53, AddressShift = 39)] // terapage
[EntryLeaf(PageTableLevel.Pgd, LeafIfAnySet = 0xe, AddressLow = 46, AddressHigh = 53, AddressShift = 48)] // petapage
[EntryField("Read", 1, Kinds = EntryKinds.Leaf)]
[EntryField("Write", 2, Kinds = EntryKinds.Leaf)]
[EntryField("Execute", 3, Kinds = EntryKinds.Leaf)]
[EntryField("User", 4, Kinds = EntryKinds.Leaf)]
[EntryField("Global", 5)]
[EntryField("Accessed", 6, Kinds = EntryKinds.Leaf, HardwareUpdated = true)]
[EntryField("Dirty", 7, Kinds = EntryKinds.Leaf, HardwareUpdated = true)]
[EntryField("Software", 8, 9)]
// The kernel's checks of arch/riscv/include/asm/pgtable.h (v6.12): pmd_present() is V, _PAGE_PROT_NONE (G) or any of R,
// W, X (a THP being split keeps its leaf bits with V clear), pmd_leaf() any of R, W, X, pmd_bad() "not present, or a
// leaf": so a good table entry has V and none of R, W, X. Of pmd_present()'s leaf alternatives only R is kept (three at
// most; PAGE_NONE is G and R, and W without R is reserved). pud, p4d and pgd are the hardware's: present is V, a leaf
// V with any of R, W, X, bad not present.
[EntryKernelChecks(PageTableLevel.Pmd, LeafMasks = [0x2, 0x4, 0x8], PresentMasks = [0x1, 0x20, 0x2], TableMask = 0xf, TableValue = 0x1)]
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RiscVSv57EntryFormatAttribute : Attribute;
