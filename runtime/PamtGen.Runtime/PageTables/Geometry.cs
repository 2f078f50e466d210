namespace PamtGen;

/// <summary>
/// A page-table geometry described at run time: page size, entries per table, entry size and
/// the number of levels, with the kernel's folding rules (include/asm-generic/pgtable-nop4d.h,
/// -nopud.h, -nopmd.h): 2 levels are pgd and pte; 3 add pmd; 4 add pud; 5 add p4d. A folded
/// level has no table of its own: its offset is its parent's entry, its <c>*_addr_end</c> is
/// <c>end</c>, and the entry is checked (none, leaf) by the lowest level folded into it. Every rule
/// and derived number comes from <see cref="GeometryRules"/>, the file the generator compiles too.
/// Geometries are distinct by identity: two with the same numbers (x86-64 4-level and arm64 4K) are
/// two geometries, and a generated geometry class has its own (<c>X86_64.Geometry</c>).
/// </summary>
public sealed class Geometry
{
    /// <summary>The smallest PAGE_SHIFT the model accepts (1 KiB pages).</summary>
    public const int MinPageShift = GeometryRules.MinPageShift;

    /// <summary>The largest PAGE_SHIFT the model accepts (1 MiB pages).</summary>
    public const int MaxPageShift = GeometryRules.MaxPageShift;

    private readonly int[] _shift;
    private readonly int[] _ptrs;
    private readonly FormatTables _entries;

    /// <summary>Describes a geometry; an impossible description throws <see cref="ArgumentException"/> saying why.</summary>
    /// <param name="pageShift">PAGE_SHIFT, 10 to 20.</param>
    /// <param name="ptrsPerTable">Entries per table (PTRS_PER_PTE); must be PAGE_SIZE / entry size.</param>
    /// <param name="entrySize">Bytes per entry: 8, or 4 for 32-bit non-PAE tables.</param>
    /// <param name="levels">CONFIG_PGTABLE_LEVELS, 2 to 5.</param>
    /// <param name="virtualAddressBits">Virtual-address bits translated; the top table resolves at least one of them.</param>
    /// <param name="name">A name for messages and test output.</param>
    /// <param name="format">The entry format; null for x86's (x86-64 for 8-byte entries, 32-bit x86 for 4-byte ones, without leaves at folded levels or larger than the physical address space).</param>
    /// <param name="rootTables">Tables concatenated at the root (arm64 stage 2): 1, 2, 4, 8 or 16; the top level then resolves that many tables' bits.</param>
    public Geometry(int pageShift, int ptrsPerTable, int entrySize, int levels, int virtualAddressBits, string? name = null, EntryFormat? format = null, int rootTables = 1)
    {
        // The first problem, by the rules the generator checks declarations with (GeometryRules.Check), as its exception.
        if (GeometryRules.Check(pageShift, entrySize, levels, virtualAddressBits, rootTables, ptrsPerTable) is [var problem, ..])
        {
            throw new ArgumentException(problem.Message, ParameterOf(problem.Kind));
        }

        format ??= EntryFormat.Default(entrySize).AsDefaultFor(pageShift, entrySize, levels);
        var formatProblems = EntryFormatRules.Check(format.Declaration, format.Leaves, format.Fields, format.KernelChecks, pageShift, entrySize, levels);
        if (formatProblems.Count > 0)
        {
            throw new ArgumentException($"{format} does not fit {levels} levels of {1 << pageShift}-byte pages: {string.Join("; ", formatProblems.Select(p => p.Message))}", nameof(format));
        }

        PageShift = pageShift;
        PtrsPerTable = ptrsPerTable;
        EntrySize = entrySize;
        Levels = levels;
        VirtualAddressBits = virtualAddressBits;
        BitsPerLevel = GeometryRules.BitsPerLevel(pageShift, entrySize);
        Name = name ?? $"{1 << (pageShift - 10)}K pages, {levels} levels, {virtualAddressBits}-bit VA";
        _shift = GeometryRules.Shifts(pageShift, entrySize, levels);
        _ptrs = GeometryRules.PtrsPerLevel(pageShift, entrySize, levels, virtualAddressBits);
        Format = format;
        RootTables = rootTables;
        _entries = EntryFormatRules.Resolve(format.Declaration, format.Leaves, format.Fields, format.KernelChecks, levels);
        EntryLevels = Enum.GetValues<PageTableLevel>().Where(l => EntryFormatRules.IsEntryLevel(levels, (int)l)).ToArray();
        Masks = TranslationMasks.Of(_entries);
        Permission = Masks.Permission;
    }

