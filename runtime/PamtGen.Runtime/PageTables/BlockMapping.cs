namespace PamtGen;

/// <summary>How <see cref="BlockMapping.MapRange"/> chooses leaves and treats what is already mapped.</summary>
/// <param name="Replace">Replace mappings in the range (as <see cref="BlockMapping.UnmapRange"/> would remove them) instead of failing with -EEXIST.</param>
/// <param name="LargestLeaf">The highest level a leaf may be at: <see cref="PageTableLevel.Pte"/> maps pages only, <see cref="PageTableLevel.Pmd"/> caps blocks at PMD_SIZE; the default allows every block the format has.</param>
public readonly record struct MapRangeOptions(bool Replace = false, PageTableLevel LargestLeaf = PageTableLevel.Pgd)
{
    /// <summary>Pages only, no blocks.</summary>
    public static MapRangeOptions PagesOnly => new(LargestLeaf: PageTableLevel.Pte);
}

/// <summary>
/// Range mapping with blocks, for any geometry and entry format, all or nothing: the operations of a stage-2 manager
/// (KVM's kvm_pgtable_stage2_map()/_unmap()/_split(), aarch64-paging's map_range(), the x86 direct map). The generated
/// <c>MapRange</c>, <c>UnmapRange</c>, <c>Split</c> and <c>Collapse</c> of a geometry class call these with its typed
/// address space. Each operation holds the mm's page-table lock, writes through a journal, and on any failure puts back
/// every entry it wrote and frees every table it allocated, so the tables and the set of allocated pages are exactly as
/// before the call; tables it empties or replaces are freed only when it succeeds. Attributes are leaf field bits as a
/// page (pte) has them; each leaf gets them moved to where its level keeps them (x86's PAT: bit 7 of a PTE, bit 12 of a
/// block). Table entries are the format's TableBits.
/// </summary>
public static class BlockMapping
{
    /// <summary>
    /// Maps [<paramref name="va"/>, +<paramref name="size"/>) to [<paramref name="pa"/>, +<paramref name="size"/>) with the
    /// largest leaf each step allows (aligned va and pa, the level's whole span in the range, a level whose format holds
    /// leaves, no higher than <see cref="MapRangeOptions.LargestLeaf"/>). The physical range need not be the model's pages
    /// (guest RAM, device memory): it is mapped, never allocated or freed. -EINVAL for a misaligned, empty or wrapping
    /// range, or one outside the window or the physical-address bits; -EEXIST when the range overlaps a mapping (unless
    /// <see cref="MapRangeOptions.Replace"/>); -ENOMEM when a table cannot be allocated.
    /// </summary>
    public static int MapRange(Mm mm, ulong va, ulong pa, ulong size, ulong attributes, MapRangeOptions options = default, TlbGather? gather = null)
    {
        ArgumentNullException.ThrowIfNull(mm);
        var g = mm.Geometry;
        if (!ValidRange(g, va, size) || (pa & (g.PageSize - 1)) != 0 || pa + size < pa
            || (g.Format.PhysicalAddressBits < 64 && (pa + size - 1) >> g.Format.PhysicalAddressBits != 0))
        {
            return -Errno.EINVAL;
        }

        return Transaction(mm, gather, journal =>
        {
            // Replacing is unmapping with break-before-make: the old translations are invalidated before the new ones go in.
            int err = options.Replace ? Unmap(journal, 0, mm.Pgd, va, va + size) : 0;
            if (options.Replace)
            {
                mm.Tlb?.InvalidateRange(va, size);
            }

            return err != 0 ? err : Map(journal, 0, mm.Pgd, va, va + size, pa, attributes, options);
        });
    }

    /// <summary>
    /// Unmaps [<paramref name="va"/>, +<paramref name="size"/>): clears the leaves in it, first splitting a block the range
    /// covers only in part (the rest keeps its translation and fields), and frees the tables it empties. -EINVAL for a
    /// misaligned range or an entry that is neither none, a table nor a leaf; -ENOMEM when a split cannot allocate.
    /// </summary>
    public static int UnmapRange(Mm mm, ulong va, ulong size, TlbGather? gather = null)
    {
        ArgumentNullException.ThrowIfNull(mm);
        return ValidRange(mm.Geometry, va, size)
            ? Transaction(mm, gather, journal => Unmap(journal, 0, mm.Pgd, va, va + size))
            : -Errno.EINVAL;
    }

