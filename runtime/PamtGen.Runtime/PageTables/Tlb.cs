namespace PamtGen;

/// <summary>One translation a TLB may hold: the virtual range of a leaf, where it maps, and the leaf's fields (as a page has them).</summary>
/// <param name="Va">The first virtual address of the leaf.</param>
/// <param name="Size">The bytes the leaf maps (its level's size).</param>
/// <param name="Pa">The output address of the leaf's first byte.</param>
/// <param name="Fields">The leaf's field bits, moved to where a pte keeps them.</param>
/// <param name="Level">The level of the leaf.</param>
public readonly record struct CachedTranslation(ulong Va, ulong Size, ulong Pa, ulong Fields, PageTableLevel Level)
{
    /// <summary>Where this translation sends <paramref name="va"/> (inside it): the output address and the fields.</summary>
    public (ulong Pa, ulong Fields) Of(ulong va) => (Pa + (va - Va), Fields);

    /// <inheritdoc/>
    public override string ToString() => $"{Level} [0x{Va:x} +0x{Size:x}) -> 0x{Pa:x} fields 0x{Fields:x}";
}

/// <summary>
/// The TLB of an address space with the freedom the architectures give it: it may hold any translation that was valid
/// for an address since that address was last invalidated, speculation included. So at every moment it may hold the
/// translations the tables give now, and every translation replaced or removed since the last invalidation of its
/// addresses (<see cref="Stale"/>). Invalidation by address, by range and of everything (x86 INVLPG and a CR3 reload,
/// arm64 TLBI VAE1/IPAS2E1 and VMALLE1). <see cref="Mm.TrackTlb"/> attaches it; without it the model keeps no TLB state.
/// In <see cref="Strict"/> mode an entry change is a kernel BUG, at the moment it happens, when it needs break-before-make
/// (the format says so) and did not go through an invalid entry and an invalidation, or when it makes an address
/// translate differently from a stale translation the TLB may still hold (one an earlier change left without an
/// invalidation since): another output address, or a field the format makes break-before-make. A change that needs no
/// break-before-make (permissions, the access flag; any change on x86) may replace a valid entry directly: the old
/// translation is stale until its range is invalidated, and <see cref="Mm.Translate"/> may still answer with it.
/// </summary>
public sealed class Tlb
{
    private readonly Lock _lock = new();
    private readonly List<CachedTranslation> _stale = [];
    // The cache, per leaf size seen: read without the lock (a lookup must cost less than a walk), added to under it.
    private (int Shift, System.Collections.Concurrent.ConcurrentDictionary<ulong, Translation> Entries)[] _cache = [];
    private long _hits, _misses;
    private readonly Mm _mm;

    internal Tlb(Mm mm, bool strict)
    {
        _mm = mm;
        Strict = strict;
    }

    /// <summary>Whether a change that breaks break-before-make, or leaves a different translation possibly cached, is a BUG.</summary>
    public bool Strict { get; set; }

    /// <summary>Invalidations done, each call one (a range counts once).</summary>
    public long Invalidations { get; private set; }

    /// <summary>Translations <see cref="Mm.Translate"/> answered from the cache, without reading an entry.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Translations <see cref="Mm.Translate"/> had to walk for.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>The translations the cache holds now (filled by <see cref="Mm.Translate"/>, emptied by invalidation).</summary>
    public int Cached => Volatile.Read(ref _cache).Sum(c => c.Entries.Count);

    /// <summary>
    /// A cached translation of <paramref name="va"/> that allows <paramref name="access"/>. One that does not is dropped
    /// and the caller walks: a fault invalidates the address's entries (x86), and a write through a translation whose
    /// dirty flag is clear walks to set it. A cached translation stays until invalidated, even when the tables change:
    /// a missing invalidation shows as a stale answer, as on the hardware.
    /// </summary>
    internal bool TryLookup(ulong va, Access access, TranslateOptions options, out Translation hit)
    {
        bool needsDirty = (access & Access.Write) != 0 && (options & TranslateOptions.UpdateAccessedDirty) != 0;
        foreach (var (shift, entries) in Volatile.Read(ref _cache))
        {
            if (entries.TryGetValue(va >> shift, out var cached))
            {
                if (CompilerServices.TranslationRules.Check(cached.Permissions, access) == FaultReason.None && (!needsDirty || cached.Dirty))
                {
                    Interlocked.Increment(ref _hits);
                    hit = cached with { OutputAddress = cached.OutputAddress + (va & (cached.Size - 1)), Access = access, EntriesRead = 0, FaultAddress = va };
                    return true;
                }

                entries.TryRemove(va >> shift, out _);
            }
        }

        Interlocked.Increment(ref _misses);
        hit = default;
        return false;
    }

