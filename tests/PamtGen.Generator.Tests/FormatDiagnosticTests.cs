using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;

namespace PamtGen.Generator.Tests;

/// <summary>PG1016-PG1024: impossible entry formats, each reported at the argument at fault with the rule's own words; nothing is generated.</summary>
public class FormatDiagnosticTests
{
    private const string Geometry = "[PageTableGeometry(PageShift = 12, Levels = 4, VirtualAddressBits = 48)]\npublic static partial class Geo;";

    private const string X86Format = """
        [EntryFormat(PhysicalAddressBits = 52, TableAddressLow = 12, TableAddressHigh = 51, TableBits = 0x63)]
        [EntryLeaf(PageTableLevel.Pte, AddressLow = 12, AddressHigh = 51)]
        """;

    [Fact]
    public Task PG1016_two_fields_share_a_bit() =>
        Verify(X86Format + "[EntryField(\"Writable\", 1)]\n[EntryField(\"ReadWrite\", {|#0:1|}, 2)]\n" + Geometry,
            Expect("PG1016", "field ReadWrite [2:1] overlaps field Writable [1:1] in a P4d table entry"));

    [Fact]
    public Task PG1016_a_field_in_the_output_address() =>
        Verify(X86Format + "[EntryField(\"Frame\", {|#0:20|}, 30, Levels = EntryLevels.Pte, Kinds = EntryKinds.Leaf)]\n" + Geometry,
            Expect("PG1016", "field Frame [30:20] overlaps the output-address field of a Pte leaf"));

    [Fact]
    public Task PG1016_a_field_on_the_type_bits() =>
        Verify("""
            [EntryFormat(PhysicalAddressBits = 48, TableAddressLow = 12, TableAddressHigh = 47, TableBits = 0x3)]
            [EntryLeaf(PageTableLevel.Pte, ValidMask = 0x3, AddressLow = 12, AddressHigh = 47)]
            [EntryField("Kind", {|#0:0|}, 1, Kinds = EntryKinds.Leaf)]
            """ + Geometry,
            Expect("PG1016", "field Kind [1:0] overlaps the valid or leaf bits 0x3 of a Pte leaf"));

    [Fact]
    public Task PG1016_a_pat_bit_in_two_places_is_fine_when_their_scopes_differ()
    {
        // x86's PAT: bit 7 of a PTE, bit 12 of a 2 MiB leaf, where bit 7 is PS. Same name, disjoint scopes: valid.
        var result = GeneratorHarness.Run("using PamtGen;\n" + X86Format + """
            [EntryLeaf(PageTableLevel.Pmd, LeafMask = 0x80, AddressLow = 21, AddressHigh = 51)]
            [EntryField("Pat", 7, Levels = EntryLevels.Pte)]
            [EntryField("Pat", 12, Levels = EntryLevels.Pmd, Kinds = EntryKinds.Leaf)]
            """ + Geometry);
        Assert.Empty(result.Diagnostics);
        Assert.Contains("public ulong Pat(global::PamtGen.PageTableLevel level)", result.GeneratedTrees.Single().ToString(), StringComparison.Ordinal);
        return Task.CompletedTask;
    }

    [Fact]
    public Task PG1017_a_field_above_a_4_byte_entry() =>
        Verify("""
            [EntryFormat(PhysicalAddressBits = 32, TableAddressLow = 12, TableAddressHigh = 31)]
            [EntryLeaf(PageTableLevel.Pte, AddressLow = 12, AddressHigh = 31)]
            [EntryField("NoExecute", {|#0:63|})]
            [PageTableGeometry(PageShift = 12, Levels = 2, VirtualAddressBits = 32, EntrySize = 4)]
            public static partial class Geo;
            """,
            Expect("PG1017", "field NoExecute [63:63] is not a bit range of the 32-bit entry"));

    [Fact]
    public Task PG1017_an_address_field_past_the_entry() =>
        Verify("""
            [EntryFormat(PhysicalAddressBits = 52, TableAddressLow = 12, TableAddressHigh = 51)]
            [EntryLeaf(PageTableLevel.Pte, AddressLow = 12, {|#0:AddressHigh = 64|})]
            """ + Geometry,
            Expect("PG1017", "the address field of a Pte leaf [64:12] is not a bit range of the 64-bit entry"));

    [Fact]
    public Task PG1016_reserved_bits_in_the_table_address() =>
        Verify("""
            [EntryFormat(PhysicalAddressBits = 52, TableAddressLow = 12, TableAddressHigh = 51, TableBits = 0x63, {|#0:ReservedBits = 0x1000|})]
            [EntryLeaf(PageTableLevel.Pte, AddressLow = 12, AddressHigh = 51)]
            """ + Geometry,
            Expect("PG1016", "ReservedBits 0x1000 overlap the table address field [51:12]: a table's address would fault"));

