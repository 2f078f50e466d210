namespace PamtGen.Runtime.Tests;

/// <summary>The real e820 maps of data/memmaps, copied next to the test assembly.</summary>
internal static class BundledMaps
{
    public const string Laptop = "01-laptop-lenovo-t14g3.e820";
    public const string Dell = "03-server2s-dell-r740-256g.e820";
    public const string Supermicro = "04-server2s-supermicro-h11dsu-1t.e820";
    public const string Qemu = "08-vm-qemu-i440fx-16g.e820";

    public static readonly string[] All = [Laptop, Dell, Supermicro, Qemu];

    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "memmaps", name);

    public static IEnumerable<object[]> Names => All.Select(n => new object[] { n });
}
