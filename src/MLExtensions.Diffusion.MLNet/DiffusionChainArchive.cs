using System.IO.Compression;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.Onnx;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>
/// Saves and loads a whole fitted chain that holds this library's transformers beside ML.NET's own, as one zip file
/// (<c>mlContext.Diffusion().SaveChain</c> / <c>LoadChain</c>). ML.NET keeps its model format to its own assemblies, so
/// <c>mlContext.Model.Save</c> cannot write our transformers; this archive splits the chain into runs of ML.NET
/// transformers, each written by <c>mlContext.Model.Save</c> into an entry, and our transformers, each written in our own
/// format.
/// </summary>
/// <remarks>
/// <para>Layout (format <see cref="FormatName"/>, version <see cref="FormatVersion"/>): <c>manifest.json</c> (format,
/// version, library version, and the parts in chain order); <c>input.mlnet.zip</c>: an empty ML.NET chain saved with the
/// chain's input schema; <c>parts/k.mlnet.zip</c>: a run of ML.NET transformers (<c>mlContext.Model.Save</c> with the run's
/// input schema); <c>models/k.zip</c>: each distinct <see cref="DiffusionModel"/> once (<see cref="DiffusionModelArchive"/>);
/// our transformers as manifest parts naming their model and options: <see cref="DiffusionModel"/> itself,
/// <see cref="LikelihoodTransformer"/> (its <see cref="LikelihoodTransformOptions"/>) and <see cref="GenerateTransformer"/>
/// (its <see cref="GenerateOptions"/>). Nested <see cref="TransformerChain{TLastTransformer}"/>s are flattened; scopes are
/// not kept (the loaded chain's transformers have the default scope, as a chain built from a transformer list).</para>
/// <para>Not saved: <see cref="OnnxSessionSettings.Warning"/> (a delegate; warnings go to the default trace after
/// loading), and a <see cref="GenerateTransformer"/> loaded from a sampler file (<see cref="GenerateTransformer.Model"/> is
/// null): save its ONNX file instead. ML.NET transformers from assemblies that ML.NET does not load by itself (for example
/// the ONNX transformer) need <c>mlContext.ComponentCatalog.RegisterAssembly</c> before <see cref="Load"/>, as for
/// <c>mlContext.Model.Load</c>.</para>
/// </remarks>
public static class DiffusionChainArchive
{
    /// <summary>The manifest's format name.</summary>
    public const string FormatName = "MLExtensions.Diffusion.Chain";

    /// <summary>The format version this library writes and the newest it reads.</summary>
    public const int FormatVersion = 1;

