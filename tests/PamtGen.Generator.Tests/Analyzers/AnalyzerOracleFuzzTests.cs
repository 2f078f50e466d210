using System.Diagnostics;
using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Emit;
using Xunit.Abstractions;
using PamtGen.Testing;

namespace PamtGen.Generator.Tests.Analyzers;

/// <summary>
/// Callback bodies from a small grammar over the runtime API (allocate, null-check, pte_none and pte_present checks, set,
/// clear, free (also through a copy of the reference), free the page behind the PTE directly or through a local (twice,
/// on some paths), early returns, if/else, loops, try/finally, the page-table lock, the double-checked populate with
/// and without the lock, a table entry made of the page (which hands it to the tables), and for PG0006 a remap of memory the callback does not own, permission and memory-type changes with the format's With-ers and with
/// the generic bit helpers (a constant S2AP mask), the break written as the valid bit cleared, the valid bit set again,
/// TLB invalidation and the gather): PG0001, PG0002,
/// PG0003 and PG0005 are reported on exactly the lines a path-enumerating oracle, written here apart from the
/// analyzers, finds. 2 000 bodies in CI, PAMTGEN_FUZZ_CASES=100000 for the long run.
/// </summary>
/// <remarks>
/// PG0003's rule speaks of the state where the page is freed, merged over the paths that reach it: the oracle gathers
/// every path's state at each free and applies the rule to the set. The analyzers run a finally block once per state
/// that enters it, which a set over all paths does not reproduce, so PG0003 is compared on bodies without try/finally.
/// Not in the grammar, with why: a table entry as the original (a PTE callback's entry is a level-3 entry, never a
/// table: PG0006Tests and the KVM ports of the corpus test that class at the levels where it occurs), and PG0004 (a
/// size expression, not a path property: PG0004Tests cover its divisions and shifts).
/// </remarks>
[Trait(Category.Name, Category.Slow)]
public class AnalyzerOracleFuzzTests(ITestOutputHelper output)
{
    private enum Op { Alloc, NullCheck, ReturnIfPopulated, ReturnIfNone, Set, SetTable, Clear, FreeMine, FreeCopy, FreeMapped, TakeMapped, FreeTaken, Remap, Protect, Retype, Break, Revalidate, ProtectBits, Invalidate, GatherAdd, GatherFlush, Return, IfNone, IfPopulated, IfPresent, IfUnknown, Loop, TryFinally, Lock, DoubleChecked }

    /// <summary>The simple statements, then the compound ones; DoubleChecked is a macro of several statements.</summary>
    private const int SimpleOps = (int)Op.Return + 1, AllOps = (int)Op.DoubleChecked + 1;

    /// <summary>The statements that leave the method, which C# does not allow in a finally block (CS0157).</summary>
    private static bool Returns(Op op) => op is Op.NullCheck or Op.ReturnIfPopulated or Op.ReturnIfNone or Op.Return;

    /// <summary>What 'page' holds on a path; None is the page it started with (data.Spare): not the callback's, maybe null.</summary>
    private enum PageState { None, Null, Owned, Freed, Moved }

    /// <summary>A statement; Then/Else are the branches of an if, the body of a loop, or the try and finally blocks.</summary>
    private sealed record Stmt(Op Op, int Line, List<Stmt>? Then = null, List<Stmt>? Else = null);

    /// <summary>One path's state: what the oracle knows on it.</summary>
    /// <remarks>
    /// PteFact: 0 unknown, 1 none, 2 not none. TakenFreed: the page taken from the PTE into 'mapped' was freed since it
    /// was taken. AllocBeforeCheck: the allocation now in 'page' was made where the PTE was not proven none.
    /// For PG0006, what the PTE holds as the hardware sees it, on this path: Holds (zero; an invalid entry that is not zero,
    /// which the original's With-ers make of a zero entry or a cleared valid bit makes of a valid one, in two kinds by what
    /// setting its valid bit again makes of it; Original, the valid entry it started with up to a permission change;
    /// Other, any other valid entry); Stale, the kinds of valid entry the TLB may still hold for it (a bit each,
    /// Original 1 and Other 2); Gathered, its address added to the gather and not flushed since; StartedValid, whether
    /// the entry the callback read first was valid; Feasible, whether the checks so far can all come out as this path
    /// took them (the pte_none() checks test the entry for zero); ZeroByClear, the PTE is zero because pte_clear() made it
    /// so (setting the valid bit of that makes a new entry; of the original zero, the original made valid); MaybeZero,
    /// the PTE holds an entry whose bits the bit helpers cleared (the valid bit, or a permission bit of an invalid entry):
    /// the rule knows an entry by its valid and break-before-make bits only, so a pte_none() check of it may come out
    /// either way, although the oracle's entries have other bits set (an address, attributes); Touched, the PTE was
    /// written or cleared; OriginalNone, a pte_none() check found the original zero before that (so bits cleared in it
    /// leave it zero, as the analysis knows): PG0006 speaks of feasible paths only, while the other
    /// rules' checks refine and rule nothing out.
    /// </remarks>
    private sealed record PathState(int PteFact, bool EntryPopulated, bool Cleared, PageState Page, bool TakenFreed = false, bool AllocBeforeCheck = false,
        Holds Holds = Holds.None, int Stale = 0, bool Gathered = false, bool StartedValid = false, bool Feasible = true, bool ZeroByClear = false, bool MaybeZero = false, bool Touched = false, bool OriginalNone = false);

