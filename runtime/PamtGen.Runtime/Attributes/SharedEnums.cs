// The enums the generator and the runtime both speak, in one file compiled into the runtime and linked into the generator
// (as dotnet/runtime links RegexOptions.cs into the Regex source generator): the parser reads attribute arguments as these
// values and the shared rules (GeometryRules.cs and the EntryFormat*.cs rule files) take them, so no side mirrors them as numbers or
// names. In the generator they live in PamtGen.Generator.Model, so that a project that sees both assemblies (the
// generator's tests) has one PamtGen.PageTableLevel. It targets netstandard2.0 too: no API newer than that.
using System;

#if PAMTGEN_GENERATOR
namespace PamtGen.Generator.Model;
#else
namespace PamtGen;
#endif

/// <summary>
/// The page-table levels in the kernel's order. The numeric value is the <c>depth</c> that
/// <c>walk_page_range</c> passes to <c>pte_hole</c> (0 = PGD ... 4 = PTE).
/// </summary>
public enum PageTableLevel
{
    /// <summary>The page global directory, the top table (pgd_t).</summary>
    Pgd = 0,

    /// <summary>The fourth-level directory (p4d_t), folded below 5 levels.</summary>
    P4d = 1,

    /// <summary>The page upper directory (pud_t), folded below 4 levels.</summary>
    Pud = 2,

    /// <summary>The page middle directory (pmd_t), folded below 3 levels.</summary>
    Pmd = 3,

    /// <summary>The page table proper (pte_t).</summary>
    Pte = 4,
}

/// <summary>
/// The permission rules of an architecture, for <c>EntryFormatAttribute.Permissions</c>. The control registers they
/// assume are fixed: docs/TRANSLATION.md lists them.
/// </summary>
public enum PermissionModel
{
    /// <summary>No permissions: every valid leaf grants every access; nothing is updated by a walk.</summary>
    None = 0,

    /// <summary>
    /// x86 paging with CR0.WP = 1, EFER.NXE = 1, no SMEP, SMAP or protection keys: writable only if Writable (R/W) is set at
    /// every level, user-accessible only if User (U/S) is set at every level, not executable if NoExecute (XD) is set at
    /// any level; reserved bits fault (RSVD); the walker sets Accessed in every entry it uses and Dirty in the leaf on a write.
    /// </summary>
    X86 = 1,

    /// <summary>
    /// arm64 stage 1 (EL1&amp;0, no PAN, no WXN): AccessPermissions (AP[2:1]) and the execute-never bits of the leaf, limited
    /// by ApTable, PxnTable and UxnTable of the table descriptors above it; a region EL0 may write is privileged
    /// execute-never; AccessFlag = 0 faults unless the walker manages it (FEAT_HAFDBS), which also grants a write on a
    /// DirtyBitModifier entry by clearing AP[2].
    /// </summary>
    Arm64Stage1 = 2,

    /// <summary>
    /// arm64 stage 2: S2AccessPermissions (S2AP: bit 0 read, bit 1 write) and ExecuteNever of the leaf only, the same for
    /// EL0 and EL1; AccessFlag as at stage 1, and a write on a DirtyBitModifier entry sets S2AP[1].
    /// </summary>
    Arm64Stage2 = 3,

    /// <summary>
    /// RISC-V Sv39, Sv48, Sv57 (privileged specification, "Sv39"/"Sv32" address translation process): Read, Write,
    /// Execute and User of the leaf only; a U page is reachable by S-mode loads and stores only with SUM
    /// (<c>TranslateOptions.SupervisorUserMemory</c>) and never executable there, a page without U not by U-mode; MXR
    /// (<c>TranslateOptions.MakeExecutableReadable</c>) lets loads read executable pages. Accessed = 0, or Dirty = 0 on a
    /// store, faults (Svade) unless the walker manages them (Svadu, <c>TranslateOptions.UpdateAccessedDirty</c>), checked
    /// after the permissions as the specification orders it.
    /// </summary>
    RiscV = 4,

    /// <summary>
    /// Intel EPT (SDM vol. 3C, "EPT Translation Mechanism" and "EPT Violations"): Read, Write and Execute must be set in
    /// every entry the walk uses; with mode-based execute control (<c>TranslateOptions.ModeBasedExecute</c>) Execute allows
    /// fetches from supervisor-mode linear addresses and UserExecute (bit 10) from user-mode ones. No fault on Accessed or
    /// Dirty: with EPTP bit 6 (<c>TranslateOptions.UpdateAccessedDirty</c>) the walker sets Accessed in every entry used and
    /// Dirty in the leaf on a write, and guest paging-structure accesses count as writes.
    /// </summary>
    IntelEpt = 5,
}

/// <summary>Levels, as flags, for <c>EntryFieldAttribute.Levels</c>.</summary>
[Flags]
public enum EntryLevels
{
    /// <summary>No level.</summary>
    None = 0,

    /// <summary>pgd entries.</summary>
    Pgd = 1 << (int)PageTableLevel.Pgd,

    /// <summary>p4d entries.</summary>
    P4d = 1 << (int)PageTableLevel.P4d,

    /// <summary>pud entries.</summary>
    Pud = 1 << (int)PageTableLevel.Pud,

    /// <summary>pmd entries.</summary>
    Pmd = 1 << (int)PageTableLevel.Pmd,

    /// <summary>pte entries.</summary>
    Pte = 1 << (int)PageTableLevel.Pte,

    /// <summary>Every level.</summary>
    All = Pgd | P4d | Pud | Pmd | Pte,
}

/// <summary>Kinds of valid entry, as flags, for <c>EntryFieldAttribute.Kinds</c>.</summary>
[Flags]
public enum EntryKinds
{
    /// <summary>An entry that points to a table.</summary>
    Table = 1,

    /// <summary>A leaf: a page, or a block above the last level.</summary>
    Leaf = 2,
}

/// <summary>Which changes of a field in a valid entry must go through an invalid entry and a TLB invalidation.</summary>
public enum BreakBeforeMakeRule
{
    /// <summary>None (permissions, the access flag).</summary>
    None = 0,

    /// <summary>Any change (arm64 memory type and shareability: AttrIndx, MemAttr, SH).</summary>
    OnChange = 1,

    /// <summary>A change from 0 to 1 (arm64 nG).</summary>
    OnSet = 2,
}
