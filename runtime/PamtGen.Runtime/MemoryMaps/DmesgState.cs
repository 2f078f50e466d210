using System.Globalization;
using System.Text.RegularExpressions;

namespace PamtGen.MemoryMaps;

/// <summary>The e820 lines of a dmesg boot log, accumulated line by line (see <see cref="MemoryMapReader"/> for the rules).</summary>
internal sealed partial class DmesgState(string source)
{
    private readonly List<E820Entry> _table = [];
    private readonly List<Change> _changes = [];
    private readonly List<string> _notes = [];
    private string? _who;
    private int _tableLine;
    private bool _headerSeen;

    public bool HasTable => _who is not null;

    public (int Number, string Text)? FirstChange { get; private set; }

    public IReadOnlyList<string> Notes => _notes;

    /// <summary>Takes <paramref name="line"/> if it is an e820 line; false if it is any other line of a log.</summary>
    public bool TryAccept(string line, int lineNumber)
    {
        if (RamMapHeader().IsMatch(line))
        {
            _headerSeen = true;
            return true;
        }

        var marker = EntryMarker().Match(line);
        if (marker.Success)
        {
            string who = marker.Groups["who"].Value, rest = marker.Groups["rest"].Value;
            if (who != "BIOS-e820" && !rest.StartsWith("[mem", StringComparison.Ordinal) && !OldEntry().IsMatch(rest))
            {
                return false; // "user:" or "modified:" in some other message
            }

            AddEntry(who, ParseEntry(rest, lineNumber, line), lineNumber);
            return true;
        }

        if (line.Contains("e820: update ", StringComparison.Ordinal) || line.Contains("e820 update range:", StringComparison.Ordinal))
        {
            var match = line.Contains("e820: update ", StringComparison.Ordinal) ? NewUpdate().Match(line) : OldUpdate().Match(line);
            AddChange(match, isUpdate: true, inclusiveEnd: line.Contains("e820: update ", StringComparison.Ordinal), lineNumber, line);
            return true;
        }

        if (line.Contains("e820: remove ", StringComparison.Ordinal) || line.Contains("e820 remove range:", StringComparison.Ordinal))
        {
            var match = line.Contains("e820: remove ", StringComparison.Ordinal) ? NewRemove().Match(line) : OldRemove().Match(line);
            AddChange(match, isUpdate: false, inclusiveEnd: line.Contains("e820: remove ", StringComparison.Ordinal), lineNumber, line);
            return true;
        }

        return false;
    }

    /// <summary>The last table printed, with the update and remove lines that followed it applied in order.</summary>
    public IReadOnlyCollection<E820Entry> Table()
    {
        if (_changes.Count == 0)
        {
            return _table;
        }

        IReadOnlyList<E820Entry> table = E820Table.Sanitize(_table);
        foreach (var change in _changes)
        {
            table = change.NewType is { } newType
                ? E820Table.Update(table, change.Start, change.End, change.OldType!.Value, newType)
                : E820Table.Remove(table, change.Start, change.End, change.OldType);
            _notes.Add($"line {change.Line}: applied \"{change.Text.Trim()}\"");
        }

        return table;
    }

    private void AddEntry(string who, E820Entry entry, int lineNumber)
    {
        if (_who is null || who != _who || _headerSeen || _changes.Count > 0)
        {
            if (_who is not null)
            {
                _notes.Add($"line {lineNumber}: the \"{who}:\" table starting here replaces the \"{_who}:\" table of line {_tableLine}");
                foreach (var change in _changes)
                {
                    _notes.Add($"line {change.Line}: ignored \"{change.Text.Trim()}\": the table of line {lineNumber}, printed after it, includes it");
                }
            }

            _table.Clear();
            _changes.Clear();
            _who = who;
            _tableLine = lineNumber;
            _headerSeen = false;
        }

        _table.Add(entry);
    }

    private void AddChange(Match match, bool isUpdate, bool inclusiveEnd, int lineNumber, string line)
    {
        if (!match.Success)
        {
            throw new MemoryMapException(source, $"a malformed e820 {(isUpdate ? "update" : "remove")} line", lineNumber, line);
        }

        var (start, end) = ParseRange(match, inclusiveEnd, lineNumber, line);
        uint? oldType = match.Groups["old"].Success ? ParseType(match.Groups["old"].Value, lineNumber, line) : null;
        uint? newType = isUpdate ? ParseType(match.Groups["new"].Value, lineNumber, line) : null;
        FirstChange ??= (lineNumber, line);
        if (_who is null)
        {
            return; // reported by the reader if no table ever comes
        }

        _changes.Add(new Change(lineNumber, line, start, end, oldType, newType));
    }