    /// <summary>
    /// What the PTE holds. Invalid entries that are not zero come in two kinds, by what setting the valid bit makes of
    /// them: InvalidOriginal (the original broken, or changed only in permissions, or the invalid entry it started
    /// with) revalidates to the original; InvalidOther (another entry broken, or the original's memory type changed) to
    /// another entry. Two Others are taken as different (the rule's abstraction: the analyzer cannot tell two entries
    /// built apart are equal), so any Other conflicts with any valid entry held or cached.
    /// </summary>
    private enum Holds { None, InvalidOriginal, InvalidOther, Original, Other }

    [Fact]
    public async Task Reports_match_a_path_enumerating_oracle_and_PG0006_the_strict_TLB()
    {
        var random = new Random(424242);
        int withFindings = 0, clean = 0, withTry = 0, returningThroughFinally = 0, doubleChecked = 0, freedTwice = 0;
        var byRule = new Dictionary<string, int> { ["PG0001"] = 0, ["PG0002"] = 0, ["PG0003"] = 0, ["PG0005"] = 0, ["PG0006"] = 0 };
        int presentChecks = 0, bitHelpers = 0, copies = 0, tables = 0;
        var runs = new StrictRuns();
        for (int batch = 0; batch < FuzzSize.Cases / 50; batch++)
        {
            var bodies = Enumerable.Range(0, 50).Select(_ => Body(random)).ToList();
            var trees = bodies.Select((b, i) => RepositorySources.Parse(Source(b.Text, i), $"Body{i}.cs")).Append(RepositorySources.Parse(PG0006Tests.Geometries, "Geometries.cs")).ToList(); // Stage2: arm64 stage 2, 4K granule
            var (diagnostics, exceptions, compilation) = await RepositorySources.Analyze(trees);
            Assert.Empty(exceptions);
            var trips = StrictRuns.Run(compilation, bodies.Count, runs); // emitting it fails on any compiler error
            for (int i = 0; i < bodies.Count; i++)
            {
                bool hasTry = Any(bodies[i].Statements, s => s.Op == Op.TryFinally);
                var actual = diagnostics.Where(d => d.Location.SourceTree == trees[i] && (d.Id is "PG0001" or "PG0002" or "PG0005" or "PG0006" || (d.Id == "PG0003" && !hasTry)))
                    .Select(d => $"{d.Id}@{d.Location.GetLineSpan().StartLinePosition.Line}").ToHashSet();
                var expected = Oracle(bodies[i].Statements);
                if (hasTry)
                {
                    expected.RemoveWhere(f => f.StartsWith("PG0003", StringComparison.Ordinal));
                }

                Assert.True(expected.SetEquals(actual), $"oracle [{string.Join(", ", expected.Order())}] analyzers [{string.Join(", ", actual.Order())}] for\n{bodies[i].Text}");

                // Every write the strict TLB refused, on a run of the body, is one PG0006 reports.
                foreach (int line in trips[i])
                {
                    Assert.True(actual.Contains($"PG0006@{line}"), $"the strict TLB refused the write on line {line} and PG0006 did not report it, for\n{bodies[i].Text}");
                }

                bool reported = actual.Any(f => f.StartsWith("PG0006", StringComparison.Ordinal));
                runs.Tally(reported, trips[i].Count > 0);
                foreach (string id in byRule.Keys)
                {
                    byRule[id] += expected.Any(f => f.StartsWith(id, StringComparison.Ordinal)) ? 1 : 0;
                }

                doubleChecked += bodies[i].Text.Contains(DoubleCheckedMarker, StringComparison.Ordinal) ? 1 : 0;
                presentChecks += Any(bodies[i].Statements, s => s.Op == Op.IfPresent) ? 1 : 0;
                bitHelpers += Any(bodies[i].Statements, s => s.Op is Op.Break or Op.Revalidate or Op.ProtectBits) ? 1 : 0;
                copies += expected.Count > 0 && Any(bodies[i].Statements, s => s.Op == Op.FreeCopy) ? 1 : 0;
                tables += Any(bodies[i].Statements, s => s.Op == Op.SetTable) ? 1 : 0;
                freedTwice += expected.Count > 0 && Any(bodies[i].Statements, s => s.Op == Op.FreeTaken) ? 1 : 0;
                withTry += hasTry ? 1 : 0;
                returningThroughFinally += Any(bodies[i].Statements, s => s.Op == Op.TryFinally && Any(s.Then!, t => Returns(t.Op))) ? 1 : 0;
                if (expected.Count > 0)
                {
                    withFindings++;
                }
                else
                {
                    clean++;
                }
            }
        }

        output.WriteLine($"{withFindings + clean} grammar bodies: {withFindings} with findings, {clean} clean; bodies with a finding of " +
            string.Join(", ", byRule.Select(r => $"{r.Key}: {r.Value}")) + $"; {doubleChecked} with a double-checked populate, {freedTwice} freeing the page taken from the PTE; " +
            $"{withTry} with try/finally, {returningThroughFinally} returning through a finally; analyzers and oracle agree on every line");
        output.WriteLine(runs.ToString());
        output.WriteLine($"{presentChecks} bodies testing pte_present(), {bitHelpers} writing with the bit helpers, {copies} with a finding freeing through a copy, {tables} installing a table entry");
        Assert.True(withFindings > 0 && clean > 0 && returningThroughFinally > 0 && doubleChecked > 0 && freedTwice > 0 && presentChecks > 0 && bitHelpers > 0 && copies > 0 && tables > 0);
        Assert.All(byRule, r => Assert.True(r.Value > 0, $"no body with a {r.Key} finding"));
        Assert.True(runs.TrippedBodies > 0 && runs.CleanRunBodies > 0, runs.ToString());
    }

