using System.Linq;
using Microsoft.CodeAnalysis;

namespace PamtGen.Generator;

/// <summary>Every diagnostic PamtGen reports; each id has a page under docs/diagnostics/.</summary>
internal static class DiagnosticDescriptors
{
    /// <summary>
    /// Where the diagnostic pages live: docs/diagnostics/PGxxxx.md under the project's address (PackageProjectUrl in
    /// Directory.Build.props, the package's project URL); the package ships the same pages under docs/diagnostics/.
    /// </summary>
    public static readonly string HelpLinkBase =
        (typeof(DiagnosticDescriptors).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), inherit: false)
            .OfType<System.Reflection.AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "PackageProjectUrl")?.Value ?? "https://github.com/pamtgen/pamtgen")
        + "/blob/main/docs/diagnostics/";

    private const string Geometry = "PamtGen.Geometry";
    private const string Kernel = "PamtGen.Kernel";

    public static readonly DiagnosticDescriptor MissingPteNoneCheck = Rule(
        "PG0001", DiagnosticSeverity.Warning, "PTE written, cleared or freed without a pte_none check",
        "{0} on a path where the PTE is not proven {1} by a PteNone(PtepGet(...)) check");

    public static readonly DiagnosticDescriptor BreakBeforeMake = Rule(
        "PG0006", DiagnosticSeverity.Warning, "Entry changed without break-before-make",
        "SetPteAt may change a {0} entry in a way that needs break-before-make, {1}; write an invalid entry (PteClear) and invalidate the TLB (FlushTlbKernelRange) first");

    public static readonly DiagnosticDescriptor UnbalancedPage = Rule(
        "PG0002", DiagnosticSeverity.Warning, "Page allocation and free do not balance",
        "{0}");

    public static readonly DiagnosticDescriptor AllocationBeforeCheck = Rule(
        "PG0003", DiagnosticSeverity.Info, "Page allocated before the pte_none check",
        "'{0}' is allocated before the pte_none check and freed again where the PTE is already populated; allocate only where it is none");

    public static readonly DiagnosticDescriptor TruncatingSize = Rule(
        "PG0004", DiagnosticSeverity.Warning, "Size truncated by a floor division",
        "'{0}' drops the remainder, so the last partial refcount page is lost; use {1}");

    public static readonly DiagnosticDescriptor LockNotNeeded = Rule(
        "PG0005", DiagnosticSeverity.Info, "Page-table lock not needed in a PTE callback",
        "The walker installs missing tables under {0} itself and the caller owns the range; the callback does not need the lock");

    public static readonly DiagnosticDescriptor NotStaticPartial = Error(
        "PG1001", "Geometry class must be static partial",
        "'{0}' must be declared 'static partial class' for PamtGen to fill it in");

    public static readonly DiagnosticDescriptor ContainingTypeNotPartial = Error(
        "PG1002", "Containing type must be partial",
        "'{0}' contains a {1} and must be declared partial");

    public static readonly DiagnosticDescriptor PageShiftOutOfRange = Error(
        "PG1003", "PageShift out of range",
        "PageShift is {0}; PamtGen supports 10 (1 KiB pages) to 20 (1 MiB pages)");

    public static readonly DiagnosticDescriptor PtrsPerPteMismatch = Error(
        "PG1004", "PtrsPerPte does not fill a page",
        "PtrsPerPte is {0}, but a {1}-byte page holds {2} entries of {3} bytes");

    public static readonly DiagnosticDescriptor PmdShiftMismatch = Error(
        "PG1005", "PmdShift does not follow from PageShift and PtrsPerPte",
        "PmdShift is {0}, but PageShift {1} + log2(PtrsPerPte {2}) is {3}");

    public static readonly DiagnosticDescriptor LevelsOutOfRange = Error(
        "PG1006", "Levels out of range",
        "Levels is {0}; the kernel supports 2 to 5 page-table levels");

    public static readonly DiagnosticDescriptor VirtualAddressBitsNotCovered = Error(
        "PG1007", "VirtualAddressBits not covered by the levels",
        "VirtualAddressBits is {0}: {1}");

    public static readonly DiagnosticDescriptor EntrySizeInvalid = Error(
        "PG1008", "EntrySize must be 4 or 8",
        "EntrySize is {0}; a page-table entry is 8 bytes, or 4 for 32-bit non-PAE tables");

    public static readonly DiagnosticDescriptor ElementSizeInvalid = Error(
        "PG1009", "Refcount ElementSize invalid",
        "ElementSize is {0}; it must be a power of two no larger than the {1}-byte page");

    public static readonly DiagnosticDescriptor RefcountWithoutGeometry = Error(
        "PG1010", "[RefcountTable] without a geometry",
        "'{0}' has [RefcountTable] but no [PageTableGeometry]; the refcount layout needs the geometry's PMD size");

    public static readonly DiagnosticDescriptor ArgumentMissingOrNotConstant = Error(
        "PG1011", "Attribute argument missing or not constant",
        "[{0}]: '{1}' {2}");

    public static readonly DiagnosticDescriptor CallbackNotStatic = Error(
        "PG1012", "PTE callback must be static",
        "[PteCallback] method '{0}' must be static, as a pte_fn_t is a plain function");

    public static readonly DiagnosticDescriptor CallbackReturnType = Error(
        "PG1013", "PTE callback must return int",
        "[PteCallback] method '{0}' returns '{1}'; a pte_fn_t returns int (0 to go on, an error to stop the walk)");

    public static readonly DiagnosticDescriptor CallbackParameters = Error(
        "PG1014", "PTE callback parameters must be (PtePointer, ulong, TData)",
        "[PteCallback] method '{0}': {1}; a pte_fn_t takes (PtePointer pte, ulong addr, TData data)");

    public static readonly DiagnosticDescriptor CallbackGeneric = Error(
        "PG1015", "PTE callback must not be generic",
        "[PteCallback] method '{0}' is generic; its adapter struct calls one method, so give the data a concrete type");

    public static readonly DiagnosticDescriptor EntryFieldsOverlap = Error(
        "PG1016", "Entry bits overlap",
        "{0}");

    public static readonly DiagnosticDescriptor EntryBitsOutside = Error(
        "PG1017", "Entry bits outside the entry",
        "{0}");

    public static readonly DiagnosticDescriptor OutputAddressTooNarrow = Error(
        "PG1018", "Output-address field cannot hold the physical addresses",
        "{0}");

    public static readonly DiagnosticDescriptor EntryLevelInvalid = Error(
        "PG1019", "Leaf or field at a level that cannot hold it",
        "{0}");

    public static readonly DiagnosticDescriptor EntryRuleAmbiguous = Error(
        "PG1020", "Entry rule cannot tell entries apart",
        "{0}");

    public static readonly DiagnosticDescriptor RootTablesInvalid = Error(
        "PG1021", "Concatenated root tables do not fit the geometry",
        "{0}");

    public static readonly DiagnosticDescriptor EntryFormatMissing = Error(
        "PG1022", "Entry format missing, doubled or incomplete",
        "{0}");

    public static readonly DiagnosticDescriptor EntryFieldNameInvalid = Error(
        "PG1023", "Entry field name invalid",
        "{0}");

    public static readonly DiagnosticDescriptor PermissionFieldsMissing = Error(
        "PG1024", "Permission model needs fields",
        "{0}");

    private static DiagnosticDescriptor Rule(string id, DiagnosticSeverity severity, string title, string message) =>
        new(id, title, message, Kernel, severity, isEnabledByDefault: true, helpLinkUri: HelpLinkBase + id + ".md");

    /// <summary>
    /// A declaration PamtGen cannot generate code for. Not configurable: neither a #pragma nor an .editorconfig
    /// severity hides it, since with it nothing is generated and no build that uses the declaration can succeed.
    /// </summary>
    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Geometry, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpLinkBase + id + ".md",
            customTags: WellKnownDiagnosticTags.NotConfigurable);
}
