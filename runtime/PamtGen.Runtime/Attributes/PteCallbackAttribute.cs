namespace PamtGen;

/// <summary>
/// Marks a method written in the kernel's pte_fn_t shape,
/// <c>static int Name(PtePointer pte, ulong addr, TData data)</c>, inside a partial type. The generator adds a
/// nested struct <c>NameFn</c> implementing <see cref="IPteFn"/> that carries <c>data</c> and calls the
/// method directly, to pass to a generated walker: <c>var fn = new NameFn(data); X86_64.ApplyToPageRange(mm, addr, size, ref fn);</c>
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class PteCallbackAttribute : Attribute;