    private const int FirstLine = 17; // the line of the first body statement in Source()

    /// <summary>A comment the grammar writes before each double-checked populate, so the statistics can count them.</summary>
    private const string DoubleCheckedMarker = "// double-checked populate";

    private static string Source(string body, int i) => $$"""
        using PamtGen;
        using static PamtGen.Pgtable;

        public sealed class State{{i}}
        {
            public Mm Mm = null!;
            public PageAllocator Allocator = null!;
            public Page? Spare;
            public Page Other = null!;
            public TlbGather Gather = new();
            public int Rounds;
        }

        public static partial class Callbacks{{i}}
        {
            public static int Callback(PtePointer pte, ulong addr, State{{i}} data)
            {
        {{body}}
            }
        }
        """;

    private static (string Text, List<Stmt> Statements) Body(Random random)
    {
        var text = new StringBuilder();
        int line = FirstLine;
        // The page starts as one the callback does not own and that may be null: a null check of it can go either way.
        text.Append("        Page? page = data.Spare;\n");
        line++;
        // The page behind the PTE, once taken: freed through this local, maybe twice.
        text.Append("        Page? mapped = null;\n");
        line++;
        // The entry as the callback found it, in the arm64 stage-2 format (PG0006's): changed with its With-ers.
        text.Append("        Stage2.Entry entry = PtepGet(pte);\n");
        line++;
        var statements = Block(random, depth: 0, canReturn: true, indent: "        ", text, ref line);
        text.Append("        return 0;");
        return (text.ToString(), statements);
    }

    private static List<Stmt> Block(Random random, int depth, bool canReturn, string indent, StringBuilder text, ref int line)
    {
        var block = new List<Stmt>();
        for (int count = random.Next(1, depth == 0 ? 7 : 3); count > 0; count--)
        {
            Op op;
            do
            {
                op = (Op)random.Next(depth < 2 ? AllOps : SimpleOps); // the compound statements (if, for, try, lock) nest two deep at most
            }
            while (!canReturn && (Returns(op) || op == Op.DoubleChecked));

            if (op == Op.DoubleChecked)
            {
                block.AddRange(DoubleCheckedPopulate(random, indent, text, ref line));
                continue;
            }

            string code = op switch
            {
                Op.Alloc => "page = data.Allocator.AllocPage(Gfp.Zero);",
                Op.NullCheck => "if (page is null) return -12;",
                Op.ReturnIfPopulated => "if (!PteNone(PtepGet(pte))) return 0;",
                Op.ReturnIfNone => "if (PteNone(PtepGet(pte))) return 0;",
                Op.Set => "SetPteAt(data.Mm, addr, pte, MkPte(page!, PageKernel));",
                Op.SetTable => "SetPteAt(data.Mm, addr, pte, Stage2.Entry.Table(page!.PhysAddr));", // hands the page to the tables, as stage2_split_walker() does
                Op.Clear => "PteClear(data.Mm, addr, pte);",
                Op.FreeMine => "data.Allocator.FreePage(page!);",
                Op.FreeCopy => "{ Page? copy = page; data.Allocator.FreePage(copy!); }",
                Op.FreeMapped => "data.Allocator.FreePage(data.Allocator.PtePage(PtepGet(pte)));",
                Op.TakeMapped => "mapped = data.Allocator.PtePage(PtepGet(pte));",
                Op.FreeTaken => "data.Allocator.FreePage(mapped!);",
                Op.Remap => "SetPteAt(data.Mm, addr, pte, Stage2.Entry.Page(data.Other.PhysAddr).WithAccessFlag(true));",
                Op.Protect => "SetPteAt(data.Mm, addr, pte, entry.WithS2AccessPermissions(1));",
                Op.Retype => "SetPteAt(data.Mm, addr, pte, entry.WithMemAttr(5));",
                Op.Break => "SetPteAt(data.Mm, addr, pte, ClearPteBit(PtepGet(pte), new PgProt(1)));", // the valid bit (bit 0)
                Op.Revalidate => "SetPteAt(data.Mm, addr, pte, SetPteBit(PtepGet(pte), new PgProt(1)));",
                Op.ProtectBits => "SetPteAt(data.Mm, addr, pte, ClearPteBit(PtepGet(pte), new PgProt(0x80)));", // S2AP[1], write
                Op.Invalidate => "FlushTlbKernelRange(data.Mm, addr, addr + data.Mm.Geometry.PageSize);",
                Op.GatherAdd => "data.Gather.Add(addr, data.Mm.Geometry.PageSize);",
                Op.GatherFlush => "data.Gather.Flush(data.Mm);",
                Op.Lock => "lock (data.Mm.PageTableLock)",
                Op.Return => "return 0;",
                Op.IfNone => "if (PteNone(PtepGet(pte)))",
                Op.IfPopulated => "if (!PteNone(PtepGet(pte)))",
                Op.IfPresent => "if (PtePresent(PtepGet(pte)))",
                Op.IfUnknown => "if (addr == 0)",
                Op.Loop => $"for (int i{depth} = 0; i{depth} < data.Rounds; i{depth}++)",
                _ => "try",
            };
            text.Append(indent).Append(code).Append('\n');
            int at = line++;
            if (op is Op.Loop or Op.TryFinally or Op.IfNone or Op.IfPopulated or Op.IfPresent or Op.IfUnknown or Op.Lock)
            {
                var first = Braced(random, depth, canReturn, indent, text, ref line);
                var second = op switch
                {
                    Op.Loop or Op.Lock => null,
                    Op.TryFinally => Braced(random, depth, canReturn: false, indent, text, ref line, keyword: "finally"), // no return in a finally (CS0157)
                    _ => Braced(random, depth, canReturn, indent, text, ref line, keyword: "else"),
                };
                block.Add(new Stmt(op, at, first, second));
            }
            else
            {
                block.Add(new Stmt(op, at));
                if (op == Op.Return)
                {
                    break; // code after a return is unreachable; the grammar does not write it
                }
            }
        }

        return block;
    }

