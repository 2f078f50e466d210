using PamtGen.Generator.Model;

namespace PamtGen.Generator;

public sealed partial class PamtGenerator
{
    internal static string HintName(CallbackSpec spec) => HintName(spec.FullName, ".PteCallback.g.cs");

    /// <summary>The adapter struct of one [PteCallback] method: it carries the data and calls the method directly.</summary>
    internal static string Emit(CallbackSpec spec) =>
        WriteFile(spec.Namespace, spec.Types, writer =>
        {
            string adapter = spec.MethodName + "Fn";
            writer.WriteLine($"/// <summary>The <see cref=\"global::PamtGen.IPteFn\"/> of <see cref=\"{spec.MethodName}\"/>: carries its data and calls it directly, so a generated walker inlines it.</summary>");
            writer.WriteLine(GeneratedCodeAttribute);
            writer.WriteLine($"{spec.Accessibility} struct {adapter} : global::PamtGen.IPteFn");
            writer.WriteLine("{");
            writer.Indent++;
            var members = new MemberWriter(writer);
            members.Member("The data every call gets (pte_fn_t's <c>void *data</c>).", $"public {spec.DataType} Data;");
            members.Member("An adapter that passes <paramref name=\"data\"/> to every call.", $"public {adapter}({spec.DataType} data) => Data = data;");
            members.Member(
                $"Calls <see cref=\"{spec.MethodName}\"/>(pte, addr, Data).",
                AggressiveInlining,
                $"public int Invoke(global::PamtGen.PtePointer pte, ulong addr) => {spec.MethodName}(pte, addr, Data);");
            writer.Indent--;
            writer.WriteLine("}");
        });
}