    /// <summary>Fills the cache with a successful translation of <paramref name="va"/>; a fault drops what it holds for the address.</summary>
    internal void Record(ulong va, Translation result)
    {
        if (result.IsFault)
        {
            foreach (var (shift, entries) in Volatile.Read(ref _cache))
            {
                entries.TryRemove(va >> shift, out _);
            }

            return;
        }

        int size = System.Numerics.BitOperations.Log2(result.Size);
        var cache = Volatile.Read(ref _cache);
        int at = IndexOf(cache, size);
        if (at < 0)
        {
            lock (_lock)
            {
                cache = _cache;
                at = IndexOf(cache, size);
                if (at < 0)
                {
                    cache = [.. cache, (size, new System.Collections.Concurrent.ConcurrentDictionary<ulong, Translation>())];
                    at = cache.Length - 1;
                    Volatile.Write(ref _cache, cache);
                }
            }
        }

        cache[at].Entries[va >> size] = result with { OutputAddress = result.OutputAddress - (va & (result.Size - 1)) };

        // The cache's place for a leaf size: a loop over the few sizes, with no closure (Record runs on every miss).
        static int IndexOf((int Shift, System.Collections.Concurrent.ConcurrentDictionary<ulong, Translation> Entries)[] cache, int shift)
        {
            for (int i = 0; i < cache.Length; i++)
            {
                if (cache[i].Shift == shift)
                {
                    return i;
                }
            }

            return -1;
        }
    }

    /// <summary>Translations no longer in the tables that the TLB may still hold (not invalidated since they went).</summary>
    public IReadOnlyList<CachedTranslation> Stale
    {
        get
        {
            lock (_lock)
            {
                return _stale.ToArray();
            }
        }
    }

    /// <summary>Every translation of <paramref name="va"/> the TLB may hold: the one the tables give now, if any, and the stale ones.</summary>
    public IReadOnlyList<CachedTranslation> PossiblyCached(ulong va)
    {
        var all = new List<CachedTranslation>();
        if (Current(va) is { } current)
        {
            all.Add(current);
        }

        lock (_lock)
        {
            all.AddRange(_stale.Where(t => t.Va <= va && va - t.Va < t.Size));
        }

        return all;
    }


    /// <summary>Invalidates the translations of the page holding <paramref name="va"/> (INVLPG, TLBI VAE1).</summary>
    public void InvalidateAddress(ulong va) => InvalidateRange(va & ~(_mm.Geometry.PageSize - 1), _mm.Geometry.PageSize);

    /// <summary>Invalidates every translation that maps part of [<paramref name="va"/>, +<paramref name="size"/>) (flush_tlb_kernel_range()).</summary>
    public void InvalidateRange(ulong va, ulong size)
    {
        lock (_lock)
        {
            Invalidations++;
            _stale.RemoveAll(t => t.Va < va + size && va < t.Va + t.Size);
            foreach (var (shift, entries) in _cache)
            {
                ulong first = va >> shift, last = (va + size - 1) >> shift;
                if (last - first < (ulong)entries.Count)
                {
                    for (ulong key = first; ; key++)
                    {
                        entries.TryRemove(key, out _);
                        if (key == last)
                        {
                            break;
                        }
                    }
                }
                else
                {
                    foreach (ulong key in entries.Keys.Where(k => k >= first && k <= last).ToArray())
                    {
                        entries.TryRemove(key, out _);
                    }
                }
            }
        }
    }

    /// <summary>Invalidates everything (a CR3 reload without PCID, TLBI VMALLE1).</summary>
    public void InvalidateAll()
    {
        lock (_lock)
        {
            Invalidations++;
            _stale.Clear();
            foreach (var (_, entries) in _cache)
            {
                entries.Clear();
            }
        }
    }

    /// <summary>
    /// The entry for [<paramref name="va"/>, +Size(<paramref name="level"/>)) changes from <paramref name="old"/> to
    /// <paramref name="new"/>: the translations under the old entry that the new one does not give become stale; in strict
    /// mode, a BUG when the change needs break-before-make or sends an address elsewhere than a stale translation does.
    /// A new table entry's translations are those of its table as it is at the call.
    /// </summary>
    internal void EntryChanged(PageTableLevel level, ulong va, ulong old, ulong @new)
    {
        var g = _mm.Geometry;
        ulong size = g.Size(level);
        va &= ~(size - 1);
        if (Strict && g.NeedsBreakBeforeMake(level, old, @new))
        {
            throw new KernelBugException(
                $"break-before-make: the {level} entry for 0x{va:x} changed from 0x{old:x} to 0x{@new:x} without an invalid entry and a TLB invalidation in between", va >> g.PageShift);
        }

        var before = Translations(level, va, old);
        var after = Translations(level, va, @new);
        lock (_lock)
        {
            if (Strict)
            {
                foreach (var now in after)
                {
                    foreach (var cached in _stale)
                    {
                        if (Conflicts(g, cached, now, out ulong at))
                        {
                            throw new KernelBugException(
                                $"missing TLB invalidation: 0x{at:x} now maps 0x{now.Of(at).Pa:x} (fields 0x{now.Fields:x}) while the TLB may still hold 0x{cached.Of(at).Pa:x} (fields 0x{cached.Fields:x}) from {cached}", at >> g.PageShift);
                        }
                    }
                }
            }

            foreach (var gone in before)
            {
                if (!Covered(gone, after))
                {
                    _stale.Add(gone);
                }
            }
        }
    }