    [Fact]
    public Task PG1017_table_reserved_bits_above_a_4_byte_entry() =>
        Verify("""
            [EntryFormat(PhysicalAddressBits = 32, TableAddressLow = 12, TableAddressHigh = 31, {|#0:TableReservedBits = 0x1_0000_0000|})]
            [EntryLeaf(PageTableLevel.Pte, AddressLow = 12, AddressHigh = 31)]
            [PageTableGeometry(PageShift = 12, Levels = 2, VirtualAddressBits = 32, EntrySize = 4)]
            public static partial class Geo;
            """,
            Expect("PG1017", "TableReservedBits 0x100000000 has bits above the 32-bit entry"));

    [Fact]
    public Task PG1018_a_table_address_field_narrower_than_the_physical_addresses() =>
        Verify("""
            [EntryFormat(PhysicalAddressBits = 52, TableAddressLow = 12, {|#0:TableAddressHigh = 47|})]
            [EntryLeaf(PageTableLevel.Pte, AddressLow = 12, AddressHigh = 51)]
            """ + Geometry,
            Expect("PG1018", "the address field of a table (page-aligned) [47:12] holds address bits 12 to 47, not all 52 physical-address bits"));

    [Fact]
    public Task PG1018_a_leaf_address_field_that_starts_above_the_leaf_alignment() =>
        Verify(X86Format + "[EntryLeaf(PageTableLevel.Pmd, LeafMask = 0x80, AddressLow = 21, AddressHigh = 51, {|#0:AddressShift = 22|})]\n" + Geometry,
            Expect("PG1018", "the address field of a Pmd leaf starts at address bit 22, but a Pmd leaf is aligned only to 2^21 bytes"));

    [Fact]
    public Task PG1019_a_leaf_at_a_folded_level() =>
        Verify("""
            [EntryFormat(PhysicalAddressBits = 48, TableAddressLow = 16, TableAddressHigh = 47, TableBits = 0x3)]
            [EntryLeaf(PageTableLevel.Pte, ValidMask = 0x3, AddressLow = 16, AddressHigh = 47)]
            [EntryLeaf({|#0:PageTableLevel.P4d|}, LeafMask = 0x3, LeafValue = 0x1, AddressLow = 42, AddressHigh = 47)]
            [PageTableGeometry(PageShift = 16, Levels = 3, VirtualAddressBits = 48)]
            public static partial class Geo;
            """,
            Expect("PG1019", "3 levels fold P4d into the table above it, whose entries are checked as Pud entries"));

    [Fact]
    public Task PG1019_no_pte_leaf() =>
        Verify("[{|#0:EntryFormat(PhysicalAddressBits = 52, TableAddressLow = 12, TableAddressHigh = 51)|}]\n" + Geometry,
            Expect("PG1019", "no [EntryLeaf(PageTableLevel.Pte, ...)]: the last level holds the pages, so it needs its output-address field"));

    [Fact]
    public Task PG1019_a_field_of_leaves_at_a_level_without_them() =>
        Verify(X86Format + "[EntryField(\"Pat\", 12, {|#0:Levels = EntryLevels.Pud|}, Kinds = EntryKinds.Leaf)]\n" + Geometry,
            Expect("PG1019", "field Pat belongs to no entry of this geometry: its levels are folded, or hold no leaves"));

    [Fact]
    public Task PG1020_a_leaf_level_without_a_rule() =>
        Verify(X86Format + "[EntryLeaf({|#0:PageTableLevel.Pmd|}, AddressLow = 21, AddressHigh = 51)]\n" + Geometry,
            Expect("PG1020", "no LeafMask or LeafIfAnySet: nothing tells a Pmd leaf from a table"));

    [Fact]
    public Task PG1020_a_rule_the_installed_table_entry_matches() =>
        Verify("""
            [EntryFormat(PhysicalAddressBits = 52, TableAddressLow = 12, TableAddressHigh = 51, TableBits = 0xe3)]
            [EntryLeaf(PageTableLevel.Pte, AddressLow = 12, AddressHigh = 51)]
            [EntryLeaf(PageTableLevel.Pmd, {|#0:LeafMask = 0x80|}, AddressLow = 21, AddressHigh = 51)]
            """ + Geometry,
            Expect("PG1020", "the table entry the model installs (TableBits 0xe3) is a leaf by this rule"));