    /// <summary>
    /// The kernel's double-checked populate (mm/kasan/shadow.c before v6.16): check, allocate, check again (under the
    /// lock or not), free the page if the PTE was filled meanwhile, else map it. Written as grammar statements, so the
    /// oracle knows it only as what each statement does.
    /// </summary>
    private static List<Stmt> DoubleCheckedPopulate(Random random, string indent, StringBuilder text, ref int line)
    {
        bool locked = random.Next(2) == 0;
        text.Append(indent).Append(DoubleCheckedMarker).Append(locked ? " (locked)" : "").Append('\n');
        line++;
        var statements = new List<Stmt>();
        foreach (var op in new[] { Op.ReturnIfPopulated, Op.Alloc, Op.NullCheck })
        {
            statements.Add(Simple(op, indent, text, ref line));
        }

        string inner = locked ? indent + "    " : indent;
        int lockLine = line;
        if (locked)
        {
            text.Append(indent).Append("lock (data.Mm.PageTableLock)\n").Append(indent).Append("{\n");
            line += 2;
        }

        text.Append(inner).Append("if (!PteNone(PtepGet(pte)))\n");
        int ifLine = line++;
        text.Append(inner).Append("{\n");
        line++;
        var freed = new List<Stmt> { Simple(Op.FreeMine, inner + "    ", text, ref line), Simple(Op.Return, inner + "    ", text, ref line) };
        text.Append(inner).Append("}\n").Append(inner).Append("else\n").Append(inner).Append("{\n");
        line += 3;
        var mapped = new List<Stmt> { Simple(Op.Set, inner + "    ", text, ref line) };
        text.Append(inner).Append("}\n");
        line++;
        var check = new Stmt(Op.IfPopulated, ifLine, freed, mapped);
        if (locked)
        {
            text.Append(indent).Append("}\n");
            line++;
            statements.Add(new Stmt(Op.Lock, lockLine, [check]));
        }
        else
        {
            statements.Add(check);
        }

        return statements;
    }

    private static Stmt Simple(Op op, string indent, StringBuilder text, ref int line)
    {
        string code = op switch
        {
            Op.ReturnIfPopulated => "if (!PteNone(PtepGet(pte))) return 0;",
            Op.Alloc => "page = data.Allocator.AllocPage(Gfp.Zero);",
            Op.NullCheck => "if (page is null) return -12;",
            Op.FreeMine => "data.Allocator.FreePage(page!);",
            Op.Set => "SetPteAt(data.Mm, addr, pte, MkPte(page!, PageKernel));",
            _ => "return 0;",
        };
        text.Append(indent).Append(code).Append('\n');
        return new Stmt(op, line++);
    }

    /// <summary>A nested block in braces, after its keyword line if it has one (else, finally).</summary>
    private static List<Stmt> Braced(Random random, int depth, bool canReturn, string indent, StringBuilder text, ref int line, string? keyword = null)
    {
        if (keyword is not null)
        {
            text.Append(indent).Append(keyword).Append('\n');
            line++;
        }

        text.Append(indent).Append("{\n");
        line++;
        var block = Block(random, depth + 1, canReturn, indent + "    ", text, ref line);
        text.Append(indent).Append("}\n");
        line++;
        return block;
    }

    /// <summary>Whether a statement in the block or nested in it matches.</summary>
    private static bool Any(List<Stmt> block, Func<Stmt, bool> match) =>
        block.Any(s => match(s) || Any(s.Then ?? [], match) || Any(s.Else ?? [], match));

