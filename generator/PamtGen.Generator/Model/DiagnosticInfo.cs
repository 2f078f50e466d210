using System;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace PamtGen.Generator.Model;

/// <summary>A source location as plain data: a <see cref="Location"/> would pin the syntax tree in the pipeline's cache.</summary>
internal sealed class LocationInfo : IEquatable<LocationInfo>
{
    private LocationInfo(string filePath, TextSpan span, LinePositionSpan lineSpan)
    {
        FilePath = filePath;
        Span = span;
        LineSpan = lineSpan;
    }

    public string FilePath { get; }

    public TextSpan Span { get; }

    public LinePositionSpan LineSpan { get; }

    public static LocationInfo? From(SyntaxNode? node) => From(node?.GetLocation());

    public static LocationInfo? From(SyntaxToken token) => From(token.GetLocation());

    public static LocationInfo? From(Location? location) =>
        location is { SourceTree: not null }
            ? new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span)
            : null;

    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

    public bool Equals(LocationInfo? other) =>
        other is not null && FilePath == other.FilePath && Span == other.Span && LineSpan.Equals(other.LineSpan);

    public override bool Equals(object? obj) => Equals(obj as LocationInfo);

    public override int GetHashCode() => unchecked((FilePath.GetHashCode() * 31) + Span.GetHashCode());
}

/// <summary>A diagnostic as data: the descriptor's id, where, and the message arguments.</summary>
internal sealed class DiagnosticInfo : IEquatable<DiagnosticInfo>
{
    public DiagnosticInfo(DiagnosticDescriptor descriptor, LocationInfo? location, params string[] messageArgs)
    {
        Descriptor = descriptor;
        Location = location;
        MessageArgs = new EquatableArray<StringValue>(messageArgs.Select(a => new StringValue(a)));
    }

    /// <summary>Descriptors are static singletons, compared by reference.</summary>
    public DiagnosticDescriptor Descriptor { get; }

    public LocationInfo? Location { get; }

    public EquatableArray<StringValue> MessageArgs { get; }

    public Diagnostic ToDiagnostic() =>
        Diagnostic.Create(Descriptor, Location?.ToLocation(), MessageArgs.Select(a => (object?)a.Value).ToArray());

    public bool Equals(DiagnosticInfo? other) =>
        other is not null && ReferenceEquals(Descriptor, other.Descriptor) && Equals(Location, other.Location) && MessageArgs.Equals(other.MessageArgs);

    public override bool Equals(object? obj) => Equals(obj as DiagnosticInfo);

    public override int GetHashCode() => unchecked((Descriptor.Id.GetHashCode() * 31) + MessageArgs.GetHashCode());
}

/// <summary>A string that can sit in an <see cref="EquatableArray{T}"/>.</summary>
internal readonly struct StringValue(string value) : IEquatable<StringValue>
{
    public string Value { get; } = value;

    public bool Equals(StringValue other) => string.Equals(Value, other.Value, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is StringValue other && Equals(other);

    public override int GetHashCode() => Value?.GetHashCode() ?? 0;
}
