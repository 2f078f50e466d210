using System.Reflection;
using System.Runtime.CompilerServices;

// JIT-compiles every public static non-generic method (the helpers; the walkers are generic over their callbacks) of the generated geometry classes, fully optimized when run
// with DOTNET_TieredCompilation=0, so DOTNET_JitDisasm prints each one on its own.
foreach (var type in typeof(PamtGen.Generator.Probe.X86_64FourLevel).Assembly.GetTypes().Where(t => t.Namespace == "PamtGen.Generator.Probe" && t.IsAbstract && t.IsSealed))
{
    foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly).Where(m => !m.IsGenericMethodDefinition))
    {
        RuntimeHelpers.PrepareMethod(method.MethodHandle);
        Console.WriteLine($"{type.Name}.{method.Name}");
    }

    // The entry struct of the geometry's format: every accessor, test, constructor and conversion.
    var entry = type.GetNestedType("Entry")!;
    foreach (var method in entry.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
    {
        RuntimeHelpers.PrepareMethod(method.MethodHandle);
        Console.WriteLine($"{type.Name}.Entry.{method.Name}");
    }
}
