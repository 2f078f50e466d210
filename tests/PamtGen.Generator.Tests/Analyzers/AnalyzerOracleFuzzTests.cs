using System.Text;
using Microsoft.CodeAnalysis;
using Xunit.Abstractions;

namespace PamtGen.Generator.Tests.Analyzers;

/// <summary>
/// Callback bodies from a small grammar over the runtime API (allocate, null-check, pte_none checks, set, clear, free,
/// free the page behind the PTE, early returns, if/else, loops, try/finally): PG0001 and PG0002 are reported on exactly the lines where a
/// path-enumerating oracle, written here apart from the analyzers, finds a violating path. 2 000 bodies in CI,
/// PAMTGEN_FUZZ_CASES=100000 for the long run.
/// </summary>
public class AnalyzerOracleFuzzTests(ITestOutputHelper output)
{
    private enum Op { Alloc, NullCheck, ReturnIfPopulated, ReturnIfNone, Set, Clear, FreeMine, FreeMapped, Return, IfNone, IfPopulated, IfUnknown, Loop, TryFinally }

    /// <summary>The statements that leave the method, which C# does not allow in a finally block (CS0157).</summary>
    private static bool Returns(Op op) => op is Op.NullCheck or Op.ReturnIfPopulated or Op.ReturnIfNone or Op.Return;

    /// <summary>What 'page' holds on a path; None is the page it started with (data.Spare): not the callback's, maybe null.</summary>
    private enum PageState { None, Null, Owned, Freed, Moved }

    /// <summary>A statement; Then/Else are the branches of an if, the body of a loop, or the try and finally blocks.</summary>
    private sealed record Stmt(Op Op, int Line, List<Stmt>? Then = null, List<Stmt>? Else = null);

    /// <summary>One path's state: what the oracle knows on it.</summary>
    private sealed record PathState(int PteFact, bool EntryPopulated, bool Cleared, PageState Page); // PteFact: 0 unknown, 1 none, 2 not none

