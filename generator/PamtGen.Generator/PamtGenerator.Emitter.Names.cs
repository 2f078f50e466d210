namespace PamtGen.Generator;

/// <summary>
/// The names the generated code uses for the runtime's types, each once: every emitter writes them through these
/// constants, fully qualified with <c>global::</c> so that no user type or using can capture them.
/// </summary>
public sealed partial class PamtGenerator
{
    private const string RuntimeNamespace = "global::PamtGen";
    private const string AccessType = "global::PamtGen.Access";
    private const string AgentType = "global::PamtGen.Agent";
    private const string ApplyWalkInterface = "global::PamtGen.CompilerServices.IApplyWalk";
    private const string BlockMappingType = "global::PamtGen.BlockMapping";
    private const string Callbacks = "global::PamtGen.PageWalkCallbacks";
    private const string EntryFormatType = "global::PamtGen.EntryFormat";
    private const string EntryInterface = "global::PamtGen.IPageTableEntry";
    private const string ErrnoType = "global::PamtGen.Errno";
    private const string Fault = "global::PamtGen.FaultReason";
    private const string GeometryType = "global::PamtGen.Geometry";
    private const string GuestTablesType = "global::PamtGen.CompilerServices.GuestTables";
    private const string JournalType = "global::PamtGen.CompilerServices.Journal";
    private const string Level = "global::PamtGen.PageTableLevel";
    private const string MapRangeOptionsType = "global::PamtGen.MapRangeOptions";
    private const string MemoryInterface = "global::PamtGen.IPageTableMemory";
    private const string MemoryOrderType = "global::PamtGen.MemoryOrder";
    private const string MemoryType = "global::PamtGen.ModelMemory";
    private const string MmType = "global::PamtGen.Mm";
    private const string OptionsType = "global::PamtGen.TranslateOptions";
    private const string PageAllocatorType = "global::PamtGen.PageAllocator";
    private const string PageType = "global::PamtGen.Page";
    private const string PermissionsType = "global::PamtGen.Permissions";
    private const string Pgtable = "global::PamtGen.Pgtable";
    private const string PteFnInterface = "global::PamtGen.IPteFn";
    private const string PtePointerType = "global::PamtGen.PtePointer";
    private const string PteType = "global::PamtGen.Pte";
    private const string RefusalType = "global::PamtGen.Refusal";
    private const string Rules = "global::PamtGen.CompilerServices.TranslationRules";
    private const string Services = "global::PamtGen.CompilerServices.GeneratedWalkers";
    private const string TlbGatherType = "global::PamtGen.TlbGather";
    private const string TranslationStageType = "global::PamtGen.TranslationStage";
    private const string TranslationType = "global::PamtGen.Translation";
    private const string WalkOpsInterface = "global::PamtGen.IPageWalkOps";
    private const string Unsafe = "global::System.Runtime.CompilerServices.Unsafe";

    /// <summary>The constraint of every method generic over the memory its tables live in.</summary>
    private const string MemoryConstraint = "where TMemory : struct, " + MemoryInterface;
    private const string Once = MemoryOrderType + ".Once";
    private const string Einval = "-" + ErrnoType + ".EINVAL";
    private const string Enomem = "-" + ErrnoType + ".ENOMEM";
}
