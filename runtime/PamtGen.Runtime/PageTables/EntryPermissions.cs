// The permission models' side of a format: the fields each model reads, their check, and the masks a translation combines.
using System.Collections.Generic;
using System.Linq;

namespace PamtGen;

internal static partial class EntryFormatRules
{
    /// <summary>
    /// The fields each permission model reads, with their width in bits and the kinds of entry that must have them
    /// (at every level that has such entries); a name with width 0 is optional (32-bit x86 has no NoExecute).
    /// </summary>
    public static readonly (string Name, int Width, EntryKinds Kinds)[][] PermissionFields =
    [
        [],
        [("Writable", 1, EntryKinds.Table | EntryKinds.Leaf), ("User", 1, EntryKinds.Table | EntryKinds.Leaf), ("Accessed", 1, EntryKinds.Table | EntryKinds.Leaf), ("Dirty", 1, EntryKinds.Leaf), ("NoExecute", 0, EntryKinds.Table | EntryKinds.Leaf)],
        [("AccessPermissions", 2, EntryKinds.Leaf), ("AccessFlag", 1, EntryKinds.Leaf), ("DirtyBitModifier", 1, EntryKinds.Leaf), ("PrivilegedExecuteNever", 1, EntryKinds.Leaf), ("UnprivilegedExecuteNever", 1, EntryKinds.Leaf), ("PxnTable", 1, EntryKinds.Table), ("UxnTable", 1, EntryKinds.Table), ("ApTable", 2, EntryKinds.Table)],
        [("S2AccessPermissions", 2, EntryKinds.Leaf), ("AccessFlag", 1, EntryKinds.Leaf), ("DirtyBitModifier", 1, EntryKinds.Leaf), ("ExecuteNever", 1, EntryKinds.Leaf)],
        [("Read", 1, EntryKinds.Leaf), ("Write", 1, EntryKinds.Leaf), ("Execute", 1, EntryKinds.Leaf), ("User", 1, EntryKinds.Leaf), ("Accessed", 1, EntryKinds.Leaf), ("Dirty", 1, EntryKinds.Leaf)],
        [("Read", 1, EntryKinds.Table | EntryKinds.Leaf), ("Write", 1, EntryKinds.Table | EntryKinds.Leaf), ("Execute", 1, EntryKinds.Table | EntryKinds.Leaf), ("UserExecute", 0, EntryKinds.Table | EntryKinds.Leaf), ("Accessed", 1, EntryKinds.Table | EntryKinds.Leaf), ("Dirty", 1, EntryKinds.Leaf)],
    ];

    /// <summary>
    /// A permission model needs the fields it reads, as wide as it reads them, in every entry of the kinds it reads them
    /// from (a table field in every table entry, a leaf field in every leaf).
    /// </summary>
    private static void CheckPermissionFields(FormatDecl format, IReadOnlyList<LeafDecl> leaves, IReadOnlyList<FieldDecl> fields, int levels, List<FormatProblem> problems)
    {
        if ((int)format.Permissions < 0 || (int)format.Permissions >= PermissionFields.Length)
        {
            problems.Add(new(FormatProblemKind.PermissionFields, -1, "Permissions", $"Permissions {format.Permissions} is not a PermissionModel"));
            return;
        }

        string model = format.Permissions.ToString();
        foreach (var (name, width, kinds) in PermissionFields[(int)format.Permissions])
        {
            var declared = fields.Where(f => f.Name == name).ToList();
            if (declared.Count == 0)
            {
                if (width > 0)
                {
                    problems.Add(new(FormatProblemKind.PermissionFields, -1, "Permissions", $"Permissions = PermissionModel.{model} reads the field {name}, which the format does not declare"));
                }

                continue;
            }

            int needed = width == 0 ? 1 : width;
            if (declared.Any(f => f.High - f.Low + 1 != needed))
            {
                problems.Add(new(FormatProblemKind.PermissionFields, -1, "Permissions", $"Permissions = PermissionModel.{model} reads {name} as {needed} bit(s), but it is declared [{declared[0].High}:{declared[0].Low}]"));
                continue;
            }

            for (int depth = 0; depth <= (int)PageTableLevel.Pte; depth++)
            {
                bool table = depth < (int)PageTableLevel.Pte && IsEntryLevel(levels, depth) && (kinds & EntryKinds.Table) != 0;
                bool leaf = leaves.Any(l => l.Level == depth) && (kinds & EntryKinds.Leaf) != 0;
                foreach (var (kind, has) in new[] { (EntryKinds.Table, table), (EntryKinds.Leaf, leaf) })
                {
                    if (has && !declared.Any(f => Has(f.Levels, depth) && (f.Kinds & kind) != 0))
                    {
                        problems.Add(new(FormatProblemKind.PermissionFields, -1, "Permissions", $"Permissions = PermissionModel.{model} reads {name} in every {Name(depth)} {(kind == EntryKinds.Table ? "table entry" : "leaf")}, but the field is not declared there"));
                    }
                }
            }
        }
    }
}

