namespace PamtGen;

/// <summary>
/// Declares the entry format of a <see cref="PageTableGeometryAttribute"/> class: what makes an entry valid, the table
/// entry the model installs and where its table address lies, and the physical-address bits. With it go one
/// <see cref="EntryLeafAttribute"/> per level that holds leaves (the pte level always does) and the
/// <see cref="EntryFieldAttribute"/>s. The same attributes on an attribute class make a ready-made format that a
/// geometry takes by applying that attribute (<see cref="Formats.X86_64EntryFormatAttribute"/> and the others in
/// <see cref="Formats"/>). A geometry with neither has x86's entries. Numbers are checked at compile time (PG1016-PG1023).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class EntryFormatAttribute : Attribute
{
    /// <summary>A name for messages and documentation.</summary>
    public string? Name { get; set; }

    /// <summary>The physical-address bits an output address may have (MAXPHYADDR on x86, the output-address size on arm64).</summary>
    public int PhysicalAddressBits { get; set; }

    /// <summary>The bits that say whether an entry is valid (x86 P = 0x1; arm64 bit 0). Default 0x1, or 0 with <see cref="ValidIfAnySet"/>.</summary>
    public ulong ValidMask { get; set; } = 1;

    /// <summary>
    /// Besides the <see cref="ValidMask"/> rule: a valid entry has at least one of these bits set (Intel EPT: an entry is
    /// present when any of R, W, X is, 0x7). At most three bits (the kernel's pXd_present() tests them one by one). Default 0: none.
    /// </summary>
    public ulong ValidIfAnySet { get; set; }

    /// <summary>What <see cref="ValidMask"/>'s bits hold in a valid entry. Default: <see cref="ValidMask"/>.</summary>
    public ulong ValidValue { get; set; }

    /// <summary>The lowest bit of the address field of an entry that points to a table.</summary>
    public int TableAddressLow { get; set; }

    /// <summary>The highest bit of the address field of an entry that points to a table.</summary>
    public int TableAddressHigh { get; set; }

    /// <summary>The physical-address bit that <see cref="TableAddressLow"/> holds. Default: <see cref="TableAddressLow"/> (the address in place).</summary>
    public int TableAddressShift { get; set; }

    /// <summary>The bits the model writes beside the address when it installs a table (x86 _KERNPG_TABLE 0x63; arm64 0x3). Default: <see cref="ValidValue"/>.</summary>
    public ulong TableBits { get; set; }

    /// <summary>
    /// The bits the model writes beside the address in a page it maps for itself (vmalloc()'s PAGE_KERNEL: x86 0x163,
    /// present, writable, accessed, dirty, global). Default 0: the valid bits only.
    /// </summary>
    public ulong PageBits { get; set; }

    /// <summary>
    /// True when a change of a valid entry's output address, or between a leaf and a table, must go through an invalid
    /// entry and a TLB invalidation (arm64); false when the architecture has no such rule (x86).
    /// </summary>
    public bool BreakBeforeMake { get; set; }

    /// <summary>
    /// How a translation (the generated <c>Translate</c>) combines the entries' permission fields over the levels and
    /// which bits the hardware walker sets; <see cref="PermissionModel.None"/> (the default) grants every access and
    /// updates nothing. A model reads fields by name, and the format must declare them (PG1024).
    /// </summary>
    public PermissionModel Permissions { get; set; }

    /// <summary>
    /// Bits reserved in every valid entry, leaf or table, beyond those the format's layout makes reserved: set, a
    /// translation faults (RISC-V bits 63:54 without Svnapot and Svpbmt). Default 0.
    /// </summary>
    public ulong ReservedBits { get; set; }

    /// <summary>Bits reserved in valid table entries in addition to <see cref="ReservedBits"/> (RISC-V D, A and U of a non-leaf PTE). Default 0.</summary>
    public ulong TableReservedBits { get; set; }

    /// <summary>
    /// With <see cref="ReservedEncodingValues"/>: a valid entry with <c>(entry &amp; ReservedEncodingMasks[i]) == ReservedEncodingValues[i]</c>
    /// for some <c>i</c> holds a reserved encoding, and a translation faults on it (RISC-V W = 1 with R = 0: mask 0x6, value
    /// 0x4; Intel EPT W without R and the reserved memory types 2, 3 and 7). At most three. Default: none.
    /// </summary>
    public ulong[] ReservedEncodingMasks { get; set; } = [];

    /// <summary>The reserved encodings of <see cref="ReservedEncodingMasks"/>' bits, one per mask.</summary>
    public ulong[] ReservedEncodingValues { get; set; } = [];
}

