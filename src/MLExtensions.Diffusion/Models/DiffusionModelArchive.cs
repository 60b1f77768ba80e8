using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MLExtensions.Diffusion.Training;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Models;

/// <summary>
/// The model file: one zip with <c>manifest.json</c> (format name <see cref="FormatName"/>, <see cref="FormatVersion"/>,
/// dimension, parameter count, creation time, library version, extra entry names), <c>options.json</c> (the training
/// options), <c>schedule.json</c> (the training schedule, <see cref="Schedules.ScheduleJson"/>), <c>sampling-plan.json</c>
/// (<see cref="DiffusionModelParameters.SamplingPlan"/>, <see cref="SamplingPlan.ToJson"/>; since version 3), <c>feature-scaler.json</c> (the outer per-feature scaling of
/// <see cref="DiffusionModelParameters.FeatureScaler"/>: mean and scale, doubles; since version 2), <c>standardizer.json</c> (the
/// denoiser's isotropic mean and scale, doubles), <c>network.json</c> (architecture,
/// parametrisation, sigma_data, parameter count), <c>network.bin</c> (header "MLXDNET1", int32 parameter count, then the
/// float parameters, all little-endian, in <see cref="TimeConditionedMlp.Parameters"/> order), <c>summary.json</c>,
/// <c>model-card.md</c>, the ONNX graphs <c>onnx/network.onnx</c> and <c>onnx/sampler.onnx</c> (since version 3; version 2
/// wrote <c>onnx/sampler-heun-20.onnx</c>; <see cref="DiffusionModelParameters.ExportNetworkOnnx"/> and the plan's whole generation,
/// <see cref="DiffusionModelParameters.ExportSamplerOnnx(Samplers.ISampler?, int?)"/>, for ONNX Runtime users; <see cref="Load"/> does not
/// read them), <c>feature-encoding.json</c> (the fitted feature transforms, <see cref="DiffusionModelParameters.FeatureEncoding"/>; since
/// version 4), and any additional entries.
/// </summary>
/// <remarks>
/// <para>Versions: 4 added the feature transforms (bounds, quantile-normal map, integer and categorical features); files
/// of versions 1-3 load with the identity encoding. 3 added the sampling plan and wrote <c>schedule.json</c> for any supported schedule (family and
/// parameters, or knots); files of versions 1 and 2 load with the default plan
/// (<see cref="DiffusionModelParameters.DefaultSamplingPlan"/>). 1 had no <c>feature-scaler.json</c> and no ONNX entries; such files still load, with the identity
/// scaler and <see cref="ScoreMatchingOptions.FeatureScaling"/> = <see cref="FeatureScaling.Isotropic"/> (what they
/// were trained with); ONNX entries a version-1 file carried as additional entries are dropped on load (they are
/// written afresh on save).</para>
/// <para>Additional entries are the extension point for other artefacts derived from the network, such as ONNX graphs
/// of other samplers (e.g. <c>onnx/sampler-dpmpp2m-10.onnx</c>): pass
/// them to <see cref="Save(DiffusionModelParameters, string, IReadOnlyDictionary{string, byte[]}?)"/>; <see cref="Load"/> returns
/// them in <see cref="DiffusionModelParameters.AdditionalEntries"/>. Their names must not clash with the reserved entries.</para>
/// <para>Writes are atomic: the zip goes to a temporary file in the target folder, is flushed to disk, then moved over
/// the target. Reads check everything and throw <see cref="InvalidDataException"/> naming the file and the problem.</para>
/// <para>Temporary files: a save writes <c>.&lt;name&gt;.&lt;32 hex digits&gt;.tmp</c> beside the target <c>&lt;name&gt;</c> and
/// deletes it on failure, but a process killed mid-write leaves it behind. Each successful save of a target therefore
/// deletes that target's leftovers: files in its folder named exactly <c>.&lt;name&gt;.&lt;32 hex digits&gt;.tmp</c> and last
/// written more than <see cref="StaleTemporaryFileAge"/> (5 minutes) ago, so that a save still running in another process
/// keeps its file. Other files, and temporary files of other targets, are never touched; a leftover that cannot be deleted
/// is left in place.</para>
/// </remarks>
public static class DiffusionModelArchive
{
    /// <summary>The format name in <c>manifest.json</c>.</summary>
    public const string FormatName = "MLExtensions.Diffusion.Model";

    /// <summary>The format version this library writes and the newest it reads.</summary>
    public const int FormatVersion = 4;