/// <summary>
/// The fields a permission model reads, found by name once per format: what the runtime's translation and the generated
/// one both combine. A field the model does not read is 0 (also when the format declares it), so one update rule serves
/// every model: the walker sets <see cref="SetOnAccess"/>, on a write <see cref="Dirty"/>, and a write it grants through a
/// DirtyBitModifier leaf clears <see cref="DirtyClears"/> and sets <see cref="DirtySets"/>. RISC-V's A is read as an access
/// flag (<see cref="AccessFlag"/>: leaves only, a fault when clear and not managed) and its D as x86's Dirty, which also
/// faults a store when clear and not managed (<see cref="DirtyFaults"/>).
/// </summary>
internal sealed record TranslationMasks(
    PermissionModel Model, ulong Writable, ulong User, ulong NoExecute, ulong Accessed, ulong Dirty,
    ulong AccessPermissions, ulong AccessFlag, ulong DirtyBitModifier, ulong PrivilegedExecuteNever, ulong UnprivilegedExecuteNever,
    ulong PxnTable, ulong UxnTable, ulong ApTable, ulong S2AccessPermissions, ulong ExecuteNever,
    ulong Read = 0, ulong Write = 0, ulong Execute = 0, ulong UserExecute = 0)
{
    /// <summary>RISC-V (Svade): a store to a leaf whose D is clear faults unless the walker sets it; 0 for the other models.</summary>
    public ulong DirtyFaults => Model == PermissionModel.RiscV ? Dirty : 0;

    /// <summary>
    /// RISC-V checks A and D after the permissions (the specification's steps 6 to 8); arm64 checks its access flag before
    /// them (an Access flag fault outranks a Permission fault).
    /// </summary>
    public bool AccessFlagAfterPermissions => Model == PermissionModel.RiscV;

    /// <summary>What the walker sets in the leaf of every allowed access: x86 Accessed, arm64 AccessFlag (FEAT_HAFDBS).</summary>
    public ulong SetOnAccess => Accessed | AccessFlag;

    /// <summary>Stage 1's AP[2] (read-only), which a write granted through DirtyBitModifier clears.</summary>
    public ulong DirtyClears => AccessPermissions & ~LowBit(AccessPermissions);

    /// <summary>Stage 2's S2AP[1] (write), which a write granted through DirtyBitModifier sets.</summary>
    public ulong DirtySets => S2AccessPermissions & ~LowBit(S2AccessPermissions);

    /// <summary>The model's permission function and its arguments, taken from these masks; null for <see cref="PermissionModel.None"/>.</summary>
    public PermissionCall? Permission => PermissionCall.Of(this);

    public static TranslationMasks Of(FormatTables t)
    {
        var read = EntryFormatRules.PermissionFields[(int)t.Format.Permissions];
        ulong m(string name) => read.Any(f => f.Name == name) ? EntryFormatRules.FieldMask(t, name) : 0;
        bool riscV = t.Format.Permissions == PermissionModel.RiscV;
        return new TranslationMasks(
            t.Format.Permissions, m("Writable"), m("User"), m("NoExecute"), riscV ? 0 : m("Accessed"), m("Dirty"),
            m("AccessPermissions"), riscV ? m("Accessed") : m("AccessFlag"), m("DirtyBitModifier"), m("PrivilegedExecuteNever"), m("UnprivilegedExecuteNever"),
            m("PxnTable"), m("UxnTable"), m("ApTable"), m("S2AccessPermissions"), m("ExecuteNever"),
            m("Read"), m("Write"), m("Execute"), m("UserExecute"));
    }

    private static ulong LowBit(ulong mask) => mask & (0 - mask);
}

/// <summary>A value of the walk a permission function takes, before the format's masks.</summary>
internal enum WalkValue
{
    /// <summary>The AND of the table entries the walk used, with the leaf (what x86 requires at every level).</summary>
    TablesAndLeaf,

    /// <summary>The OR of the table entries the walk used, with the leaf (what x86 forbids at any level).</summary>
    TablesOrLeaf,

    /// <summary>The OR of the table entries alone (arm64's hierarchical APTable, PXNTable, UXNTable).</summary>
    TablesOr,

    /// <summary>The leaf, after a hardware dirty-bit update the walk grants.</summary>
    Leaf,

    /// <summary>The translation's <c>TranslateOptions</c> as a number (RISC-V's SUM and MXR).</summary>
    Options,
}

/// <summary>
/// How a permission model computes a walk's permissions, the one statement of the dispatch: the
/// <c>TranslationRules</c> function, the walk's values it takes, then the format's masks in its parameter order. The
/// runtime calls that function with them (<c>TranslationRules.PermissionsOf</c>); the emitter writes the same call with the
/// masks as constants.
/// </summary>
internal sealed record PermissionCall(PermissionModel Model, string Function, WalkValue[] Walk, ulong[] Masks)
{
    public static PermissionCall? Of(TranslationMasks m) => m.Model switch
    {
        PermissionModel.X86 => new(m.Model, "X86", [WalkValue.TablesAndLeaf, WalkValue.TablesOrLeaf], [m.Writable, m.User, m.NoExecute]),
        PermissionModel.Arm64Stage1 => new(m.Model, "Arm64Stage1", [WalkValue.TablesOr, WalkValue.Leaf], [m.AccessPermissions, m.PrivilegedExecuteNever, m.UnprivilegedExecuteNever, m.ApTable, m.PxnTable, m.UxnTable]),
        PermissionModel.Arm64Stage2 => new(m.Model, "Arm64Stage2", [WalkValue.Leaf], [m.S2AccessPermissions, m.ExecuteNever]),
        PermissionModel.RiscV => new(m.Model, "RiscV", [WalkValue.Leaf, WalkValue.Options], [m.Read, m.Write, m.Execute, m.User]),
        PermissionModel.IntelEpt => new(m.Model, "IntelEpt", [WalkValue.TablesAndLeaf, WalkValue.Options], [m.Read, m.Write, m.Execute, m.UserExecute]),
        _ => null,
    };
}
