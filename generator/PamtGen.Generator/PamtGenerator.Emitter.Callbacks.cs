using PamtGen.Generator.Model;

namespace PamtGen.Generator;

public sealed partial class PamtGenerator
{
    internal static string HintName(CallbackSpec spec) => HintName(spec.FullName, ".PteCallback.g.cs");

    /// <summary>The adapter struct of one [PteCallback] method: it carries the data and calls the method directly.</summary>
    internal static string Emit(CallbackSpec spec) =>
        WriteFile(spec.Namespace, spec.Types, w =>
        {
            string adapter = spec.MethodName + "Fn";
            w.Line($"/// <summary>The <see cref=\"{PteFnInterface}\"/> of <see cref=\"{spec.MethodName}\"/>: carries its data and calls it directly, so a generated walker inlines it.</summary>");
            w.Line(GeneratedCodeAttribute);
            w.Open($"{spec.Accessibility} struct {adapter} : {PteFnInterface}");
            w.Member("The data every call gets (pte_fn_t's <c>void *data</c>).", $"public {spec.DataType} Data;");
            w.Member("An adapter that passes <paramref name=\"data\"/> to every call.", $"public {adapter}({spec.DataType} data) => Data = data;");
            w.Member(
                $"Calls <see cref=\"{spec.MethodName}\"/>(pte, addr, Data).",
                AggressiveInlining,
                $"public int Invoke({PtePointerType} pte, ulong addr) => {spec.MethodName}(pte, addr, Data);");
            w.Close();
        });
}
