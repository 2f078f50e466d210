using System.ComponentModel;

namespace PamtGen.CompilerServices;

/// <summary>
/// The record a transactional walk keeps: the PTEs it visited, in order, and the tables it installed. On failure it
/// undoes them in reverse: the undo callback for each visited PTE, then each table it allocated (if empty again) is
/// freed, so the page tables and the allocator's pages are as before the call.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class WalkJournal
{
    private readonly Mm _mm;
    private readonly List<ulong> _visited = [];
    private readonly List<(PageTableLevel Level, Page Parent, int Index)> _tables = [];
    private readonly List<(PageTableLevel Level, Page Parent, int Index)>? _outer;

    /// <summary>Starts journaling the table installs of <paramref name="mm"/>.</summary>
    public WalkJournal(Mm mm)
    {
        ArgumentNullException.ThrowIfNull(mm);
        _mm = mm;
        _outer = mm.TableJournal;
        mm.TableJournal = _tables;
    }

    /// <summary>Records that the walk is about to call its callback for the PTE of <paramref name="addr"/>.</summary>
    public void Visit(ulong addr) => _visited.Add(addr);

    /// <summary>Stops journaling; on success the record is dropped.</summary>
    public void Commit() => _mm.TableJournal = _outer;

    /// <summary>Undoes the walk: <paramref name="undo"/> for every visited PTE, last first, then frees the tables it installed, last first.</summary>
    public void Rollback<TUndo>(ref TUndo undo)
        where TUndo : struct, IPteFn
    {
        _mm.TableJournal = _outer;
        for (int i = _visited.Count - 1; i >= 0; i--)
        {
            ulong addr = _visited[i];
            if (_mm.TryGetEntrySlot(PageTableLevel.Pte, addr, out var table, out int index, out _))
            {
                undo.Invoke(ref Mm.PteAt(table, index), addr);
            }
        }

        for (int i = _tables.Count - 1; i >= 0; i--)
        {
            _mm.FreeTableIfEmpty(_tables[i].Level, _tables[i].Parent, _tables[i].Index);
        }
    }
}

/// <summary>The callback of a transactional walk: records each PTE in the journal, then calls the user's callback.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public struct JournaledPteFn<TFn>(TFn inner, WalkJournal journal) : IPteFn
    where TFn : struct, IPteFn
{
    /// <summary>The user's callback, with the state it accumulated.</summary>
    public TFn Inner = inner;

    /// <inheritdoc/>
    public int Invoke(ref Pte pte, ulong addr)
    {
        journal.Visit(addr);
        return Inner.Invoke(ref pte, addr);
    }
}
