using System.ComponentModel;

namespace PamtGen.CompilerServices;

/// <summary>
/// The one journal of the all-or-nothing operations (the transactional apply, MapRange, UnmapRange, Split, Collapse):
/// the entries an operation wrote with what they held, the tables it allocated, the tables it will free only when it
/// succeeds, and the PTEs whose callback it ran. <see cref="Commit"/> frees what was to be freed; a rollback
/// calls the undo callback for each visited PTE (last first), puts every written entry back (invalidating its range in
/// the TLB model, so no translation of the failed attempt stays cached) and frees the tables the operation allocated,
/// so the tables and the allocator hold what they held before. Entries of a table the operation itself allocated are
/// not recorded: the table goes with the rollback. apply_to_page_range() and apply_to_existing_page_range() keep the
/// kernel's partial progress and use no journal.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class Journal
{
    private readonly List<(Page Table, int Index, PageTableLevel Level, ulong Va, ulong Old)> _writes = [];
    private readonly List<Page> _allocated = [];
    private readonly HashSet<Page> _fresh = new(ReferenceEqualityComparer.Instance);
    private readonly List<Page> _freeOnCommit = [];
    private readonly List<ulong> _visited = [];

    /// <summary>A journal of operations on <paramref name="mm"/>.</summary>
    public Journal(Mm mm)
    {
        ArgumentNullException.ThrowIfNull(mm);
        Mm = mm;
    }

    /// <summary>The address space the operation changes.</summary>
    public Mm Mm { get; }

    /// <summary>Records that the entry <paramref name="index"/> of <paramref name="table"/>, of <paramref name="level"/> for <paramref name="va"/>, held <paramref name="old"/> before the operation wrote it.</summary>
    public void Wrote(Page table, int index, PageTableLevel level, ulong va, ulong old)
    {
        if (!_fresh.Contains(table))
        {
            _writes.Add((table, index, level, va, old));
        }
    }

    /// <summary>Records a table the operation allocated: freed by a rollback.</summary>
    public void Allocated(Page table)
    {
        _allocated.Add(table);
        _fresh.Add(table);
    }

    /// <summary>A table the operation unlinked: freed when it commits, kept (linked again) when it rolls back.</summary>
    public void FreeOnCommit(Page table) => _freeOnCommit.Add(table);

    /// <summary>Records that the walk is about to call its callback for the PTE of <paramref name="addr"/>.</summary>
    public void Visit(ulong addr) => _visited.Add(addr);

    /// <summary>The operation succeeded: frees the tables it unlinked.</summary>
    public void Commit<TMemory>(ref TMemory memory)
        where TMemory : struct, IPageTableMemory
    {
        foreach (var table in _freeOnCommit)
        {
            memory.FreeTable(table);
        }

        Clear();
    }

    /// <summary>Drops the record and changes nothing: an exception is not an operation's error, and nothing is undone.</summary>
    public void Abandon() => Clear();

    /// <summary>Puts every written entry back, last first, and frees every table the operation allocated.</summary>
    public void Rollback<TMemory>(ref TMemory memory)
        where TMemory : struct, IPageTableMemory
    {
        for (int i = _writes.Count - 1; i >= 0; i--)
        {
            var (table, index, level, va, old) = _writes[i];
            memory.Write(table, index, old, MemoryOrder.Once);
            Mm.Tlb?.InvalidateRange(va & ~(Mm.Geometry.Size(level) - 1), Mm.Geometry.Size(level));
        }

        for (int i = _allocated.Count - 1; i >= 0; i--)
        {
            memory.FreeTable(_allocated[i]);
        }

        Clear();
    }

    /// <summary>
    /// The transactional apply's rollback: <paramref name="undo"/> for every PTE whose callback ran, last first (with the
    /// tables still in place), then <see cref="Rollback{TMemory}(ref TMemory)"/>.
    /// </summary>
    public void Rollback<TMemory, TUndo>(ref TMemory memory, ref TUndo undo)
        where TMemory : struct, IPageTableMemory
        where TUndo : struct, IPteFn
    {
        for (int i = _visited.Count - 1; i >= 0; i--)
        {
            ulong addr = _visited[i];
            if (Mm.TryGetPte(addr, ref memory, out var pte))
            {
                undo.Invoke(pte, addr);
            }
        }

        Rollback(ref memory);
    }

    private void Clear()
    {
        _writes.Clear();
        _allocated.Clear();
        _fresh.Clear();
        _freeOnCommit.Clear();
        _visited.Clear();
    }
}

/// <summary>The callback of a transactional walk: records each PTE in the journal, then calls the user's callback.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public struct JournaledPteFn<TFn>(TFn inner, Journal journal) : IPteFn
    where TFn : struct, IPteFn
{
    /// <summary>The user's callback, with the state it accumulated.</summary>
    public TFn Inner = inner;

    /// <inheritdoc/>
    public int Invoke(PtePointer pte, ulong addr)
    {
        journal.Visit(addr);
        return Inner.Invoke(pte, addr);
    }
}