    private E820Entry ParseEntry(string rest, int lineNumber, string line)
    {
        var current = NewEntry().Match(rest);
        var old = current.Success ? current : OldEntry().Match(rest);
        if (!old.Success)
        {
            throw new MemoryMapException(
                source, "a malformed e820 line: expected \"[mem 0xSTART-0xEND] TYPE\" or \"START - END (TYPE)\"", lineNumber, line);
        }

        var (start, end) = ParseRange(old, inclusiveEnd: current.Success, lineNumber, line);
        return new E820Entry(start, end, ParseType(old.Groups["type"].Value, lineNumber, line));
    }

    private (ulong Start, ulong End) ParseRange(Match match, bool inclusiveEnd, int lineNumber, string line)
    {
        ulong start = MemoryMapReader.ParseHex(match.Groups["start"].Value, lineNumber, line, source);
        ulong end = MemoryMapReader.ParseHex(match.Groups["end"].Value, lineNumber, line, source);
        if (end < start)
        {
            throw new MemoryMapException(source, "the range ends before it starts", lineNumber, line);
        }

        return (start, inclusiveEnd ? MemoryMapReader.ExclusiveEnd(end, lineNumber, line, source) : end);
    }

    /// <summary>The type names e820_print_type() prints, old and new.</summary>
    private uint ParseType(string name, int lineNumber, string line)
    {
        string trimmed = name.Trim();
        var numbered = NumberedType().Match(trimmed);
        if (numbered.Success && uint.TryParse(numbered.Groups["n"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out uint n) && n != 0)
        {
            return n;
        }

        return trimmed.ToLowerInvariant() switch
        {
            "usable" => E820Type.Ram,
            "reserved" => E820Type.Reserved,
            "acpi data" => E820Type.Acpi,
            "acpi nvs" => E820Type.Nvs,
            "unusable" => E820Type.Unusable,
            "soft reserved" => E820Type.SoftReserved,
            _ => throw new MemoryMapException(source, $"unknown e820 type '{trimmed}'", lineNumber, line),
        };
    }

    private sealed record Change(int Line, string Text, ulong Start, ulong End, uint? OldType, uint? NewType);

    [GeneratedRegex(@"(?:BIOS-provided|user-defined|modified) physical RAM map:")]
    private static partial Regex RamMapHeader();

    [GeneratedRegex(@"(?:^|[\s\]])(?<who>BIOS-e820|user|modified):\s*(?<rest>.*)$")]
    private static partial Regex EntryMarker();

    [GeneratedRegex(@"^\[mem\s+(?<start>0x[0-9a-fA-F]+)-(?<end>0x[0-9a-fA-F]+)\]\s+(?<type>\S.*?)\s*$")]
    private static partial Regex NewEntry();

    [GeneratedRegex(@"^(?<start>[0-9a-fA-F]+)\s+-\s+(?<end>[0-9a-fA-F]+)\s+\((?<type>.+)\)\s*$")]
    private static partial Regex OldEntry();

    [GeneratedRegex(@"e820: update \[mem\s+(?<start>0x[0-9a-fA-F]+)-(?<end>0x[0-9a-fA-F]+)\]\s+(?<old>\S.*?)\s+==>\s+(?<new>\S.*?)\s*$")]
    private static partial Regex NewUpdate();

    [GeneratedRegex(@"e820 update range:\s+(?<start>[0-9a-fA-F]+)\s+-\s+(?<end>[0-9a-fA-F]+)\s+\((?<old>.+?)\)\s+==>\s+\((?<new>.+?)\)\s*$")]
    private static partial Regex OldUpdate();

    [GeneratedRegex(@"e820: remove \[mem\s+(?<start>0x[0-9a-fA-F]+)-(?<end>0x[0-9a-fA-F]+)\](?:\s+(?<old>\S.*?))?\s*$")]
    private static partial Regex NewRemove();

    [GeneratedRegex(@"e820 remove range:\s+(?<start>[0-9a-fA-F]+)\s+-\s+(?<end>[0-9a-fA-F]+)(?:\s+\((?<old>.+?)\))?\s*$")]
    private static partial Regex OldRemove();

    [GeneratedRegex(@"^(?:persistent \()?type (?<n>\d{1,10})\)?$")]
    private static partial Regex NumberedType();
}
