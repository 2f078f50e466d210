using Xunit.Abstractions;
using PamtGen.Testing;

namespace PamtGen.Generator.Tests;

/// <summary>
/// Translate against a reference written here from the manuals (docs/TRANSLATION.md names the sections): the test
/// encodes every entry itself, remembers each in a dictionary keyed by level and address, and resolves an address by
/// looking its entries up there, applying the architecture's permission, reserved-bit and access-flag rules. On random
/// tables (leaves of every size, permission bits in table entries, planted reserved bits and invalid entries) and random
/// accesses, for every shipped format, the generated walk and the runtime's loop must both give the reference's answer,
/// and with hardware updates change exactly the entries the reference says. CI runs 60 scenarios per geometry,
/// scaled by PAMTGEN_FUZZ_CASES (FuzzSize).
/// </summary>
public class TranslationTests(ITestOutputHelper output)
{
    private static readonly int Scenarios =
        FuzzSize.Scaled(60);

    public static TheoryData<string> Names => ProbeGeometries.Theory();

    [Theory]
    [MemberData(nameof(Names))]
    public void Translations_agree_with_the_reference_for_every_access(string name)
    {
        var counts = new Dictionary<string, int>();
        for (int scenario = 0; scenario < Scenarios; scenario++)
        {
            var random = new Random((scenario * 104729) + name.Length);
            var world = new Tables(name, random);
            for (int probe = 0; probe < 64; probe++)
            {
                ulong va = world.Probe();
                var access = RandomAccess(random);
                var options = RandomControls(random);
                var expected = world.Reference(va, access, update: false, options);
                var generated = world.Mm.Translate(va, access, options);
                var loop = Translator.Translate(world.Mm, va, access, options);
                string where = $"{name} scenario {scenario}: {access} ({options}) at 0x{va:x}";
                Same(expected, generated, where + " (generated)");
                Same(expected, loop, where + " (runtime loop)");
                string key = expected.Ok ? $"ok {expected.Level}" : $"{expected.Fault} {expected.Level}";
                counts[key] = counts.GetValueOrDefault(key) + 1;
            }
        }

        output.WriteLine($"{name}: {Scenarios * 64} translations, {string.Join(", ", counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key} {c.Value}"))}");

        // The scenarios reach every kind of answer the format can give.
        var g = ProbeGeometries.GeometryOf(name);
        Assert.Contains(counts.Keys, k => k.StartsWith("ok Pte", StringComparison.Ordinal));
        Assert.Contains(counts.Keys, k => k.StartsWith("ok", StringComparison.Ordinal) && !k.EndsWith("Pte", StringComparison.Ordinal));
        Assert.Contains(counts.Keys, k => k.StartsWith("NotPresent", StringComparison.Ordinal));
        Assert.Contains(counts.Keys, k => k.StartsWith("Write", StringComparison.Ordinal));
        Assert.Contains(counts.Keys, k => k.StartsWith("Execute", StringComparison.Ordinal) || k.StartsWith("User", StringComparison.Ordinal));
        if (g.Format.Name.StartsWith("x86-64", StringComparison.Ordinal))
        {
            Assert.Contains(counts.Keys, k => k.StartsWith("Execute", StringComparison.Ordinal)); // XD at some level
        }

        if (g.Format.Name.StartsWith("x86", StringComparison.Ordinal))
        {
            Assert.Contains(counts.Keys, k => k.StartsWith("ReservedBits", StringComparison.Ordinal));
            Assert.Contains(counts.Keys, k => k.StartsWith("User", StringComparison.Ordinal));
        }
        else if (g.Format.Name == "Intel EPT")
        {
            foreach (string reason in new[] { "ReservedBits", "Read", "User" }) // misconfigurations; execute-only pages; MBEC's user-execute
            {
                Assert.Contains(counts.Keys, k => k.StartsWith(reason, StringComparison.Ordinal));
            }
        }
        else if (g.Format.Name.StartsWith("RISC-V", StringComparison.Ordinal))
        {
            foreach (string reason in new[] { "ReservedBits", "User", "Read", "AccessFlag", "DirtyFlag" })
            {
                Assert.Contains(counts.Keys, k => k.StartsWith(reason, StringComparison.Ordinal));
            }
        }
        else
        {
            Assert.Contains(counts.Keys, k => k.StartsWith("AccessFlag", StringComparison.Ordinal));
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Hardware_updates_change_exactly_the_entries_the_architecture_names(string name)
    {
        int updated = 0;
        for (int scenario = 0; scenario < Math.Max(10, Scenarios / 3); scenario++)
        {
            // The same tables twice: one translated by the generated walk, one by the runtime's loop.
            var generatedWorld = new Tables(name, new Random(scenario + 17));
            var loopWorld = new Tables(name, new Random(scenario + 17));
            var random = new Random(scenario);
            for (int probe = 0; probe < 48; probe++)
            {
                ulong va = generatedWorld.Probe(random);
                var access = RandomAccess(random);
                string where = $"{name} scenario {scenario}: {access} at 0x{va:x} with updates";
                var before = generatedWorld.Mm.Snapshot();
                var expected = generatedWorld.Reference(va, access, update: true);
                Same(expected, generatedWorld.Mm.Translate(va, access, TranslateOptions.UpdateAccessedDirty), where + " (generated)");
                Same(expected, Translator.Translate(loopWorld.Mm, va, access, TranslateOptions.UpdateAccessedDirty), where + " (runtime loop)");
                var after = generatedWorld.Mm.Snapshot();
                Assert.Equal(after, loopWorld.Mm.Snapshot());
                var changed = after.Except(before).ToArray();
                Assert.True(
                    changed.Select(e => (e.Level, e.Address, e.Value)).OrderBy(e => e.Address).SequenceEqual(generatedWorld.Updated.OrderBy(e => e.Address)),
                    $"{where}: changed {string.Join(", ", changed)}; the reference changed {string.Join(", ", generatedWorld.Updated)}");
                updated += changed.Length;
            }
        }

        Assert.True(updated > 0, "no translation updated an entry");
    }

    [Theory]
    [InlineData("X86_64FourLevel")]
    [InlineData("Arm64Granule4K")]
    [InlineData("Arm64Stage2Ipa40")]
    public void Eight_threads_translating_at_once_set_each_bit_the_architecture_sets_and_no_other(string name)
    {
        var world = new Tables(name, new Random(5), plantFaults: false);
        // Reads and writes: their outcomes do not depend on the bits the walkers set, so the final tables do not depend on the order.
        var probes = Enumerable.Range(0, 4000).Select(i => (Va: world.Probe(new Random(i)), Access: (i % 2 == 0 ? Access.Read : Access.Write) | (i % 3 == 0 ? Access.User : 0))).ToArray();

        // The expected final tables: every probe applied one after the other to the reference (the bits only grow, so order does not matter).
        foreach (var (va, access) in probes)
        {
            world.Reference(va, access, update: true);
        }

        var expected = world.Expected();
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, thread =>
        {
            for (int i = thread; i < probes.Length; i += 8)
            {
                world.Mm.Translate(probes[i].Va, probes[i].Access, TranslateOptions.UpdateAccessedDirty);
            }
        });
        var actual = world.Mm.Snapshot().ToDictionary(e => (e.Level, e.Address), e => e.Value);
        foreach (var (key, value) in expected)
        {
            Assert.True(actual.TryGetValue(key, out ulong got) && got == value, $"{name}: {key.Level} 0x{key.Address:x} is 0x{got:x}, the reference says 0x{value:x}");
        }
    }

    [Fact]
    public void A_fault_says_its_level_and_reason_and_x86_gives_the_error_code()
    {
        var allocator = PageAllocator.Synthetic(256);
        var mm = new Probe.X86_64FourLevel.AddressSpace(allocator);
        Assert.True(mm.SetEntry(PageTableLevel.Pte, 0x40_0000, 0x1234_5000 | 0x1)); // present, read-only, supervisor (the tables: 0x63, no U/S)
        var write = Probe.X86_64FourLevel.Translate(mm, 0x40_0123, Access.Write);
        Assert.Equal((FaultReason.Write, PageTableLevel.Pte, 0x3), (write.Fault, write.Level, write.ErrorCode)); // P | W
        var user = Probe.X86_64FourLevel.Translate(mm, 0x40_0123, Access.Read | Access.User);
        Assert.Equal((FaultReason.User, PageTableLevel.Pte, 0x5), (user.Fault, user.Level, user.ErrorCode)); // P | U
        var missing = Probe.X86_64FourLevel.Translate(mm, 0x80_0000, Access.Execute);
        Assert.Equal((FaultReason.NotPresent, PageTableLevel.Pmd, 0x10), (missing.Fault, missing.Level, missing.ErrorCode)); // I/D only
        Assert.True(mm.SetEntry(PageTableLevel.Pmd, 0x4000_0000, 0x8000_0000 | 0x83 | (1UL << 13))); // a 2 MiB page with bit 13 set
        var reserved = Probe.X86_64FourLevel.Translate(mm, 0x4000_0000, Access.Read);
        Assert.Equal((FaultReason.ReservedBits, PageTableLevel.Pmd, 0x9), (reserved.Fault, reserved.Level, reserved.ErrorCode)); // P | RSVD
        var ok = Probe.X86_64FourLevel.Translate(mm, 0x40_0123, Access.Read);
        Assert.Equal(
            (0x1234_5123UL, PageTableLevel.Pte, 0x1000UL, Permissions.KernelRead | Permissions.KernelExecute, 4, 0),
            (ok.OutputAddress, ok.Level, ok.Size, ok.Permissions, ok.EntriesRead, ok.ErrorCode));

        // With updates, A in every entry the walk used (the tables' A cleared first), D only in the leaf of a write.
        foreach (var level in new[] { PageTableLevel.P4d, PageTableLevel.Pud, PageTableLevel.Pmd })
        {
            Assert.True(mm.TryGetEntry(level, 0x40_0000, out ulong entry));
            Assert.True(mm.SetEntry(level, 0x40_0000, entry & ~0x20UL));
        }

        Assert.True(Probe.X86_64FourLevel.Translate(mm, 0x40_0000, Access.Read, TranslateOptions.UpdateAccessedDirty).Ok);
        Assert.Equal(
            ["P4d 0x0: 0x{0:x}", "Pud 0x0: 0x{0:x}", "Pmd 0x400000: 0x{0:x}", "Pte 0x400000: 0x12345021"],
            mm.Snapshot().Where(e => e.Address < 0x4000_0000).Select(e => e.Level == PageTableLevel.Pte ? e.ToString() : $"{e.Level} 0x{e.Address:x}: 0x{{0:x}}").ToArray());
        Assert.All(mm.Snapshot().Where(e => e.Address < 0x4000_0000), e => Assert.Equal(0x20UL, e.Value & 0x20));
    }

    [Fact]
    public void The_tlb_answers_without_reading_until_invalidated_even_when_the_tables_changed()
    {
        var allocator = PageAllocator.Synthetic(256);
        var mm = new Probe.X86_64FourLevel.AddressSpace(allocator);
        var tlb = mm.TrackTlb();
        Assert.True(mm.SetEntry(PageTableLevel.Pte, 0x40_0000, 0x1234_5000 | 0x63)); // present, writable, accessed, dirty
        var miss = mm.Translate(0x40_0008, Access.Read);
        var hit = mm.Translate(0x40_0010, Access.Write);
        Assert.Equal((4, 0, 0x1234_5010UL), (miss.EntriesRead, hit.EntriesRead, hit.OutputAddress));
        Assert.Equal((1L, 1L), (tlb.Hits, tlb.Misses));

        // The entry changes without an invalidation: the TLB still answers with the old translation, as the hardware may.
        Assert.True(mm.SetEntry(PageTableLevel.Pte, 0x40_0000, 0x5555_5000 | 0x63));
        Assert.Equal(0x1234_5000UL, mm.Translate(0x40_0000, Access.Read).OutputAddress);
        tlb.InvalidateAddress(0x40_0000);
        Assert.Equal(0x5555_5000UL, mm.Translate(0x40_0000, Access.Read).OutputAddress);
        Assert.Equal(1, tlb.Cached);

        // A write through a translation whose D is clear walks again to set it (with updates); a fault drops the entry.
        Assert.True(mm.SetEntry(PageTableLevel.Pte, 0x40_0000, 0x5555_5000 | 0x23));
        tlb.InvalidateAll();
        Assert.False(mm.Translate(0x40_0000, Access.Read, TranslateOptions.UpdateAccessedDirty).Dirty);
        var dirtied = mm.Translate(0x40_0000, Access.Write, TranslateOptions.UpdateAccessedDirty);
        Assert.Equal((true, 4), (dirtied.Dirty, dirtied.EntriesRead));
        Assert.True(mm.TryGetEntry(PageTableLevel.Pte, 0x40_0000, out ulong pte));
        Assert.Equal(0x5555_5000UL | 0x63, pte);
        Assert.True(mm.SetEntry(PageTableLevel.Pte, 0x40_0000, 0x5555_5000 | 0x21)); // read-only now
        tlb.InvalidateAll();
        Assert.True(mm.Translate(0x40_0000, Access.Read).Ok);
        Assert.Equal(FaultReason.Write, mm.Translate(0x40_0000, Access.Write).Fault);
        Assert.Equal(0, tlb.Cached);
    }

    private static void Same(Translation expected, Translation actual, string where)
    {
        Assert.True(
            expected.Fault == actual.Fault && expected.Level == actual.Level && expected.Stage == actual.Stage && expected.EntriesRead == actual.EntriesRead
            && (!expected.Ok || (expected.OutputAddress == actual.OutputAddress && expected.Size == actual.Size && expected.Dirty == actual.Dirty))
            && expected.Permissions == actual.Permissions, // a permission fault carries what the entries allowed
            $"{where}: got {actual} ({actual.EntriesRead} entries read), the reference says {expected} ({expected.EntriesRead} entries read)");
    }

    /// <summary>64 random bits (NextInt64 never sets bit 63, where x86 keeps XD).</summary>
    private static ulong Bits64(Random random) => (ulong)random.NextInt64() ^ ((ulong)random.Next(2) << 63);

    private static Access RandomAccess(Random random) =>
        (random.Next(3) switch { 0 => Access.Read, 1 => Access.Write, _ => Access.Execute }) | (random.Next(2) == 0 ? Access.User : 0);

    /// <summary>RISC-V's sstatus.SUM and MXR and EPT's mode-based execute control, each half the time (the other models ignore them).</summary>
    private static TranslateOptions RandomControls(Random random) =>
        (random.Next(2) == 0 ? TranslateOptions.SupervisorUserMemory : 0) | (random.Next(2) == 0 ? TranslateOptions.MakeExecutableReadable : 0)
        | (random.Next(2) == 0 ? TranslateOptions.ModeBasedExecute : 0);

    /// <summary>
    /// Random tables written entry by entry, and the reference: every entry the test wrote, by level and the address
    /// bits above the level's shift, with the manuals' rules for resolving an address through them.
    /// </summary>
    private sealed class Tables
    {
        private readonly Dictionary<(PageTableLevel Level, ulong Key), ulong> _entries = [];
        private readonly Arch _arch;
        private readonly Geometry _g;
        private readonly Random _random;
        private readonly List<(ulong Va, ulong Size)> _leaves = [];
        private readonly ulong _region;

        public Tables(string name, Random random, bool plantFaults = true)
        {
            _random = random;
            _g = ProbeGeometries.GeometryOf(name);
            _arch = new Arch(_g);
            Mm = ProbeGeometries.AddressSpaceOf(name, PageAllocator.Synthetic(1 << 12, _g.PageShift));
            var leafLevels = _g.EntryLevels.Where(l => _g.HoldsLeaves(l) && _g.Size(l) <= (1UL << 30)).ToArray();
            _region = 4 * leafLevels.Max(l => _g.Size(l)); // a few of the largest leaves: shared tables and holes
            var tableEntries = new List<(PageTableLevel Level, ulong Va)>();
            for (int i = 0; i < 40; i++)
            {
                var level = leafLevels[random.Next(leafLevels.Length)];
                ulong size = _g.Size(level);
                ulong va = ((ulong)random.NextInt64((long)(_region / size)) * size) + (random.Next(2) == 0 ? 0 : Window / 2);
                if (_leaves.Any(l => l.Va < va + size && va < l.Va + l.Size))
                {
                    continue;
                }

                ulong pa = (ulong)random.NextInt64(1L << Math.Min(_g.Format.PhysicalAddressBits - 1, 39)) & ~(size - 1);
                ulong value = _arch.Leaf(level, pa, Bits64(random) & _arch.LeafAttributes(level));
                if (plantFaults && random.Next(8) == 0)
                {
                    value = _arch.Plant(level, leaf: true, value, random);
                }

                Assert.True(Mm.SetEntry(level, va, value));
                _entries[(level, va >> _g.Shift(level))] = value;
                _leaves.Add((va, size));
                tableEntries.AddRange(_g.EntryLevels.TakeWhile(l => l != level).Select(l => (l, va)));
            }

            // Then each table entry once: random permission bits in it (and, planted, a reserved bit or an invalid encoding).
            foreach (var (above, va) in tableEntries)
            {
                var key = (above, va >> _g.Shift(above));
                if (_entries.ContainsKey(key))
                {
                    continue;
                }

                if (!Mm.TryGetEntry(above, va, out ulong current))
                {
                    continue; // under an entry planted invalid above: no walk reaches it
                }

                ulong entry = (current & ~_arch.TableAttributes) | (Bits64(random) & _arch.TableAttributes);
                if (random.Next(3) == 0)
                {
                    entry = (entry & ~_arch.TableAttributes) | _arch.AllowAll; // often fully open, so deep faults are reached
                }

                _entries[key] = entry;
                if (plantFaults && random.Next(12) == 0)
                {
                    entry = _arch.Plant(above, leaf: false, entry, random);
                    _entries[key] = entry;
                }

                Assert.True(Mm.SetEntry(above, va, entry));
            }
        }

        public Mm Mm { get; }

        /// <summary>The entries the last reference translation with updates changed, with their new values.</summary>
        public List<(PageTableLevel Level, ulong Address, ulong Value)> Updated { get; } = [];

        private ulong Window => 1UL << (_g.VirtualAddressBits - 1);

        /// <summary>An address in a leaf (mostly) or anywhere in the regions the leaves are in.</summary>
        public ulong Probe(Random? random = null)
        {
            random ??= _random;
            if (random.Next(4) != 0 && _leaves.Count > 0)
            {
                var (va, size) = _leaves[random.Next(_leaves.Count)];
                return va + ((ulong)random.NextInt64((long)size) & ~7UL);
            }

            return ((ulong)random.NextInt64((long)_region) & ~7UL) + (random.Next(2) == 0 ? 0 : Window / 2);
        }

        /// <summary>Every entry as the reference has it now, by level and first address (as Mm.Snapshot names them).</summary>
        public Dictionary<(PageTableLevel Level, ulong Address), ulong> Expected() =>
            _entries.ToDictionary(e => (e.Key.Level, e.Key.Key << _g.Shift(e.Key.Level)), e => e.Value);

        /// <summary>The translation the manuals give; with <paramref name="update"/>, the reference's entries take the bits the walker sets.</summary>
        public Translation Reference(ulong va, Access access, bool update, TranslateOptions controls = 0)
        {
            Updated.Clear();
            var path = new List<(PageTableLevel Level, ulong Key, ulong Value)>();
            foreach (var level in _g.EntryLevels)
            {
                var key = (level, va >> _g.Shift(level));
                int reads = path.Count + 1;
                if (!_entries.TryGetValue(key, out ulong e) || !_arch.Valid(level, e))
                {
                    return Fault(FaultReason.NotPresent, level, access, va, reads);
                }

                bool leaf = _arch.IsLeaf(level, e);
                // RISC-V: a pte with R = W = X = 0 is read as a page that grants nothing (step 5's fault), with a page's reserved bits.
                if ((e & _arch.Reserved(level, leaf || level == PageTableLevel.Pte)) != 0 || (_arch.IsRiscV && (e & 0x6) == 0x4) || (_arch.IsEpt && _arch.EptMisconfigured(e)))
                {
                    return Fault(FaultReason.ReservedBits, level, access, va, reads);
                }

                path.Add((level, key.Item2, e));
                if (!leaf && !(_arch.IsRiscV && level == PageTableLevel.Pte))
                {
                    continue;
                }

                if (_arch.IsArm64 && (e & Arch.Af) == 0 && !update)
                {
                    return Fault(FaultReason.AccessFlag, level, access, va, reads);
                }

                ulong effective = e;
                bool write = (access & Access.Write) != 0;
                if (_arch.IsArm64 && update && write && (e & Arch.Dbm) != 0)
                {
                    effective = _arch.Kind == "s1" ? e & ~0x80UL : e | 0x80UL;
                }

                var allowed = _arch.Permissions(path.Take(path.Count - 1).Select(p => p.Value).ToList(), effective, controls);
                var reason = Reason(allowed, access);
                if (reason != FaultReason.None)
                {
                    return Fault(reason, level, access, va, reads, allowed);
                }

                // RISC-V Svade, after the permissions (step 8): A clear, or D clear on a store, faults unless the walker sets them (Svadu).
                if (_arch.IsRiscV && !update && ((e & 0x40) == 0 || (write && (e & 0x80) == 0)))
                {
                    return Fault((e & 0x40) == 0 ? FaultReason.AccessFlag : FaultReason.DirtyFlag, level, access, va, reads);
                }

                ulong final = e;
                if (update)
                {
                    final = _arch.IsArm64 ? effective | Arch.Af : _arch.IsRiscV ? e | 0x40 | (write ? 0x80UL : 0) : _arch.IsEpt ? e | 0x100 | (write ? 0x200UL : 0) : e | 0x20 | (write ? 0x40UL : 0);
                    for (int i = 0; i < path.Count; i++)
                    {
                        var (l, k, v) = path[i];
                        ulong now = i == path.Count - 1 ? final : _arch.IsArm64 || _arch.IsRiscV ? v : v | (_arch.IsEpt ? 0x100UL : 0x20UL); // x86 and EPT alone set A in table entries
                        if (now != v)
                        {
                            _entries[(l, k)] = now;
                            Updated.Add((l, k << _g.Shift(l), now));
                        }
                    }
                }

                ulong size = _g.Size(level);
                return new Translation(FaultReason.None, TranslationStage.Stage1, level, _arch.Address(level, e) + (va & (size - 1)), size, allowed,
                    _arch.IsArm64 || (final & (_arch.IsRiscV ? 0x80UL : _arch.IsEpt ? 0x200UL : 0x40UL)) != 0, access, reads, va);
            }

            throw new InvalidOperationException("the walk ran past the pte");
        }

        private static Translation Fault(FaultReason reason, PageTableLevel level, Access access, ulong va, int reads, Permissions allowed = PamtGen.Permissions.None) =>
            new(reason, TranslationStage.Stage1, level, 0, 0, allowed, false, access, reads, va);

        /// <summary>A user access the privileged level could make is a user fault; otherwise the access's kind names it.</summary>
        private static FaultReason Reason(Permissions allowed, Access access)
        {
            bool user = (access & Access.User) != 0;
            var (kernel, userKind, reason) = (access & Access.Execute) != 0 ? (PamtGen.Permissions.KernelExecute, PamtGen.Permissions.UserExecute, FaultReason.Execute)
                : (access & Access.Write) != 0 ? (PamtGen.Permissions.KernelWrite, PamtGen.Permissions.UserWrite, FaultReason.Write)
                : (PamtGen.Permissions.KernelRead, PamtGen.Permissions.UserRead, FaultReason.Read);
            if ((allowed & (user ? userKind : kernel)) != 0)
            {
                return FaultReason.None;
            }

            return user && (allowed & kernel) != 0 ? FaultReason.User : reason;
        }
    }

    /// <summary>The entry layouts and permission rules of the shipped architectures, written from the manuals (not from the formats' declarations).</summary>
    private sealed class Arch(Geometry g)
    {
        public const ulong Af = 1UL << 10, Dbm = 1UL << 51;

        public string Kind { get; } = g.Format.Name switch
        {
            var n when n.StartsWith("x86-64", StringComparison.Ordinal) => "x86-64", // the nested format (AMD NPT) too
            "x86 32-bit" => "x86-32",
            var n when n.StartsWith("arm64 stage 1", StringComparison.Ordinal) => "s1",
            var n when n.StartsWith("RISC-V", StringComparison.Ordinal) => "rv",
            "Intel EPT" => "ept",
            _ => "s2",
        };

        /// <summary>Intel EPT (SDM vol. 3C, 29.3.2 tables 29-1 to 29-6; 29.3.3 misconfigurations and violations).</summary>
        public bool IsEpt => Kind == "ept";

        /// <summary>An EPT misconfiguration beyond reserved bits: W without R (execute-only is supported), or a page's memory type 2, 3 or 7.</summary>
        public bool EptMisconfigured(ulong e) => (e & 3) == 2 || ((e >> 3) & 7) is 2 or 3 or 7;

        public bool IsArm64 => Kind is "s1" or "s2";

        /// <summary>RISC-V Sv39/48/57 (privileged specification 20240411, "Sv32" translation process as Sv39 and up use it).</summary>
        public bool IsRiscV => Kind == "rv";

        /// <summary>The bits a table entry's permissions live in: x86 R/W, U/S, PWT, PCD, A, XD; arm64 stage 1 PXNTable, UXNTable, APTable.</summary>
        public ulong TableAttributes => Kind switch { "x86-64" => 0x3eUL | (1UL << 63), "x86-32" => 0x3e, "s1" => 0xfUL << 59, "rv" => 0x320, "ept" => 0xf07UL | (0xfffUL << 52), _ => 0 }; // RISC-V: G, RSW; EPT: R, W, X, A, ignored, UX

        /// <summary>Table bits that allow everything: x86 R/W and U/S set, XD clear; arm64 limits clear.</summary>
        public ulong AllowAll => Kind is "x86-64" or "x86-32" ? 0x6UL : Kind == "ept" ? 0x407UL : 0UL;

        public ulong LeafAttributes(PageTableLevel level) => Kind switch
        {
            "x86-64" => level == PageTableLevel.Pte ? 0xffeUL | (1UL << 63) : 0x17eUL | 0xe00 | 0x1000 | (1UL << 63),
            "x86-32" => level == PageTableLevel.Pte ? 0xffe : 0x17eUL | 0xe00 | 0x1000,
            "s1" => 0xffcUL | (0xfUL << 51) | (0xfUL << 55),
            "rv" => 0x3fe, // R, W, X, U, G, A, D, RSW
            "ept" => (level == PageTableLevel.Pte ? 0xfffUL : 0xf7fUL) | (0xfffUL << 52), // all but a block's bit 7; 63:52 ignored or leaf fields
            _ => 0x7fcUL | (0x3UL << 51) | (1UL << 54) | (0xfUL << 55),
        };

        public ulong Leaf(PageTableLevel level, ulong pa, ulong attributes) => IsRiscV
            ? (pa >> 2) | 0x1 | attributes | (level != PageTableLevel.Pte && (attributes & 0xe) == 0 ? 0x2UL : 0) // above the pte, any of R, W, X makes a leaf
            : IsEpt
            ? pa | attributes | (level == PageTableLevel.Pte ? 0 : 0x80UL) | ((attributes & 7) == 0 ? 0x1UL : 0) // present needs R, W or X
            : IsArm64
            ? pa | (level == PageTableLevel.Pte ? 0x3UL : 0x1UL) | attributes
            : pa | 0x1 | (level == PageTableLevel.Pte ? 0 : 0x80UL) | attributes;

        public bool Valid(PageTableLevel level, ulong e) => IsEpt ? (e & 7) != 0 : IsRiscV ? (e & 1) != 0 : IsArm64
            ? (level == PageTableLevel.Pte ? (e & 3) == 3 : (e & 3) == 3 || ((e & 3) == 1 && g.HoldsLeaves(level)))
            : (e & 1) != 0;

        public bool IsLeaf(PageTableLevel level, ulong e) =>
            IsRiscV ? (e & 0xe) != 0 : level == PageTableLevel.Pte || (IsArm64 ? (e & 3) == 1 : (e & 0x80) != 0 && g.HoldsLeaves(level));

        public ulong Address(PageTableLevel level, ulong e) => IsRiscV
            ? ((e >> 10) << 12) & ((1UL << 56) - 1) & ~(g.Size(level) - 1)
            : e & ((1UL << (IsArm64 ? 48 : Kind == "x86-32" ? 32 : 52)) - 1) & ~(g.Size(level) - 1);

        /// <summary>x86 (SDM 4.5, tables 4-15 to 4-20, and 4-4 to 4-6): the PAT bit and address bits of a large page below its address; PS in a PML4E/PML5E.</summary>
        public ulong Reserved(PageTableLevel level, bool leaf) => Kind switch
        {
            "x86-64" when leaf && level == PageTableLevel.Pmd => 0x1f_e000, // [20:13]
            "x86-64" when leaf && level == PageTableLevel.Pud => 0x3fff_e000, // [29:13]
            "x86-64" when !leaf && level is PageTableLevel.P4d or PageTableLevel.Pgd => 0x80, // PS
            "x86-32" when leaf && level == PageTableLevel.Pmd => 0x3f_e000, // [21:13] without PSE-36
            // RISC-V: bits 63:54 (no Svnapot, Svpbmt); D, A, U of a non-leaf entry; a superpage's PPN below its size (misaligned).
            "rv" => (0x3ffUL << 54) | (leaf ? ((g.Size(level) >> 12) - 1) << 10 : 0xd0UL),
            // EPT: a block's address bits below its size; bits 6:3 of a table entry (7:3 of a PML4E or PML5E, which map no page).
            "ept" when leaf => level == PageTableLevel.Pte ? 0 : (g.Size(level) - 1) & ~0xfffUL,
            "ept" => level is PageTableLevel.P4d or PageTableLevel.Pgd ? 0xf8UL : 0x78UL,
            _ => 0,
        };

        /// <summary>A fault planted in an entry: a reserved bit (x86), or an invalid encoding (x86 P = 0; arm64 01 at the last level or x0).</summary>
        public ulong Plant(PageTableLevel level, bool leaf, ulong value, Random random)
        {
            ulong reserved = Reserved(level, leaf);
            if (reserved != 0 && random.Next(2) == 0)
            {
                var bits = Enumerable.Range(0, 64).Where(b => ((reserved >> b) & 1) != 0).ToArray();
                return value | (1UL << bits[random.Next(bits.Length)]);
            }

            if (IsRiscV && random.Next(2) == 0)
            {
                return (value & ~0xeUL) | 0x4; // W without R
            }

            if (IsEpt)
            {
                return random.Next(3) switch
                {
                    0 => (value & ~0x3UL) | 0x2, // W without R
                    1 when leaf => (value & ~0x38UL) | ((ulong)new[] { 2, 3, 7 }[random.Next(3)] << 3), // a reserved memory type
                    _ => value & ~0x7UL, // not present
                };
            }

            return IsArm64 ? (level == PageTableLevel.Pte && random.Next(2) == 0 ? (value & ~3UL) | 1 : value & ~1UL) : value & ~1UL;
        }

        /// <summary>What the leaf <paramref name="leaf"/> under the table entries <paramref name="tables"/> allows (SDM 4.6; Arm ARM D8.4).</summary>
        public Permissions Permissions(List<ulong> tables, ulong leaf, TranslateOptions controls = 0)
        {
            bool kr, kw, kx, ur, uw, ux;
            if (IsEpt)
            {
                // 29.3.3.2: R, W, X at every level; with MBEC a fetch from a user-mode linear address needs bit 10 at every level.
                var all = tables.Append(leaf).ToList();
                bool r = all.All(e => (e & 1) != 0), w = all.All(e => (e & 2) != 0), x = all.All(e => (e & 4) != 0);
                bool userX = (controls & TranslateOptions.ModeBasedExecute) != 0 ? all.All(e => (e & 0x400) != 0) : x;
                (kr, kw, kx, ur, uw, ux) = (r, w, x, r, w, userX);
            }
            else if (IsRiscV)
            {
                // Step 6: R, W, X of the leaf; MXR makes X pages readable; a U page is U-mode's, and S-mode's with SUM for loads and stores only.
                bool x = ((leaf >> 3) & 1) != 0, r = ((leaf >> 1) & 1) != 0 || (x && (controls & TranslateOptions.MakeExecutableReadable) != 0), w = ((leaf >> 2) & 1) != 0;
                bool u = ((leaf >> 4) & 1) != 0, sum = (controls & TranslateOptions.SupervisorUserMemory) != 0;
                (ur, uw, ux) = (u && r, u && w, u && x);
                (kr, kw, kx) = u ? (sum && r, sum && w, false) : (r, w, x);
            }
            else if (Kind is "x86-64" or "x86-32")
            {
                var all = tables.Append(leaf).ToList();
                bool writable = all.All(e => (e & 2) != 0), user = all.All(e => (e & 4) != 0), nx = Kind == "x86-64" && all.Any(e => (e >> 63) != 0);
                (kr, kw, kx, ur, uw, ux) = (true, writable, !nx, user, user && writable, user && !nx);
            }
            else if (Kind == "s1")
            {
                bool noUser = tables.Any(e => ((e >> 61) & 1) != 0), tableRo = tables.Any(e => ((e >> 62) & 1) != 0);
                bool pxnTable = tables.Any(e => ((e >> 59) & 1) != 0), uxnTable = tables.Any(e => ((e >> 60) & 1) != 0);
                bool readOnly = ((leaf >> 7) & 1) != 0 || tableRo, el0 = ((leaf >> 6) & 1) != 0 && !noUser;
                (kr, kw, ur, uw) = (true, !readOnly, el0, el0 && !readOnly);
                kx = ((leaf >> 53) & 1) == 0 && !pxnTable && !uw; // EL0-writable is privileged execute-never
                ux = ((leaf >> 54) & 1) == 0 && !uxnTable;
            }
            else
            {
                bool r = ((leaf >> 6) & 1) != 0, w = ((leaf >> 7) & 1) != 0, x = ((leaf >> 54) & 1) == 0;
                (kr, kw, kx, ur, uw, ux) = (r, w, x, r, w, x);
            }

            return (kr ? PamtGen.Permissions.KernelRead : 0) | (kw ? PamtGen.Permissions.KernelWrite : 0) | (kx ? PamtGen.Permissions.KernelExecute : 0)
                | (ur ? PamtGen.Permissions.UserRead : 0) | (uw ? PamtGen.Permissions.UserWrite : 0) | (ux ? PamtGen.Permissions.UserExecute : 0);
        }
    }
}