    /// <summary>Enumerates every path; a finding is a (rule, line) some path violates.</summary>
    private static HashSet<string> Oracle(List<Stmt> body)
    {
        var findings = new HashSet<string>();
        var allocLines = new List<int>();
        Collect(body, allocLines);
        var exits = new List<PathState>();
        var atFrees = new Dictionary<int, List<PathState>>();
        // 'mapped' is the page behind the PTE only in a body that takes it from the PTE somewhere.
        bool takes = Any(body, s => s.Op == Op.TakeMapped);
        // The PTE starts zero, holding a valid entry the callback reads first, or holding an invalid entry that is not zero
        // (a swap entry, KVM's owner annotation): three paths from the start.
        PathState[] start =
        [
            new PathState(0, false, false, PageState.None),
            new PathState(0, false, false, PageState.None, Holds: Holds.Original, StartedValid: true),
            new PathState(0, false, false, PageState.None, Holds: Holds.InvalidOriginal),
        ];
        var fallThrough = Run(body, [.. start], allocLines, takes, findings, exits, atFrees);
        exits.AddRange(fallThrough);
        if (exits.Any(s => s.Page == PageState.Owned))
        {
            allocLines.ForEach(l => findings.Add($"PG0002@{l}"));
        }

        // PG0003: a free of the allocated page that every path reaches with the PTE proven populated, where on some
        // path the page was allocated before the PTE was proven none; reported at each allocation.
        if (atFrees.Values.Any(states => states.All(st => st.PteFact == 2) && states.Any(st => st.AllocBeforeCheck)))
        {
            allocLines.ForEach(l => findings.Add($"PG0003@{l}"));
        }

        LockFindings(body, findings);
        return findings;
    }

    /// <summary>
    /// PG0005: every page-table lock, unless a condition tested inside it was tested before it outside any lock (the
    /// double-checked locking of kernel code written for racing callers). The grammar's conditions are pte_none()
    /// checks (all one condition, either polarity), the null check of 'page', and the test of addr.
    /// </summary>
    private static void LockFindings(List<Stmt> body, HashSet<string> findings)
    {
        var conditions = new List<(string Key, int Line, bool InLock)>();
        var locks = new List<(int Line, List<string> Inside)>();
        Walk(body, inLock: false);
        foreach (var (line, inside) in locks)
        {
            if (!inside.Any(key => conditions.Any(c => c.Key == key && c.Line < line && !c.InLock)))
            {
                findings.Add($"PG0005@{line}");
            }
        }

        List<string> Walk(List<Stmt> block, bool inLock)
        {
            var keys = new List<string>();
            foreach (var s in block)
            {
                string? key = s.Op switch
                {
                    Op.ReturnIfPopulated or Op.ReturnIfNone or Op.IfNone or Op.IfPopulated or Op.IfPresent => "pte_none", // any check of the PTE, pte_present() too
                    Op.NullCheck => "page is null",
                    Op.IfUnknown => "addr == 0",
                    _ => null,
                };
                if (key is not null)
                {
                    conditions.Add((key, s.Line, inLock));
                    keys.Add(key);
                }

                var nested = Walk(s.Then ?? [], inLock || s.Op == Op.Lock);
                nested.AddRange(Walk(s.Else ?? [], inLock || s.Op == Op.Lock));
                if (s.Op == Op.Lock)
                {
                    locks.Add((s.Line, nested));
                }

                keys.AddRange(nested);
            }

            return keys;
        }
    }

    private static void Collect(List<Stmt> block, List<int> allocLines)
    {
        foreach (var s in block)
        {
            if (s.Op == Op.Alloc)
            {
                allocLines.Add(s.Line);
            }

            if (s.Then is not null)
            {
                Collect(s.Then, allocLines);
                Collect(s.Else ?? [], allocLines);
            }
        }
    }