    [Fact]
    public Task PG1020_an_entry_of_zero_would_be_valid() =>
        Verify("""
            [EntryFormat(PhysicalAddressBits = 52, {|#0:ValidMask = 0x1|}, ValidValue = 0x0, TableAddressLow = 12, TableAddressHigh = 51)]
            [EntryLeaf(PageTableLevel.Pte, AddressLow = 12, AddressHigh = 51)]
            """ + Geometry,
            Expect("PG1020", "valid rule (entry & 0x1) == 0x0: it must look at some bit, an entry of 0 (none) must be invalid, the value must lie in the mask, and the any-set bits outside it"));

    [Fact]
    public Task PG1020_a_reserved_encoding_no_entry_can_hold() =>
        Verify("""
            [EntryFormat(PhysicalAddressBits = 56, TableAddressLow = 10, TableAddressHigh = 53, TableAddressShift = 12, ReservedEncodingMasks = [0x6], {|#0:ReservedEncodingValues = [0x8]|})]
            [EntryLeaf(PageTableLevel.Pte, AddressLow = 10, AddressHigh = 53, AddressShift = 12)]
            """ + Geometry,
            Expect("PG1020", "ReservedEncodingValues[0] 0x8 has bits outside its mask 0x6, so no entry matches it"));

    [Fact]
    public Task PG1020_a_table_entry_the_format_reserves() =>
        Verify("""
            [EntryFormat(PhysicalAddressBits = 56, TableAddressLow = 10, TableAddressHigh = 53, TableAddressShift = 12, {|#0:TableBits = 0x11|}, TableReservedBits = 0xd0)]
            [EntryLeaf(PageTableLevel.Pte, AddressLow = 10, AddressHigh = 53, AddressShift = 12)]
            """ + Geometry,
            Expect("PG1020", "the table entry the model installs (TableBits 0x11) has reserved bits or the reserved encoding"));

    [Fact]
    public Task PG1020_a_leaf_rule_in_the_table_address() =>
        Verify(X86Format + "[EntryLeaf(PageTableLevel.Pmd, {|#0:LeafMask = 0x1000|}, AddressLow = 21, AddressHigh = 51)]\n" + Geometry,
            Expect("PG1020", "the leaf rule 0x1000 lies in the table address field, so a table's address would decide whether it is a leaf"));

    [Theory]
    [InlineData(4, "4 concatenated root tables of 512 entries resolve 11 bits, but 40 virtual-address bits leave 10 for the top level")]
    [InlineData(3, "3 root tables: a root concatenates 2, 4, 8 or 16 tables, or is one")]
    public Task PG1021_root_tables_that_do_not_fit(int tables, string message) =>
        Verify($"[PageTableGeometry(PageShift = 12, Levels = 3, VirtualAddressBits = 40, {{|#0:RootTables = {tables}|}})]\n[PamtGen.Formats.Arm64Stage2Granule4KEntryFormat]\npublic static partial class Geo;",
            Expect("PG1021", message));

    [Fact]
    public Task PG1021_without_concatenation_40_bits_need_another_level() =>
        Verify("[PageTableGeometry(PageShift = 12, Levels = 3, {|#0:VirtualAddressBits = 40|})]\npublic static partial class Geo;",
            new DiagnosticResult("PG1007", DiagnosticSeverity.Error).WithLocation(0).WithArguments("40", "3 levels of 9 bits over 12-bit pages translate only 39 bits; use more levels"));

    [Fact]
    public Task PG1022_two_formats() =>
        Verify("[PamtGen.Formats.X86_64EntryFormat]\n[{|#0:PamtGen.Formats.Arm64Stage1Granule4KEntryFormat|}]\n" + Geometry,
            Expect("PG1022", "'Geo' declares 2 entry formats (X86_64EntryFormatAttribute, Arm64Stage1Granule4KEntryFormatAttribute); give it one"));

    [Fact]
    public Task PG1022_no_format_and_pages_below_x86s() =>
        Verify("[{|#0:PageTableGeometry(PageShift = 10, Levels = 3, VirtualAddressBits = 30)|}]\npublic static partial class Geo;",
            Expect("PG1022", "'Geo' declares no entry format, and x86's does not fit it: the address field of a table (page-aligned) starts at address bit 12, but a table (page-aligned) is aligned only to 2^10 bytes; declare [EntryFormat] or apply a ready-made format"));

    [Fact]
    public Task PG1022_a_required_argument_missing() =>
        Verify("[{|#0:EntryFormat(PhysicalAddressBits = 52, TableAddressHigh = 51)|}]\n[EntryLeaf(PageTableLevel.Pte, AddressLow = 12, AddressHigh = 51)]\n" + Geometry,
            Expect("PG1022", "'TableAddressLow' is required"));

