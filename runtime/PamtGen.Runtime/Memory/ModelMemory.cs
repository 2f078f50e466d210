using System.Runtime.CompilerServices;

namespace PamtGen;

/// <summary>
/// The model's own memory, the default <see cref="IPageTableMemory"/>: page-table pages of one <see cref="PageAllocator"/>,
/// read and written in place. The only code that touches a table page's storage (a test holds that); every other
/// implementation (a guest's view through stage 2, a recording or exploring memory) reaches the tables through it or
/// beside it. On the model's one CPU its accesses are sequentially consistent: <see cref="MemoryOrder.Once"/>,
/// acquire and release are .NET volatile accesses, a compare-exchange is <see cref="Interlocked"/>'s, a full barrier
/// <see cref="Interlocked.MemoryBarrier"/>, so several .NET threads using one address space see each other's writes.
/// </summary>
public readonly struct ModelMemory : IPageTableMemory
{
    private readonly PageAllocator _allocator;

    /// <summary>The memory of <paramref name="allocator"/>'s pages, accessed by <paramref name="agent"/> (software on CPU 0 by default).</summary>
    public ModelMemory(PageAllocator allocator, Agent agent = default)
    {
        ArgumentNullException.ThrowIfNull(allocator);
        _allocator = allocator;
        Agent = agent;
    }

    /// <summary>The memory an address space's tables live in, for software on CPU 0.</summary>
    public static ModelMemory Of(Mm mm)
    {
        ArgumentNullException.ThrowIfNull(mm);
        return new ModelMemory(mm.Allocator);
    }

    /// <inheritdoc/>
    public Agent Agent { get; }

    /// <inheritdoc/>
    public static bool CanFault => false;

    /// <inheritdoc/>
    public Translation Fault => default;

    /// <inheritdoc/>
    public bool Faulted => false;

    /// <inheritdoc/>
    public int ExtraReads => 0;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Page? TableAt(ulong address) => _allocator.TableAt(address);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Read(Page table, int index, MemoryOrder order) => ReadEntry(table, index, order);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(Page table, int index, ulong value, MemoryOrder order) => WriteEntry(table, index, value, order);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong CompareExchange(Page table, int index, ulong value, ulong comparand) => CompareExchangeEntry(table, index, value, comparand);

    /// <inheritdoc/>
    public void Barrier(BarrierKind barrier)
    {
        if (barrier is BarrierKind.Full or BarrierKind.DsbIsh or BarrierKind.DsbIshSt)
        {
            Interlocked.MemoryBarrier(); // the others order nothing a volatile access does not already
        }
    }

    /// <inheritdoc/>
    public Page? AllocTable(int entries, int concatenated = 1) =>
        concatenated == 1 ? _allocator.AllocPageTable(entries) : _allocator.AllocPageTables(concatenated, entries);

    /// <inheritdoc/>
    public void FreeTable(Page table) => _allocator.FreePage(table);

    /// <summary>
    /// The one read of a table page's storage (a freed page is a BUG, as every use of one is). READ_ONCE() is an aligned
    /// 64-bit .NET read, which is never torn; only acquire needs the ordering of a volatile read. (A volatile read in the
    /// walkers' PTE loops would keep the JIT from hoisting the table's storage out of them.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong ReadEntry(Page table, int index, MemoryOrder order)
    {
        ulong[] words = table.Storage;
        if ((uint)index >= (uint)words.Length)
        {
            ThrowOutside(table, index);
        }

        return order == MemoryOrder.Acquire ? Volatile.Read(ref words[index]) : words[index];
    }

    /// <summary>The one write of a table page's storage.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void WriteEntry(Page table, int index, ulong value, MemoryOrder order)
    {
        ulong[] words = table.Storage;
        if ((uint)index >= (uint)words.Length)
        {
            ThrowOutside(table, index);
        }

        if (order == MemoryOrder.Plain)
        {
            words[index] = value;
        }
        else
        {
            Volatile.Write(ref words[index], value);
        }
    }

    /// <summary>The one compare-exchange of a table page's storage.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong CompareExchangeEntry(Page table, int index, ulong value, ulong comparand)
    {
        ulong[] words = table.Storage;
        if ((uint)index >= (uint)words.Length)
        {
            ThrowOutside(table, index);
        }

        return Interlocked.CompareExchange(ref words[index], value, comparand);
    }

    /// <summary>
    /// An entry access that misses the table: the table was freed (a use after free), or the index is outside it. Only
    /// throws, and is not NoInlining, so the JIT knows it never returns (see <see cref="Page.ThrowUseAfterFree"/>).
    /// </summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowOutside(Page table, int index) => throw Outside(table, index);

    private static Exception Outside(Page table, int index) => table.IsFreed
        ? Page.UseAfterFree(table)
        : new IndexOutOfRangeException($"entry {index} is outside the {table.Words.Length}-entry table at pfn 0x{table.Pfn:x}"); // the array's own exception, with the table named
}
