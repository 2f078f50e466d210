namespace PamtGen;

/// <summary>
/// What an access does, as a translation checks it. The values are the x86 page-fault error-code bits for the same
/// facts (W/R bit 1, U/S bit 2, I/D bit 4), so <see cref="Translation.ErrorCode"/> is made from them.
/// </summary>
[Flags]
public enum Access
{
    /// <summary>A data read at the privileged level (x86 CPL 0, arm64 EL1).</summary>
    Read = 0,

    /// <summary>A data write.</summary>
    Write = 2,

    /// <summary>Made at the user level (x86 CPL 3, arm64 EL0); combine with <see cref="Read"/>, <see cref="Write"/> or <see cref="Execute"/>.</summary>
    User = 4,

    /// <summary>An instruction fetch.</summary>
    Execute = 16,
}

/// <summary>The accesses a translation allows, after combining the permission fields of every entry it used.</summary>
[Flags]
public enum Permissions
{
    /// <summary>No access.</summary>
    None = 0,

    /// <summary>Privileged reads.</summary>
    KernelRead = 1,

    /// <summary>Privileged writes.</summary>
    KernelWrite = 2,

    /// <summary>Privileged instruction fetches.</summary>
    KernelExecute = 4,

    /// <summary>User reads.</summary>
    UserRead = 8,

    /// <summary>User writes.</summary>
    UserWrite = 16,

    /// <summary>User instruction fetches.</summary>
    UserExecute = 32,

    /// <summary>Everything (a format without a permission model).</summary>
    All = 63,
}

/// <summary>Why a translation faulted.</summary>
public enum FaultReason
{
    /// <summary>No fault: the translation succeeded.</summary>
    None = 0,

    /// <summary>The entry at the fault's level is not valid (x86 P = 0; arm64 translation fault).</summary>
    NotPresent,

    /// <summary>A reserved bit is set in a valid entry (x86 RSVD).</summary>
    ReservedBits,

    /// <summary>A read the translation does not allow (arm64 stage 2 without S2AP read; an execute-only page read).</summary>
    Read,

    /// <summary>A write the translation does not allow.</summary>
    Write,

    /// <summary>A user access to what only the privileged level may access this way (x86 U/S = 0; arm64 AP[1] = 0, UXN).</summary>
    User,

    /// <summary>An instruction fetch from a page that is not executable at the access's level.</summary>
    Execute,

    /// <summary>The leaf's access flag is 0 and the walker does not manage it (arm64 Access flag fault; RISC-V A = 0 under Svade).</summary>
    AccessFlag,

    /// <summary>A write to a leaf whose dirty bit is 0, and the walker does not manage it (RISC-V D = 0 under Svade).</summary>
    DirtyFlag,
}

/// <summary>Which stage of a two-stage translation produced a result.</summary>
public enum TranslationStage
{
    /// <summary>A single-stage translation, or stage 1 (virtual to guest-physical) of two.</summary>
    Stage1 = 1,

    /// <summary>Stage 2 (guest-physical to host-physical).</summary>
    Stage2 = 2,
}

/// <summary>How a translation behaves beyond the fixed controls.</summary>
[Flags]
public enum TranslateOptions
{
    /// <summary>
    /// A lookup only: no entry is written. x86 A and D are left as they are; on arm64 a leaf with AccessFlag = 0 faults and
    /// DirtyBitModifier grants nothing (a walker without FEAT_HAFDBS).
    /// </summary>
    None = 0,

    /// <summary>
    /// Update the entries as the hardware walker does, atomically (compare-exchange; a race restarts the walk): x86 sets
    /// Accessed in every entry used and Dirty in the leaf on a write; arm64 with FEAT_HAFDBS sets AccessFlag in the leaf
    /// and grants a write to a DirtyBitModifier leaf by making it writable. Entries are updated only when the access is allowed.
    /// </summary>
    UpdateAccessedDirty = 1,

    /// <summary>Walk the tables even when the address space tracks a TLB: neither consult nor fill it.</summary>
    BypassTlb = 2,