    /// <summary>The entry holding the ONNX network graph (<see cref="DiffusionModelParameters.ExportNetworkOnnx"/>).</summary>
    public const string NetworkOnnxEntry = "onnx/network.onnx";

    /// <summary>The entry holding the ONNX graph of the plan's whole generation in data units
    /// (<see cref="DiffusionModelParameters.ExportSamplerOnnx(Samplers.ISampler?, int?)"/>).</summary>
    public const string SamplerOnnxEntry = "onnx/sampler.onnx";

    /// <summary>The Heun 20-step sampler graph entry of version-2 files (reserved then, so never among their additional
    /// entries; a version-1 writer may have listed it as one).</summary>
    private const string Version2SamplerOnnxEntry = "onnx/sampler-heun-20.onnx";

    /// <summary>The entry holding the fitted feature transforms (<see cref="DiffusionModelParameters.FeatureEncoding"/>; since
    /// version 4; files of versions 1-3 load with the identity encoding).</summary>
    public const string FeatureEncodingEntry = "feature-encoding.json";

    /// <summary>The entry holding the sampling plan (since version 3).</summary>
    public const string SamplingPlanEntry = "sampling-plan.json";

    private const string Manifest = "manifest.json", OptionsEntry = "options.json", ScheduleEntry = "schedule.json",
        StandardizerEntry = "standardizer.json", NetworkEntry = "network.json", WeightsEntry = "network.bin",
        SummaryEntry = "summary.json", CardEntry = "model-card.md", FeatureScalerEntry = "feature-scaler.json";

    /// <summary>Marks the exceptions this class raised, so the outer handler does not wrap them twice.</summary>
    private const string ErrorMarker = "MLExtensions.Diffusion.ModelFile";

    private static readonly byte[] WeightsMagic = "MLXDNET1"u8.ToArray();

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        // The entries are plain files, never embedded in HTML: keep '+' and non-ASCII readable.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>How old a leftover temporary file of a target must be (by its last write time) before a save of that target
    /// deletes it: 5 minutes (see the remarks).</summary>
    public static TimeSpan StaleTemporaryFileAge => IO.AtomicFile.StaleTemporaryFileAge;