    /// <summary>The fields the format's permission model reads.</summary>
    internal TranslationMasks Masks { get; }

    /// <summary>The format's permission model as the call of its function (null: every access allowed), made once.</summary>
    internal PermissionCall? Permission { get; }

    /// <summary>The constructor's parameter a geometry rule is about.</summary>
    private static string ParameterOf(GeometryProblemKind kind) => kind switch
    {
        GeometryProblemKind.PageShift => "pageShift",
        GeometryProblemKind.EntrySize => "entrySize",
        GeometryProblemKind.PtrsPerTable => "ptrsPerTable",
        GeometryProblemKind.Levels => "levels",
        GeometryProblemKind.RootTables => "rootTables",
        _ => "virtualAddressBits",
    };

    /// <summary>The reserved bits of a valid entry at <paramref name="level"/>, a leaf or a table (x86 RSVD, RISC-V's; 0 for arm64's permission models).</summary>
    public ulong ReservedBits(PageTableLevel level, bool leaf) => _entries.Reserved[EntryFormatRules.Slot((int)level, leaf ? EntryKinds.Leaf : EntryKinds.Table)];

    /// <summary>The entry holds the format's reserved encoding (RISC-V W = 1 with R = 0), on which a translation faults.</summary>
    public bool HasReservedEncoding(ulong entry) => _entries.ReservedEncodings.Matches(entry);

    /// <summary>x86-64 with 4-level paging (48-bit VA).</summary>
    public static Geometry X86_64FourLevel { get; } = new(12, 512, 8, 4, 48, "x86-64 4-level", EntryFormat.X86_64);

    /// <summary>x86-64 with 5-level paging, LA57 (57-bit VA).</summary>
    public static Geometry X86_64FiveLevel { get; } = new(12, 512, 8, 5, 57, "x86-64 5-level", EntryFormat.X86_64);

    /// <summary>AMD nested page tables over 4 levels (48-bit guest-physical addresses), every nested access a user access.</summary>
    public static Geometry AmdNptFourLevel { get; } = new(12, 512, 8, 4, 48, "AMD NPT 4-level", EntryFormat.X86_64Nested);

    /// <summary>AMD nested page tables over 5 levels (57-bit guest-physical addresses).</summary>
    public static Geometry AmdNptFiveLevel { get; } = new(12, 512, 8, 5, 57, "AMD NPT 5-level", EntryFormat.X86_64Nested);

    /// <summary>Intel EPT with a 4-level walk (EPTP bits 5:3 = 3; 48-bit guest-physical addresses).</summary>
    public static Geometry IntelEptFourLevel { get; } = new(12, 512, 8, 4, 48, "Intel EPT 4-level", EntryFormat.IntelEpt);

    /// <summary>Intel EPT with a 5-level walk (EPTP bits 5:3 = 4; 57-bit guest-physical addresses).</summary>
    public static Geometry IntelEptFiveLevel { get; } = new(12, 512, 8, 5, 57, "Intel EPT 5-level", EntryFormat.IntelEpt);

    /// <summary>arm64 stage 1, 4K granule, 48-bit VA.</summary>
    public static Geometry Arm64Granule4K { get; } = new(12, 512, 8, 4, 48, "arm64 4K", EntryFormat.Of(typeof(Formats.Arm64Stage1Granule4KEntryFormatAttribute)));

