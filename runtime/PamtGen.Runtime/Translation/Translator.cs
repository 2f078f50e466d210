using System.ComponentModel;
using System.Runtime.CompilerServices;
using PamtGen.CompilerServices;

namespace PamtGen.CompilerServices
{
    /// <summary>
    /// How a translation walk reaches the tables: the model's own memory for a single stage (<see cref="ModelTables"/>), or
    /// guest-physical memory through stage 2 (<see cref="GuestTables"/>). For the runtime's and the generated walks only.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public interface ITableMemory
    {
        /// <summary>
        /// The slot of entry <paramref name="index"/> of the table at <paramref name="tableAddress"/>, to read, or to update
        /// when <paramref name="write"/>; a null reference when it cannot be reached (a stage-2 fault, in <see cref="Stage2Fault"/>).
        /// </summary>
        ref ulong Entry(ulong tableAddress, int index, bool write);

        /// <summary>Whether <see cref="Entry"/> may return a null reference (a constant the JIT folds: false for the model's own memory).</summary>
        static abstract bool CanFault { get; }

        /// <summary>The fault that made the last <see cref="Entry"/> return a null reference.</summary>
        Translation Stage2Fault { get; }

        /// <summary>Entries read to reach the tables (a two-stage walk's stage-2 reads); 0 for a single stage.</summary>
        int ExtraReads { get; }
    }

    /// <summary>The tables of a single-stage address space: pages of its own allocator, read in place.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public readonly struct ModelTables(PageAllocator allocator) : ITableMemory
    {
        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ref ulong Entry(ulong tableAddress, int index, bool write) => ref allocator.PfnToPage(tableAddress >> allocator.PageShift).Words[index];

        /// <inheritdoc/>
        public static bool CanFault => false;

        /// <inheritdoc/>
        public Translation Stage2Fault => default;

        /// <inheritdoc/>
        public int ExtraReads => 0;
    }

    /// <summary>
    /// The tables of a stage-1 address space in guest-physical memory: every entry's guest-physical address is translated
    /// through stage 2 (a read, or a write for the walker's own updates), then read in host memory.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public struct GuestTables(GuestPhysicalSpace guest, int entrySize, TranslateOptions options, bool generated) : ITableMemory
    {
        private Translation _fault;
        private int _extra;

        /// <inheritdoc/>
        public ref ulong Entry(ulong tableAddress, int index, bool write)
        {
            ulong gpa = tableAddress + ((ulong)index * (ulong)entrySize);
            var stage2 = guest.Stage2.TranslateWith(gpa, write ? Access.Write : Access.Read, options, generated);
            _extra += stage2.EntriesRead;
            if (stage2.IsFault)
            {
                _fault = stage2 with { Stage = TranslationStage.Stage2, FaultAddress = gpa, DuringStage1Walk = true };
                return ref Unsafe.NullRef<ulong>();
            }

            return ref guest.HostEntry(stage2.OutputAddress, entrySize);
        }

        /// <inheritdoc/>
        public static bool CanFault => true;

        /// <inheritdoc/>
        public readonly Translation Stage2Fault => _fault;

        /// <inheritdoc/>
        public readonly int ExtraReads => _extra;
    }
}

namespace PamtGen
{
    /// <summary>
    /// Translation as the MMU does it, over the runtime's <see cref="Geometry"/> with a per-level loop, as the reference
    /// walkers are written: the walk the generated <c>Translate</c> of every geometry unrolls, and what it is tested and
    /// measured against. <see cref="Mm.Translate"/> calls the generated walk for a generated address space, this one otherwise.
    /// </summary>
    public static class Translator
    {
        /// <summary>Translates <paramref name="va"/> in <paramref name="mm"/> with the per-level loop (and the loop at stage 2), through the TLB model when <paramref name="mm"/> tracks one.</summary>
        public static Translation Translate(Mm mm, ulong va, Access access, TranslateOptions options = default)
        {
            ArgumentNullException.ThrowIfNull(mm);
            return mm.TranslateWith(va, access, options, generated: false);
        }

        /// <summary>
        /// The walk, one entry per level top-down: not valid is a fault at that level, reserved bits (x86) too; a leaf ends it
        /// with the permissions of every entry used combined as the format's model says, the access flag checked (arm64),
        /// and, with <see cref="TranslateOptions.UpdateAccessedDirty"/>, the entries updated by compare-exchange (a race
        /// restarts the walk).
        /// </summary>
        internal static Translation Walk<TMemory>(Geometry geometry, ulong root, ulong va, Access access, TranslateOptions options, ref TMemory memory)
            where TMemory : struct, ITableMemory
        {
            ArgumentNullException.ThrowIfNull(geometry);
            var g = geometry;
            var m = g.Masks;
            var levels = g.EntryLevels;
            bool update = (options & TranslateOptions.UpdateAccessedDirty) != 0; // a model reads no field it does not update: None updates nothing
            bool write = (access & Access.Write) != 0;
            Span<ulong> tables = stackalloc ulong[5];
            Span<ulong> used = stackalloc ulong[5];
            Span<int> indices = stackalloc int[5];
            while (true)
            {
                ulong table = root, and = ~0UL, or = 0;
                int reads = 0;
                for (int i = 0; ; i++)
                {
                    var level = levels[i];
                    int index = g.Index(g.TableLevel(level), va);
                    ref ulong slot = ref memory.Entry(table, index, write: false);
                    if (TMemory.CanFault && Unsafe.IsNullRef(ref slot))
                    {
                        return TranslationRules.Stage2Fault(ref memory, access, reads);
                    }

                    ulong e = Volatile.Read(ref slot);
                    reads++;
                    if (!g.IsValidEntry(level, e))
                    {
                        return TranslationRules.Fault(FaultReason.NotPresent, level, access, va, reads + memory.ExtraReads);
                    }

                    bool leaf = g.IsLeafEntry(level, e);
                    if ((e & g.ReservedBits(level, leaf)) != 0)
                    {
                        return TranslationRules.Fault(FaultReason.ReservedBits, level, access, va, reads + memory.ExtraReads);
                    }

                    tables[i] = table;
                    indices[i] = index;
                    used[i] = e;
                    if (!leaf)
                    {
                        and &= e;
                        or |= e;
                        table = g.TableAddress(e);
                        continue;
                    }

                    var result = Leaf(g, m, level, i, e, and, or, va, access, update, write, reads, tables, indices, used, ref memory);
                    if (result is { } done)
                    {
                        return done;
                    }

                    break; // an update lost a race: walk again
                }
            }
        }

