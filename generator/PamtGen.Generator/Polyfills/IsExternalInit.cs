// netstandard2.0 lacks the marker type that C# 9 records and init accessors need; the compiler accepts an internal one.
namespace System.Runtime.CompilerServices;

internal static class IsExternalInit;