    /// <summary>arm64 stage 1, 16K granule, 48-bit VA (the top table has 2 entries).</summary>
    public static Geometry Arm64Granule16K { get; } = new(14, 2048, 8, 4, 48, "arm64 16K", EntryFormat.Of(typeof(Formats.Arm64Stage1Granule16KEntryFormatAttribute)));

    /// <summary>arm64 stage 1, 64K granule, 48-bit VA, 3 levels (the top table has 64 entries).</summary>
    public static Geometry Arm64Granule64K { get; } = new(16, 8192, 8, 3, 48, "arm64 64K", EntryFormat.Of(typeof(Formats.Arm64Stage1Granule64KEntryFormatAttribute)));

    /// <summary>arm64, 64K granule, 52-bit VA, 3 levels (the top table has 1024 entries); x86's entries (52-bit arm64 output addresses are not shipped).</summary>
    public static Geometry Arm64Granule64K52Bit { get; } = new(16, 8192, 8, 3, 52, "arm64 64K 52-bit");

    /// <summary>arm64 stage 2, 4K granule, 40-bit IPA: 3 levels starting at level 1 with 2 concatenated root tables (1024 entries, 8 KiB).</summary>
    public static Geometry Arm64Stage2Ipa40 { get; } = new(12, 512, 8, 3, 40, "arm64 stage 2 4K 40-bit", EntryFormat.Of(typeof(Formats.Arm64Stage2Granule4KEntryFormatAttribute)), rootTables: 2);

    /// <summary>RISC-V Sv39: 3 levels of 512 entries, 39-bit VA.</summary>
    public static Geometry RiscVSv39 { get; } = new(12, 512, 8, 3, 39, "RISC-V Sv39", EntryFormat.Of(typeof(Formats.RiscVSv39EntryFormatAttribute)));

    /// <summary>RISC-V Sv48: 4 levels of 512 entries, 48-bit VA.</summary>
    public static Geometry RiscVSv48 { get; } = new(12, 512, 8, 4, 48, "RISC-V Sv48", EntryFormat.Of(typeof(Formats.RiscVSv48EntryFormatAttribute)));

    /// <summary>RISC-V Sv57: 5 levels of 512 entries, 57-bit VA.</summary>
    public static Geometry RiscVSv57 { get; } = new(12, 512, 8, 5, 57, "RISC-V Sv57", EntryFormat.Of(typeof(Formats.RiscVSv57EntryFormatAttribute)));

    /// <summary>RISC-V Sv39x4, the G-stage of Sv39 (hgatp.MODE 8): 41-bit guest-physical addresses, a 16 KiB root of 4 concatenated tables.</summary>
    public static Geometry RiscVSv39x4 { get; } = new(12, 512, 8, 3, 41, "RISC-V Sv39x4", EntryFormat.Of(typeof(Formats.RiscVSv39EntryFormatAttribute)), rootTables: 4);

    /// <summary>RISC-V Sv48x4 (hgatp.MODE 9): 50-bit guest-physical addresses, a 16 KiB root of 4 concatenated tables.</summary>
    public static Geometry RiscVSv48x4 { get; } = new(12, 512, 8, 4, 50, "RISC-V Sv48x4", EntryFormat.Of(typeof(Formats.RiscVSv48EntryFormatAttribute)), rootTables: 4);

    /// <summary>RISC-V Sv57x4 (hgatp.MODE 10): 59-bit guest-physical addresses, a 16 KiB root of 4 concatenated tables.</summary>
    public static Geometry RiscVSv57x4 { get; } = new(12, 512, 8, 5, 59, "RISC-V Sv57x4", EntryFormat.Of(typeof(Formats.RiscVSv57EntryFormatAttribute)), rootTables: 4);

