using System;

namespace PamtGen.Generator.Model;

/// <summary>
/// A validated page-table geometry, everything the emitter needs and nothing else: numbers and names,
/// no symbol, syntax or location, so equal declarations give equal specs and the emit step is cached.
/// </summary>
internal sealed class GeometrySpec(
    TypeSpec type, int pageShift, int entrySize, int levels, int virtualAddressBits, int? refcountElementSize, int rootTables, FormatSpec format) : IEquatable<GeometrySpec>
{
    public TypeSpec Type { get; } = type;

    public int PageShift { get; } = pageShift;

    public int EntrySize { get; } = entrySize;

    public int Levels { get; } = levels;

    public int VirtualAddressBits { get; } = virtualAddressBits;

    /// <summary>The refcount's size in bytes, when the class also has [RefcountTable].</summary>
    public int? RefcountElementSize { get; } = refcountElementSize;

    /// <summary>Tables concatenated at the root: 1, or 2 to 16 (arm64 stage 2).</summary>
    public int RootTables { get; } = rootTables;

    /// <summary>The checked entry format.</summary>
    public FormatSpec Format { get; } = format;

    // Every derived number from the rules file the runtime compiles too (GeometryRules.cs, linked).

    /// <summary>Address bits one table resolves: log2(PAGE_SIZE / entry size).</summary>
    public int BitsPerLevel => GeometryRules.BitsPerLevel(PageShift, EntrySize);

    public int PtrsPerPte => GeometryRules.PtrsPerTable(PageShift, EntrySize);

    /// <summary>PMD_SHIFT: one level above the PTEs (equal to PGDIR_SHIFT when the pmd is folded, as on 2 levels).</summary>
    public int PmdShift => Shift(PageTableLevel.Pmd);

    /// <summary>PGDIR_SHIFT: the shift of the top table.</summary>
    public int PgdShift => Shift(PageTableLevel.Pgd);

    public int PtrsPerPgd => GeometryRules.PtrsPerPgd(PageShift, EntrySize, Levels, VirtualAddressBits);

    public bool HasP4d => !GeometryRules.IsFolded(Levels, PageTableLevel.P4d);

    public bool HasPud => !GeometryRules.IsFolded(Levels, PageTableLevel.Pud);

    public bool HasPmd => !GeometryRules.IsFolded(Levels, PageTableLevel.Pmd);

    public int PudShift => Shift(PageTableLevel.Pud);

    public int P4dShift => Shift(PageTableLevel.P4d);

    /// <summary>The levels with tables of their own, top first.</summary>
    public PageTableLevel[] RealLevels => GeometryRules.RealLevels(Levels);

    /// <summary>The level whose none/leaf check the top table's entries get (the lowest folded into the pgd).</summary>
    public PageTableLevel TopCheckLevel => GeometryRules.TopCheckLevel(Levels);

    private int Shift(PageTableLevel level) => GeometryRules.Shifts(PageShift, EntrySize, Levels)[(int)level];

    public bool Equals(GeometrySpec? other) =>
        other is not null && Type.Equals(other.Type) && PageShift == other.PageShift && EntrySize == other.EntrySize
        && Levels == other.Levels && VirtualAddressBits == other.VirtualAddressBits && RefcountElementSize == other.RefcountElementSize
        && RootTables == other.RootTables && Format.Equals(other.Format);

    public override bool Equals(object? obj) => Equals(obj as GeometrySpec);

    public override int GetHashCode() => unchecked((Type.GetHashCode() * 31) + (PageShift * 7) + (Levels * 3) + VirtualAddressBits);
}

/// <summary>What the parser made of one attributed class: a spec when it is valid, and the diagnostics it found.</summary>
internal sealed class GeometryParseResult(GeometrySpec? spec, EquatableArray<DiagnosticInfo> diagnostics) : IEquatable<GeometryParseResult>
{
    public GeometrySpec? Spec { get; } = spec;

    public EquatableArray<DiagnosticInfo> Diagnostics { get; } = diagnostics;

    public bool Equals(GeometryParseResult? other) =>
        other is not null && Equals(Spec, other.Spec) && Diagnostics.Equals(other.Diagnostics);

    public override bool Equals(object? obj) => Equals(obj as GeometryParseResult);

    public override int GetHashCode() => unchecked(((Spec?.GetHashCode() ?? 0) * 31) + Diagnostics.GetHashCode());
}