    /// <summary>Runs a block on each state; returns the states that fall through, adds returned ones to <paramref name="exits"/>.</summary>
    private static List<PathState> Run(List<Stmt> block, List<PathState> states, List<int> allocLines, bool takes, HashSet<string> findings, List<PathState> exits, Dictionary<int, List<PathState>> atFrees)
    {
        // PG0002 follows a local only if the method stores an allocated page in it somewhere; 'page' in a body
        // without an allocation only ever holds null and is not a page to own.
        bool tracked = allocLines.Count > 0;
        foreach (var s in block)
        {
            var next = new List<PathState>();
            foreach (var st in states)
            {
                switch (s.Op)
                {
                    case Op.Alloc:
                        if (st.Page == PageState.Owned)
                        {
                            allocLines.ForEach(l => findings.Add($"PG0002@{l}")); // the page it held is lost
                        }

                        next.Add(st with { Page = PageState.Null, AllocBeforeCheck = st.PteFact != 1 });
                        next.Add(st with { Page = PageState.Owned, AllocBeforeCheck = st.PteFact != 1 });
                        break;
                    case Op.NullCheck:
                        // Like the pte_none checks, a null check refines what each branch knows and rules neither out
                        // (the rule's documented semantics): on the null branch the local holds no page, and on the
                        // other branch a local that held null holds nothing the callback owns.
                        exits.Add(st with { Page = PageState.Null });
                        next.Add(st.Page == PageState.Null ? st with { Page = PageState.None } : st);
                        break;
                    case Op.ReturnIfPopulated:
                        exits.Add(Populated(st));
                        next.Add(NoneOf(st));
                        break;
                    case Op.ReturnIfNone:
                        exits.Add(NoneOf(st));
                        next.Add(Populated(st));
                        break;
                    case Op.Set or Op.SetTable:
                        // A table entry of the page hands it to the tables as mk_pte() does (at level 3 the
                        // descriptor is a page's): the same rules.
                        if (st.PteFact != 1)
                        {
                            findings.Add($"PG0001@{s.Line}");
                        }

                        if (st.Page == PageState.Freed)
                        {
                            findings.Add($"PG0002@{s.Line}"); // the page is used after it was freed
                        }

                        next.Add(Write(st with { PteFact = 2, Cleared = false, Page = tracked ? PageState.Moved : st.Page }, Holds.Other, s.Line, findings));
                        break;
                    case Op.Remap:
                        if (st.PteFact != 1)
                        {
                            findings.Add($"PG0001@{s.Line}");
                        }

                        next.Add(Write(st with { PteFact = 2, Cleared = false }, Holds.Other, s.Line, findings));
                        break;
                    case Op.Protect or Op.Retype:
                        // The entry read first, written back changed: no PG0001 (the mapping that is there stays). Made of
                        // a zero entry, it is invalid (S2AP or MemAttr bits, no valid bit).
                        var changed = (st.StartedValid, s.Op) switch
                        {
                            (false, Op.Protect) => Holds.InvalidOriginal,
                            (false, _) => Holds.InvalidOther,
                            (true, Op.Protect) => Holds.Original,
                            _ => Holds.Other,
                        };
                        next.Add(Write(st with { PteFact = 2, Cleared = false }, changed, s.Line, findings));
                        break;
                    case Op.Break or Op.Revalidate or Op.ProtectBits:
                        // The entry the PTE holds now, read back and written with a bit changed: the valid bit cleared
                        // (zero stays zero), set (zero becomes a valid entry of its own), or a permission bit cleared.
                        var rewritten = (s.Op, st.Holds) switch
                        {
                            (Op.Break, Holds.Original) => Holds.InvalidOriginal,
                            (Op.Break, Holds.Other) => Holds.InvalidOther,
                            (Op.Revalidate, Holds.None) => st.ZeroByClear ? Holds.Other : Holds.Original,
                            (Op.Revalidate, Holds.InvalidOther) => Holds.Other,
                            (Op.Revalidate, Holds.InvalidOriginal) => Holds.Original,
                            _ => st.Holds,
                        };
                        bool maybeZero = s.Op switch
                        {
                            Op.Break => !(st.Holds == Holds.None && (st.ZeroByClear || st.OriginalNone)),
                            Op.ProtectBits => st.MaybeZero || st.Holds is Holds.InvalidOriginal or Holds.InvalidOther,
                            _ => false,
                        };
                        next.Add(Write(st with { PteFact = 2, Cleared = false }, rewritten, s.Line, findings) with { MaybeZero = maybeZero, ZeroByClear = st.ZeroByClear && rewritten == Holds.None });
                        break;
                    case Op.Invalidate:
                        next.Add(st with { Stale = 0 });
                        break;
                    case Op.GatherAdd:
                        next.Add(st with { Gathered = true });
                        break;
                    case Op.GatherFlush:
                        next.Add(st with { Stale = st.Gathered ? 0 : st.Stale, Gathered = false });
                        break;
                    case Op.Clear:
                        if (st.PteFact != 2)
                        {
                            findings.Add($"PG0001@{s.Line}");
                        }

                        next.Add(st with { PteFact = 1, Cleared = true, Holds = Holds.None, Stale = st.Stale | Kind(st.Holds), ZeroByClear = true, MaybeZero = false, Touched = true });
                        break;
                    case Op.FreeMine or Op.FreeCopy:
                        // A copy of the reference frees the same page.
                        if (st.Page is PageState.Freed or PageState.Moved)
                        {
                            findings.Add($"PG0002@{s.Line}");
                        }

                        if (tracked)
                        {
                            (atFrees.TryGetValue(s.Line, out var reaching) ? reaching : atFrees[s.Line] = []).Add(st);
                        }

                        next.Add(st with { Page = tracked ? PageState.Freed : st.Page });
                        break;
                    case Op.FreeMapped:
                        if (!st.EntryPopulated)
                        {
                            findings.Add($"PG0001@{s.Line}");
                        }

                        if (!st.Cleared)
                        {
                            findings.Add($"PG0002@{s.Line}");
                        }

                        next.Add(st);
                        break;
                    case Op.TakeMapped:
                        next.Add(st with { TakenFreed = false });
                        break;
                    case Op.FreeTaken when !takes:
                        next.Add(st);
                        break;
                    case Op.FreeTaken:
                        // The page taken from the PTE: the same rules as a free of pte_page(), and not twice.
                        if (!st.EntryPopulated)
                        {
                            findings.Add($"PG0001@{s.Line}");
                        }

                        if (!st.Cleared || st.TakenFreed)
                        {
                            findings.Add($"PG0002@{s.Line}");
                        }

                        next.Add(st with { TakenFreed = true });
                        break;
                    case Op.Lock:
                        next.AddRange(Run(s.Then!, [st], allocLines, takes, findings, exits, atFrees));
                        break;
                    case Op.Return:
                        exits.Add(st);
                        break;
                    case Op.Loop:
                        // Any number of iterations: run the body until no new state comes out of it.
                        var seen = new HashSet<PathState> { st };
                        var frontier = new List<PathState> { st };
                        while (frontier.Count > 0)
                        {
                            frontier = Run(s.Then!, frontier, allocLines, takes, findings, exits, atFrees).Where(seen.Add).ToList();
                        }

                        next.AddRange(seen);
                        break;
                    case Op.TryFinally:
                        // The finally runs on every way out of the try: after it falls through (then on to the next
                        // statement) and after each return in it (then out of the method).
                        var returned = new List<PathState>();
                        var fellThrough = Run(s.Then!, [st], allocLines, takes, findings, returned, atFrees);
                        next.AddRange(Run(s.Else!, fellThrough, allocLines, takes, findings, exits, atFrees));
                        exits.AddRange(Run(s.Else!, returned, allocLines, takes, findings, exits, atFrees));
                        break;
                    default:
                        var (whenTrue, whenFalse) = s.Op switch
                        {
                            Op.IfNone => (NoneOf(st), Populated(st)),
                            Op.IfPopulated => (Populated(st), NoneOf(st)),
                            Op.IfPresent => (Present(st, true), Present(st, false)),
                            _ => (st, st),
                        };
                        next.AddRange(Run(s.Then!, [whenTrue], allocLines, takes, findings, exits, atFrees));
                        next.AddRange(Run(s.Else ?? [], [whenFalse], allocLines, takes, findings, exits, atFrees));
                        break;
                }
            }

            states = next;
        }

        return states;
    }