    /// <summary>x86 32-bit without PAE: 2 levels of 1024 4-byte entries.</summary>
    public static Geometry X86NonPae { get; } = new(12, 1024, 4, 2, 32, "x86 non-PAE", EntryFormat.X86NonPae);

    /// <summary>The entry format the tables are read and written with.</summary>
    public EntryFormat Format { get; }

    /// <summary>The tables concatenated at the root (1 unless an arm64 stage-2 root concatenates 2 to 16).</summary>
    public int RootTables { get; }

    /// <summary>True when the format lets entries at <paramref name="level"/> be leaves (every pte; blocks where declared).</summary>
    public bool HoldsLeaves(PageTableLevel level) => _entries[(int)level].CanLeaf;

    /// <summary>The entry is valid at <paramref name="level"/> (present on x86; bits[1:0] 01 or 11 above arm64's last level, 11 at it; any of R, W, X on EPT).</summary>
    public bool IsValidEntry(PageTableLevel level, ulong entry) => _entries[(int)level].IsValid(entry);

    /// <summary>The entry is a valid leaf at <paramref name="level"/> as the hardware reads it (every valid pte; a block above).</summary>
    public bool IsLeafEntry(PageTableLevel level, ulong entry)
    {
        int d = (int)level;
        return IsValidEntry(level, entry) && ((entry & _entries[d].LeafMask) == _entries[d].LeafValue || (entry & _entries[d].LeafAny) != 0);
    }

    /// <summary>A valid leaf at <paramref name="level"/> without reserved bits: what the hardware translates through.</summary>
    internal bool IsUsableLeaf(PageTableLevel level, ulong entry) => IsLeafEntry(level, entry) && (entry & ReservedBits(level, leaf: true)) == 0 && !HasReservedEncoding(entry);

    /// <summary>
    /// The first leaf, top-down, that <paramref name="attributes"/> (field bits as a pte has them) make unusable at a level
    /// holding leaves: with reserved bits or the reserved encoding, not a leaf by the level's rule, or, in a format that
    /// tells leaves by bits (RISC-V R, W, X), a page without any of them, which the hardware reads as a pointer at the
    /// last level (a page fault); null when every leaf is usable. What MapRange refuses.
    /// </summary>
    internal (PageTableLevel Level, ulong Entry)? LeafRefusing(ulong attributes)
    {
        ulong leafBits = 0;
        foreach (var level in EntryLevels)
        {
            leafBits |= _entries[(int)level].LeafAny;
        }

        foreach (var level in EntryLevels)
        {
            if (!HoldsLeaves(level))
            {
                continue;
            }

            ulong leaf = MakeLeafEntry(level, 0, MoveLeafFields(PageTableLevel.Pte, attributes, level));
            if (!IsUsableLeaf(level, leaf) || (leafBits != 0 && (leaf & leafBits) == 0))
            {
                return (level, leaf);
            }
        }

        return null;
    }

    /// <summary>The entry is a valid entry pointing to a table (never at the pte level).</summary>
    public bool IsTableEntry(PageTableLevel level, ulong entry) => _entries[(int)level].TableOk && IsValidEntry(level, entry) && !IsLeafEntry(level, entry);

    /// <summary>
    /// pXd_leaf() as the kernel of the format's architecture defines it (docs/FORMATS.md, [EntryKernelChecks]): x86's
    /// pmd_leaf() is PSE set, present or not; arm64's pud_leaf() any present entry that is not a table. Without a
    /// declaration, a valid leaf. False at the pte level.
    /// </summary>
    public bool PxdLeaf(PageTableLevel level, ulong entry)
    {
        int d = (int)level;
        return _entries[d].KernelDeclared ? Matches(_entries[d].KernelLeafMasks, _entries[d].KernelLeafValues, entry) : IsLeafEntry(level, entry);
    }