    /// <summary>
    /// Splits the block at <paramref name="level"/> that maps <paramref name="va"/> into a table of leaves one level down
    /// with the same translations and fields (KVM's stage2 split). -EINVAL when there is no block there or the level
    /// below holds no leaves; -ENOMEM when the table cannot be allocated.
    /// </summary>
    public static int Split(Mm mm, ulong va, PageTableLevel level, TlbGather? gather = null)
    {
        ArgumentNullException.ThrowIfNull(mm);
        var g = mm.Geometry;
        int position = g.EntryLevelPosition(level);
        if (position < 0 || level == PageTableLevel.Pte || !mm.TryGetEntrySlot(level, va, out var table, out int index, out _)
            || !g.IsLeafEntry(level, table.Words[index]))
        {
            return -Errno.EINVAL;
        }

        return Transaction(mm, gather, journal => SplitSlot(journal, position, table, index, va));
    }

    /// <summary>
    /// Collapses the table below the entry at <paramref name="level"/> that maps <paramref name="va"/> into one block:
    /// its leaves must map one contiguous range aligned to the block's size with the same fields (hardware-updated ones,
    /// accessed and dirty, are merged: set when set in any), and the level must hold leaves. The table is freed.
    /// -EINVAL when the entry is not such a table.
    /// </summary>
    public static int Collapse(Mm mm, ulong va, PageTableLevel level, TlbGather? gather = null)
    {
        ArgumentNullException.ThrowIfNull(mm);
        var g = mm.Geometry;
        int position = g.EntryLevelPosition(level);
        if (position < 0 || level == PageTableLevel.Pte || !g.HoldsLeaves(level)
            || !mm.TryGetEntrySlot(level, va, out var table, out int index, out _) || !g.IsTableEntry(level, table.Words[index]))
        {
            return -Errno.EINVAL;
        }

        var child = mm.TableOf(table.Words[index]);
        var below = g.EntryLevels[position + 1];
        ulong first = child.Words[0];
        ulong hardware = g.HardwareUpdatedBits(below);
        if (!g.IsLeafEntry(below, first) || (g.LeafAddress(below, first) & (g.Size(level) - 1)) != 0)
        {
            return -Errno.EINVAL;
        }

        ulong start = g.LeafAddress(below, first), fields = g.MoveLeafFields(below, first, below) & ~hardware, merged = 0;
        for (int i = 0; i < child.Words.Length; i++)
        {
            ulong entry = child.Words[i];
            if (!g.IsLeafEntry(below, entry) || g.LeafAddress(below, entry) != start + ((ulong)i * g.Size(below))
                || (g.MoveLeafFields(below, entry, below) & ~hardware) != fields)
            {
                return -Errno.EINVAL;
            }

            merged |= entry & hardware;
        }

        ulong block = g.MakeLeafEntry(level, start, g.MoveLeafFields(below, fields | merged, level));
        return Transaction(mm, gather, journal =>
        {
            journal.Write(table, index, level, va, block);
            journal.FreeOnCommit(child);
            return 0;
        });
    }

    private static int Map(MappingJournal journal, int position, Page table, ulong va, ulong end, ulong pa, ulong attributes, MapRangeOptions options)
    {
        var g = journal.Mm.Geometry;
        var level = g.EntryLevels[position];
        ulong size = g.Size(level);
        var real = g.TableLevel(level);
        for (int index = g.Index(real, va); va != end; index++)
        {
            ulong next = g.AddrEnd(real, va, end);
            ulong entry = table.Words[index];
            bool leaf = level == PageTableLevel.Pte
                || (g.HoldsLeaves(level) && level >= options.LargestLeaf && next - va == size && ((va | pa) & (size - 1)) == 0);
            if (leaf)
            {
                // A table that maps nothing (apply_to_page_range() leaves such tables) is no mapping: the block replaces it.
                bool emptyTable = entry != 0 && level != PageTableLevel.Pte && g.IsTableEntry(level, entry)
                    && MapsNothing(journal.Mm, position + 1, journal.Mm.TableOf(entry));
                if (entry != 0 && !emptyTable)
                {
                    return -Errno.EEXIST;
                }

                journal.Write(table, index, level, va, g.MakeLeafEntry(level, pa, g.MoveLeafFields(PageTableLevel.Pte, attributes, level)));
                if (emptyTable)
                {
                    FreeSubtree(journal, position + 1, journal.Mm.TableOf(entry));
                }
            }
            else
            {
                if (entry == 0)
                {
                    var fresh = journal.AllocTable();
                    if (fresh is null)
                    {
                        return -Errno.ENOMEM;
                    }

                    journal.Write(table, index, level, va, g.MakeTableEntry(fresh.PhysAddr));
                }
                else if (!g.IsTableEntry(level, entry))
                {
                    return -Errno.EEXIST; // a block (or an entry that is not none) already maps part of the range
                }

                int err = Map(journal, position + 1, journal.Mm.TableOf(table.Words[index]), va, next, pa, attributes, options);
                if (err != 0)
                {
                    return err;
                }
            }

            pa += next - va;
            va = next;
        }

        return 0;
    }

