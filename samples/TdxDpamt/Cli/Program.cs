using System.CommandLine;
using PamtGen;
using PamtGen.MemoryMaps;
using TdxDpamt.Cli;
using TdxDpamt.Report;

var memmap = new Option<string>("--memmap") { Description = "A dmesg/e820 boot log, a /proc/iomem copy, or a /sys/firmware/memmap directory" };
var synthetic = new Option<string>("--synthetic") { Description = "A what-if machine, e.g. nodes=16,ram=256G,stride=2T (see README)" };
var format = new Option<string>("--format") { Description = "table or json", DefaultValueFactory = _ => "table" };
format.AcceptOnlyFromAmong("table", "json");
var svg = new Option<string>("--svg") { Description = "Also draw the address space and the refcount area to this SVG file" };
var report = new Command("report", "What the seed's sparse refcount scheme costs on a machine, against a dense array and a two-level table, with the v4 defects measured on the model")
{
    memmap, synthetic, format, svg,
};
report.SetAction(parse => Run(() =>
{
    var map = LoadMap(parse.GetValue(memmap), parse.GetValue(synthetic));
    var figures = DpamtReport.Measure(map);
    string? svgText = parse.GetValue(svg) is { } _ ? SvgRenderer.Render(map).ToString() : null;
    Console.Write(parse.GetValue(format) == "json" ? ReportFormatter.Json(figures) : ReportFormatter.Table(figures, map.Source));
    if (parse.GetValue(svg) is { } svgPath)
    {
        AtomicFile.WriteAllText(svgPath, svgText!);
        Console.Error.WriteLine($"wrote {svgPath}: the address space and the refcount area as SVG ({svgText!.Length:N0} bytes)");
    }

    return 0;
}));

var simMemmap = new Option<string>("--memmap") { Description = "The machine's memory map", Required = true };
var failNth = new Option<long?>("--fail-nth") { Description = "Fail the Nth page allocation after boot (fail_page_alloc)" };
var ops = new Option<int>("--ops") { Description = "Random tdx_pamt_get/put operations", DefaultValueFactory = _ => 100_000 };
var threads = new Option<int>("--threads") { Description = "Threads running them", DefaultValueFactory = _ => 4 };
var seed = new Option<int>("--seed") { Description = "Seed of the workload", DefaultValueFactory = _ => 1 };
var simulate = new Command("simulate", "Init, populate, a random get/put workload, teardown; exits non-zero on any leak or BUG")
{
    simMemmap, failNth, ops, threads, seed,
};
simulate.SetAction(parse => Run(() =>
{
    if (parse.GetValue(ops) < 0 || parse.GetValue(threads) is < 1 or > 256)
    {
        throw new ArgumentException("--ops must be 0 or more, --threads 1 to 256");
    }

    var result = Simulation.Run(LoadMap(parse.GetValue(simMemmap), null), parse.GetValue(failNth), parse.GetValue(ops), parse.GetValue(threads), parse.GetValue(seed));
    Console.Write(result.Text);
    return result.Clean ? 0 : 1;
}));

var root = new RootCommand("TDX Dynamic PAMT on PamtGen's kernel model: the seed's refcount scheme measured on real memory maps") { report, simulate };
return root.Parse(args).Invoke();

static MemoryMap LoadMap(string? path, string? spec) => (path, spec) switch
{
    ({ } p, null) => MemoryMap.Load(p),
    (null, { } s) => SyntheticMap.Parse(s),
    _ => throw new ArgumentException("give exactly one of --memmap PATH or --synthetic SPEC"),
};

// Bad input is one clear line on stderr and a non-zero exit; nothing half-written is left behind.
static int Run(Func<int> action)
{
    try
    {
        return action();
    }
    catch (Exception e) when (e is MemoryMapException or ArgumentException or IOException or UnauthorizedAccessException or InvalidOperationException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 2;
    }
    catch (Exception e) when (e is KernelBugException or KernelOopsException)
    {
        Console.Error.WriteLine(e.Message);
        return 1;
    }
}