    /// <summary>The entry names the format itself uses; additional entries may not take them.</summary>
    public static IReadOnlyList<string> ReservedEntryNames { get; } =
        [Manifest, OptionsEntry, ScheduleEntry, FeatureScalerEntry, StandardizerEntry, NetworkEntry, WeightsEntry, SummaryEntry, CardEntry,
            NetworkOnnxEntry, SamplerOnnxEntry, SamplingPlanEntry, FeatureEncodingEntry];

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> atomically.</summary>
    /// <param name="model">The model.</param>
    /// <param name="path">The target file (replaced if it exists); its folder must exist.</param>
    /// <param name="additionalEntries">Extra entries by name (e.g. ONNX graphs), merged over the model's own
    /// <see cref="DiffusionModelParameters.AdditionalEntries"/>; null for none.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is blank, or an additional entry name is empty, rooted,
    /// contains "..", a backslash, or a reserved name.</exception>
    /// <exception cref="IOException">The file cannot be written (the target is left as it was).</exception>
    /// <exception cref="NotSupportedException">The training schedule or the plan's schedule cannot be written as JSON
    /// (<see cref="Schedules.ScheduleJson"/>); nothing is written.</exception>
    /// <remarks>After a successful write, stale temporary files of the same target left by killed saves are deleted (see
    /// the class remarks and <see cref="StaleTemporaryFileAge"/>).</remarks>
    public static void Save(DiffusionModelParameters model, string path, IReadOnlyDictionary<string, byte[]>? additionalEntries = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var extras = new Dictionary<string, byte[]>(model.AdditionalEntries, StringComparer.Ordinal);
        if (additionalEntries is not null)
            foreach (var (name, bytes) in additionalEntries)
            {
                CheckEntryName(name);
                extras[name] = bytes ?? throw new ArgumentException($"Additional entry '{name}' has null content.", nameof(additionalEntries));
            }
        IO.AtomicFile.Write(path, stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            Write(zip, model, extras);
        });
    }

    /// <summary>Reads a model written by <see cref="Save"/>.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The model, with any additional entries.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or blank.</exception>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a zip, is truncated or corrupt, is another format, has a newer
    /// format version, lacks an entry, or its entries disagree (dimension, parameter count); the message names the file.</exception>
    public static DiffusionModelParameters Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"No diffusion model file at '{path}'.", path);
        try
        {
            using var stream = File.OpenRead(path);
            using var zip = new ZipArchive(stream, ZipArchiveMode.Read);
            return Read(zip, path);
        }
        catch (Exception e) when (e is InvalidDataException or JsonException or EndOfStreamException or ArgumentException or NotSupportedException or OverflowException
            && !e.Data.Contains(ErrorMarker))
        {
            throw Invalid(path, e.Message, e);
        }
    }

    private static void Write(ZipArchive zip, DiffusionModelParameters model, Dictionary<string, byte[]> extras)
    {
        var network = model.Denoiser.Network;
        var o = model.Options;
        var manifest = new ManifestDocument(FormatName, FormatVersion, model.Dimension, network.Parameters.Length,
            DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture), LibraryVersion, extras.Keys.Order(StringComparer.Ordinal).ToArray());
        WriteJson(zip, Manifest, manifest);
        WriteJson(zip, OptionsEntry, o);
        WriteBytes(zip, ScheduleEntry, Encoding.UTF8.GetBytes(Schedules.ScheduleJson.Serialize(model.Schedule)));
        WriteBytes(zip, SamplingPlanEntry, Encoding.UTF8.GetBytes(model.SamplingPlan.ToJson()));
        WriteBytes(zip, FeatureEncodingEntry, Encoding.UTF8.GetBytes(model.FeatureEncoding.ToJson()));
        WriteJson(zip, FeatureScalerEntry, new StandardizerDocument(model.FeatureScaler.Mean.ToArray(), model.FeatureScaler.Scale.ToArray()));
        WriteJson(zip, StandardizerEntry, new StandardizerDocument(model.Standardizer.Mean.ToArray(), model.Standardizer.Scale.ToArray()));
        var n = network.Options;
        WriteJson(zip, NetworkEntry, new NetworkDocument(model.Dimension, n.Width, n.Depth, n.Residual, n.LayerNorm, n.EmbeddingFrequencies,
            n.TimeConditioning, n.Threads, model.Denoiser.Parametrisation, model.Denoiser.SigmaData, network.Parameters.Length));
        var weights = new byte[WeightsMagic.Length + 4 + 4 * network.Parameters.Length];
        WeightsMagic.CopyTo(weights, 0);
        BinaryPrimitives.WriteInt32LittleEndian(weights.AsSpan(WeightsMagic.Length), network.Parameters.Length);
        for (int i = 0; i < network.Parameters.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(weights.AsSpan(WeightsMagic.Length + 4 + 4 * i), network.Parameters[i]);
        WriteBytes(zip, WeightsEntry, weights);
        WriteJson(zip, SummaryEntry, model.Summary);
        WriteBytes(zip, CardEntry, Encoding.UTF8.GetBytes(ModelCard(model)));
        WriteBytes(zip, NetworkOnnxEntry, model.ExportNetworkOnnx().ToBytes());
        WriteBytes(zip, SamplerOnnxEntry, model.ExportSamplerOnnx().Model.ToBytes());
        foreach (var name in manifest.AdditionalEntries) WriteBytes(zip, name, extras[name]);
    }

    private static DiffusionModelParameters Read(ZipArchive zip, string path)
    {
        var manifest = ReadJson<ManifestDocument>(zip, Manifest, path);
        if (manifest.Format != FormatName)
            throw Invalid(path, $"its manifest names the format '{manifest.Format}', not '{FormatName}'.");
        if (manifest.Version > FormatVersion)
            throw Invalid(path, $"it has format version {manifest.Version}, written by a newer library ({manifest.LibraryVersion}); this one reads up to version {FormatVersion}.");
        if (manifest.Version < 1) throw Invalid(path, $"its format version {manifest.Version} is not valid.");
        if (manifest.Dimension < 1) throw Invalid(path, $"its manifest dimension {manifest.Dimension} is not positive.");
        var options = ReadJson<ScoreMatchingOptions>(zip, OptionsEntry, path);
        // Version 1 predates the outer scaling: its models were trained on unscaled rows.
        if (manifest.Version < 2) options.FeatureScaling = FeatureScaling.Isotropic;
        options.Validate();
        var standardizerDoc = ReadJson<StandardizerDocument>(zip, StandardizerEntry, path);
        var networkDoc = ReadJson<NetworkDocument>(zip, NetworkEntry, path);
        var summary = ReadJson<TrainingSummary>(zip, SummaryEntry, path);
        if (networkDoc.Dimension != manifest.Dimension)
            throw Invalid(path, $"network.json has dimension {networkDoc.Dimension} but the manifest says {manifest.Dimension}.");
        if (standardizerDoc.Mean is null || standardizerDoc.Scale is null || standardizerDoc.Mean.Length != manifest.Dimension || standardizerDoc.Scale.Length != manifest.Dimension)
            throw Invalid(path, $"standardizer.json does not hold a mean and a scale of the manifest dimension {manifest.Dimension}.");
        if (networkDoc.ParameterCount != manifest.ParameterCount)
            throw Invalid(path, $"network.json has {networkDoc.ParameterCount} parameters but the manifest says {manifest.ParameterCount}.");

        var schedule = ReadSchedule(zip, manifest.Version, options, path);

        var mlp = new MlpOptions
        {
            Width = networkDoc.Width, Depth = networkDoc.Depth, Residual = networkDoc.Residual, LayerNorm = networkDoc.LayerNorm,
            EmbeddingFrequencies = networkDoc.EmbeddingFrequencies, TimeConditioning = networkDoc.TimeConditioning, Threads = networkDoc.Threads,
        };
        // The initial weights are overwritten below; the constructor only lays out the parameter array.
        var network = new TimeConditionedMlp(networkDoc.Dimension, mlp, new Random(0));
        if (network.Parameters.Length != manifest.ParameterCount)
            throw Invalid(path, $"the architecture in network.json has {network.Parameters.Length} parameters but the manifest says {manifest.ParameterCount}.");
        var weights = ReadBytes(zip, WeightsEntry, path);
        int header = WeightsMagic.Length + 4;
        if (weights.Length < header || !weights.AsSpan(0, WeightsMagic.Length).SequenceEqual(WeightsMagic))
            throw Invalid(path, "network.bin does not start with the header 'MLXDNET1'.");
        int count = BinaryPrimitives.ReadInt32LittleEndian(weights.AsSpan(WeightsMagic.Length));
        if (count != manifest.ParameterCount || weights.Length != header + 4L * count)
            throw Invalid(path, $"network.bin holds {(weights.Length - header) / 4} parameters (header: {count}), but the manifest says {manifest.ParameterCount}.");
        for (int i = 0; i < count; i++)
        {
            float w = BinaryPrimitives.ReadSingleLittleEndian(weights.AsSpan(header + 4 * i));
            if (!float.IsFinite(w)) throw Invalid(path, $"network.bin holds a non-finite parameter at index {i}.");
            network.Parameters[i] = w;
        }
        var standardizer = Standardizer.Create(standardizerDoc.Mean, standardizerDoc.Scale);
        Standardizer featureScaler;
        if (manifest.Version < 2)
        {
            featureScaler = DiffusionModelParameters.IdentityScaler(manifest.Dimension);
        }
        else
        {
            var scalerDoc = ReadJson<StandardizerDocument>(zip, FeatureScalerEntry, path);
            if (scalerDoc.Mean is null || scalerDoc.Scale is null || scalerDoc.Mean.Length != manifest.Dimension || scalerDoc.Scale.Length != manifest.Dimension)
                throw Invalid(path, $"{FeatureScalerEntry} does not hold a mean and a scale of the manifest dimension {manifest.Dimension}.");
            try
            {
                featureScaler = Standardizer.Create(scalerDoc.Mean, scalerDoc.Scale);
            }
            catch (ArgumentException e)
            {
                throw Invalid(path, $"{FeatureScalerEntry} is invalid: {e.Message}", e);
            }
        }
        var denoiser = new NeuralDenoiser(network, standardizer, networkDoc.Parametrisation, networkDoc.SigmaData);

        var extras = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var name in manifest.AdditionalEntries ?? [])
        {
            if (manifest.Version < 2 && name is NetworkOnnxEntry or SamplerOnnxEntry or Version2SamplerOnnxEntry) continue;
            if (ReservedEntryNames.Contains(name)) throw Invalid(path, $"the manifest lists the reserved entry '{name}' as additional.");
            extras[name] = ReadBytes(zip, name, path);
        }
        SamplingPlan? plan = null;
        if (manifest.Version >= 3)
        {
            try
            {
                plan = SamplingPlan.FromJson(Encoding.UTF8.GetString(ReadBytes(zip, SamplingPlanEntry, path)));
            }
            catch (InvalidDataException e)
            {
                throw Invalid(path, $"{SamplingPlanEntry} is invalid: {e.Message}", e);
            }
        }
        FeatureEncoding? encoding = null;
        if (manifest.Version >= 4)
        {
            try
            {
                encoding = FeatureEncoding.FromJson(Encoding.UTF8.GetString(ReadBytes(zip, FeatureEncodingEntry, path)), manifest.Dimension);
            }
            catch (InvalidDataException e) when (!e.Data.Contains(ErrorMarker))
            {
                throw Invalid(path, $"{FeatureEncodingEntry} is invalid: {e.Message}", e);
            }
        }
        try
        {
            return new DiffusionModelParameters(denoiser, schedule, featureScaler, options, summary, extras, plan, encoding);
        }
        catch (ArgumentException e)
        {
            throw Invalid(path, $"{SamplingPlanEntry} holds a plan this model cannot use: {e.Message}", e);
        }
    }

    /// <summary>The training schedule: from the family parameters (versions 1-2) or <see cref="Schedules.ScheduleJson"/>
    /// (version 3); a schedule other than the options' family becomes <see cref="ScoreMatchingOptions.CustomSchedule"/>.</summary>
    private static Schedules.NoiseSchedule ReadSchedule(ZipArchive zip, int version, ScoreMatchingOptions options, string path)
    {
        if (version < 3)
        {
            var doc = ReadJson<ScheduleDocument>(zip, ScheduleEntry, path);
            var old = new ScoreMatchingOptions
            {
                Schedule = doc.Kind, ScheduleTau = doc.Tau, ScheduleEndCutoff = doc.EndCutoff, VpBetaMin = doc.VpBetaMin,
                VpBetaMax = doc.VpBetaMax, VpCosineOffset = doc.VpCosineOffset, VeSigmaMax = doc.VeSigmaMax,
            }.CreateSchedule();
            if (old.Name != doc.Name) throw Invalid(path, $"schedule.json names '{doc.Name}' but its parameters give '{old.Name}'.");
            return old;
        }
        string json = Encoding.UTF8.GetString(ReadBytes(zip, ScheduleEntry, path));
        Schedules.NoiseSchedule schedule;
        try
        {
            schedule = Schedules.ScheduleJson.Deserialize(json);
        }
        catch (InvalidDataException e)
        {
            throw Invalid(path, $"schedule.json is invalid: {e.Message}", e);
        }
        if (Schedules.ScheduleJson.Serialize(options.CreateSchedule()) != Schedules.ScheduleJson.Serialize(schedule))
            options.CustomSchedule = schedule;
        return schedule;
    }

    private static string LibraryVersion =>
        typeof(DiffusionModelArchive).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(DiffusionModelArchive).Assembly.GetName().Version?.ToString() ?? "unknown";

    private static string ModelCard(DiffusionModelParameters model)
    {
        var o = model.Options;
        var s = model.Summary;
        var card = new StringBuilder();
        card.AppendLine("# Diffusion model");
        card.AppendLine();
        card.AppendLine("A score-matching diffusion model trained with MLExtensions.Diffusion (`mlContext.Diffusion().Trainers.ScoreMatching`).");
        card.AppendLine("Load it with `mlContext.Diffusion().LoadModel(path)`.");
        card.AppendLine();
        card.AppendLine("| field | value |");
        card.AppendLine("| --- | --- |");
        void Row(string key, object value) => card.AppendLine(CultureInfo.InvariantCulture, $"| {key} | {value} |");
        Row("format", $"{FormatName} v{FormatVersion}");
        Row("library version", LibraryVersion);
        Row("dimension", model.Dimension);
        Row("feature column", o.FeatureColumnName);
        Row("feature scaling", o.FeatureScaling == FeatureScaling.PerFeature
            ? $"per feature (diffusion in standardised units): mean [{Join(model.FeatureScaler.Mean)}], std [{Join(model.FeatureScaler.Scale)}]"
            : o.FeatureScaling == FeatureScaling.QuantileNormal ? "quantile-normal per feature (see feature-encoding.json)" : "isotropic (no per-feature scaling)");
        if (!model.FeatureEncoding.IsIdentity) Row("feature transforms", FeatureEncodingSummary(model.FeatureEncoding));
        Row("schedule (training)", model.Schedule);
        Row("sampling plan", model.SamplingPlan);
        Row("parametrisation", model.Denoiser.Parametrisation);
        Row("network", $"MLP width {o.Width}, depth {o.Depth}, residual {o.Residual}, layer norm {o.LayerNorm}, {s.ParameterCount} parameters");
        Row("training rows", s.Rows);
        Row("dropped rows", s.DroppedRows);
        Row("steps", s.Steps);
        Row("batch size", o.BatchSize);
        Row("learning rate", o.LearningRate.ToString(CultureInfo.InvariantCulture));
        Row("seed", s.Seed);
        Row("final loss", s.FinalLoss.ToString("G6", CultureInfo.InvariantCulture));
        Row("training seconds", s.TrainingSeconds.ToString("F2", CultureInfo.InvariantCulture));
        card.AppendLine();
        card.AppendLine("Intended use: generating synthetic rows resembling the training data. The model reproduces the training");
        card.AppendLine("distribution only as well as the training budget allows; check generated rows against held-out data.");
        return card.ToString();
    }

    /// <summary>Bounds, integer features and categorical ranges of a non-identity encoding, for the model card.</summary>
    private static string FeatureEncodingSummary(FeatureEncoding encoding)
    {
        var parts = new List<string>();
        for (int j = 0; j < encoding.Dimension; j++)
        {
            var kind = encoding.TransformKind(j);
            var (lo, hi) = encoding.Bounds(j);
            if (kind != FeatureTransformKind.Identity)
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"feature {j}: {kind} on [{lo?.ToString("G6", CultureInfo.InvariantCulture) ?? "-inf"}, {hi?.ToString("G6", CultureInfo.InvariantCulture) ?? "inf"}]"));
            if (encoding.IsInteger(j)) parts.Add($"feature {j}: integer");
        }
        foreach (var range in encoding.CategoricalFeatures) parts.Add($"features {range.Start}-{range.Start + range.Count - 1}: categorical (one-hot, {range.Count} categories)");
        if (Enumerable.Range(0, encoding.Dimension).Any(encoding.IsQuantileNormal)) parts.Add("quantile-normal maps");
        return string.Join("; ", parts);
    }

    private static string Join(ReadOnlySpan<double> values)
    {
        var parts = new string[values.Length];
        for (int i = 0; i < values.Length; i++) parts[i] = values[i].ToString("G6", CultureInfo.InvariantCulture);
        return string.Join(", ", parts);
    }

    private static void CheckEntryName(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.StartsWith('/') || name.Contains('\\') || name.Split('/').Contains("..") || Path.IsPathRooted(name))
            throw new ArgumentException($"'{name}' is not a valid relative entry name.", "additionalEntries");
        if (ReservedEntryNames.Contains(name))
            throw new ArgumentException($"'{name}' is reserved by the model format.", "additionalEntries");
    }

    private static void WriteJson<T>(ZipArchive zip, string name, T value) =>
        WriteBytes(zip, name, JsonSerializer.SerializeToUtf8Bytes(value, Json));

    private static void WriteBytes(ZipArchive zip, string name, byte[] bytes)
    {
        var entry = zip.CreateEntry(name, CompressionLevel.Optimal);
        using var stream = entry.Open();
        stream.Write(bytes);
    }

    private static T ReadJson<T>(ZipArchive zip, string name, string path) =>
        JsonSerializer.Deserialize<T>(ReadBytes(zip, name, path), Json) ?? throw Invalid(path, $"entry '{name}' is empty (null).");

    private static byte[] ReadBytes(ZipArchive zip, string name, string path)
    {
        var entry = zip.GetEntry(name) ?? throw Invalid(path, $"it has no entry '{name}'.");
        using var stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static InvalidDataException Invalid(string path, string problem, Exception? inner = null)
    {
        var e = new InvalidDataException($"'{path}' is not a readable {FormatName} file: {problem}", inner);
        e.Data[ErrorMarker] = path;
        return e;
    }

    private sealed record ManifestDocument(string Format, int Version, int Dimension, int ParameterCount, string Created, string LibraryVersion, string[] AdditionalEntries);

    /// <summary>schedule.json of versions 1 and 2.</summary>
    private sealed record ScheduleDocument(ScheduleKind Kind, string Name, double Tau, double EndCutoff, double VpBetaMin, double VpBetaMax,
        double VpCosineOffset, double VeSigmaMax, double MaxTime);

    private sealed record StandardizerDocument(double[] Mean, double[] Scale);

    private sealed record NetworkDocument(int Dimension, int Width, int Depth, bool Residual, bool LayerNorm, int EmbeddingFrequencies,
        TimeConditioning TimeConditioning, int Threads, Parametrisation Parametrisation, double SigmaData, int ParameterCount);
}