    private static int Unmap(MappingJournal journal, int position, Page table, ulong va, ulong end)
    {
        var g = journal.Mm.Geometry;
        var level = g.EntryLevels[position];
        ulong size = g.Size(level);
        var real = g.TableLevel(level);
        for (int index = g.Index(real, va); va != end; index++)
        {
            ulong next = g.AddrEnd(real, va, end);
            ulong entry = table.Words[index];
            if (entry == 0)
            {
                // nothing mapped here
            }
            else if (g.IsLeafEntry(level, entry) && (level == PageTableLevel.Pte || next - va == size))
            {
                journal.Write(table, index, level, va, 0);
            }
            else
            {
                // A block the range covers in part is split first; then the table below is unmapped, and freed when empty.
                int err = g.IsLeafEntry(level, entry) ? SplitSlot(journal, position, table, index, va)
                    : g.IsTableEntry(level, entry) ? 0 : -Errno.EINVAL;
                var child = err == 0 ? journal.Mm.TableOf(table.Words[index]) : null;
                err = child is null ? err : Unmap(journal, position + 1, child, va, next);
                if (err != 0)
                {
                    return err;
                }

                if (Array.TrueForAll(child!.Words, e => e == 0))
                {
                    journal.Write(table, index, level, va, 0);
                    journal.FreeOnCommit(child);
                }
            }

            va = next;
        }

        return 0;
    }

