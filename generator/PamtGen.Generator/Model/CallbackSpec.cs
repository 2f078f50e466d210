using System;

namespace PamtGen.Generator.Model;

/// <summary>A valid [PteCallback] method: where it lives and what its adapter struct needs, as plain data.</summary>
internal sealed class CallbackSpec(
    string? ns, EquatableArray<TypeDeclarationSpec> types, string methodName, string dataType, string accessibility, string fullName)
    : IEquatable<CallbackSpec>
{
    public string? Namespace { get; } = ns;

    /// <summary>The types around the method, outermost first, the method's own type last.</summary>
    public EquatableArray<TypeDeclarationSpec> Types { get; } = types;

    public string MethodName { get; } = methodName;

    /// <summary>The third parameter's type, fully qualified (pte_fn_t's void *data).</summary>
    public string DataType { get; } = dataType;

    /// <summary>The method's accessibility, which the adapter struct takes.</summary>
    public string Accessibility { get; } = accessibility;

    /// <summary>The containing type's full name plus the method's, unique per callback, for the hint name.</summary>
    public string FullName { get; } = fullName;

    public bool Equals(CallbackSpec? other) =>
        other is not null && Namespace == other.Namespace && Types.Equals(other.Types) && MethodName == other.MethodName
        && DataType == other.DataType && Accessibility == other.Accessibility && FullName == other.FullName;

    public override bool Equals(object? obj) => Equals(obj as CallbackSpec);

    public override int GetHashCode() => FullName.GetHashCode();
}

/// <summary>What the parser made of one [PteCallback] method.</summary>
internal sealed class CallbackParseResult(CallbackSpec? spec, EquatableArray<DiagnosticInfo> diagnostics) : IEquatable<CallbackParseResult>
{
    public CallbackSpec? Spec { get; } = spec;

    public EquatableArray<DiagnosticInfo> Diagnostics { get; } = diagnostics;

    public bool Equals(CallbackParseResult? other) => other is not null && Equals(Spec, other.Spec) && Diagnostics.Equals(other.Diagnostics);

    public override bool Equals(object? obj) => Equals(obj as CallbackParseResult);

    public override int GetHashCode() => unchecked(((Spec?.GetHashCode() ?? 0) * 31) + Diagnostics.GetHashCode());
}