        /// <summary>The end of the walk at a leaf: access flag, permissions, updates. Null when an update lost a race.</summary>
        private static Translation? Leaf<TMemory>(
            Geometry g, TranslationMasks m, PageTableLevel level, int position, ulong e, ulong and, ulong or, ulong va, Access access,
            bool update, bool write, int reads, Span<ulong> tables, Span<int> indices, Span<ulong> used, ref TMemory memory)
            where TMemory : struct, ITableMemory
        {
            if ((e & m.AccessFlag) != m.AccessFlag && !update)
            {
                return TranslationRules.Fault(FaultReason.AccessFlag, level, access, va, reads + memory.ExtraReads); // arm64 without FEAT_HAFDBS
            }

            // FEAT_HAFDBS: a write to a clean DirtyBitModifier leaf makes it writable (stage 1 clears AP[2], stage 2 sets S2AP[1]).
            ulong effective = update && write && (e & m.DirtyBitModifier) != 0 ? (e & ~m.DirtyClears) | m.DirtySets : e;
            var permissions = m.Model switch
            {
                EntryFormatRules.PermissionsX86 => TranslationRules.X86(and & effective, or | effective, m.Writable, m.User, m.NoExecute),
                EntryFormatRules.PermissionsArm64Stage1 => TranslationRules.Arm64Stage1(or, effective, m.AccessPermissions, m.PrivilegedExecuteNever, m.UnprivilegedExecuteNever, m.ApTable, m.PxnTable, m.UxnTable),
                EntryFormatRules.PermissionsArm64Stage2 => TranslationRules.Arm64Stage2(effective, m.S2AccessPermissions, m.ExecuteNever),
                _ => Permissions.All,
            };
            var reason = TranslationRules.Check(permissions, access);
            if (reason != FaultReason.None)
            {
                return TranslationRules.Fault(reason, level, access, va, reads + memory.ExtraReads);
            }

            ulong leafValue = e;
            if (update)
            {
                // The leaf first, then (x86) A in every table entry the walk used, bottom-up, as the generated walk returns.
                leafValue = effective | m.SetOnAccess | (write ? m.Dirty : 0);
                int stopped = leafValue != e ? TranslationRules.UpdateEntry(ref memory, tables[position], indices[position], e, leafValue) : 0;
                for (int j = position - 1; j >= 0 && stopped == 0 && m.Accessed != 0; j--)
                {
                    stopped = (used[j] & m.Accessed) == 0 ? TranslationRules.UpdateEntry(ref memory, tables[j], indices[j], used[j], used[j] | m.Accessed) : 0;
                }

                if (stopped != 0)
                {
                    return stopped == 2 ? TranslationRules.Stage2Fault(ref memory, access, reads) : null;
                }
            }

            ulong size = g.Size(level);
            return new Translation(
                FaultReason.None, TranslationStage.Stage1, level, g.LeafAddress(level, e) + (va & (size - 1)), size,
                permissions, (leafValue & m.Dirty) == m.Dirty, access, reads + memory.ExtraReads, va);
        }

        /// <summary>
        /// A stage-1 result and the stage-2 translation of its output: the host-physical address, the smaller leaf, the
        /// permissions both allow (stage 2's privileged ones apply to both privilege levels), dirty when both are; or stage 2's fault.
        /// </summary>
        internal static Translation Combine(Translation stage1, Translation stage2)
        {
            if (stage2.IsFault)
            {
                return stage2 with { Stage = TranslationStage.Stage2, FaultAddress = stage1.OutputAddress, Access = stage1.Access, EntriesRead = stage1.EntriesRead + stage2.EntriesRead };
            }

            int both = (int)stage2.Permissions & 7; // stage 2 is checked as privileged accesses: its kernel permissions apply to both levels
            ulong size = Math.Min(stage1.Size, stage2.Size);
            return stage1 with
            {
                OutputAddress = stage2.OutputAddress,
                Size = size,
                Permissions = stage1.Permissions & (Permissions)(both | (both << 3)),
                Dirty = stage1.Dirty && stage2.Dirty,
                EntriesRead = stage1.EntriesRead + stage2.EntriesRead,
            };
        }
    }
}