    /// <summary>pXd_present() as the format's kernel defines it (x86's pmd_present() counts PROT_NONE and PSE; arm64's a present-invalid entry); without a declaration, valid.</summary>
    public bool PxdPresent(PageTableLevel level, ulong entry) => Matches(_entries[(int)level].KernelPresentMasks, _entries[(int)level].KernelPresentValues, entry);

    /// <summary>
    /// pXd_bad() as the format's kernel defines it, for an entry that is not none (x86's pmd_bad(): flags other than P, R/W,
    /// A, D and U; arm64's: not a table descriptor); without a declaration, anything but a valid table entry. False at the
    /// pte level (there is no pte_bad()).
    /// </summary>
    public bool PxdBad(PageTableLevel level, ulong entry)
    {
        int d = (int)level;
        return _entries[d].KernelDeclared ? (entry & _entries[d].KernelTableMask) != _entries[d].KernelTableValue : !IsTableEntry(level, entry);
    }

    /// <summary>The kernel's walkers descend into the entry at <paramref name="level"/>: not none, not pXd_leaf(), not pXd_bad().</summary>
    internal bool KernelDescends(PageTableLevel level, ulong entry) => entry != 0 && level != PageTableLevel.Pte && !PxdLeaf(level, entry) && !PxdBad(level, entry);

    private static bool Matches(ulong[] masks, ulong[] values, ulong entry)
    {
        bool any = false;
        for (int k = 0; k < masks.Length; k++)
        {
            any |= (entry & masks[k]) == values[k];
        }

        return any;
    }

    /// <summary>pXd_page_vaddr()'s physical address: the table a table entry points to.</summary>
    public ulong TableAddress(ulong entry) =>
        ((entry & _entries.TableAddressMask) >> _entries.Format.TableAddressLow) << _entries.Format.TableAddressShift;

    /// <summary>The output address of a leaf at <paramref name="level"/> (the first byte of its page or block).</summary>
    public ulong LeafAddress(PageTableLevel level, ulong entry) =>
        ((entry & _entries[(int)level].LeafAddressMask) >> _entries[(int)level].LeafAddressLow) << _entries[(int)level].LeafAddressShift;

    /// <summary>The entry the model installs for a table at <paramref name="tableAddress"/> (pmd_populate_kernel() and its cousins).</summary>
    public ulong MakeTableEntry(ulong tableAddress) =>
        _entries.Format.TableBits | (((tableAddress >> _entries.Format.TableAddressShift) << _entries.Format.TableAddressLow) & _entries.TableAddressMask);

    /// <summary>
    /// A leaf at <paramref name="level"/> mapping <paramref name="outputAddress"/> with the field bits <paramref name="attributes"/>;
    /// ArgumentException when the level holds no leaves or the address is not aligned to the leaf's size.
    /// </summary>
    public ulong MakeLeafEntry(PageTableLevel level, ulong outputAddress, ulong attributes)
    {
        int d = (int)level;
        if (!_entries[d].CanLeaf)
        {
            throw new ArgumentException($"{Format} has no leaf at {level}", nameof(level));
        }

        if ((outputAddress & (Size(level) - 1)) != 0 || outputAddress >> Format.PhysicalAddressBits != 0)
        {
            throw new ArgumentException($"0x{outputAddress:x} is not a {Size(level)}-byte aligned address below 2^{Format.PhysicalAddressBits}", nameof(outputAddress));
        }

        ulong encoded = ((outputAddress >> _entries[d].LeafAddressShift) << _entries[d].LeafAddressLow) & _entries[d].LeafAddressMask;
        return _entries[d].ValidValue | (_entries[d].LeafMask == 0 ? 0 : _entries[d].LeafValue) | encoded | attributes;
    }

