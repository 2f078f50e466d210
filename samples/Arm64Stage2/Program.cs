using System.CommandLine;
using Arm64Stage2;
using PamtGen;

var ram = new Option<int>("--ram-gib") { Description = "Guest RAM in GiB, at IPA 1 GiB as on QEMU's arm64 virt machine", DefaultValueFactory = _ => 2 };
var failNth = new Option<long?>("--fail-nth") { Description = "Fail the Nth host page allocation (fail_page_alloc)" };
var root = new RootCommand("Map a guest's RAM into an arm64 64K-granule stage-2 table on PamtGen's model, and tear it down") { ram, failNth };
root.SetAction(parse =>
{
    int gib = parse.GetValue(ram);
    if (gib is < 1 or > 64)
    {
        Console.Error.WriteLine("error: --ram-gib must be 1 to 64");
        return 2;
    }

    const ulong ramBase = 1UL << 30;
    ulong size = (ulong)gib << 30;
    var guest = new GuestStage2(hostPages: (size >> Stage2.PageShift) + 64);
    if (parse.GetValue(failNth) is { } nth)
    {
        guest.Host.FaultInjection = FailPageAlloc.Nth(guest.Host.Stats.Attempts + nth);
    }

    int err = guest.MapRam(ramBase, size);
    var mapped = guest.Host.Stats;
    Console.WriteLine($"map {gib} GiB at IPA 0x{ramBase:x}: {(err == 0 ? "ok" : $"failed with {err}")}");
    Console.WriteLine($"  host data pages {mapped.DataPages} ({mapped.DataPages * (long)Stage2.PageSize >> 20} MiB), stage-2 table pages {mapped.PageTablePages}");
    Console.WriteLine($"  IPA 0x{ramBase:x} -> {Show(guest.Translate(ramBase))}, IPA 0x{ramBase + size - 1:x} -> {Show(guest.Translate(ramBase + size - 1))}, IPA 0x9000000 (UART) -> {Show(guest.Translate(0x9000000))}");
    if (guest.Descriptor(ramBase) is { } first)
    {
        Console.WriteLine($"  level-3 descriptor of IPA 0x{ramBase:x}: 0x{first.Value:x} (MemAttr 0x{first.MemAttr:x}, S2AP {first.S2AccessPermissions}, SH {first.Shareability}, AF {(first.AccessFlag ? 1 : 0)})");
    }

    guest.Unmap(ramBase, size);
    var after = guest.Host.Stats;
    Console.WriteLine($"unmap: host data pages left {after.DataPages}, stage-2 table pages {after.PageTablePages}");
    return after.DataPages == 0 ? 0 : 1;

    static string Show(ulong? pa) => pa is { } p ? $"PA 0x{p:x}" : "stage-2 fault";
});
return root.Parse(args).Invoke();
