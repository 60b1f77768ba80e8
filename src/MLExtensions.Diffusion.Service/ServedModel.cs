using System.Collections.Concurrent;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MLExtensions.Diffusion.Likelihood;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Onnx;

namespace MLExtensions.Diffusion.Service;

/// <summary>
/// The one place where the service touches the library's model types (the core assembly only: no ML.NET): loads a model
/// file (<see cref="DiffusionModelParameters.Load"/>),
/// checks it generates finite rows, describes it, generates rows of the (seed, row) stream and scores likelihoods.
/// </summary>
/// <remarks>
/// <para>The file is read once into memory, so the snapshot (model, card, hash) is of one version of the file even when
/// the file is replaced while it loads.</para>
/// <para>Engines. <see cref="SamplingEngine.CSharp"/> generates chunks of 4096 rows with <c>GenerateFromNoise</c> of the
/// stream latents <see cref="LatentStream.Fill"/>(seed, i), the blocks <c>DiffusionModelParameters.Generate</c> itself
/// uses, so the rows are exactly <c>model.Generate(count, seed)</c>'s. <see cref="SamplingEngine.Onnx"/> runs one cached
/// <see cref="OnnxSampler"/> per (plan, nfe) (the compiled sampler graph under I/O binding) with the configured
/// <see cref="OnnxSessionSettings"/> (<see cref="OnnxExecutionProvider.Auto"/>: CUDA when usable); likelihoods use the
/// core's <see cref="LikelihoodScorer"/> (the compiled engine). The scorer is thread-safe and the samplers serialise
/// their runs, so one snapshot serves concurrent requests.</para>
/// </remarks>
internal sealed class ServedModel : IServedModel
{
    private const int ChunkRows = 4096;
    private const int LikelihoodChunkRows = 256;
    private const int ValidationRows = 8;
    private const int MaxCachedGenerators = 16;
    private const string ColumnsEntry = "cli/columns.json", CardEntry = "model-card.md";

    private readonly DiffusionModelParameters _model;
    private readonly Lazy<DiffusionModelParameters> _defaultPlanModel;
    private readonly SamplingEngine _engine;
    private readonly OnnxSessionSettings _session;
    private readonly int _likelihoodSteps;
    private readonly ConcurrentDictionary<(SamplingPlanChoice, int?), Lazy<OnnxSampler>> _generators = new();
    private readonly Lazy<LikelihoodScorer> _likelihood;
    private int _disposed;

    private ServedModel(string name, DiffusionModelParameters model, string? card, string sha256, SamplerServiceOptions options, Action<string>? warning)
    {
        Name = name;
        _model = model;
        Card = card;
        Sha256 = sha256;
        _engine = options.Engine;
        _likelihoodSteps = options.LikelihoodSteps;
        _session = new OnnxSessionSettings { ExecutionProvider = ParseProvider(options.ExecutionProvider), Warning = warning };
        _defaultPlanModel = new Lazy<DiffusionModelParameters>(() => model.WithSamplingPlan(model.DefaultSamplingPlan(model.Options.SamplingSteps)));
        _likelihood = new Lazy<LikelihoodScorer>(() => new LikelihoodScorer(model, new CompiledLikelihoodOptions { Steps = _likelihoodSteps }));
        Columns = ReadColumns(model);
        Plan = Describe(model.SamplingPlan);
        Engine = "csharp";
    }

    public string Name { get; }

    public int Dimension => _model.Dimension;

    public IReadOnlyList<string> Columns { get; }

    public ServedPlan Plan { get; }

    public string? Card { get; }

    public string Engine { get; private set; }

    public string Sha256 { get; }

    /// <summary>Whether <paramref name="provider"/> names an ONNX Runtime execution provider (case-insensitive).</summary>
    internal static bool IsKnownProvider(string? provider) =>
        Enum.TryParse<OnnxExecutionProvider>(provider, ignoreCase: true, out var p) && Enum.IsDefined(p) && !int.TryParse(provider, out _);

    private static OnnxExecutionProvider ParseProvider(string provider) => Enum.Parse<OnnxExecutionProvider>(provider, ignoreCase: true);