    [Fact]
    public Task PG1023_a_field_named_as_a_member_of_the_struct() =>
        Verify(X86Format + "[EntryField({|#0:\"Value\"|}, 9, 11)]\n" + Geometry,
            Expect("PG1023", "'Value' cannot name a field: it must be an identifier that the entry struct does not already use (Value, IsNone, IsValid, IsTable, IsLeaf, OutputAddress, TableAddress, Table, Block, Page, NeedsBreakBeforeMake, Equals, GetHashCode, ToString, Format, Entry, GetType, Pfn, KernelPage, PxdLeaf, PxdPresent, PxdBad)"));

    [Fact]
    public Task PG1023_a_null_field_name() =>
        Verify(X86Format + "[EntryField({|#0:null!|}, 9, 11)]\n" + Geometry,
            Expect("PG1023", "'' cannot name a field: it must be an identifier that the entry struct does not already use (Value, IsNone, IsValid, IsTable, IsLeaf, OutputAddress, TableAddress, Table, Block, Page, NeedsBreakBeforeMake, Equals, GetHashCode, ToString, Format, Entry, GetType, Pfn, KernelPage, PxdLeaf, PxdPresent, PxdBad)"));

    [Fact]
    public Task PG1024_a_permission_model_without_its_fields() =>
        Verify("""
            [EntryFormat(PhysicalAddressBits = 52, TableAddressLow = 12, TableAddressHigh = 51, TableBits = 0x63, {|#0:Permissions = PermissionModel.X86|})]
            [EntryLeaf(PageTableLevel.Pte, AddressLow = 12, AddressHigh = 51)]
            [EntryField("Writable", 1)]
            [EntryField("Accessed", 5)]
            [EntryField("Dirty", 6, Kinds = EntryKinds.Leaf)]
            """ + Geometry,
            Expect("PG1024", "Permissions = PermissionModel.X86 reads the field User, which the format does not declare"));

    [Fact]
    public Task PG1024_the_riscv_model_without_execute() =>
        Verify("""
            [EntryFormat(PhysicalAddressBits = 56, TableAddressLow = 10, TableAddressHigh = 53, TableAddressShift = 12, {|#0:Permissions = PermissionModel.RiscV|})]
            [EntryLeaf(PageTableLevel.Pte, AddressLow = 10, AddressHigh = 53, AddressShift = 12)]
            [EntryField("Read", 1, Kinds = EntryKinds.Leaf)]
            [EntryField("Write", 2, Kinds = EntryKinds.Leaf)]
            [EntryField("User", 4, Kinds = EntryKinds.Leaf)]
            [EntryField("Accessed", 6, Kinds = EntryKinds.Leaf)]
            [EntryField("Dirty", 7, Kinds = EntryKinds.Leaf)]
            """ + Geometry,
            Expect("PG1024", "Permissions = PermissionModel.RiscV reads the field Execute, which the format does not declare"));

    [Fact]
    public Task PG1024_a_permission_field_of_the_wrong_width_or_missing_where_read() =>
        Verify("""
            [EntryFormat(PhysicalAddressBits = 48, ValidMask = 0x3, TableAddressLow = 12, TableAddressHigh = 47, TableBits = 0x3, {|#0:Permissions = PermissionModel.Arm64Stage2|})]
            [EntryLeaf(PageTableLevel.Pte, AddressLow = 12, AddressHigh = 47)]
            [EntryLeaf(PageTableLevel.Pmd, ValidMask = 0x1, LeafMask = 0x3, LeafValue = 0x1, AddressLow = 21, AddressHigh = 47)]
            [EntryField("S2AccessPermissions", 6, Kinds = EntryKinds.Leaf)]
            [EntryField("AccessFlag", 10, Levels = EntryLevels.Pte, Kinds = EntryKinds.Leaf)]
            [EntryField("DirtyBitModifier", 51, Kinds = EntryKinds.Leaf)]
            [EntryField("ExecuteNever", 54, Kinds = EntryKinds.Leaf)]
            """ + Geometry,
            Expect("PG1024", "Permissions = PermissionModel.Arm64Stage2 reads S2AccessPermissions as 2 bit(s), but it is declared [6:6]"),
            Expect("PG1024", "Permissions = PermissionModel.Arm64Stage2 reads AccessFlag in every Pmd leaf, but the field is not declared there"));

    private static DiagnosticResult Expect(string id, string message) =>
        new DiagnosticResult(id, DiagnosticSeverity.Error).WithLocation(0).WithArguments(message);

    private static Task Verify(string declarations, params DiagnosticResult[] expected)
    {
        var test = GeneratorHarness.NewTest("using PamtGen;\n\n" + declarations);
        test.TestState.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync(); // no GeneratedSources: nothing may be generated
    }
}