    private const string ManifestEntry = "manifest.json";
    private const string InputEntry = "input.mlnet.zip";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Writes <paramref name="chain"/> and its input schema to <paramref name="path"/> (atomically: a temporary
    /// file in the same folder, then a move).</summary>
    /// <param name="mlContext">The context whose <c>Model.Save</c> writes the ML.NET parts.</param>
    /// <param name="chain">A fitted transformer: a <see cref="TransformerChain{TLastTransformer}"/> (nested chains are
    /// flattened) or a single transformer.</param>
    /// <param name="inputSchema">The schema of the chain's input rows.</param>
    /// <param name="path">The file to write (replaced if it exists).</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is blank, or <paramref name="inputSchema"/> does not fit
    /// the chain (a transformer rejects its input schema; the message names it).</exception>
    /// <exception cref="NotSupportedException">A part cannot be saved: a <see cref="GenerateTransformer"/> loaded from a
    /// sampler file, or an ML.NET transformer that <c>mlContext.Model.Save</c> cannot save (the message names the part).</exception>
    /// <exception cref="IOException">The file cannot be written (the target is left as it was).</exception>
    public static void Save(MLContext mlContext, ITransformer chain, DataViewSchema inputSchema, string path)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(inputSchema);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var transformers = new List<ITransformer>();
        Flatten(chain, transformers);

        var entries = new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            [InputEntry] = SaveMLNet(mlContext, new TransformerChain<ITransformer>(), inputSchema, "the input schema"),
        };
        var models = new Dictionary<DiffusionModel, string>(ReferenceEqualityComparer.Instance);
        var parts = new List<PartDocument>();
        var run = new List<ITransformer>();
        DataViewSchema schema = inputSchema, runSchema = inputSchema;
        for (int i = 0; i < transformers.Count; i++)
        {
            var t = transformers[i];
            PartDocument? ours = t switch
            {
                DiffusionModel m => new PartDocument(PartKind.DiffusionModel, Model: ModelEntry(m, models, entries)),
                LikelihoodTransformer l => new PartDocument(PartKind.Likelihood, Model: ModelEntry(l.Model, models, entries),
                    Likelihood: WithoutSession(l.Options), Session: SessionDocument.From(l.Options.SessionSettings)),
                GenerateTransformer g => new PartDocument(PartKind.Generate,
                    Model: ModelEntry(g.Model ?? throw new NotSupportedException(
                        $"Part {i} of the chain is a GenerateTransformer loaded from the sampler file '{g.ModelName}'; it has no DiffusionModel to save. Save the ONNX file instead."), models, entries),
                    Generate: WithoutSessions(g.Options), Session: SessionDocument.From(g.Options.SessionSettings),
                    LikelihoodSession: SessionDocument.From(g.Options.Likelihood?.SessionSettings)),
                _ => null,
            };
            if (ours is not null)
            {
                FlushRun(mlContext, run, runSchema, parts, entries);
                parts.Add(ours);
            }
            else
            {
                if (run.Count == 0) runSchema = schema;
                run.Add(t);
            }
            try
            {
                schema = t.GetOutputSchema(schema);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                throw new ArgumentException($"Part {i} of the chain ({t.GetType().Name}) does not accept its input schema: {e.Message}", nameof(inputSchema), e);
            }
        }
        FlushRun(mlContext, run, runSchema, parts, entries);