    /// <summary>
    /// Whether a stale translation and a new one overlap and the TLB may not hold both: they send some address to
    /// different places, or with fields the format makes break-before-make (memory type, shareability, nG set); where.
    /// Permissions and the access flag may differ (the Arm ARM needs no break-before-make for them; x86 has none): the
    /// stale one is still answered by <see cref="Mm.Translate"/> until an invalidation, as the hardware may.
    /// </summary>
    private static bool Conflicts(Geometry g, CachedTranslation stale, CachedTranslation now, out ulong at)
    {
        at = Math.Max(stale.Va, now.Va);
        if (at >= Math.Min(stale.Va + stale.Size, now.Va + now.Size))
        {
            return false;
        }

        var (stalePa, staleFields) = stale.Of(at);
        var (nowPa, nowFields) = now.Of(at);
        return stalePa != nowPa || g.PageFieldsNeedBreakBeforeMake(staleFields, nowFields);
    }

    /// <summary>
    /// True when <paramref name="translations"/> give every address of <paramref name="a"/> the output and fields it gives
    /// (a block split into pages that map as it did): then the TLB holding <paramref name="a"/> holds nothing different.
    /// </summary>
    private static bool Covered(CachedTranslation a, List<CachedTranslation> translations)
    {
        ulong covered = 0;
        foreach (var t in translations)
        {
            ulong from = Math.Max(a.Va, t.Va), to = Math.Min(a.Va + a.Size, t.Va + t.Size);
            if (from < to && t.Of(from) == a.Of(from))
            {
                covered += to - from;
            }
        }

        return covered == a.Size;
    }

    /// <summary>The leaves an entry gives: itself when a leaf, those of its table's subtree when a table (found by the one walk), none otherwise.</summary>
    private List<CachedTranslation> Translations(PageTableLevel level, ulong va, ulong entry)
    {
        var g = _mm.Geometry;
        var found = new List<CachedTranslation>();
        if (g.IsUsableLeaf(level, entry))
        {
            found.Add(new CachedTranslation(va, g.Size(level), g.LeafAddress(level, entry), g.MoveLeafFields(level, entry, PageTableLevel.Pte), level));
        }
        else if (level != PageTableLevel.Pte && PageTableWalk.Descends(g, WalkView.Hardware, level, entry))
        {
            var memory = ModelMemory.Of(_mm);
            if (memory.TableAt(g.TableAddress(entry)) is { } table)
            {
                var leaves = new LeafTranslations(found);
                PageTableWalk.WalkTable(g, g.EntryLevelPosition(level) + 1, table, va, va + g.Size(level), ref leaves, ref memory);
            }
        }

        return found;
    }

    /// <summary>The leaves of a subtree, as translations the TLB may hold.</summary>
    private readonly struct LeafTranslations(List<CachedTranslation> found) : ITableVisitor
    {
        public static TableVisits Visits => TableVisits.Leaf;

        public static WalkView View => WalkView.Hardware;

        public int Visit<TMemory>(ref WalkContext context, TableVisits visit, ref TMemory memory)
            where TMemory : struct, IPageTableMemory
        {
            var g = context.Geometry;
            if (g.IsUsableLeaf(context.Level, context.Old))
            {
                found.Add(new CachedTranslation(context.EntryStart, context.Size, g.LeafAddress(context.Level, context.Old), g.MoveLeafFields(context.Level, context.Old, PageTableLevel.Pte), context.Level));
            }

            return 0;
        }
    }

    /// <summary>The translation the tables give <paramref name="va"/> now, if any.</summary>
    private CachedTranslation? Current(ulong va) =>
        _mm.TryGetLeaf(va, out var level, out ulong leaf) ? Translations(level, va & ~(_mm.Geometry.Size(level) - 1), leaf)[0] : null;
}

/// <summary>
/// The ranges a batch of page-table changes leaves to invalidate, flushed once by the caller (the kernel's mmu_gather,
/// tlb_flush_mmu()). The block-mapping operations add to it what they unmap or change; changes that need
/// break-before-make they invalidate themselves, between the invalid entry and the new one.
/// </summary>
public sealed class TlbGather
{
    private readonly List<(ulong Va, ulong Size)> _ranges = [];

    /// <summary>The ranges gathered since the last flush.</summary>
    public IReadOnlyList<(ulong Va, ulong Size)> Ranges => _ranges;

    /// <summary>Adds [<paramref name="va"/>, +<paramref name="size"/>) (tlb_flush_pmd_range() and friends).</summary>
    public void Add(ulong va, ulong size) => _ranges.Add((va, size));

    /// <summary>Invalidates every gathered range in <paramref name="mm"/>'s TLB (if it tracks one) and starts over.</summary>
    public void Flush(Mm mm)
    {
        ArgumentNullException.ThrowIfNull(mm);
        foreach (var (va, size) in _ranges)
        {
            mm.Tlb?.InvalidateRange(va, size);
        }

        _ranges.Clear();
    }
}