    /// <summary>A check found the PTE not zero: a path where it is zero cannot go this way.</summary>
    private static PathState Populated(PathState st) => st with { PteFact = 2, EntryPopulated = true, Feasible = st.Feasible && (st.Holds != Holds.None || st.MaybeZero) };

    /// <summary>
    /// pte_present() found the PTE present (its valid bit set) or not: for PG0001 a populated or a none PTE; for PG0006 a
    /// path where the PTE holds a valid entry (Original, Other) only the first way, one where it is zero or invalid only
    /// the second.
    /// </summary>
    private static PathState Present(PathState st, bool present)
    {
        bool valid = IsValid(st.Holds);
        var checkedState = present ? st with { PteFact = 2, EntryPopulated = true } : st with { PteFact = 1 };
        return checkedState with { Feasible = st.Feasible && valid == present };
    }

    /// <summary>A check found the PTE zero: a path where it holds an entry cannot go this way.</summary>
    private static PathState NoneOf(PathState st) => st with { PteFact = 1, OriginalNone = st.OriginalNone || !st.Touched, Feasible = st.Feasible && (st.Holds == Holds.None || st.MaybeZero) };

    /// <summary>
    /// PG0006: writing <paramref name="written"/> where the PTE holds, or the TLB may still hold, another entry that the
    /// write must not meet without a break: any Other (another output address or memory type), or the original entry
    /// under an Other. What the PTE held becomes what the TLB may still hold.
    /// </summary>
    private static PathState Write(PathState st, Holds written, int line, HashSet<string> findings)
    {
        int held = Kind(st.Holds) | st.Stale;
        bool valid = IsValid(written);
        if (st.Feasible && valid && ((held & 2) != 0 || ((held & 1) != 0 && written == Holds.Other)))
        {
            findings.Add($"PG0006@{line}");
        }

        return st with { Holds = written, Stale = st.Stale | Kind(st.Holds), ZeroByClear = written == Holds.None && st.ZeroByClear, MaybeZero = false, Touched = true };
    }

    private static bool IsValid(Holds holds) => holds is Holds.Original or Holds.Other;

    /// <summary>The bit of an entry kind in <see cref="PathState.Stale"/>; none for no entry.</summary>
    private static int Kind(Holds holds) => holds switch { Holds.Original => 1, Holds.Other => 2, _ => 0 };
}

/// <summary>
/// Runs each fuzz body as the code it is, against the arm64 stage-2 model with a strict TLB, under every combination of:
/// the PTE found none or valid, 'page' starting null or a page, addr 0 or not (the grammar's unknown test), and 0 to 2
/// loop rounds (24 runs). A run ends normally, or with the strict TLB refusing a write (a break-before-make violation or
/// a missing invalidation; the write's line is taken from the stack), or with another error of the body's own (a null
/// page, a double free), counted apart.
/// </summary>
internal sealed class StrictRuns
{
    private int runs, completed, tripped, otherErrors, reportedTripped, reportedNotTripped, notReported;

    /// <summary>Bodies some run of which the strict TLB refused.</summary>
    public int TrippedBodies { get; private set; }

    /// <summary>Bodies PG0006 accepts, none of whose runs the strict TLB refused.</summary>
    public int CleanRunBodies => notReported;

