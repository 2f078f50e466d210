using PamtGen;
using PamtGen.Formats;

namespace TdxDpamt;

/// <summary>x86-64 with 4-level paging and its entry format, and the TDX Dynamic PAMT refcount table: one atomic_t per 2 MiB.</summary>
[PageTableGeometry(PageShift = 12, PmdShift = 21, PtrsPerPte = 512, Levels = 4, VirtualAddressBits = 48)]
[X86_64EntryFormat]
[RefcountTable(ElementSize = 4)]
public static partial class X86_64;
