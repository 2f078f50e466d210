using System;

namespace PamtGen.Generator.Model;

/// <summary>One type declaration to reopen as partial: its keyword ("class", "record struct", ...) and its name with type parameters.</summary>
internal sealed class TypeDeclarationSpec(string keyword, string nameWithTypeParameters) : IEquatable<TypeDeclarationSpec>
{
    public string Keyword { get; } = keyword;

    public string NameWithTypeParameters { get; } = nameWithTypeParameters;

    /// <summary>The partial declaration that reopens the type: "static partial class X", "partial record struct Y&lt;T&gt;".</summary>
    public string PartialDeclaration =>
        Keyword.StartsWith("static ", StringComparison.Ordinal)
            ? $"static partial {Keyword.Substring("static ".Length)} {NameWithTypeParameters}"
            : $"partial {Keyword} {NameWithTypeParameters}";

    public bool Equals(TypeDeclarationSpec? other) =>
        other is not null && Keyword == other.Keyword && NameWithTypeParameters == other.NameWithTypeParameters;

    public override bool Equals(object? obj) => Equals(obj as TypeDeclarationSpec);

    public override int GetHashCode() => unchecked((Keyword.GetHashCode() * 31) + NameWithTypeParameters.GetHashCode());
}

/// <summary>Where the geometry class lives: its namespace (null for the global one), the types around it, and itself.</summary>
internal sealed class TypeSpec(string? ns, EquatableArray<TypeDeclarationSpec> containingTypes, string nameWithTypeParameters, string fullName)
    : IEquatable<TypeSpec>
{
    public string? Namespace { get; } = ns;

    /// <summary>Outermost first.</summary>
    public EquatableArray<TypeDeclarationSpec> ContainingTypes { get; } = containingTypes;

    public string NameWithTypeParameters { get; } = nameWithTypeParameters;

    /// <summary>The metadata-style full name, unique per type, used for the hint name.</summary>
    public string FullName { get; } = fullName;

    public bool Equals(TypeSpec? other) =>
        other is not null && Namespace == other.Namespace && ContainingTypes.Equals(other.ContainingTypes)
        && NameWithTypeParameters == other.NameWithTypeParameters && FullName == other.FullName;

    public override bool Equals(object? obj) => Equals(obj as TypeSpec);

    public override int GetHashCode() => FullName.GetHashCode();
}