    public void Tally(bool reported, bool trippedAny)
    {
        TrippedBodies += trippedAny ? 1 : 0;
        if (reported)
        {
            _ = trippedAny ? reportedTripped++ : reportedNotTripped++;
        }
        else
        {
            notReported++;
        }
    }

    /// <summary>
    /// The first exception thrown on this thread in the current run. A run is the body's own code only up to its first
    /// error: an oops (a KernelBugException) stops a kernel, so a write the strict TLB refuses in a finally block that
    /// the unwinding of an earlier BUG runs is not a run of the body; it counts with the other errors.
    /// </summary>
    [ThreadStatic]
    private static Exception? firstError;

    private static void NoteFirst(object? sender, System.Runtime.ExceptionServices.FirstChanceExceptionEventArgs e) => firstError ??= e.Exception;

    /// <summary>Emits the batch (the bodies and the geometry, with what the generator made), runs every body, and returns the (0-based) lines each run tripped on.</summary>
    public static List<HashSet<int>> Run(Compilation compilation, int count, StrictRuns stats)
    {
        AppDomain.CurrentDomain.FirstChanceException += NoteFirst;
        try
        {
            return RunAll(compilation, count, stats);
        }
        finally
        {
            AppDomain.CurrentDomain.FirstChanceException -= NoteFirst;
        }
    }

    private static List<HashSet<int>> RunAll(Compilation generated, int count, StrictRuns stats)
    {
        using var pe = new MemoryStream();
        using var pdb = new MemoryStream();
        var emitted = generated.Emit(pe, pdb, options: new EmitOptions(debugInformationFormat: DebugInformationFormat.PortablePdb));
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(5)));
        pe.Position = 0;
        pdb.Position = 0;
        var context = new AssemblyLoadContext("PG0006 fuzz", isCollectible: true);
        try
        {
            var assembly = context.LoadFromStream(pe, pdb);
            var space = assembly.GetType("Stage2+AddressSpace", throwOnError: true)!;
            var apply = typeof(ReferenceWalkers).GetMethod(nameof(ReferenceWalkers.ApplyToPageRange))!;
            var trips = new List<HashSet<int>>();
            for (int i = 0; i < count; i++)
            {
                var stateType = assembly.GetType($"State{i}", throwOnError: true)!;
                var callbacks = assembly.GetType($"Callbacks{i}", throwOnError: true)!;
                var fn = callbacks.GetMethod("Callback")!.CreateDelegate(typeof(PteFn<>).MakeGenericType(stateType));
                var walk = apply.MakeGenericMethod(stateType);
                var lines = new HashSet<int>();
                for (int scenario = 0; scenario < 24; scenario++)
                {
                    bool valid = (scenario & 1) != 0, spare = (scenario & 2) != 0;
                    ulong va = (scenario & 4) != 0 ? 0x4000_0000UL : 0;
                    int rounds = scenario >> 3;
                    var allocator = PageAllocator.Synthetic(64);
                    var mm = (Mm)Activator.CreateInstance(space, allocator)!;
                    var original = allocator.AllocPage(Gfp.Zero)!;
                    if (valid)
                    {
                        // A stage-2 page as KVM maps one: MemAttr 1111, S2AP 11, SH 11, AF.
                        Assert.Equal(0, BlockMapping.MapRange(mm, va, original.PhysAddr, mm.Geometry.PageSize, 0x7fc));
                    }

                    mm.TrackTlb(strict: true);
                    var state = Activator.CreateInstance(stateType)!;
                    stateType.GetField("Mm")!.SetValue(state, mm);
                    stateType.GetField("Allocator")!.SetValue(state, allocator);
                    stateType.GetField("Spare")!.SetValue(state, spare ? allocator.AllocPage(Gfp.Zero) : null);
                    stateType.GetField("Other")!.SetValue(state, allocator.AllocPage(Gfp.Zero));
                    stateType.GetField("Rounds")!.SetValue(state, rounds);
                    stats.runs++;
                    firstError = null;
                    try
                    {
                        walk.Invoke(null, [mm, va, mm.Geometry.PageSize, fn, state]);
                        stats.completed++;
                    }
                    catch (TargetInvocationException e) when (e.InnerException is KernelBugException bug && ReferenceEquals(bug, firstError)
                        && (bug.Message.StartsWith("kernel BUG: break-before-make:", StringComparison.Ordinal) || bug.Message.StartsWith("kernel BUG: missing TLB invalidation:", StringComparison.Ordinal)))
                    {
                        var frame = new StackTrace(bug, fNeedFileInfo: true).GetFrames().First(f => f.GetMethod()?.DeclaringType == callbacks);
                        lines.Add(frame.GetFileLineNumber() - 1);
                        stats.tripped++;
                    }
                    catch (TargetInvocationException)
                    {
                        stats.otherErrors++;
                    }
                }

                trips.Add(lines);
            }

            return trips;
        }
        finally
        {
            context.Unload();
        }
    }

    public override string ToString() =>
        $"{runs} runs on the strict TLB: {completed} completed, {tripped} refused a write, {otherErrors} ended on another error of the body's; " +
        $"bodies: {reportedTripped} with PG0006 and a refused run, {reportedNotTripped} with PG0006 and no refused run, {notReported} without PG0006 (none refused); " +
        "every refused write is one PG0006 reports";
}