    [Fact]
    public async Task Reports_match_a_path_enumerating_oracle()
    {
        var random = new Random(424242);
        int withFindings = 0, clean = 0, withTry = 0, returningThroughFinally = 0;
        for (int batch = 0; batch < FuzzSize.Cases / 50; batch++)
        {
            var bodies = Enumerable.Range(0, 50).Select(_ => Body(random)).ToList();
            var trees = bodies.Select((b, i) => RepositorySources.Parse(Source(b.Text, i), $"Body{i}.cs")).ToList();
            var (diagnostics, exceptions) = await RepositorySources.Analyze(trees);
            Assert.Empty(exceptions);
            for (int i = 0; i < bodies.Count; i++)
            {
                var actual = diagnostics.Where(d => d.Location.SourceTree == trees[i] && (d.Id is "PG0001" or "PG0002"))
                    .Select(d => $"{d.Id}@{d.Location.GetLineSpan().StartLinePosition.Line}").ToHashSet();
                var expected = Oracle(bodies[i].Statements);
                Assert.True(expected.SetEquals(actual), $"oracle [{string.Join(", ", expected.Order())}] analyzers [{string.Join(", ", actual.Order())}] for\n{bodies[i].Text}");
                withTry += Any(bodies[i].Statements, s => s.Op == Op.TryFinally) ? 1 : 0;
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

        output.WriteLine($"{withFindings + clean} grammar bodies: {withFindings} with PG0001/PG0002 findings, {clean} clean; " +
            $"{withTry} with try/finally, {returningThroughFinally} returning through a finally; analyzers and oracle agree on every line");
        Assert.True(withFindings > 0 && clean > 0 && returningThroughFinally > 0);
    }

    private const int FirstLine = 14; // the line of the first body statement in Source()

    private static string Source(string body, int i) => $$"""
        using PamtGen;
        using static PamtGen.Pgtable;

        public sealed class State{{i}}
        {
            public Mm Mm = null!;
            public PageAllocator Allocator = null!;
            public Page? Spare;
        }

        public static partial class Callbacks{{i}}
        {
            public static int Callback(ref Pte pte, ulong addr, State{{i}} data)
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
                op = (Op)random.Next(depth < 2 ? 14 : 9); // the compound statements (if, for, try) nest two deep at most
            }
            while (!canReturn && Returns(op));

            string code = op switch
            {
                Op.Alloc => "page = data.Allocator.AllocPage(Gfp.Zero);",
                Op.NullCheck => "if (page is null) return -12;",
                Op.ReturnIfPopulated => "if (!PteNone(PtepGet(ref pte))) return 0;",
                Op.ReturnIfNone => "if (PteNone(PtepGet(ref pte))) return 0;",
                Op.Set => "SetPteAt(data.Mm, addr, ref pte, MkPte(page!, PageKernel));",
                Op.Clear => "PteClear(data.Mm, addr, ref pte);",
                Op.FreeMine => "data.Allocator.FreePage(page!);",
                Op.FreeMapped => "data.Allocator.FreePage(data.Allocator.PtePage(PtepGet(ref pte)));",
                Op.Return => "return 0;",
                Op.IfNone => "if (PteNone(PtepGet(ref pte)))",
                Op.IfPopulated => "if (!PteNone(PtepGet(ref pte)))",
                Op.IfUnknown => "if (addr == 0)",
                Op.Loop => $"for (int i{depth} = 0; i{depth} < (int)(addr & 3); i{depth}++)",
                _ => "try",
            };
            text.Append(indent).Append(code).Append('\n');
            int at = line++;
            if (op is Op.Loop or Op.TryFinally or Op.IfNone or Op.IfPopulated or Op.IfUnknown)
            {
                var first = Braced(random, depth, canReturn, indent, text, ref line);
                var second = op switch
                {
                    Op.Loop => null,
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
        var fallThrough = Run(body, [new PathState(0, false, false, PageState.None)], allocLines, findings, exits);
        exits.AddRange(fallThrough);
        if (exits.Any(s => s.Page == PageState.Owned))
        {
            allocLines.ForEach(l => findings.Add($"PG0002@{l}"));
        }

        return findings;
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
    private static List<PathState> Run(List<Stmt> block, List<PathState> states, List<int> allocLines, HashSet<string> findings, List<PathState> exits)
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

                        next.Add(st with { Page = PageState.Null });
                        next.Add(st with { Page = PageState.Owned });
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
                        next.Add(st with { PteFact = 1 });
                        break;
                    case Op.ReturnIfNone:
                        exits.Add(st with { PteFact = 1 });
                        next.Add(Populated(st));
                        break;
                    case Op.Set:
                        if (st.PteFact != 1)
                        {
                            findings.Add($"PG0001@{s.Line}");
                        }

                        if (st.Page == PageState.Freed)
                        {
                            findings.Add($"PG0002@{s.Line}"); // the page is used after it was freed
                        }

                        next.Add(st with { PteFact = 2, Cleared = false, Page = tracked ? PageState.Moved : st.Page });
                        break;
                    case Op.Clear:
                        if (st.PteFact != 2)
                        {
                            findings.Add($"PG0001@{s.Line}");
                        }

                        next.Add(st with { PteFact = 1, Cleared = true });
                        break;
                    case Op.FreeMine:
                        if (st.Page is PageState.Freed or PageState.Moved)
                        {
                            findings.Add($"PG0002@{s.Line}");
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
                    case Op.Return:
                        exits.Add(st);
                        break;
                    case Op.Loop:
                        // Any number of iterations: run the body until no new state comes out of it.
                        var seen = new HashSet<PathState> { st };
                        var frontier = new List<PathState> { st };
                        while (frontier.Count > 0)
                        {
                            frontier = Run(s.Then!, frontier, allocLines, findings, exits).Where(seen.Add).ToList();
                        }

                        next.AddRange(seen);
                        break;
                    case Op.TryFinally:
                        // The finally runs on every way out of the try: after it falls through (then on to the next
                        // statement) and after each return in it (then out of the method).
                        var returned = new List<PathState>();
                        var fellThrough = Run(s.Then!, [st], allocLines, findings, returned);
                        next.AddRange(Run(s.Else!, fellThrough, allocLines, findings, exits));
                        exits.AddRange(Run(s.Else!, returned, allocLines, findings, exits));
                        break;
                    default:
                        var (whenTrue, whenFalse) = s.Op switch
                        {
                            Op.IfNone => (st with { PteFact = 1 }, Populated(st)),
                            Op.IfPopulated => (Populated(st), st with { PteFact = 1 }),
                            _ => (st, st),
                        };
                        next.AddRange(Run(s.Then!, [whenTrue], allocLines, findings, exits));
                        next.AddRange(Run(s.Else!, [whenFalse], allocLines, findings, exits));
                        break;
                }
            }

            states = next;
        }

        return states;
    }

    private static PathState Populated(PathState st) => st with { PteFact = 2, EntryPopulated = true };
}