    /// <summary>
    /// The field bits of a leaf at <paramref name="from"/> moved to where a leaf at <paramref name="to"/> keeps them, field by
    /// field (x86's PAT goes from bit 12 of a block to bit 7 of a PTE); bits no field declares are not carried.
    /// </summary>
    public ulong MoveLeafFields(PageTableLevel from, ulong entry, PageTableLevel to)
    {
        int source = EntryFormatRules.Slot((int)from, EntryKinds.Leaf), target = EntryFormatRules.Slot((int)to, EntryKinds.Leaf);
        ulong moved = 0;
        foreach (var field in _entries.FieldSlots)
        {
            ulong value = (entry & field.Masks[source]) >> field.Lows[source];
            moved |= (value << field.Lows[target]) & field.Masks[target];
        }

        return moved;
    }

    /// <summary>The bits of a leaf at <paramref name="level"/> that the hardware walker sets (accessed, dirty): the fields marked HardwareUpdated.</summary>
    public ulong HardwareUpdatedBits(PageTableLevel level)
    {
        ulong bits = 0;
        foreach (var field in _entries.FieldSlots)
        {
            bits |= field.HardwareUpdated ? field.Masks[EntryFormatRules.Slot((int)level, EntryKinds.Leaf)] : 0;
        }

        return bits;
    }

    /// <summary>The entry levels of this geometry, top first: the levels whose checks read an entry (the top table's as p4d on 4 levels, ...), then the pte.</summary>
    public IReadOnlyList<PageTableLevel> EntryLevels { get; }

