namespace PamtGen;

/// <summary>
/// Marks a method that returns a newly allocated page (or null when the allocation fails), as
/// <see cref="PageAllocator.AllocPage"/> does: PamtGen's PG0002 analysis then checks that every page it returns is
/// freed, mapped with SetPteAt, stored, returned or handed on, on every path.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class AllocatesPageAttribute : Attribute;

/// <summary>
/// Marks a parameter that takes ownership of the page passed to it (the callee frees or keeps it): PG0002 stops
/// tracking a page passed there.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
public sealed class TakesPageOwnershipAttribute : Attribute;