/// <summary>
/// A level whose entries may be leaves, how a leaf is told from a table there, and where a leaf keeps its output address.
/// Levels are named as the kernel's checks name them: on 4 levels the top table's entries are p4d entries, on 3 pud
/// entries, on 2 pmd entries.
/// </summary>
/// <param name="level">The level; <see cref="PageTableLevel.Pte"/> for the pages.</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class EntryLeafAttribute(PageTableLevel level) : Attribute
{
    /// <summary>The level.</summary>
    public PageTableLevel Level { get; } = level;

    /// <summary>The valid rule at this level, when it differs from the format's (arm64 level 3: 0x3).</summary>
    public ulong ValidMask { get; set; }

    /// <summary>What <see cref="ValidMask"/>'s bits hold in a valid entry at this level. Default: <see cref="ValidMask"/>.</summary>
    public ulong ValidValue { get; set; }

    /// <summary>A leaf is a valid entry whose bits under this mask equal <see cref="LeafValue"/> (x86 PS: 0x80; arm64 type: 0x3).</summary>
    public ulong LeafMask { get; set; }

    /// <summary>What <see cref="LeafMask"/>'s bits hold in a leaf (arm64 block: 0x1). Default: <see cref="LeafMask"/>.</summary>
    public ulong LeafValue { get; set; }

    /// <summary>Instead of <see cref="LeafMask"/>: a valid entry with any of these bits set is a leaf (RISC-V R, W, X).</summary>
    public ulong LeafIfAnySet { get; set; }

    /// <summary>The lowest bit of a leaf's output-address field.</summary>
    public int AddressLow { get; set; }

    /// <summary>The highest bit of a leaf's output-address field.</summary>
    public int AddressHigh { get; set; }

    /// <summary>The physical-address bit <see cref="AddressLow"/> holds. Default: <see cref="AddressLow"/> (the address in place).</summary>
    public int AddressShift { get; set; }
}

/// <summary>
/// How the kernel's own page-table code reads the entries of one upper level, where the architecture's helpers differ
/// from what the hardware does with them: <c>pXd_leaf()</c>, <c>pXd_present()</c> and <c>pXd_bad()</c> as
/// arch/*/include/asm/pgtable.h defines them (Linux v6.12, docs/KERNEL.md). The walkers follow them, as
/// <c>__apply_to_page_range()</c> does: a leaf is -EINVAL, a bad entry is warned about and skipped (or cleared, when the
/// walk allocates). Each rule is a list of up to three alternatives: an entry matches when
/// <c>(entry &amp; Masks[i]) == Values[i]</c> for some <c>i</c>. A level without this attribute takes the hardware's view:
/// <c>pXd_leaf()</c> is a valid leaf, <c>pXd_present()</c> valid, <c>pXd_bad()</c> anything but a valid table entry. At a
/// level the geometry folds the attribute is not read (one format serves geometries of several level counts).
/// </summary>
/// <param name="level">The level, named as the kernel's checks name it (on 4 levels the top table's entries are p4d entries).</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class EntryKernelChecksAttribute(PageTableLevel level) : Attribute
{
    /// <summary>The level; the pte level has no such helpers.</summary>
    public PageTableLevel Level { get; } = level;

    /// <summary><c>pXd_leaf()</c>'s masks (x86 pmd_leaf(): PSE, 0x80); none: the level has no leaf helper (false, as p4d_leaf()).</summary>
    public ulong[] LeafMasks { get; set; } = [];

    /// <summary>What <see cref="LeafMasks"/>' bits hold in a leaf, one per mask. Default: the masks.</summary>
    public ulong[] LeafValues { get; set; } = [];

    /// <summary><c>pXd_present()</c>'s masks (x86 pmd_present(): P, PROT_NONE or PSE); none: valid by the format's rule.</summary>
    public ulong[] PresentMasks { get; set; } = [];

    /// <summary>What <see cref="PresentMasks"/>' bits hold in a present entry, one per mask. Default: the masks.</summary>
    public ulong[] PresentValues { get; set; } = [];

    /// <summary><c>pXd_bad()</c> is false exactly when <c>(entry &amp; TableMask) == TableValue</c>: the flags a good table entry has.</summary>
    public ulong TableMask { get; set; }

    /// <summary>What <see cref="TableMask"/>'s bits hold in a good table entry (x86 pmd_bad(): P, R/W and D, 0x43).</summary>
    public ulong TableValue { get; set; }
}

/// <summary>A named bit range of an entry (a permission, the accessed or dirty flag, a memory type, software bits).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class EntryFieldAttribute : Attribute
{
    /// <summary>A one-bit field.</summary>
    public EntryFieldAttribute(string name, int bit)
        : this(name, bit, bit)
    {
    }

    /// <summary>The field [<paramref name="high"/>:<paramref name="low"/>].</summary>
    public EntryFieldAttribute(string name, int low, int high)
    {
        Name = name;
        Low = low;
        High = high;
    }

    /// <summary>The field's name, a member of the generated entry struct.</summary>
    public string Name { get; }

    /// <summary>The lowest bit.</summary>
    public int Low { get; }

    /// <summary>The highest bit.</summary>
    public int High { get; }

    /// <summary>The levels whose entries have the field. Default: all.</summary>
    public EntryLevels Levels { get; set; } = EntryLevels.All;

    /// <summary>The kinds of entry that have the field. Default: tables and leaves.</summary>
    public EntryKinds Kinds { get; set; } = EntryKinds.Table | EntryKinds.Leaf;

    /// <summary>Which changes of the field in a valid entry need break-before-make.</summary>
    public BreakBeforeMakeRule BreakBeforeMake { get; set; }

    /// <summary>
    /// Set by the hardware walker (accessed, dirty; arm64 AF with FEAT_HAFDBS): the pages a block replaces may differ in
    /// it, and <c>Collapse</c> merges it (set in the block when set in any page).
    /// </summary>
    public bool HardwareUpdated { get; set; }
}