    /// <summary>RISC-V sstatus.SUM: S-mode loads and stores may reach U pages (never fetches). Other models ignore it.</summary>
    SupervisorUserMemory = 4,

    /// <summary>RISC-V sstatus.MXR: loads may read pages that are executable but not readable. Other models ignore it.</summary>
    MakeExecutableReadable = 8,

    /// <summary>
    /// Intel EPT's mode-based execute control (MBEC): a fetch from a user-mode linear address needs UserExecute (bit 10) in
    /// every EPT entry, one from a supervisor-mode address Execute (bit 2). Other models ignore it.
    /// </summary>
    ModeBasedExecute = 16,
}

/// <summary>
/// The result of a translation, as the MMU gives it: where the address goes, through which leaf, with which permissions;
/// or a fault naming its stage, level and reason.
/// </summary>
/// <param name="Fault">Why it faulted; <see cref="FaultReason.None"/> when it did not.</param>
/// <param name="Stage">The stage that produced the result (the stage that faulted, or <see cref="TranslationStage.Stage1"/> for a success).</param>
/// <param name="Level">The leaf's level, or the level whose entry faulted.</param>
/// <param name="OutputAddress">The translated address (host-physical after two stages); 0 on a fault.</param>
/// <param name="Size">The bytes the translation covers around the address: its leaf's size (after two stages the smaller leaf's).</param>
/// <param name="Permissions">The accesses the translation allows (after two stages, those both allow); on a permission fault (read, write, user, execute) what the faulting stage's entries allowed, otherwise none on a fault.</param>
/// <param name="Dirty">A write through this translation needs no update of the tables (x86 D is set; always true without updates or on arm64).</param>
/// <param name="Access">The access that was translated.</param>
/// <param name="EntriesRead">Table entries read, stage-2 reads of a two-stage walk included; 0 for a TLB hit.</param>
/// <param name="FaultAddress">For a stage-2 fault, the guest-physical address it faulted on (arm64 HPFAR); otherwise the translated input address.</param>
/// <param name="DuringStage1Walk">A stage-2 fault taken while reading a stage-1 table (arm64 S1PTW).</param>
/// <param name="Stage2Access">For a stage-2 fault, the access stage 2 checked: a guest page-table read (a write where the architecture makes it one, <see cref="GuestPhysicalSpace.TableReadAccess"/>), the walker's update of an entry, or the guest's access to its output, as a user access where stage 2 checks it so.</param>
public readonly record struct Translation(
    FaultReason Fault,
    TranslationStage Stage,
    PageTableLevel Level,
    ulong OutputAddress,
    ulong Size,
    Permissions Permissions,
    bool Dirty,
    Access Access,
    int EntriesRead,
    ulong FaultAddress,
    bool DuringStage1Walk = false,
    Access Stage2Access = Access.Read)
{
    /// <summary>True when the translation succeeded.</summary>
    public bool Ok => Fault == FaultReason.None;

    /// <summary>True when the translation faulted.</summary>
    public bool IsFault => Fault != FaultReason.None;

    /// <summary>
    /// The x86 page-fault error code of a fault: P (bit 0, the entry was present: every reason but not-present), W/R, U/S,
    /// RSVD (bit 3) and I/D from the access; 0 when the translation succeeded.
    /// </summary>
    public int ErrorCode => Fault == FaultReason.None
        ? 0
        : (Fault == FaultReason.NotPresent ? 0 : 1) | (int)Access | (Fault == FaultReason.ReservedBits ? 8 : 0);

    /// <summary>
    /// The RISC-V exception code (scause) of a fault: instruction, load, store/AMO page fault (12, 13, 15) for stage 1,
    /// instruction, load, store/AMO guest-page fault (20, 21, 23) for stage 2, by the access that was translated (also for a
    /// fault taken while reading a VS-stage table, as the specification reports implicit accesses); 0 when it succeeded.
    /// </summary>
    public int RiscVCause => Ok
        ? 0
        : ((Access & Access.Execute) != 0 ? 12 : (Access & Access.Write) != 0 ? 15 : 13) + (Stage == TranslationStage.Stage2 ? 8 : 0);

    /// <summary>
    /// RISC-V htval of a guest-page fault: the faulting guest-physical address shifted right by 2 (of the VS-stage entry
    /// when <see cref="DuringStage1Walk"/>); 0 otherwise.
    /// </summary>
    public ulong RiscVHtval => Ok || Stage != TranslationStage.Stage2 ? 0 : FaultAddress >> 2;

    /// <summary>
    /// AMD's EXITINFO1 of the #VMEXIT(NPF) a stage-2 fault raises (APM vol. 2, 15.25.6): the nested access's page-fault
    /// error code (P, R/W, U/S = 1 since every nested access is a user access, RSV, I/D) with bit 32 set for a fault on the
    /// guest's final guest-physical address and bit 33 for one on a guest page-table access, which is a write (R/W = 1,
    /// I/D = 0; <see cref="GuestPhysicalSpace.TableReadAccess"/>); EXITINFO2 is <see cref="FaultAddress"/>. 0 for a success
    /// or a stage-1 fault.
    /// </summary>
    public ulong AmdExitInfo1 => Ok || Stage != TranslationStage.Stage2
        ? 0
        : (Fault == FaultReason.NotPresent ? 0UL : 1UL) | 4UL | (Fault == FaultReason.ReservedBits ? 8UL : 0UL)
            | (DuringStage1Walk ? 2UL | (1UL << 33) : (ulong)(Access & (Access.Write | Access.Execute)) | (1UL << 32));

    /// <summary>
    /// The VM-exit basic reason a stage-2 fault over Intel EPT causes (SDM vol. 3C, appendix C): 49, EPT misconfiguration, for
    /// reserved bits or a reserved encoding (W without R, memory type 2, 3 or 7) in a present entry; 48, EPT violation,
    /// otherwise; 0 for a success or a stage-1 fault. The guest-physical address is <see cref="FaultAddress"/>.
    /// </summary>
    public int IntelExitReason => Ok || Stage != TranslationStage.Stage2 ? 0 : Fault == FaultReason.ReservedBits ? 49 : 48;

    /// <summary>
    /// The exit qualification of an EPT violation (SDM vol. 3C, table 28-7; 0 for anything else): bits 0 to 2 the access
    /// (read, write, fetch; a guest paging-structure access that counts as a write, with EPT A/D enabled, sets bits 0 and 1);
    /// bits 3 to 5 the AND of R, W and X over the EPT entries used (0 for an entry that was not present); bit 6 the AND of
    /// UserExecute (defined with mode-based execute control; X otherwise); bit 7 the guest linear address is valid (every
    /// access the model makes has one); bit 8 the access was to the translation of that linear address, 0 for a guest
    /// paging-structure access. The advanced fields (bits 9 to 11) and NMI unblocking (bit 12) are 0.
    /// </summary>
    public ulong IntelExitQualification
    {
        get
        {
            if (IntelExitReason != 48)
            {
                return 0;
            }

            var a = Stage2Access;
            ulong access = (a & Access.Execute) != 0 ? 4UL : (a & Access.Write) != 0 ? (DuringStage1Walk ? 3UL : 2UL) : 1UL;
            ulong granted = (ulong)(Permissions & (Permissions.KernelRead | Permissions.KernelWrite | Permissions.KernelExecute)) << 3
                | ((Permissions & Permissions.UserExecute) != 0 ? 1UL << 6 : 0);
            return access | granted | (1UL << 7) | (DuringStage1Walk ? 0 : 1UL << 8);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Ok
        ? $"0x{OutputAddress:x} via a {Level} leaf of 0x{Size:x} bytes, {Permissions}{(Dirty ? ", dirty" : "")}"
        : $"{Stage} fault at {Level}: {Fault} ({Access}){(Stage == TranslationStage.Stage2 ? $" on 0x{FaultAddress:x}{(DuringStage1Walk ? " during the stage-1 walk" : "")}" : "")}";
}
