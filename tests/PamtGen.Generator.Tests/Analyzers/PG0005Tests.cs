using PamtGen.CodeFixes;
using PamtGen.Generator.Analyzers;

namespace PamtGen.Generator.Tests.Analyzers;

/// <summary>PG0005: a PTE callback taking the mm's page-table lock.</summary>
public class PG0005Tests
{
    public static TheoryData<string> Positive => new()
    {
        "{|PG0005:lock (data.Mm.PageTableLock)|}\n{\n    if (PteNone(PtepGet(pte))) SetPteAt(data.Mm, addr, pte, PfnPte(1, PageKernel));\n}\nreturn 0;",
        "var entry = PtepGet(pte);\n{|PG0005:lock (data.Mm.PageTableLock)|}\n{\n    if (!PteNone(entry)) PteClear(data.Mm, addr, pte);\n}\nreturn 0;",
        "if (addr != 0)\n{\n    {|PG0005:lock (data.Mm.PageTableLock)|}\n    {\n        addr++;\n    }\n}\nreturn 0;",
        "{|PG0005:lock (data.Mm.PageTableLock)|}\n    addr++;\nreturn 0;",
        "var mm = data.Mm;\n{|PG0005:lock (mm.PageTableLock)|} { addr++; }\nreturn 0;",
        "{|PG0005:lock (data.Mm.PageTableLock)|} { addr++; }\n{|PG0005:lock (data.Mm.PageTableLock)|} { addr--; }\nreturn 0;",
        "for (int i = 0; i < 2; i++)\n{\n    {|PG0005:lock (data.Mm.PageTableLock)|} { addr++; }\n}\nreturn 0;",
        "{|PG0005:lock (data.Mm.PageTableLock)|}\n{\n    {|PG0005:lock (data.Mm.PageTableLock)|} { addr++; }\n}\nreturn 0;",
    };

    public static TheoryData<string> Negative => new()
    {
        "lock (data) { addr++; }\nreturn 0;",
        "return 0;",
        "var other = new object();\nlock (other) { addr++; }\nreturn 0;",
        "lock (data.Allocator) { addr++; }\nreturn 0;",
        "System.Action a = () => { lock (data.Mm.PageTableLock) { } };\na();\nreturn 0;",
        "data.Mm.PageTableLock.Enter();\ndata.Mm.PageTableLock.Exit();\nreturn 0;",
        "var fake = new FakeMm();\nlock (fake.PageTableLock) { addr++; }\nreturn 0;",
        "if (PteNone(PtepGet(pte))) SetPteAt(data.Mm, addr, pte, PfnPte(1, PageKernel));\nreturn 0;",
    };

    internal static string Source(string body) =>
        AnalyzerHarness.InCallback(body) + "\npublic sealed class FakeMm { public object PageTableLock { get; } = new(); }\n"
        + "public static class NotACallback { public static void Install(Mm mm) { lock (mm.PageTableLock) { } } }\n";

    [Theory]
    [MemberData(nameof(Positive))]
    public Task Reports(string body) => AnalyzerHarness.Verify<LockNotNeededAnalyzer>(Source(body));

    [Theory]
    [MemberData(nameof(Negative))]
    public Task Does_not_report(string body) => AnalyzerHarness.Verify<LockNotNeededAnalyzer>(Source(body));

    [Fact]
    public Task Fix_removes_the_lock_and_keeps_its_body_and_fix_all_does_both()
    {
        var test = AnalyzerHarness.FixTest<LockNotNeededAnalyzer, RemoveLockCodeFix>(
            Source("""
                {|PG0005:lock (data.Mm.PageTableLock)|}
                {
                    if (PteNone(PtepGet(pte)))
                        SetPteAt(data.Mm, addr, pte, PfnPte(1, PageKernel));
                }

                {|PG0005:lock (data.Mm.PageTableLock)|}
                {
                    addr++;
                }

                return 0;
                """),
            Source("""
                if (PteNone(PtepGet(pte)))
                    SetPteAt(data.Mm, addr, pte, PfnPte(1, PageKernel));

                addr++;

                return 0;
                """));
        test.CodeActionEquivalenceKey = "Remove the page-table lock";
        test.NumberOfFixAllIterations = 1;
        test.NumberOfFixAllInDocumentIterations = 1;
        test.NumberOfIncrementalIterations = 2;
        return test.RunAsync();
    }
}
