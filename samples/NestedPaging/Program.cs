using System.CommandLine;
using NestedPaging;
using PamtGen;
using PamtGen.MemoryMaps;

var layout = new Option<string>("--memmap") { Description = "The guest's memory layout: an e820 map (the bundled data/memmaps/08-vm-qemu-i440fx-16g.e820 is a QEMU guest's)", Required = true };
var arch = new Option<string>("--arch") { Description = "arm64 or x86", DefaultValueFactory = _ => "arm64" };
arch.AcceptOnlyFromAmong("arm64", "x86");
var accesses = new Option<int>("--accesses") { Description = "Guest accesses in the workload", DefaultValueFactory = _ => 200_000 };
var workingSet = new Option<int>("--working-set-mib") { Description = "The guest memory the workload touches, in MiB", DefaultValueFactory = _ => 256 };
var writes = new Option<int>("--write-percent") { Description = "Writes among the accesses, in percent", DefaultValueFactory = _ => 30 };
var seed = new Option<int>("--seed") { Description = "Seed of the workload", DefaultValueFactory = _ => 1 };
var report = new Command("report", "Stage-2 table pages with pages only against blocks, entries read per nested walk, the TLB's hit rate and the pages dirty logging finds, for a guest memory layout and a workload")
{
    layout, arch, accesses, workingSet, writes, seed,
};
report.SetAction(parse =>
{
    try
    {
        if (parse.GetValue(accesses) < 0 || parse.GetValue(workingSet) < 1 || parse.GetValue(writes) is < 0 or > 100)
        {
            throw new ArgumentException("--accesses must be 0 or more, --working-set-mib 1 or more, --write-percent 0 to 100");
        }

        var figures = NestedReport.Measure(
            parse.GetValue(arch) == "x86" ? Architecture.X86 : Architecture.Arm64, MemoryMap.Load(parse.GetValue(layout)!),
            parse.GetValue(accesses), (ulong)parse.GetValue(workingSet) << 20, parse.GetValue(writes), parse.GetValue(seed));
        Console.Write(NestedReport.Text(figures));
        return 0;
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
});

var root = new RootCommand("Two-stage translation on PamtGen's model: a guest's stage 1 over a stage 2, its TLB and KVM's dirty logging") { report };
return root.Parse(args).Invoke();