    /// <summary>Loads and validates the model file <paramref name="path"/>: it must load and generate
    /// <see cref="ValidationRows"/> finite rows on the configured engine.</summary>
    /// <param name="path">The model zip.</param>
    /// <param name="name">The name to serve it under.</param>
    /// <param name="options">The service options (engine, provider, likelihood steps).</param>
    /// <param name="warning">Receives ONNX Runtime warnings (e.g. the fall-back from CUDA to CPU).</param>
    /// <returns>The validated snapshot.</returns>
    /// <exception cref="InvalidDataException">The file is not a loadable model or generates non-finite rows (the message
    /// names the file and says why).</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static ServedModel Load(string path, string name, SamplerServiceOptions options, Action<string>? warning = null)
    {
        byte[] bytes;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }
        string sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        string temp = Path.Combine(Path.GetTempPath(), $"mldiffusion-serve-{Guid.NewGuid():N}.zip");
        DiffusionModelParameters model;
        string? card;
        try
        {
            File.WriteAllBytes(temp, bytes);
            model = DiffusionModelParameters.Load(temp);
            card = ReadCard(bytes);
        }
        catch (Exception e) when (e is not OutOfMemoryException and not OperationCanceledException)
        {
            // Whatever a damaged file makes the reader throw, the file is rejected rather than the registry stopped.
            string message = e.Message.Replace(temp, path, StringComparison.Ordinal);
            throw new InvalidDataException(message.Contains(path, StringComparison.Ordinal) ? message : $"'{path}' is not a loadable model: {message}", e);
        }
        finally
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        var served = new ServedModel(name, model, card, sha, options, warning);
        try
        {
            served.Validate(path);
            return served;
        }
        catch
        {
            served.Dispose();
            throw;
        }
    }

    private void Validate(string path)
    {
        float[] rows;
        try
        {
            rows = Generate(ValidationRows, 0, null, SamplingPlanChoice.Model, CancellationToken.None).SelectMany(c => c).ToArray();
        }
        catch (Exception e) when (e is not OutOfMemoryException and not OperationCanceledException)
        {
            throw new InvalidDataException($"'{path}' loads but cannot generate rows: {e.Message}", e);
        }
        if (rows.Length != ValidationRows * Dimension)
            throw new InvalidDataException($"'{path}' generated {rows.Length} values for {ValidationRows} rows of {Dimension}.");
        for (int i = 0; i < rows.Length; i++)
            if (!float.IsFinite(rows[i]))
                throw new InvalidDataException($"'{path}' loads but generates a non-finite value ({rows[i]}) in row {i / Dimension}, column '{Columns[i % Dimension]}'.");
    }

    public ServedPlan ResolvePlan(int? nfe, SamplingPlanChoice plan)
    {
        var (model, steps) = Resolve(nfe, plan);
        return steps is { } s ? Describe(new SamplingPlan(model.SamplingPlan.Schedule, model.SamplingTimes(s), model.SamplingPlan.Sampler)) : Describe(model.SamplingPlan);
    }

    public IEnumerable<float[]> Generate(int count, int seed, int? nfe, SamplingPlanChoice plan, CancellationToken cancellationToken)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "'count' must be at least 1.");
        var (model, steps) = Resolve(nfe, plan);
        if (_engine == SamplingEngine.CSharp) return GenerateCSharp(model, steps, count, seed, cancellationToken);
        if (_generators.ContainsKey((plan, steps)) || _generators.Count < MaxCachedGenerators)
            return GenerateOnnx(Generator(plan, steps, model), count, seed, cancellationToken);
        return GenerateOnnxOnce(model, steps, count, seed, cancellationToken);
    }

    /// <summary>A generator for one request when the cache is full (many distinct nfe values): compiled, run, disposed.</summary>
    private IEnumerable<float[]> GenerateOnnxOnce(DiffusionModelParameters model, int? steps, int count, int seed, CancellationToken cancellationToken)
    {
        using var generator = CreateGenerator(model, steps);
        foreach (var chunk in GenerateOnnx(generator, count, seed, cancellationToken)) yield return chunk;
    }

    private IEnumerable<float[]> GenerateCSharp(DiffusionModelParameters model, int? steps, int count, int seed, CancellationToken cancellationToken)
    {
        int d = Dimension;
        for (int start = 0; start < count; start += ChunkRows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            int n = Math.Min(ChunkRows, count - start);
            var latents = new float[n * d];
            for (int r = 0; r < n; r++) LatentStream.Fill(seed, start + r, latents.AsSpan(r * d, d));
            yield return model.GenerateFromNoise(latents, n, d, null, steps, seed);
        }
    }

    private IEnumerable<float[]> GenerateOnnx(OnnxSampler generator, int count, int seed, CancellationToken cancellationToken)
    {
        int d = generator.Dimension;
        for (int done = 0; done < count;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            int n = Math.Min(ChunkRows, count - done);
            var chunk = new float[n * d];
            generator.Generate(seed, done, chunk);
            done += n;
            yield return chunk;
        }
    }

    private OnnxSampler Generator(SamplingPlanChoice plan, int? steps, DiffusionModelParameters model)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var lazy = _generators.GetOrAdd((plan, steps), _ => new Lazy<OnnxSampler>(() => CreateGenerator(model, steps)));
        var generator = lazy.Value;
        Engine = $"onnx ({generator.ExecutionProvider})";
        return generator;
    }

    private OnnxSampler CreateGenerator(DiffusionModelParameters model, int? steps) => new(model, new OnnxSamplerOptions
    {
        Plan = steps is { } s ? new SamplingPlan(model.SamplingPlan.Schedule, model.SamplingTimes(s), model.SamplingPlan.Sampler) : null,
        BatchSize = ChunkRows,
        Session = _session,
    });

    public double[] NegativeLogLikelihood(float[] rows, int rowCount, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        int d = Dimension;
        var scorer = _likelihood.Value;
        var nll = new double[rowCount];
        for (int start = 0; start < rowCount; start += LikelihoodChunkRows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = Math.Min(LikelihoodChunkRows, rowCount - start);
            scorer.Score(rows.AsSpan(start * d, n * d), n, d).CopyTo(nll, start);
        }
        return nll;
    }

    /// <summary>The model and the default-grid step count of a request.</summary>
    private (DiffusionModelParameters Model, int? Steps) Resolve(int? nfe, SamplingPlanChoice plan)
    {
        if (!Enum.IsDefined(plan)) throw new ArgumentException($"Unknown plan {plan}.", "plan");
        var model = plan == SamplingPlanChoice.Default ? _defaultPlanModel.Value : _model;
        if (nfe is not { } budget) return (model, null);
        if (budget < 1) throw new ArgumentException($"'nfe' = {budget} must be at least 1.", "nfe");
        var sampler = model.SamplingPlan.Sampler;
        if (sampler == GenerateSamplerKind.Heun && budget % 2 == 0)
            throw new ArgumentException(
                $"'nfe' = {budget} is even, but this plan's solver is Heun, which spends 2 steps - 1 network evaluations: ask for {budget - 1} or {budget + 1}.", "nfe");
        return (model, SamplingPlan.StepsForNfe(sampler, budget));
    }

    private static ServedPlan Describe(SamplingPlan plan) => new(plan.Sampler.ToString(), plan.Steps, plan.Nfe, plan.ToString());

    private static string[] ReadColumns(DiffusionModelParameters model)
    {
        if (model.AdditionalEntries.TryGetValue(ColumnsEntry, out var bytes))
        {
            try
            {
                var names = JsonSerializer.Deserialize<string[]>(bytes);
                if (names is not null && names.Length == model.Dimension && names.All(n => !string.IsNullOrWhiteSpace(n))) return names;
            }
            catch (JsonException)
            {
                // Fall back to f1..fd below.
            }
        }
        return Enumerable.Range(1, model.Dimension).Select(i => $"f{i}").ToArray();
    }

    private static string? ReadCard(byte[] zipBytes)
    {
        using var zip = new ZipArchive(new MemoryStream(zipBytes), ZipArchiveMode.Read);
        var entry = zip.GetEntry(CardEntry);
        if (entry is null) return null;
        using var reader = new StreamReader(entry.Open(), Encoding.UTF8);
        return reader.ReadToEnd();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        foreach (var lazy in _generators.Values)
            if (lazy.IsValueCreated) lazy.Value.Dispose();
    }
}
