namespace PamtGen;

/// <summary>A range of page frame numbers, <c>[Start, End)</c>, as <c>for_each_mem_pfn_range</c> yields them.</summary>
public readonly record struct PfnRange(ulong Start, ulong End)
{
    /// <summary>The number of pages in the range.</summary>
    public ulong Pages => End - Start;

    /// <inheritdoc/>
    public override string ToString() => $"[0x{Start:x}-0x{End:x})";
}
