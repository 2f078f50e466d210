namespace PamtGen.Runtime.Tests;

/// <summary>
/// The runtime side of translation on geometries the generator never saw: a format without a permission model, one
/// whose model lacks its fields, the runtime's own geometries through the loop, and the x86 error code of each reason.
/// </summary>
public class TranslationRuntimeTests
{
    [Fact]
    public void A_format_without_a_permission_model_allows_everything_and_writes_nothing()
    {
        var g = new Geometry(12, 512, 8, 4, 48, "no permissions", EntryFormat.Of(typeof(NoPermissionsFormatAttribute)));
        var mm = new Mm(g, PageAllocator.Synthetic(16));
        Assert.True(mm.SetEntry(PageTableLevel.Pte, 0x40_0000, 0x1234_5000 | 0x1));
        var before = mm.Snapshot();
        foreach (var access in new[] { Access.Read, Access.Write, Access.Execute, Access.Write | Access.User })
        {
            var result = mm.Translate(0x40_0010, access, TranslateOptions.UpdateAccessedDirty);
            Assert.Equal((true, 0x1234_5010UL, Permissions.All, 4), (result.Ok, result.OutputAddress, result.Permissions, result.EntriesRead));
        }

        Assert.Equal(before, mm.Snapshot());
        Assert.Equal(FaultReason.NotPresent, mm.Translate(0x80_0000, Access.Read).Fault);
    }

    [Fact]
    public void A_permission_model_without_its_fields_is_refused_at_run_time_as_at_compile_time()
    {
        var error = Assert.Throws<ArgumentException>(() => new Geometry(12, 512, 8, 4, 48, "x86 without fields", EntryFormat.Of(typeof(X86WithoutFieldsFormatAttribute))));
        Assert.Contains("Permissions = PermissionModel.X86 reads the field Writable, which the format does not declare", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("x86-64 4-level")]
    [InlineData("arm64 4K")]
    [InlineData("arm64 stage 2")]
    public void The_runtimes_own_geometries_translate_through_the_loop(string name)
    {
        var g = name switch { "x86-64 4-level" => Geometry.X86_64FourLevel, "arm64 4K" => Geometry.Arm64Granule4K, _ => Geometry.Arm64Stage2Ipa40 };
        var mm = new Mm(g, PageAllocator.Synthetic(64));
        Assert.Equal(0, BlockMapping.MapRange(mm, 0x4000_0000, 0x8000_0000, 2UL << 20, g.Format.Declaration.PageBits & ~g.HardwareUpdatedBits(PageTableLevel.Pte)));
        var read = mm.Translate(0x4000_1234, Access.Read);
        bool arm64 = name != "x86-64 4-level";
        Assert.Equal(arm64 ? FaultReason.AccessFlag : FaultReason.None, read.Fault); // arm64 without hardware AF: the access flag is 0
        var updated = mm.Translate(0x4000_1234, Access.Read, TranslateOptions.UpdateAccessedDirty);
        Assert.Equal((true, 0x8000_1234UL, PageTableLevel.Pmd, 2UL << 20), (updated.Ok, updated.OutputAddress, updated.Level, updated.Size));
        Assert.True(mm.Translate(0x4000_1234, Access.Read).Ok); // the walker set the access flag
    }

    [Fact]
    public void The_error_code_has_p_for_every_reason_but_not_present_and_rsvd_for_reserved_bits()
    {
        Translation Fault(FaultReason reason, Access access) => new(reason, TranslationStage.Stage1, PageTableLevel.Pte, 0, 0, Permissions.None, false, access, 4, 0);
        Assert.Equal(0x16, Fault(FaultReason.NotPresent, Access.Execute | Access.User | Access.Write).ErrorCode);
        Assert.Equal(0x09, Fault(FaultReason.ReservedBits, Access.Read).ErrorCode);
        Assert.Equal(0x07, Fault(FaultReason.Write, Access.Write | Access.User).ErrorCode);
        Assert.Equal(0x15, Fault(FaultReason.Execute, Access.Execute | Access.User).ErrorCode);
        Assert.Equal(0, new Translation(FaultReason.None, TranslationStage.Stage1, PageTableLevel.Pte, 0x1000, 0x1000, Permissions.All, true, Access.Write, 4, 0).ErrorCode);
    }

    /// <summary>Valid bit 0, addresses at [51:12], no fields and no permission model.</summary>
    [EntryFormat(Name = "no permissions", PhysicalAddressBits = 52, TableAddressLow = 12, TableAddressHigh = 51)]
    [EntryLeaf(PageTableLevel.Pte, AddressLow = 12, AddressHigh = 51)]
    [AttributeUsage(AttributeTargets.Class)]
    private sealed class NoPermissionsFormatAttribute : Attribute;

    /// <summary>The x86 model named, none of its fields declared.</summary>
    [EntryFormat(Name = "x86 without fields", PhysicalAddressBits = 52, TableAddressLow = 12, TableAddressHigh = 51, Permissions = PermissionModel.X86)]
    [EntryLeaf(PageTableLevel.Pte, AddressLow = 12, AddressHigh = 51)]
    [AttributeUsage(AttributeTargets.Class)]
    private sealed class X86WithoutFieldsFormatAttribute : Attribute;
}
