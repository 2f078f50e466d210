using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace PamtGen.CompilerServices;

/// <summary>
/// The permission rules of each <see cref="PermissionModel"/>, as one set of small functions that the runtime's
/// translation (<see cref="Mm.Translate"/>) and every generated <c>Translate</c> call, the generated code with its format's
/// masks as constants (so the JIT folds them). Fenced off as <see cref="GeneratedWalkers"/> is; not a stable API.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class TranslationRules
{
    /// <summary>
    /// x86 (SDM 4.6, CR0.WP = 1, EFER.NXE = 1, no SMEP/SMAP/PKE): <paramref name="and"/> is the AND and <paramref name="or"/>
    /// the OR of every entry the walk used, the leaf included. Writable needs R/W at every level, user access U/S at every
    /// level; XD at any level forbids fetches. The supervisor may read, write and fetch user pages (no SMAP/SMEP).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Permissions X86(ulong and, ulong or, ulong writable, ulong user, ulong noExecute)
    {
        int w = (and & writable) != 0 ? 1 : 0;
        int u = (and & user) != 0 ? 1 : 0;
        int x = (or & noExecute) == 0 ? 1 : 0;
        int kernel = 1 | (w << 1) | (x << 2);
        return (Permissions)(kernel | ((kernel * u) << 3));
    }

    /// <summary>
    /// arm64 stage 1 (Arm ARM D8.4, EL1&amp;0 without PAN or WXN): the leaf's AP[2:1] (AP[2] read-only, AP[1] EL0 access),
    /// PXN and UXN, limited by the OR <paramref name="tables"/> of the table descriptors above it: APTable[1] removes writes,
    /// APTable[0] EL0 data access, PXNTable and UXNTable fetches. A region EL0 may write is never executable at EL1 (QEMU's
    /// get_S1prot(): <c>xn = pxn || (user_rw &amp; PAGE_WRITE)</c>). EL0 fetches do not need EL0 read access (execute-only memory).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Permissions Arm64Stage1(ulong tables, ulong leaf, ulong ap, ulong pxn, ulong uxn, ulong apTable, ulong pxnTable, ulong uxnTable)
    {
        ulong apUser = ap & (0 - ap), apTableNoUser = apTable & (0 - apTable);
        bool readOnly = (leaf & (ap & ~apUser)) != 0 || (tables & (apTable & ~apTableNoUser)) != 0;
        bool user = (leaf & apUser) != 0 && (tables & apTableNoUser) == 0;
        bool userWrite = user && !readOnly;
        bool kernelExec = (leaf & pxn) == 0 && (tables & pxnTable) == 0 && !userWrite;
        bool userExec = (leaf & uxn) == 0 && (tables & uxnTable) == 0;
        return Permissions.KernelRead
            | (readOnly ? 0 : Permissions.KernelWrite)
            | (kernelExec ? Permissions.KernelExecute : 0)
            | (user ? Permissions.UserRead : 0)
            | (userWrite ? Permissions.UserWrite : 0)
            | (userExec ? Permissions.UserExecute : 0);
    }

    /// <summary>
    /// arm64 stage 2 (Arm ARM D8.4.3): the leaf's S2AP (bit 0 read, bit 1 write) and XN, the same for EL0 and EL1; table
    /// descriptors carry no permissions.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Permissions Arm64Stage2(ulong leaf, ulong s2ap, ulong executeNever)
    {
        ulong read = s2ap & (0 - s2ap);
        int r = (leaf & read) != 0 ? 1 : 0;
        int w = (leaf & (s2ap & ~read)) != 0 ? 1 : 0;
        int x = (leaf & executeNever) == 0 ? 1 : 0;
        int kernel = r | (w << 1) | (x << 2);
        return (Permissions)(kernel | (kernel << 3));
    }

    /// <summary>
    /// RISC-V (privileged specification, "Sv32" address translation process, step 6, as Sv39/48/57 use it): the leaf's R, W
    /// and X, by U for the mode: a U page is U-mode's, and S-mode's for loads and stores only with SUM, never for fetches; a
    /// page without U is S-mode's only. With MXR a load may read an executable page. Non-leaf entries carry no permissions.
    /// A leaf with R = W = X = 0 (a pointer at the last level) grants nothing: every access faults, as step 5 says.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Permissions RiscV(ulong leaf, ulong options, ulong read, ulong write, ulong execute, ulong user)
    {
        int x = (leaf & execute) != 0 ? 1 : 0;
        int mxr = (options & (ulong)TranslateOptions.MakeExecutableReadable) != 0 ? 1 : 0;
        int r = (leaf & read) != 0 ? 1 : x & mxr;
        int w = (leaf & write) != 0 ? 1 : 0;
        int rights = r | (w << 1) | (x << 2);
        int u = (leaf & user) != 0 ? 1 : 0;
        int sum = (options & (ulong)TranslateOptions.SupervisorUserMemory) != 0 ? 1 : 0;
        int kernel = (rights * (1 - u)) | ((rights & 3) * u * sum); // S-mode never fetches from a U page
        return (Permissions)(kernel | ((rights * u) << 3));
    }

    /// <summary>
    /// The permissions of a walk that used table entries whose AND is <paramref name="tablesAnd"/> and OR <paramref name="tablesOr"/>
    /// and ends at the leaf <paramref name="leaf"/>, by <paramref name="call"/> (the format's model, <c>PermissionCall</c>): the
    /// runtime's walk binds it to the model's function; the generated walk writes the same call with constants.
    /// </summary>
    internal static Permissions PermissionsOf(PermissionCall? call, ulong tablesAnd, ulong tablesOr, ulong leaf, TranslateOptions options)
    {
        if (call is null)
        {
            return PamtGen.Permissions.All;
        }

        ulong[] k = call.Masks;
        ulong Walk(int i) => call.Walk[i] switch
        {
            WalkValue.TablesAndLeaf => tablesAnd & leaf,
            WalkValue.TablesOrLeaf => tablesOr | leaf,
            WalkValue.TablesOr => tablesOr,
            WalkValue.Options => (ulong)options,
            _ => leaf,
        };

        return call.Model switch
        {
            PermissionModel.X86 => X86(Walk(0), Walk(1), k[0], k[1], k[2]),
            PermissionModel.Arm64Stage1 => Arm64Stage1(Walk(0), Walk(1), k[0], k[1], k[2], k[3], k[4], k[5]),
            PermissionModel.RiscV => RiscV(Walk(0), Walk(1), k[0], k[1], k[2], k[3]),
            PermissionModel.IntelEpt => IntelEpt(Walk(0), Walk(1), k[0], k[1], k[2], k[3]),
            _ => Arm64Stage2(Walk(0), k[0], k[1]),
        };
    }

    /// <summary>
    /// Intel EPT (SDM vol. 3C, 29.3.3.2): <paramref name="and"/> is the AND of every entry the walk used; a read needs R, a
    /// write W, a fetch X at every level, for either mode; with mode-based execute control (<paramref name="options"/>) a
    /// fetch from a user-mode linear address needs UserExecute instead (the user half of the result).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Permissions IntelEpt(ulong and, ulong options, ulong read, ulong write, ulong execute, ulong userExecute)
    {
        int r = (and & read) != 0 ? 1 : 0;
        int w = (and & write) != 0 ? 1 : 0;
        int x = (and & execute) != 0 ? 1 : 0;
        int mbec = (options & (ulong)TranslateOptions.ModeBasedExecute) != 0 ? 1 : 0;
        int ux = mbec == 0 ? x : (and & userExecute) != 0 ? 1 : 0;
        return (Permissions)(r | (w << 1) | (x << 2) | ((r | (w << 1) | (ux << 2)) << 3));
    }

    /// <summary>The permission <paramref name="access"/> needs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Permissions Needed(Access access)
    {
        int kind = (access & Access.Execute) != 0 ? 4 : (access & Access.Write) != 0 ? 2 : 1;
        return (Permissions)((access & Access.User) != 0 ? kind << 3 : kind);
    }

    /// <summary>
    /// Why <paramref name="granted"/> does not allow <paramref name="access"/>, or <see cref="FaultReason.None"/>. A user access
    /// the privileged level could make is <see cref="FaultReason.User"/>; otherwise the access's kind names the reason.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static FaultReason Check(Permissions granted, Access access)
    {
        var needed = Needed(access);
        if ((granted & needed) != 0)
        {
            return FaultReason.None;
        }

        if ((access & Access.User) != 0 && ((int)granted & ((int)needed >> 3)) != 0)
        {
            return FaultReason.User;
        }

        return (access & Access.Execute) != 0 ? FaultReason.Execute : (access & Access.Write) != 0 ? FaultReason.Write : FaultReason.Read;
    }

    /// <summary>
    /// The walker's update of one entry, by compare-exchange from the value it read: 0 when done, 1 when it lost a race (the
    /// walk starts again), 2 when stage 2 refused the write (its fault is the memory's). Kept out of line: the walk's
    /// common case writes nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int UpdateEntry<TMemory>(ref TMemory memory, Page table, int index, ulong old, ulong @new)
        where TMemory : struct, IPageTableMemory
    {
        ulong seen = memory.CompareExchange(table, index, @new, old);
        return TMemory.CanFault && memory.Faulted ? 2 : seen == old ? 0 : 1;
    }

    /// <summary>
    /// The walker's update of the leaf it translated through, to <paramref name="new"/> (A/D, AF, a DirtyBitModifier write),
    /// as <see cref="UpdateEntry"/>; over a guest's tables the leaf's output, <paramref name="outputAddress"/>, is first
    /// translated through stage 2 for <paramref name="access"/> (stage 1 having allowed it with <paramref name="permissions"/>,
    /// which say the mode of the address where stage 2 checks by it: EPT's mode-based execute), so an access stage 2 refuses updates nothing in stage 1 (no
    /// dirty state for a write that faults, and no access flag either, which the manuals allow).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int UpdateLeaf<TMemory>(ref TMemory memory, Page table, int index, ulong old, ulong @new, ulong outputAddress, Access access, Permissions permissions)
        where TMemory : struct, IPageTableMemory
    {
        if (typeof(TMemory) == typeof(GuestTables) && !Unsafe.As<TMemory, GuestTables>(ref memory).TranslateOutput(outputAddress, access, permissions))
        {
            return 2;
        }

        return UpdateEntry(ref memory, table, index, old, @new);
    }

    /// <summary>The stage-2 fault that stopped a walk reaching a table, with the entries the walk read.</summary>
    public static Translation Stage2Fault<TMemory>(ref TMemory memory, Access access, int reads)
        where TMemory : struct, IPageTableMemory =>
        memory.Fault with { EntriesRead = reads + memory.ExtraReads, Access = access };

    /// <summary>
    /// A fault of the walk's own stage at <paramref name="level"/> for <paramref name="address"/> (a stage-2 fault of a
    /// two-stage walk is marked where the stages meet); a permission fault carries what the entries allowed.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Translation Fault(FaultReason reason, PageTableLevel level, Access access, ulong address, int entriesRead, Permissions permissions = Permissions.None) =>
        new(reason, TranslationStage.Stage1, level, 0, 0, permissions, false, access, entriesRead, address);
}
