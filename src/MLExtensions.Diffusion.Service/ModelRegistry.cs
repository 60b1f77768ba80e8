using System.Collections.Immutable;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MLExtensions.Diffusion.Service;

/// <summary>
/// The models of the models folder, hot-reloaded: every <c>*.zip</c> file (top level) is served under its file name
/// without the extension. A file-system watcher and a poll every <see cref="SamplerServiceOptions.ReloadPollInterval"/>
/// trigger scans; a new or changed file (size or time stamps) is loaded once it has kept the same size and time stamps for
/// <see cref="SamplerServiceOptions.ReloadDebounce"/>, validated (<see cref="ServedModel.Load"/>: it loads and generates
/// finite rows) and only then swapped in. A file that fails is rejected with a log line and the previous snapshot keeps
/// serving; it is tried again when it changes. A deleted file stops being served. Snapshots are reference-counted
/// (<see cref="ModelLease"/>), so requests in flight finish on the snapshot they started with.
/// </summary>
internal sealed partial class ModelRegistry : IHostedService, IDisposable
{
    private readonly SamplerServiceOptions _options;
    private readonly ILogger<ModelRegistry> _logger;
    private readonly ServiceMetrics _metrics;
    private readonly string _folder;
    private readonly SemaphoreSlim _scanLock = new(1, 1);
    private readonly SemaphoreSlim _signal = new(0, int.MaxValue);
    private readonly Dictionary<string, FileSignature> _handled = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private ImmutableDictionary<string, ModelLease.SharedModel> _models = ImmutableDictionary.Create<string, ModelLease.SharedModel>(StringComparer.Ordinal);
    private FileSystemWatcher? _watcher;
    private Task? _loop;
    private int _scans;
    private int _disposed;

    public ModelRegistry(SamplerServiceOptions options, ILogger<ModelRegistry> logger, ServiceMetrics metrics)
    {
        _options = options;
        _logger = logger;
        _metrics = metrics;
        _folder = Path.GetFullPath(options.ModelsFolder);
    }

    /// <summary>The number of scans completed (tests wait on it).</summary>
    internal int CompletedScans => Volatile.Read(ref _scans);

    /// <summary>The served snapshots, by name (a consistent view; the snapshots' properties stay valid).</summary>
    public IReadOnlyList<(IServedModel Model, DateTimeOffset LoadedAt)> List() =>
        _models.Values.OrderBy(m => m.Model.Name, StringComparer.Ordinal).Select(m => (m.Model, m.LoadedAt)).ToList();

    /// <summary>The names served now.</summary>
    public IReadOnlyList<string> Names => _models.Keys.OrderBy(n => n, StringComparer.Ordinal).ToList();

    /// <summary>A lease on the current snapshot of <paramref name="name"/>, or null when no such model is served.</summary>
    public ModelLease? Acquire(string name)
    {
        while (true)
        {
            if (!_models.TryGetValue(name, out var shared)) return null;
            var lease = ModelLease.TryTake(shared);
            if (lease is not null) return lease;
            // Retired between the lookup and the take: the registry already holds its successor (or none).
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(_folder))
            throw new DirectoryNotFoundException($"The models folder '{_folder}' does not exist.");
        await ScanAsync(debounce: false, cancellationToken);
        LogStarted(_folder, _models.Count);
        try
        {
            _watcher = new FileSystemWatcher(_folder, "*.zip") { IncludeSubdirectories = false, NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size };
            _watcher.Changed += (_, _) => Signal();
            _watcher.Created += (_, _) => Signal();
            _watcher.Deleted += (_, _) => Signal();
            _watcher.Renamed += (_, _) => Signal();
            _watcher.Error += (_, e) => LogWatcherError(e.GetException().Message);
            _watcher.EnableRaisingEvents = true;
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException)
        {
            LogWatcherError(e.Message);
        }
        _loop = Task.Run(() => LoopAsync(_stop.Token), CancellationToken.None);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        _watcher?.Dispose();
        if (_loop is not null)
        {
            try { await _loop.WaitAsync(cancellationToken); }
            catch (OperationCanceledException) { }
        }
    }

    /// <summary>Asks for a scan now (besides the poll).</summary>
    internal void Signal() => _signal.Release();

