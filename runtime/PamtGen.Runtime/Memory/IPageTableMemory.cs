namespace PamtGen;

/// <summary>
/// The memory page tables live in, as one agent reaches it: every entry read, write and compare-exchange, every
/// barrier, every table allocated, found or freed by PamtGen goes through one implementation of this interface, as every
/// table access of google/aarch64-paging goes through its <c>Translation</c> trait and KVM's walker through its
/// <c>kvm_pgtable_mm_ops</c> and <c>READ_ONCE()</c>/<c>WRITE_ONCE()</c>/<c>cmpxchg()</c>. Walkers, block mapping and
/// translation are generic over a struct implementing it, so the JIT specializes each of them for it:
/// <see cref="ModelMemory"/>, the default, adds nothing to a plain array access. An implementation is a handle: copies of
/// it share its state (a walk hands copies to the PTE callbacks it calls, inside <see cref="PtePointer"/>).
/// </summary>
/// <remarks>
/// Values, not references: a caller gets an entry's value and gives a new one, so nothing can write a table behind the
/// implementation's back. A table is named by the <see cref="Page"/> that holds it; <see cref="TableAt"/> finds it from
/// the address a table entry holds (the kernel's <c>pXd_page_vaddr()</c>, aarch64-paging's <c>physical_to_virtual</c>).
/// </remarks>
public interface IPageTableMemory
{
    /// <summary>Who makes the accesses: a CPU's software, or its hardware walker.</summary>
    Agent Agent { get; }

    /// <summary>
    /// The page-table page at physical address <paramref name="address"/> (the address field of a table entry), or null
    /// when no page table begins there (memory that is not the model's, a page not allocated, the middle of a
    /// concatenated root). Never faults: a memory reached through another translation faults on the entry accesses.
    /// </summary>
    Page? TableAt(ulong address);

    /// <summary>The entry <paramref name="index"/> of <paramref name="table"/>, read with <paramref name="order"/>.</summary>
    ulong Read(Page table, int index, MemoryOrder order);

    /// <summary>Writes the entry <paramref name="index"/> of <paramref name="table"/> with <paramref name="order"/>.</summary>
    void Write(Page table, int index, ulong value, MemoryOrder order);

    /// <summary>
    /// cmpxchg(): writes <paramref name="value"/> where the entry holds <paramref name="comparand"/>; returns what the entry
    /// held (equal to <paramref name="comparand"/> when the write happened). Fully ordered, as the kernel's is.
    /// </summary>
    ulong CompareExchange(Page table, int index, ulong value, ulong comparand);

    /// <summary>A barrier between this agent's earlier and later accesses (a no-op where the model's memory is sequentially consistent).</summary>
    void Barrier(BarrierKind barrier);

    /// <summary>
    /// pte_alloc_one_kernel() and its cousins: a zeroed page-table page of <paramref name="entries"/> entries, or, with
    /// <paramref name="concatenated"/> above 1, that many physically contiguous tables aligned to their total size (an arm64
    /// stage-2 root); null when the allocation fails.
    /// </summary>
    Page? AllocTable(int entries, int concatenated = 1);

    /// <summary>pte_free_kernel() and its cousins: returns a page-table page no entry points to any more.</summary>
    void FreeTable(Page table);

    /// <summary>
    /// Whether <see cref="Read"/>, <see cref="Write"/> and <see cref="CompareExchange"/> can fault: a memory reached
    /// through a second stage of translation. A constant the JIT folds: false for the model's own memory.
    /// </summary>
    static abstract bool CanFault { get; }

    /// <summary>The fault the last access took, when <see cref="Faulted"/>; for a memory that cannot fault, never set.</summary>
    Translation Fault { get; }

    /// <summary>True when the last access faulted (then its value is 0 and nothing was written).</summary>
    bool Faulted { get; }

    /// <summary>Entries read to reach the tables on the way (a two-stage walk's stage-2 reads); 0 for the model's own memory.</summary>
    int ExtraReads { get; }
}

/// <summary>The ordering of one entry access, in the kernel's words.</summary>
public enum MemoryOrder
{
    /// <summary>A plain C access (<c>*ptep</c>): may be torn, merged or reordered by the compiler.</summary>
    Plain = 0,

    /// <summary><c>READ_ONCE()</c>/<c>WRITE_ONCE()</c>: one access, not torn, not merged; no ordering with other locations.</summary>
    Once = 1,

    /// <summary><c>smp_load_acquire()</c>: later accesses are not seen before it.</summary>
    Acquire = 2,

    /// <summary><c>smp_store_release()</c>: earlier accesses are seen before it (a new table's contents before its entry).</summary>
    Release = 3,
}

/// <summary>A memory barrier, in the kernel's and the architectures' words.</summary>
public enum BarrierKind
{
    /// <summary><c>smp_mb()</c>: a full barrier.</summary>
    Full = 0,

    /// <summary><c>smp_wmb()</c>: earlier stores before later stores (what __pte_alloc() issues before it installs a table).</summary>
    Write = 1,

    /// <summary><c>smp_rmb()</c>: earlier loads before later loads.</summary>
    Read = 2,

    /// <summary>arm64 <c>DSB ISHST</c>: earlier table stores visible to every walker of the inner-shareable domain (before a TLBI).</summary>
    DsbIshSt = 3,

    /// <summary>arm64 <c>DSB ISH</c>: completes earlier TLB maintenance and accesses in the inner-shareable domain.</summary>
    DsbIsh = 4,

    /// <summary>arm64 <c>ISB</c>: later instructions see the effects of earlier ones (a new translation after a TLBI).</summary>
    Isb = 5,
}

/// <summary>What makes an access to the tables.</summary>
public enum AgentKind
{
    /// <summary>Software running on a CPU (the kernel's code, a PTE callback).</summary>
    Software = 0,

    /// <summary>A CPU's hardware page-table walker (translation, its accessed and dirty updates).</summary>
    HardwareWalker = 1,
}

/// <summary>The identity of an accessing agent: what it is and on which CPU.</summary>
/// <param name="Kind">Software or the hardware walker.</param>
/// <param name="Cpu">The CPU's number, from 0.</param>
public readonly record struct Agent(AgentKind Kind, int Cpu)
{
    /// <summary>Software on CPU 0: the model's one CPU, the default.</summary>
    public static Agent Cpu0 => default;

    /// <summary>The hardware walker of CPU <paramref name="cpu"/>.</summary>
    public static Agent WalkerOf(int cpu) => new(AgentKind.HardwareWalker, cpu);

    /// <inheritdoc/>
    public override string ToString() => Kind == AgentKind.Software ? $"CPU {Cpu}" : $"CPU {Cpu} walker";
}