    /// <summary>The place of <paramref name="level"/> in <see cref="EntryLevels"/>, or -1 when it is not an entry level (folded into the level below).</summary>
    internal int EntryLevelPosition(PageTableLevel level)
    {
        for (int i = 0; i < EntryLevels.Count; i++)
        {
            if (EntryLevels[i] == level)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The real level whose table holds <paramref name="level"/>'s entries: itself, or the level above it that a folded level shares a table with.</summary>
    internal PageTableLevel TableLevel(PageTableLevel level)
    {
        while (level > PageTableLevel.Pgd && IsFolded(level))
        {
            level--;
        }

        return level;
    }

    /// <summary>mk_pte(page, PAGE_KERNEL) in the format: a pte mapping the page at <paramref name="physAddr"/> with the format's PageBits.</summary>
    public ulong MakeKernelPageEntry(ulong physAddr) => MakeLeafEntry(PageTableLevel.Pte, physAddr, Format.Declaration.PageBits);

    /// <summary>
    /// True when replacing the valid entry <paramref name="old"/> by the valid entry <paramref name="new"/> at
    /// <paramref name="level"/> must go through an invalid entry and a TLB invalidation: the format says so for a
    /// change of output address or between leaf and table, and its fields for their changes. False when either is invalid.
    /// </summary>
    public bool NeedsBreakBeforeMake(PageTableLevel level, ulong old, ulong @new)
    {
        if (!IsValidEntry(level, old) || !IsValidEntry(level, @new))
        {
            return false;
        }

        bool oldLeaf = IsLeafEntry(level, old);
        int slot = EntryFormatRules.Slot((int)level, oldLeaf ? EntryKinds.Leaf : EntryKinds.Table);
        bool shape = oldLeaf != IsLeafEntry(level, @new)
            || (oldLeaf ? LeafAddress(level, old) != LeafAddress(level, @new) : TableAddress(old) != TableAddress(@new));
        return (Format.Declaration.BreakBeforeMake && shape) || FieldsNeedBreakBeforeMake(slot, old, @new);
    }

    /// <summary>
    /// True when a page's fields going from <paramref name="old"/> to <paramref name="new"/> (where a pte keeps them)
    /// change a field the format makes break-before-make: the test the TLB model applies to a stale translation.
    /// </summary>
    internal bool PageFieldsNeedBreakBeforeMake(ulong old, ulong @new) => FieldsNeedBreakBeforeMake(EntryFormatRules.Slot((int)PageTableLevel.Pte, EntryKinds.Leaf), old, @new);

    private bool FieldsNeedBreakBeforeMake(int slot, ulong old, ulong @new) =>
        ((old ^ @new) & _entries.BbmOnChange[slot]) != 0 || (~old & @new & _entries.BbmOnSet[slot]) != 0;

    /// <summary>A name for messages.</summary>
    public string Name { get; }

    /// <summary>PAGE_SHIFT.</summary>
    public int PageShift { get; }

    /// <summary>PAGE_SIZE in bytes.</summary>
    public ulong PageSize => 1UL << PageShift;

    /// <summary>Entries per table (PTRS_PER_PTE; every real level below the top has as many).</summary>
    public int PtrsPerTable { get; }

    /// <summary>Bytes per entry, 4 or 8.</summary>
    public int EntrySize { get; }

    /// <summary>CONFIG_PGTABLE_LEVELS.</summary>
    public int Levels { get; }

    /// <summary>Virtual-address bits translated.</summary>
    public int VirtualAddressBits { get; }

    /// <summary>Address bits each level below the top resolves (log2 of <see cref="PtrsPerTable"/>).</summary>
    public int BitsPerLevel { get; }

    /// <summary>PMD_SHIFT (equal to PGDIR_SHIFT when the pmd is folded).</summary>
    public int PmdShift => Shift(PageTableLevel.Pmd);

    /// <summary>True when <paramref name="level"/> is folded: it has no table of its own.</summary>
    public bool IsFolded(PageTableLevel level) => GeometryRules.IsFolded(Levels, level);

    /// <summary>
    /// True when <c>pXd_none</c>/<c>pXd_leaf</c> look at the entry at <paramref name="level"/>;
    /// false when the level below is folded into it, and the kernel's folded helpers say "never none".
    /// </summary>
    public bool ChecksEntry(PageTableLevel level) => GeometryRules.ChecksEntry(Levels, level);

    /// <summary>PGDIR_SHIFT, P4D_SHIFT, PUD_SHIFT, PMD_SHIFT or PAGE_SHIFT.</summary>
    public int Shift(PageTableLevel level) => _shift[(int)level];

    /// <summary>PTRS_PER_PGD, PTRS_PER_P4D, ... (1 for a folded level).</summary>
    public int PtrsPer(PageTableLevel level) => _ptrs[(int)level];

    /// <summary>The bytes one entry of <paramref name="level"/> covers (PGDIR_SIZE, PMD_SIZE, ...).</summary>
    public ulong Size(PageTableLevel level) => 1UL << _shift[(int)level];

    /// <summary>pgd_index(), p4d_index(), pud_index(), pmd_index(), pte_index() (0 for a folded level).</summary>
    public int Index(PageTableLevel level, ulong addr) => (int)((addr >> _shift[(int)level]) & (ulong)(_ptrs[(int)level] - 1));

    /// <summary>
    /// pgd_addr_end() and its cousins: the next boundary of <paramref name="level"/> after
    /// <paramref name="addr"/>, or <paramref name="end"/> if that comes first. The "- 1" on both sides
    /// is the kernel's: it keeps the comparison right when the boundary wraps to 0 at the top of the
    /// address space. A folded level returns <paramref name="end"/>.
    /// </summary>
    public ulong AddrEnd(PageTableLevel level, ulong addr, ulong end)
    {
        if (level != PageTableLevel.Pgd && IsFolded(level))
        {
            return end;
        }

        ulong size = Size(level);
        ulong boundary = (addr + size) & ~(size - 1);
        return boundary - 1 < end - 1 ? boundary : end;
    }

    /// <summary>
    /// True when <c>[addr, end)</c> (non-empty) lies in one 2^VirtualAddressBits window, so its top-level
    /// indices do not run off the top table. A range across the non-canonical hole does not: the kernel
    /// has no check for it and would walk past the end of the pgd.
    /// </summary>
    public bool InOneWindow(ulong addr, ulong end) =>
        VirtualAddressBits == 64 || (addr >> VirtualAddressBits) == ((end - 1) >> VirtualAddressBits);

    /// <inheritdoc/>
    public override string ToString() => Name;
}
