namespace PamtGen;

/// <summary>
/// What every generated entry struct (<c>X86_64.Entry</c>, <c>Stage2.Entry</c>) is: a raw entry read through its
/// geometry's format. The analyzers treat <see cref="IsNone"/> and <see cref="IsValid"/> of the callback's entry as its
/// pte_none() check, and <see cref="PageAllocator.PtePage{TEntry}(TEntry)"/> of it as pte_page().
/// </summary>
public interface IPageTableEntry
{
    /// <summary>The raw entry.</summary>
    ulong Value { get; }

    /// <summary>pte_none(): the entry is zero.</summary>
    bool IsNone { get; }

    /// <summary>The entry is valid at <paramref name="level"/>.</summary>
    bool IsValid(PageTableLevel level);

    /// <summary>pXd_leaf(): the entry is a valid leaf (a page, or a block above the last level) at <paramref name="level"/>.</summary>
    bool IsLeaf(PageTableLevel level);

    /// <summary>The entry is a valid pointer to a table at <paramref name="level"/>.</summary>
    bool IsTable(PageTableLevel level);

    /// <summary>A leaf's output address, or the address of the table a table entry points to.</summary>
    ulong OutputAddress(PageTableLevel level);
}
