using System.ComponentModel;
using System.Runtime.CompilerServices;
using PamtGen.CompilerServices;

namespace PamtGen.CompilerServices
{
    /// <summary>
    /// The tables of a stage-1 address space in guest-physical memory, as its hardware walker reaches them: every entry's
    /// guest-physical address is translated through stage 2 (a read, or a write for the walker's own updates), then read or
    /// written in host memory, so a stage-2 fault can stop any access (<see cref="Faulted"/>). Tables are named by the guest
    /// pages that hold them; an address that holds none reads as zeros.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public struct GuestTables(GuestPhysicalSpace guest, int entrySize, TranslateOptions options, bool generated) : IPageTableMemory
    {
        private Translation _fault;
        private bool _faulted;
        private int _extra;
        private ulong _lastGpa = ulong.MaxValue;
        private Translation _last;
        private ulong _outputGpa = ulong.MaxValue;
        private Translation _output;

        /// <inheritdoc/>
        public readonly Agent Agent => Agent.WalkerOf(0);

        /// <inheritdoc/>
        public static bool CanFault => true;

        /// <inheritdoc/>
        public readonly Translation Fault => _fault;

        /// <inheritdoc/>
        public readonly bool Faulted => _faulted;

        /// <inheritdoc/>
        public readonly int ExtraReads => _extra;

        /// <inheritdoc/>
        public readonly Page? TableAt(ulong address) => guest.Allocator.TableAt(address);

        /// <inheritdoc/>
        public ulong Read(Page table, int index, MemoryOrder order) =>
            Stage2(EntryAddress(table, index), guest.TableReadAccess(options)) is { } hpa ? guest.ReadHost(hpa, entrySize) : 0;

        /// <inheritdoc/>
        public void Write(Page table, int index, ulong value, MemoryOrder order)
        {
            if (Stage2(EntryAddress(table, index), Access.Write) is { } hpa)
            {
                guest.WriteHost(hpa, entrySize, value);
            }
        }

        /// <inheritdoc/>
        public ulong CompareExchange(Page table, int index, ulong value, ulong comparand) =>
            Stage2(EntryAddress(table, index), Access.Write) is { } hpa ? guest.CompareExchangeHost(hpa, entrySize, value, comparand) : ~comparand;

        /// <inheritdoc/>
        public readonly void Barrier(BarrierKind barrier)
        {
        }

        /// <inheritdoc/>
        public readonly Page? AllocTable(int entries, int concatenated = 1) => new ModelMemory(guest.Allocator).AllocTable(entries, concatenated);

        /// <inheritdoc/>
        public readonly void FreeTable(Page table) => guest.Allocator.FreePage(table);

        private readonly ulong EntryAddress(Page table, int index) => table.PhysAddr + ((ulong)index * (ulong)entrySize);

        /// <summary>
        /// The stage-2 translation of a leaf's output <paramref name="gpa"/> for the guest's <paramref name="access"/>, made
        /// before the walker updates the leaf (<see cref="TranslationRules.UpdateLeaf"/>), stage 1 having allowed it with
        /// <paramref name="stage1"/>: false on a stage-2 fault (then <see cref="Fault"/>, not taken during the stage-1 walk);
        /// kept for <see cref="OutputOf"/> otherwise.
        /// </summary>
        internal bool TranslateOutput(ulong gpa, Access access, Permissions stage1)
        {
            var stage2 = guest.TranslateStage2(gpa, access, guest.Stage2AsUser(stage1), options, generated);
            if (stage2.IsFault)
            {
                _extra += stage2.EntriesRead;
                _faulted = true;
                _fault = stage2 with { Stage = TranslationStage.Stage2, FaultAddress = gpa, DuringStage1Walk = false, Stage2Access = stage2.Access };
                return false;
            }

            (_outputGpa, _output) = (gpa, stage2);
            return true;
        }

        /// <summary>The stage-2 translation of the walk's output <paramref name="gpa"/>: the one made before the leaf's update, or a new one.</summary>
        internal readonly Translation OutputOf(ulong gpa, Access access, Permissions stage1) =>
            gpa == _outputGpa ? _output : guest.TranslateStage2(gpa, access, guest.Stage2AsUser(stage1), options, generated);

        /// <summary>
        /// The host address of guest-physical <paramref name="gpa"/> for <paramref name="access"/>, or null on a stage-2 fault
        /// (then <see cref="Fault"/>). One stage-2 translation per stage-1 entry: the walker's update of the entry it has just
        /// read uses the translation of that read when it allows the write with no stage-2 dirty update to make, as the
        /// hardware updates through the translation it holds; otherwise it translates again, as a write.
        /// </summary>
        private ulong? Stage2(ulong gpa, Access access)
        {
            if (access == Access.Write && gpa == _lastGpa && _last.Dirty
                && (_last.Permissions & (guest.ChecksAccessesAsUser ? Permissions.UserWrite : Permissions.KernelWrite)) != 0)
            {
                return _last.OutputAddress;
            }

            var stage2 = guest.TranslateStage2(gpa, access, guest.ChecksAccessesAsUser, options, generated);
            (_lastGpa, _last) = stage2.Ok ? (gpa, stage2) : (ulong.MaxValue, default);
            _extra += stage2.EntriesRead;
            _faulted = stage2.IsFault;
            if (stage2.IsFault)
            {
                _fault = stage2 with { Stage = TranslationStage.Stage2, FaultAddress = gpa, DuringStage1Walk = true, Stage2Access = stage2.Access };
                return null;
            }

            return stage2.OutputAddress;
        }
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
        /// The walk, one entry per level top-down, as a visitor of the one walk: not valid is a fault at that level, reserved
        /// bits (x86) too; a leaf ends it with the permissions of every entry used combined as the format's model says, the
        /// access flag checked (arm64), and, with <see cref="TranslateOptions.UpdateAccessedDirty"/>, the entries updated by
        /// compare-exchange: the leaf first, then (x86) A in the table entries, bottom-up as the walk returns from them. An
        /// update that loses a race walks again. A table entry whose address holds no table reads zeros there: the next
        /// level's entry is not present.
        /// </summary>
        internal static Translation Walk<TMemory>(Geometry geometry, Page root, ulong va, Access access, TranslateOptions options, ref TMemory memory)
            where TMemory : struct, IPageTableMemory
        {
            ArgumentNullException.ThrowIfNull(geometry);
            while (true)
            {
                var visitor = new TranslateVisitor(va, access, options);
                int err = PageTableWalk.Walk(geometry, root, va, va + 1, ref visitor, ref memory);
                if (err == PageTableWalk.FaultedRead)
                {
                    return TranslationRules.Stage2Fault(ref memory, access, visitor.Reads);
                }

                if (err != TranslateVisitor.Restart)
                {
                    return visitor.Result;
                }
            }
        }

        /// <summary>One translation as a walk visitor: the entries on the way down, the leaf, the table entries' updates on the way back.</summary>
        private struct TranslateVisitor(ulong va, Access access, TranslateOptions options) : ITableVisitor
        {
            /// <summary>The walk ends at a fault: the result is set.</summary>
            public const int Stop = 1;

            /// <summary>An update lost a race: walk again.</summary>
            public const int Restart = 2;

            private ulong _and = ~0UL, _or;

            public int Reads;

            public Translation Result;

            public static TableVisits Visits => TableVisits.Leaf | TableVisits.TablePre | TableVisits.TablePost;

            public static WalkView View => WalkView.Hardware;

            public int Visit<TMemory>(ref WalkContext context, TableVisits visit, ref TMemory memory)
                where TMemory : struct, IPageTableMemory
            {
                var g = context.Geometry;
                var m = g.Masks;
                ulong e = context.Old;
                if (visit == TableVisits.TablePost)
                {
                    // x86 sets A in every table entry the walk used, after the leaf's own update.
                    if (!Result.Ok || (options & TranslateOptions.UpdateAccessedDirty) == 0 || m.Accessed == 0 || (e & m.Accessed) != 0)
                    {
                        return 0;
                    }

                    int stopped = TranslationRules.UpdateEntry(ref memory, context.Table, context.Index, e, e | m.Accessed);
                    if (stopped == 2)
                    {
                        Result = TranslationRules.Stage2Fault(ref memory, access, Reads);
                        return Stop;
                    }

                    return stopped == 0 ? 0 : Restart;
                }

                Reads++;
                var level = context.Level;
                if (visit == TableVisits.TablePre)
                {
                    _and &= e;
                    _or |= e;
                    return 0;
                }

                if (!g.IsValidEntry(level, e))
                {
                    return Fault(FaultReason.NotPresent, level, ref memory);
                }

                bool leaf = g.IsLeafEntry(level, e);
                if ((e & g.ReservedBits(level, leaf)) != 0 || g.HasReservedEncoding(e))
                {
                    return Fault(FaultReason.ReservedBits, level, ref memory);
                }

                if (!leaf)
                {
                    // A valid table entry the walk did not follow: its address holds no table, which reads as zeros.
                    Reads++;
                    return Fault(FaultReason.NotPresent, g.EntryLevels[context.Position + 1], ref memory);
                }

                return Leaf(g, m, level, e, context.Table, context.Index, ref memory);
            }

            private int Fault<TMemory>(FaultReason reason, PageTableLevel level, ref TMemory memory)
                where TMemory : struct, IPageTableMemory
            {
                Result = TranslationRules.Fault(reason, level, access, va, Reads + memory.ExtraReads);
                return Stop;
            }

            /// <summary>The end of the walk at a leaf: access flag, permissions, the leaf's update.</summary>
            private int Leaf<TMemory>(Geometry g, TranslationMasks m, PageTableLevel level, ulong e, Page table, int index, ref TMemory memory)
                where TMemory : struct, IPageTableMemory
            {
                bool update = (options & TranslateOptions.UpdateAccessedDirty) != 0; // a model reads no field it does not update: None updates nothing
                bool write = (access & Access.Write) != 0;
                FaultReason AccessedDirty() =>
                    (e & m.AccessFlag) != m.AccessFlag && !update ? FaultReason.AccessFlag // arm64 without FEAT_HAFDBS, RISC-V Svade
                    : (e & m.DirtyFaults) != m.DirtyFaults && !update && write ? FaultReason.DirtyFlag // RISC-V Svade
                    : FaultReason.None;
                if (!m.AccessFlagAfterPermissions && AccessedDirty() is var before and not FaultReason.None)
                {
                    return Fault(before, level, ref memory);
                }

                // FEAT_HAFDBS: a write to a clean DirtyBitModifier leaf makes it writable (stage 1 clears AP[2], stage 2 sets S2AP[1]).
                ulong effective = update && write && (e & m.DirtyBitModifier) != 0 ? (e & ~m.DirtyClears) | m.DirtySets : e;
                var permissions = TranslationRules.PermissionsOf(g.Permission, _and, _or, effective, options);
                var reason = TranslationRules.Check(permissions, access);
                if (reason != FaultReason.None)
                {
                    Result = TranslationRules.Fault(reason, level, access, va, Reads + memory.ExtraReads, permissions);
                    return Stop;
                }

                if (m.AccessFlagAfterPermissions && AccessedDirty() is var after and not FaultReason.None)
                {
                    return Fault(after, level, ref memory);
                }

                ulong leafValue = update ? effective | m.SetOnAccess | (write ? m.Dirty : 0) : e;
                ulong size = g.Size(level);
                ulong output = g.LeafAddress(level, e) + (va & (size - 1));
                int stopped = leafValue != e ? TranslationRules.UpdateLeaf(ref memory, table, index, e, leafValue, output, access, permissions) : 0;
                if (stopped == 2)
                {
                    Result = TranslationRules.Stage2Fault(ref memory, access, Reads);
                    return Stop;
                }

                if (stopped == 1)
                {
                    return Restart;
                }

                Result = new Translation(
                    FaultReason.None, TranslationStage.Stage1, level, output, size,
                    permissions, (leafValue & m.Dirty) == m.Dirty, access, Reads + memory.ExtraReads, va);
                return 0;
            }
        }

        /// <summary>
        /// A stage-1 result and the stage-2 translation of its output: the host-physical address, the smaller leaf, the
        /// permissions both allow (stage 2's rights for the level it checks accesses as, <paramref name="stage2AsUser"/>, apply
        /// to both privilege levels), dirty when both are; or stage 2's fault.
        /// </summary>
        internal static Translation Combine(Translation stage1, Translation stage2, bool stage2AsUser)
        {
            if (stage2.IsFault)
            {
                return stage2 with { Stage = TranslationStage.Stage2, FaultAddress = stage1.OutputAddress, Access = stage1.Access, EntriesRead = stage1.EntriesRead + stage2.EntriesRead, Stage2Access = stage2.Access };
            }

            int both = ((int)stage2.Permissions >> (stage2AsUser ? 3 : 0)) & 7; // the rights stage 2 checks accesses with apply to both levels
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
