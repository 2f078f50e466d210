using System.Runtime.CompilerServices;

namespace PamtGen;

/// <summary>
/// pte_t *: where a PTE lives, as a walker hands it to a PTE callback. It is read and written only through
/// <see cref="Pgtable"/>'s helpers (<see cref="Pgtable.PtepGet"/>, <see cref="Pgtable.SetPteAt"/>,
/// <see cref="Pgtable.PteClear"/>, <see cref="Pgtable.PteUpdate"/>), which go through the memory the walk runs on
/// (<see cref="IPageTableMemory"/>): a value, not a reference into the table, so no access goes around that memory.
/// Two pointers are equal when they name the same entry of the same table.
/// </summary>
public readonly record struct PtePointer
{
    internal PtePointer(object table, int index) => Slot = new EntrySlot(table, index);

    /// <summary>The entry this pointer names, and the memory it is reached through.</summary>
    internal EntrySlot Slot { get; }

    /// <inheritdoc/>
    public override string ToString() => Slot.Describe("pte_t *");
}

/// <summary>pmd_t *: a pmd entry as walk_page_range() hands it to pmd_entry; read with <see cref="Pgtable.PmdpGet"/>, written with <see cref="Pgtable.SetPmdAt"/> and <see cref="Pgtable.PmdClear"/>.</summary>
public readonly record struct PmdPointer
{
    internal PmdPointer(object table, int index) => Slot = new EntrySlot(table, index);

    internal EntrySlot Slot { get; }

    /// <inheritdoc/>
    public override string ToString() => Slot.Describe("pmd_t *");
}

/// <summary>pud_t *: a pud entry as walk_page_range() hands it to pud_entry; read with <see cref="Pgtable.PudpGet"/>, written with <see cref="Pgtable.SetPudAt"/> and <see cref="Pgtable.PudClear"/>.</summary>
public readonly record struct PudPointer
{
    internal PudPointer(object table, int index) => Slot = new EntrySlot(table, index);

    internal EntrySlot Slot { get; }

    /// <inheritdoc/>
    public override string ToString() => Slot.Describe("pud_t *");
}

/// <summary>
/// The entry an entry pointer names: its table, reached through the walk's memory, and its place. 16 bytes, so a pointer
/// passes in two registers to a callback that is not inlined (a larger struct is copied through the stack at every
/// call, and that copy of a just-written struct stalls: it cost the reference walkers several times their time).
/// The table is the <see cref="Page"/> itself for the model's own memory, whose accesses need no interface call, or a
/// <see cref="TableInMemory"/> for any other memory. Equal when table and place are, whatever the memory.
/// </summary>
internal readonly struct EntrySlot : IEquatable<EntrySlot>
{
    private readonly object? _table;

    public EntrySlot(object table, int index)
    {
        _table = table;
        Index = index;
    }

    public Page Table => _table as Page ?? (_table as TableInMemory)?.Table ?? ThrowNull();

    public int Index { get; }

    /// <summary>The memory the entry is reached through; null for the model's own.</summary>
    public IPageTableMemory? Memory => (_table as TableInMemory)?.Memory;

    // The model's own memory inline; another memory out of line, in static methods taking the fields, so that the slot
    // itself never has its address taken and stays in registers in a walker's loop.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Read(MemoryOrder order) =>
        _table is Page page ? ModelMemory.ReadEntry(page, Index, order) : ReadThrough(_table, Index, order);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(ulong value, MemoryOrder order)
    {
        if (_table is Page page)
        {
            ModelMemory.WriteEntry(page, Index, value, order);
        }
        else
        {
            WriteThrough(_table, Index, value, order);
        }
    }

    public ulong CompareExchange(ulong value, ulong comparand) => _table is Page page
        ? ModelMemory.CompareExchangeEntry(page, Index, value, comparand)
        : Through(_table).Memory.CompareExchange(Through(_table).Table, Index, value, comparand);

    public bool Equals(EntrySlot other) => _table is not null && other._table is not null && ReferenceEquals(Table, other.Table) && Index == other.Index
        || _table is null && other._table is null && Index == other.Index;

    public override bool Equals(object? obj) => obj is EntrySlot other && Equals(other);

    public override int GetHashCode() => _table is null ? Index : HashCode.Combine(Table, Index);

    public string Describe(string type) => _table is null ? $"{type} (null)" : $"{type} {Table.Pfn:x}[{Index}]";

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ulong ReadThrough(object? table, int index, MemoryOrder order) => Through(table).Memory.Read(Through(table).Table, index, order);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void WriteThrough(object? table, int index, ulong value, MemoryOrder order) => Through(table).Memory.Write(Through(table).Table, index, value, order);

    private static TableInMemory Through(object? table) => table as TableInMemory ?? ThrowNullThrough();

    /// <summary>A default pointer has no table: a NULL pointer dereference, which the kernel would oops on.</summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static Page ThrowNull() => throw NullDereference();

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static TableInMemory ThrowNullThrough() => throw NullDereference();

    private static KernelOopsException NullDereference() => new(0, "dereference of a NULL entry pointer");
}

/// <summary>A table as an entry pointer names it in a memory other than the model's own: the table and that memory.</summary>
internal sealed class TableInMemory(Page table, IPageTableMemory memory)
{
    public Page Table { get; } = table;

    public IPageTableMemory Memory { get; } = memory;
}