    /// <summary>True when no entry of <paramref name="table"/> (of the level at <paramref name="position"/>) or of the tables below it is a leaf.</summary>
    private static bool MapsNothing(Mm mm, int position, Page table)
    {
        var g = mm.Geometry;
        var level = g.EntryLevels[position];
        foreach (ulong entry in table.Words)
        {
            if (entry != 0 && (level == PageTableLevel.Pte || !g.IsTableEntry(level, entry) || !MapsNothing(mm, position + 1, mm.TableOf(entry))))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Frees, on commit, <paramref name="table"/> and every table below it.</summary>
    private static void FreeSubtree(MappingJournal journal, int position, Page table)
    {
        var g = journal.Mm.Geometry;
        var level = g.EntryLevels[position];
        if (level != PageTableLevel.Pte)
        {
            foreach (ulong entry in table.Words)
            {
                if (entry != 0)
                {
                    FreeSubtree(journal, position + 1, journal.Mm.TableOf(entry));
                }
            }
        }

        journal.FreeOnCommit(table);
    }

    /// <summary>The block in <paramref name="table"/>[<paramref name="index"/>] becomes a table of leaves one level down, same translations and fields.</summary>
    private static int SplitSlot(MappingJournal journal, int position, Page table, int index, ulong va)
    {
        var g = journal.Mm.Geometry;
        var level = g.EntryLevels[position];
        var below = g.EntryLevels[position + 1];
        if (!g.HoldsLeaves(below))
        {
            return -Errno.EINVAL;
        }

        var child = journal.AllocTable();
        if (child is null)
        {
            return -Errno.ENOMEM;
        }

        ulong block = table.Words[index];
        ulong start = g.LeafAddress(level, block), fields = g.MoveLeafFields(level, block, below);
        for (int i = 0; i < child.Words.Length; i++)
        {
            child.Words[i] = g.MakeLeafEntry(below, start + ((ulong)i * g.Size(below)), fields); // not yet reachable: no journal needed
        }

        journal.Write(table, index, level, va, g.MakeTableEntry(child.PhysAddr));
        return 0;
    }

    /// <summary>
    /// Runs <paramref name="operation"/> under the page-table lock and commits its journal, or rolls it back on an error.
    /// The ranges it leaves to invalidate go to <paramref name="gather"/>, or, without one, are invalidated at the end.
    /// </summary>
    private static int Transaction(Mm mm, TlbGather? gather, Func<MappingJournal, int> operation)
    {
        lock (mm.PageTableLock)
        {
            var own = gather ?? new TlbGather();
            var journal = new MappingJournal(mm, own);
            int err;
            try
            {
                err = operation(journal);
            }
            catch
            {
                journal.Rollback();
                throw;
            }

            if (err == 0)
            {
                journal.Commit();
            }
            else
            {
                journal.Rollback();
            }

            if (gather is null)
            {
                own.Flush(mm);
            }

            return err;
        }
    }

    private static bool ValidRange(Geometry g, ulong va, ulong size) =>
        size != 0 && ((va | size) & (g.PageSize - 1)) == 0 && va + size > va && g.InOneWindow(va, va + size);

    /// <summary>
    /// Every entry an operation writes, the tables it allocates and those it frees only if it succeeds. A write that the
    /// format says needs break-before-make goes through an invalid entry and an invalidation of the entry's range first,
    /// as KVM's stage2_try_break_pte() and stage2_make_pte() do; any other change of a valid entry leaves its range to
    /// the gather.
    /// </summary>
    private sealed class MappingJournal(Mm mm, TlbGather gather)
    {
        private readonly List<(Page Table, int Index, PageTableLevel Level, ulong Va, ulong Old)> _writes = [];
        private readonly List<Page> _allocated = [];
        private readonly HashSet<Page> _fresh = new(ReferenceEqualityComparer.Instance);
        private readonly List<Page> _freeOnCommit = [];

        public Mm Mm { get; } = mm;

        /// <summary>Writes the entry of <paramref name="level"/> whose range holds <paramref name="va"/>.</summary>
        public void Write(Page table, int index, PageTableLevel level, ulong va, ulong value)
        {
            var g = Mm.Geometry;
            ulong size = g.Size(level), start = va & ~(size - 1), old = table.Words[index];
            if (!_fresh.Contains(table))
            {
                _writes.Add((table, index, level, start, old)); // a table this operation allocated is freed on rollback: its entries need no record
            }

            if (g.NeedsBreakBeforeMake(level, old, value))
            {
                Set(table, index, level, start, old, 0);
                Mm.Tlb?.InvalidateRange(start, size);
                old = 0;
            }
            else if (old != 0 && old != value)
            {
                gather.Add(start, size);
            }

            Set(table, index, level, start, old, value);
        }

        private void Set(Page table, int index, PageTableLevel level, ulong va, ulong old, ulong value)
        {
            Volatile.Write(ref table.Words[index], value);
            Mm.Tlb?.EntryChanged(level, va, old, value);
        }

        public Page? AllocTable()
        {
            var page = Mm.Allocator.AllocPageTable(Mm.Geometry.PtrsPerTable);
            if (page is not null)
            {
                _allocated.Add(page);
                _fresh.Add(page);
            }

            return page;
        }

        public void FreeOnCommit(Page table) => _freeOnCommit.Add(table);

        public void Commit()
        {
            foreach (var table in _freeOnCommit)
            {
                Mm.Allocator.FreePage(table);
            }
        }

        /// <summary>Puts every entry back as it was, without the checks a change gets: the state before the operation was
        /// consistent, and the ranges it touched are invalidated, so no translation of the failed attempt stays cached.</summary>
        public void Rollback()
        {
            for (int i = _writes.Count - 1; i >= 0; i--)
            {
                var (table, index, level, va, old) = _writes[i];
                Volatile.Write(ref table.Words[index], old);
                Mm.Tlb?.InvalidateRange(va, Mm.Geometry.Size(level));
            }

            for (int i = _allocated.Count - 1; i >= 0; i--)
            {
                Mm.Allocator.FreePage(_allocated[i]);
            }
        }
    }
}