        var manifest = new ManifestDocument(FormatName, FormatVersion, LibraryVersion, parts.ToArray());
        IO.AtomicFile.Write(path, stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            Write(zip, ManifestEntry, JsonSerializer.SerializeToUtf8Bytes(manifest, Json));
            foreach (var (name, bytes) in entries) Write(zip, name, bytes);
        });
    }

    /// <summary>Reads a chain written by <see cref="Save"/>.</summary>
    /// <param name="mlContext">The context whose <c>Model.Load</c> reads the ML.NET parts.</param>
    /// <param name="path">The file.</param>
    /// <param name="inputSchema">The saved input schema of the chain.</param>
    /// <returns>The chain, a <see cref="TransformerChain{TLastTransformer}"/> of the flattened transformers in order; our
    /// transformers are rebuilt from their models and options (and own new ONNX sessions: dispose the
    /// <see cref="LikelihoodTransformer"/>s and <see cref="GenerateTransformer"/>s when done).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="mlContext"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or blank.</exception>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a zip, is another format or a newer version, lacks an entry,
    /// or a part cannot be read (the message names the file and the part).</exception>
    public static TransformerChain<ITransformer> Load(MLContext mlContext, string path, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"No chain file at '{path}'.", path);
        var loaded = new List<ITransformer>();
        try
        {
            using var stream = File.OpenRead(path);
            using var zip = new ZipArchive(stream, ZipArchiveMode.Read);
            var manifest = JsonSerializer.Deserialize<ManifestDocument>(Read(zip, ManifestEntry, path), Json)
                ?? throw Invalid(path, "its manifest is empty.");
            if (manifest.Format != FormatName) throw Invalid(path, $"its manifest names the format '{manifest.Format}', not '{FormatName}'.");
            if (manifest.Version > FormatVersion)
                throw Invalid(path, $"it has format version {manifest.Version}, written by a newer library ({manifest.LibraryVersion}); this one reads up to version {FormatVersion}.");
            if (manifest.Version < 1 || manifest.Parts is null) throw Invalid(path, "its manifest is not valid.");
            using (var input = new MemoryStream(Read(zip, InputEntry, path)))
                mlContext.Model.Load(input, out inputSchema);
            var models = new Dictionary<string, DiffusionModel>(StringComparer.Ordinal);
            for (int i = 0; i < manifest.Parts.Length; i++)
            {
                var part = manifest.Parts[i];
                try
                {
                    LoadPart(mlContext, zip, path, part, models, loaded);
                }
                catch (Exception e) when (e is InvalidDataException or JsonException or ArgumentException or InvalidOperationException or FormatException)
                {
                    throw Invalid(path, $"part {i} ({part.Kind}) cannot be read: {e.Message}", e);
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or JsonException or EndOfStreamException or FormatException && !e.Message.StartsWith("The chain file", StringComparison.Ordinal))
        {
            foreach (var t in loaded) (t as IDisposable)?.Dispose();
            throw Invalid(path, e.Message, e);
        }
        catch
        {
            foreach (var t in loaded) (t as IDisposable)?.Dispose();
            throw;
        }
        return new TransformerChain<ITransformer>(loaded.ToArray());
    }

    private static void LoadPart(MLContext mlContext, ZipArchive zip, string path, PartDocument part, Dictionary<string, DiffusionModel> models, List<ITransformer> loaded)
    {
        switch (part.Kind)
        {
            case PartKind.MLNet:
            {
                using var stream = new MemoryStream(Read(zip, part.Entry ?? throw new InvalidDataException("the part names no entry."), path));
                var transformer = mlContext.Model.Load(stream, out _);
                Flatten(transformer, loaded);
                break;
            }
            case PartKind.DiffusionModel:
                loaded.Add(LoadModel(zip, path, part, models));
                break;
            case PartKind.Likelihood:
            {
                var options = part.Likelihood ?? throw new InvalidDataException("the part has no likelihood options.");
                options.SessionSettings = part.Session?.ToSettings();
                loaded.Add(new LikelihoodTransformer(LoadModel(zip, path, part, models), options));
                break;
            }
            case PartKind.Generate:
            {
                var options = part.Generate ?? throw new InvalidDataException("the part has no generate options.");
                options.SessionSettings = part.Session?.ToSettings();
                if (options.Likelihood is not null) options.Likelihood.SessionSettings = part.LikelihoodSession?.ToSettings();
                loaded.Add(new GenerateTransformer(LoadModel(zip, path, part, models), options));
                break;
            }
            default:
                throw new InvalidDataException($"the part kind '{part.Kind}' is unknown.");
        }
    }

    private static DiffusionModel LoadModel(ZipArchive zip, string path, PartDocument part, Dictionary<string, DiffusionModel> models)
    {
        string entry = part.Model ?? throw new InvalidDataException("the part names no model.");
        if (models.TryGetValue(entry, out var model)) return model;
        // DiffusionModelArchive reads files: the entry goes through a temporary file that is deleted at once.
        string temp = Path.Combine(Path.GetTempPath(), $"mlx-chain-{Guid.NewGuid():N}.zip");
        try
        {
            File.WriteAllBytes(temp, Read(zip, entry, path));
            model = DiffusionModel.Load(temp);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"its model entry '{entry}' is not a valid model ({e.Message.Replace(temp, entry, StringComparison.Ordinal)})", e);
        }
        finally
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        models[entry] = model;
        return model;
    }

    private static string ModelEntry(DiffusionModel model, Dictionary<DiffusionModel, string> models, Dictionary<string, byte[]> entries)
    {
        if (models.TryGetValue(model, out string? entry)) return entry;
        entry = $"models/{models.Count}.zip";
        string temp = Path.Combine(Path.GetTempPath(), $"mlx-chain-{Guid.NewGuid():N}.zip");
        try
        {
            model.Save(temp);
            entries[entry] = File.ReadAllBytes(temp);
        }
        finally
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        models[model] = entry;
        return entry;
    }

    private static void FlushRun(MLContext mlContext, List<ITransformer> run, DataViewSchema runSchema, List<PartDocument> parts, Dictionary<string, byte[]> entries)
    {
        if (run.Count == 0) return;
        string entry = $"parts/{parts.Count}.mlnet.zip";
        entries[entry] = SaveMLNet(mlContext, new TransformerChain<ITransformer>(run.ToArray()), runSchema, $"part {parts.Count}");
        parts.Add(new PartDocument(PartKind.MLNet, Entry: entry));
        run.Clear();
    }

    private static byte[] SaveMLNet(MLContext mlContext, ITransformer transformer, DataViewSchema schema, string what)
    {
        using var stream = new MemoryStream();
        try
        {
            mlContext.Model.Save(transformer, schema, stream);
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or ArgumentException)
        {
            throw new NotSupportedException($"mlContext.Model.Save cannot save {what} of the chain: {e.Message}", e);
        }
        return stream.ToArray();
    }

    /// <summary>Appends the transformers of <paramref name="transformer"/> (recursively through chains) to <paramref name="list"/>.</summary>
    private static void Flatten(ITransformer transformer, List<ITransformer> list)
    {
        if (transformer is IEnumerable<ITransformer> chain)
            foreach (var t in chain) Flatten(t, list);
        else list.Add(transformer);
    }

    private static LikelihoodTransformOptions WithoutSession(LikelihoodTransformOptions options)
    {
        options.SessionSettings = null;
        return options;
    }

    private static GenerateOptions WithoutSessions(GenerateOptions options)
    {
        options.SessionSettings = null;
        if (options.Likelihood is not null) options.Likelihood.SessionSettings = null;
        return options;
    }

    private static void Write(ZipArchive zip, string name, byte[] bytes)
    {
        var entry = zip.CreateEntry(name, CompressionLevel.Optimal);
        using var s = entry.Open();
        s.Write(bytes);
    }

    private static byte[] Read(ZipArchive zip, string name, string path)
    {
        var entry = zip.GetEntry(name) ?? throw new InvalidDataException($"it has no entry '{name}'.");
        using var s = entry.Open();
        using var copy = new MemoryStream();
        s.CopyTo(copy);
        return copy.ToArray();
    }

    private static InvalidDataException Invalid(string path, string message, Exception? inner = null) =>
        new($"The chain file '{path}' cannot be loaded: {message}", inner);

    private static string LibraryVersion =>
        typeof(DiffusionChainArchive).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(DiffusionChainArchive).Assembly.GetName().Version?.ToString() ?? "unknown";

    internal enum PartKind
    {
        MLNet,
        DiffusionModel,
        Likelihood,
        Generate,
    }

    internal sealed record ManifestDocument(string Format, int Version, string LibraryVersion, PartDocument[] Parts);

    internal sealed record PartDocument(PartKind Kind, string? Entry = null, string? Model = null,
        LikelihoodTransformOptions? Likelihood = null, GenerateOptions? Generate = null,
        SessionDocument? Session = null, SessionDocument? LikelihoodSession = null);

    /// <summary>The serialisable fields of <see cref="OnnxSessionSettings"/> (all but the <see cref="OnnxSessionSettings.Warning"/> delegate).</summary>
    internal sealed record SessionDocument(OnnxExecutionProvider ExecutionProvider, int DeviceId, int IntraOpThreads, bool OptimizeGraph,
        bool EnableCpuMemoryArena, bool EnableMemoryPattern)
    {
        public static SessionDocument? From(OnnxSessionSettings? s) => s is null ? null :
            new(s.ExecutionProvider, s.DeviceId, s.IntraOpThreads, s.OptimizeGraph, s.EnableCpuMemoryArena, s.EnableMemoryPattern);

        public OnnxSessionSettings ToSettings() => new()
        {
            ExecutionProvider = ExecutionProvider,
            DeviceId = DeviceId,
            IntraOpThreads = IntraOpThreads,
            OptimizeGraph = OptimizeGraph,
            EnableCpuMemoryArena = EnableCpuMemoryArena,
            EnableMemoryPattern = EnableMemoryPattern,
        };
    }
}
