namespace PamtGen;

/// <summary>
/// The model's <c>BUG()</c>: an invariant of the memory model was violated (a page freed twice,
/// a page that was never allocated freed, a page used after it was freed). Never caught by the
/// model itself; a test or a simulation that sees it has found a bug.
/// </summary>
public sealed class KernelBugException : Exception
{
    /// <summary>Creates the exception; <paramref name="pfn"/> names the page at fault, if any.</summary>
    public KernelBugException(string message, ulong? pfn = null)
        : base("kernel BUG: " + message) => Pfn = pfn;

    /// <summary>The page frame number at fault, or null when no single page is involved.</summary>
    public ulong? Pfn { get; }
}

/// <summary>
/// The model's oops: a kernel virtual address that no page table maps was read or written
/// ("BUG: unable to handle page fault for address").
/// </summary>
public sealed class KernelOopsException : Exception
{
    /// <summary>Creates the exception for the faulting <paramref name="address"/>.</summary>
    public KernelOopsException(ulong address, string access)
        : this(address, access, "not-present page")
    {
    }

    /// <summary>Creates the exception for the faulting <paramref name="address"/>, saying why it faults.</summary>
    public KernelOopsException(ulong address, string access, string reason)
        : base($"BUG: unable to handle page fault for address: 0x{address:x16} ({access}, {reason})")
        => Address = address;

    /// <summary>The faulting kernel virtual address.</summary>
    public ulong Address { get; }
}
