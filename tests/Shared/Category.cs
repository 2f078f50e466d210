namespace PamtGen.Testing;

/// <summary>
/// The trait of the tests the fast inner loop leaves out (README, "A fast inner loop"): packing and consuming the
/// package, the language server, the docs' builds, the long fuzz and stress targets. Run the rest with
/// <c>dotnet test PamtGen.sln -c Release --filter "Category!=Slow"</c>; CI runs everything.
/// </summary>
public static class Category
{
    public const string Name = "Category";

    public const string Slow = "Slow";
}
