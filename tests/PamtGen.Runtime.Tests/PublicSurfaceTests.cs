using System.ComponentModel;
using System.Reflection;

namespace PamtGen.Runtime.Tests;

/// <summary>
/// What a user sees is what a user should call: the API only generated walkers need is in PamtGen.CompilerServices,
/// every type of it hidden from IntelliSense, and none of it is left on <see cref="Mm"/>.
/// </summary>
public class PublicSurfaceTests
{
    private static readonly Type[] Exported = typeof(Mm).Assembly.GetExportedTypes();

    [Fact]
    public void The_generated_code_seam_is_one_hidden_namespace()
    {
        var seam = Exported.Where(t => t.Namespace == "PamtGen.CompilerServices").ToList();
        Assert.Equal(["GeneratedWalkers", "GuestTables", "IApplyWalk", "Journal", "JournaledPteFn`1", "TranslationRules"], seam.Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.All(seam, t => Assert.Equal(EditorBrowsableState.Never, t.GetCustomAttribute<EditorBrowsableAttribute>()?.State));
    }

    [Fact]
    public void Mm_has_no_member_for_generated_code_only()
    {
        var members = typeof(Mm).GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static).Select(m => m.Name).ToHashSet();
        Assert.DoesNotContain("PopulateIfNone", members);
        Assert.DoesNotContain("TableOf", members);
        Assert.DoesNotContain("FreeTableIfEmpty", members);
        Assert.DoesNotContain("TableJournal", members);
        Assert.DoesNotContain("RequireGeometry", members);
        Assert.False(typeof(Mm).IsSealed); // a generated geometry's AddressSpace derives from it
    }

    [Fact]
    public void Geometries_are_equal_only_to_themselves()
    {
        var again = new Geometry(12, 512, 8, 4, 48, "x86-64 4-level");
        Assert.NotEqual(Geometry.X86_64FourLevel, again);
        Assert.NotEqual(Geometry.X86_64FourLevel, Geometry.Arm64Granule4K);
        Assert.Equal(Geometry.X86_64FourLevel, Geometry.X86_64FourLevel);
    }
}
