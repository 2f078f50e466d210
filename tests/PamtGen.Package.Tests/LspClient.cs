using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PamtGen.Package.Tests;

/// <summary>A minimal LSP client over a server's stdio: Content-Length framing, requests matched by id, server requests answered.</summary>
internal sealed class LspClient : IDisposable
{
    private readonly Process _server;
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonNode?>> _pending = new();
    private readonly Lock _writeLock = new();
    private readonly Thread _reader;
    private readonly Task _exited;
    private int _nextId;

    public LspClient(ProcessStartInfo start)
    {
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        _server = Process.Start(start)!;
        _exited = _server.WaitForExitAsync();
        _server.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (Log) { Log.Add("stderr: " + e.Data); } } };
        _server.BeginErrorReadLine();
        _reader = new Thread(ReadLoop) { IsBackground = true };
        _reader.Start();
    }

    /// <summary>What the server logged (window/logMessage and stderr), for failure messages.</summary>
    public List<string> Log { get; } = [];

    public async Task<JsonNode?> Request(string method, object parameters, TimeSpan timeout)
    {
        int id = Interlocked.Increment(ref _nextId);
        var reply = new TaskCompletionSource<JsonNode?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        Send(new { jsonrpc = "2.0", id, method, @params = parameters });
        // A server that exits (say, a tool that cannot be found) fails the request at once, not at the timeout.
        var done = await Task.WhenAny(reply.Task, _exited, Task.Delay(timeout));
        if (done == reply.Task)
        {
            return await reply.Task;
        }

        string log;
        lock (Log)
        {
            log = string.Join('\n', Log.TakeLast(20));
        }

        throw done == _exited
            ? new InvalidOperationException($"{method}: the server exited with code {_server.ExitCode}; log:\n{log}")
            : new TimeoutException($"{method}: no reply in {timeout}; log:\n{log}");
    }

    public void Notify(string method, object parameters) => Send(new { jsonrpc = "2.0", method, @params = parameters });

    public void Dispose()
    {
        try
        {
            Notify("exit", new { });
        }
        catch (IOException)
        {
        }

        if (!_server.WaitForExit(5_000))
        {
            _server.Kill(entireProcessTree: true);
        }

        _server.Dispose();
    }

    private void Send(object message)
    {
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(message);
        byte[] header = Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n");
        lock (_writeLock)
        {
            var stream = _server.StandardInput.BaseStream;
            stream.Write(header);
            stream.Write(body);
            stream.Flush();
        }
    }

    private void ReadLoop()
    {
        var stream = _server.StandardOutput.BaseStream;
        while (ReadMessage(stream) is { } message)
        {
            if (message["id"] is JsonValue id && message["method"] is null && _pending.TryRemove(id.GetValue<int>(), out var reply))
            {
                reply.TrySetResult(message["result"]);
            }
            else if (message["method"]?.GetValue<string>() is { } method)
            {
                if (method is "window/logMessage" or "window/showMessage")
                {
                    lock (Log)
                    {
                        Log.Add(message["params"]?["message"]?.GetValue<string>() ?? "");
                    }
                }

                if (message["id"] is { } requestId)
                {
                    // workspace/configuration gets the settings; everything else a plain acknowledgement.
                    object? result = method == "workspace/configuration"
                        ? message["params"]?["items"]?.AsArray().Select(_ => (object)new { analyzersEnabled = true }).ToArray()
                        : null;
                    Send(new { jsonrpc = "2.0", id = requestId, result });
                }
            }
        }
    }

    private static JsonNode? ReadMessage(Stream stream)
    {
        var header = new StringBuilder();
        while (!header.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            int b = stream.ReadByte();
            if (b < 0)
            {
                return null;
            }

            header.Append((char)b);
        }

        int length = int.Parse(header.ToString().Split("\r\n").First(l => l.StartsWith("Content-Length", StringComparison.OrdinalIgnoreCase)).Split(':')[1].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        byte[] body = new byte[length];
        stream.ReadExactly(body);
        return JsonNode.Parse(body);
    }
}