    private async Task LoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await _signal.WaitAsync(_options.ReloadPollInterval, stop);
                while (_signal.CurrentCount > 0) await _signal.WaitAsync(stop);   // one scan serves every queued event
                await ScanAsync(debounce: true, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Keep watching: a failed scan (folder briefly unreadable, an unexpected error) is retried on the next poll.
                LogScanFailed(e.Message);
            }
        }
    }

    /// <summary>Loads the files that are new or changed since they were last handled, and retires deleted ones.</summary>
    internal async Task ScanAsync(bool debounce, CancellationToken cancellationToken)
    {
        await _scanLock.WaitAsync(cancellationToken);
        try
        {
            var files = Directory.EnumerateFiles(_folder, "*.zip", SearchOption.TopDirectoryOnly)
                .Where(p => string.Equals(Path.GetExtension(p), ".zip", StringComparison.OrdinalIgnoreCase))
                .ToDictionary(p => Path.GetFileNameWithoutExtension(p), StringComparer.Ordinal);
            foreach (var name in _handled.Keys.Where(n => !files.ContainsKey(n)).ToList())
            {
                _handled.Remove(name);
                if (Retire(name))
                {
                    LogRemoved(name);
                    _metrics.ModelReloads.WithLabels(name, "removed").Inc();
                }
            }
            foreach (var (name, path) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
            {
                if (FileSignature.Read(path) is not { } signature) continue;
                if (_handled.TryGetValue(name, out var seen) && seen == signature) continue;
                if (debounce)
                {
                    await Task.Delay(_options.ReloadDebounce, cancellationToken);
                    if (FileSignature.Read(path) != signature)
                    {
                        Signal();   // still being written: look again after the next debounce
                        continue;
                    }
                }
                _handled[name] = signature;
                await LoadAsync(name, path);
            }
            _metrics.ModelsServed.Set(_models.Count);
        }
        finally
        {
            Interlocked.Increment(ref _scans);
            _scanLock.Release();
        }
    }

    private async Task LoadAsync(string name, string path)
    {
        ServedModel model;
        try
        {
            model = await Task.Run(() => ServedModel.Load(path, name, _options, message => LogEngineWarning(name, message)));
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            bool serving = _models.ContainsKey(name);
            LogRejected(path, e.Message, serving ? "the previous snapshot keeps serving" : "the model is not served");
            _metrics.ModelReloads.WithLabels(name, "rejected").Inc();
            return;
        }
        if (_models.TryGetValue(name, out var current) && current.Model.Sha256 == model.Sha256)
        {
            model.Dispose();
            _metrics.ModelReloads.WithLabels(name, "unchanged").Inc();
            return;
        }
        var old = ImmutableInterlocked.AddOrUpdate(ref _models, name, new ModelLease.SharedModel(model), (_, previous) =>
        {
            current = previous;
            return new ModelLease.SharedModel(model);
        });
        bool replaced = current is not null;
        current?.Release();
        LogLoaded(name, model.Dimension, model.Plan.Description, model.Engine, model.Sha256[..12], replaced ? "replaced the previous snapshot" : "new");
        _metrics.ModelReloads.WithLabels(name, "loaded").Inc();
    }

    private bool Retire(string name)
    {
        if (!ImmutableInterlocked.TryRemove(ref _models, name, out var shared)) return false;
        shared.Release();
        return true;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;   // registered twice (registry and hosted service)
        _stop.Cancel();
        _watcher?.Dispose();
        foreach (var name in _models.Keys.ToList()) Retire(name);
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving the models folder {Folder}: {Count} model(s) loaded.")]
    private partial void LogStarted(string folder, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model '{Name}' loaded (dimension {Dimension}, plan {Plan}, engine {Engine}, sha256 {Sha}...): {How}.")]
    private partial void LogLoaded(string name, int dimension, string plan, string engine, string sha, string how);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rejected model file {Path}: {Reason}; {Consequence}.")]
    private partial void LogRejected(string path, string reason, string consequence);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model '{Name}' removed: its file was deleted.")]
    private partial void LogRemoved(string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The models folder watcher failed ({Reason}); changes are still found by polling.")]
    private partial void LogWatcherError(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scanning the models folder failed: {Reason}.")]
    private partial void LogScanFailed(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model '{Name}': {Message}")]
    private partial void LogEngineWarning(string name, string message);
}
