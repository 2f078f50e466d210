using System;
using System.Linq;

namespace PamtGen.Generator.Model;

/// <summary>
/// A checked entry format as the emitter needs it: the declaration as read (plain records, value-equatable) and where
/// the runtime reads the same declaration from (<see cref="Holder"/>, the class carrying the attributes; null for the
/// default x86 format).
/// </summary>
internal sealed class FormatSpec(FormatDecl format, EquatableArray<LeafDecl> leaves, EquatableArray<FieldDecl> fields, EquatableArray<KernelChecksDecl> kernelChecks, string? holder) : IEquatable<FormatSpec>
{
    public FormatDecl Format { get; } = format;

    public EquatableArray<LeafDecl> Leaves { get; } = leaves;

    public EquatableArray<FieldDecl> Fields { get; } = fields;

    /// <summary>The kernel's pXd_leaf()/pXd_present()/pXd_bad() where the format declares them.</summary>
    public EquatableArray<KernelChecksDecl> KernelChecks { get; } = kernelChecks;

    /// <summary>The fully qualified class carrying the declaration (the geometry itself or a ready-made format attribute), or null for the default.</summary>
    public string? Holder { get; } = holder;

    public FormatTables Resolve(int levels) => EntryFormatRules.Resolve(Format, Leaves.ToArray(), Fields.ToArray(), KernelChecks.ToArray(), levels);

    public bool Equals(FormatSpec? other) =>
        other is not null && Format.Equals(other.Format) && Leaves.Equals(other.Leaves) && Fields.Equals(other.Fields) && KernelChecks.Equals(other.KernelChecks) && Holder == other.Holder;

    public override bool Equals(object? obj) => Equals(obj as FormatSpec);

    public override int GetHashCode() => unchecked((Format.GetHashCode() * 31) + Leaves.GetHashCode());
}
