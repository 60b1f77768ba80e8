using MLExtensions.Diffusion.Onnx;
using MLExtensions.Diffusion.Samplers;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>
/// Options of <see cref="GenerateTransformer"/> (ML.NET style: settable members with defaults, checked in one place,
/// <see cref="Validate"/>).
/// </summary>
/// <example>
/// <code>
/// var options = new GenerateOptions { InputColumnName = "Seed", Steps = 10, BatchSize = 4096 };
/// using var generator = mlContext.Diffusion().Generate(model, options);
/// IDataView rows = generator.Transform(seeds);   // adds "Generated", one row per seed
/// </code>
/// </example>
public sealed class GenerateOptions
{
    /// <summary>The default input column name, "Seed".</summary>
    public const string DefaultInputColumnName = "Seed";

    /// <summary>The default output column name, "Generated".</summary>
    public const string DefaultOutputColumnName = "Generated";

    /// <summary>The name of the kinetic-action column added by <see cref="AttachPathThermodynamics"/>.</summary>
    public const string KineticActionColumnName = "KineticAction";

    /// <summary>The name of the entropy-produced column added by <see cref="AttachPathThermodynamics"/>.</summary>
    public const string EntropyProducedColumnName = "EntropyProduced";

    /// <summary>The name of the negative-log-likelihood column added by <see cref="AttachNll"/>, "NLL" (the default column of
    /// <see cref="LikelihoodTransformer"/>).</summary>
    public const string NllColumnName = LikelihoodTransformOptions.DefaultOutputColumnName;

    /// <summary>The input column (default "Seed"): either a seed column of type <see cref="int"/>, <see cref="long"/> or
    /// <see cref="uint"/> (the latent of a row with seed s is d standard-normal draws
    /// <see cref="Randomness.StandardNormal.Fill"/> from <c>new Random(s)</c>, with a long or uint seed folded to an int
    /// by <c>unchecked((int)(s ^ (s &gt;&gt; 32)))</c>), or a known-size <see cref="float"/> vector column of d
    /// standard-normal latents. The kind is detected from the column's type. A seed column gives each row its own seed; it is
    /// not the (seed, row) stream of <see cref="DiffusionModelParameters.Generate"/> and <see cref="GenerateTransformer.GenerateRows"/>
    /// (whose row i has the latent <see cref="GenerateTransformer.StreamLatent"/>(seed, i)).</summary>
    public string InputColumnName { get; set; } = DefaultInputColumnName;

    /// <summary>The generated column, a vector of d floats in data units (default "Generated").</summary>
    public string OutputColumnName { get; set; } = DefaultOutputColumnName;

    /// <summary>The solver; null (the default) for the model's <see cref="DiffusionModelParameters.SamplingPlan"/> solver (Heun unless a
    /// plan replaced it).</summary>
    public GenerateSamplerKind? Sampler { get; set; }

    /// <summary>Solver steps on the default grid <see cref="DiffusionModelParameters.SamplingTimes"/> of the plan's schedule; null (the
    /// default) for the grid of the model's <see cref="DiffusionModelParameters.SamplingPlan"/> (by default 20 steps; Heun makes
    /// 2 x steps - 1 network evaluations).</summary>
    public int? Steps { get; set; }

    /// <summary>The engine (default <see cref="GenerateEngine.OnnxGraph"/>).</summary>
    public GenerateEngine Engine { get; set; } = GenerateEngine.OnnxGraph;

    /// <summary>Rows per batch: a cursor pulls this many input rows, generates them in one go and serves them (default
    /// 4096). Memory per cursor is a few buffers of BatchSize x d values. The <see cref="GenerateEngine.OnnxGraph"/>
    /// engine runs a batch in chunks of about 128 K activation floats (1024 rows for a width-128 network), so a large
    /// batch keeps the speed of a cache-sized one.</summary>
    public int BatchSize { get; set; } = 4096;

    /// <summary>The largest <see cref="BatchSize"/>: 2^24 rows. A generator also requires BatchSize x d to fit in one array
    /// (<see cref="Array.MaxLength"/>); a cursor allocates for min(BatchSize, the input's row count when known) rows.</summary>
    public const int MaximumBatchSize = 1 << 24;

    /// <summary>ONNX Runtime session settings (execution provider, device, intra-op threads) of the ONNX engines; null for
    /// <see cref="OnnxSessionSettings.Default"/>.</summary>
    public OnnxSessionSettings? SessionSettings { get; set; }

    /// <summary>Whether to add the float columns <see cref="KineticActionColumnName"/> and
    /// <see cref="EntropyProducedColumnName"/>: each row's kinetic action and entropy produced along its own Heun
    /// trajectory (<see cref="Thermodynamics.PathThermodynamics"/>), computed by the C# engine in standardised units
    /// (default false; requires <see cref="GenerateSamplerKind.Heun"/> and a <see cref="DiffusionModel"/>).</summary>
    public bool AttachPathThermodynamics { get; set; }

    /// <summary>Whether to add the float column <see cref="NllColumnName"/>: each generated row's negative log-likelihood
    /// -ln p(y) under the model, in nats per row and in data units, computed per batch on the generated rows exactly as
    /// <see cref="LikelihoodTransformer"/> scores them (probability-flow ODE, settings from <see cref="Likelihood"/>).
    /// Computed lazily, only when a cursor reads the column (default false; requires a <see cref="DiffusionModel"/>).</summary>
    public bool AttachNll { get; set; }

    /// <summary>The likelihood settings of <see cref="AttachNll"/>, or null for the defaults of
    /// <see cref="LikelihoodTransformOptions"/>. Used: <see cref="LikelihoodTransformOptions.Steps"/>, <c>Integrator</c>,
    /// <c>TMin</c>, <c>Divergence</c>, <c>HutchinsonProbes</c>, <c>Seed</c> (batch b of a cursor draws its probes from seed
    /// <c>Seed + 1000003 b</c>, batches being this generator's <see cref="BatchSize"/> rows), <c>Engine</c> and
    /// <c>SessionSettings</c>; the column names and the batch size are not used.</summary>
    public LikelihoodTransformOptions? Likelihood { get; set; }

    /// <summary>A copy of these options (and of <see cref="Likelihood"/>).</summary>
    /// <returns>The copy.</returns>
    public GenerateOptions Clone()
    {
        var copy = (GenerateOptions)MemberwiseClone();
        copy.Likelihood = Likelihood?.Clone();
        return copy;
    }

    /// <summary>Checks every option.</summary>
    /// <exception cref="ArgumentException">A column name is blank, the output column names collide, or, with
    /// <see cref="AttachNll"/>, a setting of <see cref="Likelihood"/> is invalid (ParamName <c>Likelihood.</c> followed by
    /// the setting's name, e.g. <c>Likelihood.Steps</c>).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="Steps"/> or <see cref="BatchSize"/> is not positive (or
    /// <see cref="BatchSize"/> is above <see cref="MaximumBatchSize"/>), an enum is
    /// out of range, or <see cref="AttachPathThermodynamics"/> is set with a sampler other than Heun.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(InputColumnName))
            throw new ArgumentException($"'{nameof(InputColumnName)}' must not be blank.", nameof(InputColumnName));
        if (string.IsNullOrWhiteSpace(OutputColumnName))
            throw new ArgumentException($"'{nameof(OutputColumnName)}' must not be blank.", nameof(OutputColumnName));
        if (Steps is { } steps && steps < 1) throw new ArgumentOutOfRangeException(nameof(Steps), steps, $"'{nameof(Steps)}' must be at least 1.");
        if (BatchSize < 1 || BatchSize > MaximumBatchSize)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, $"'{nameof(BatchSize)}' must lie in [1, {nameof(MaximumBatchSize)} = {MaximumBatchSize}].");
        if (Sampler is { } sampler && !Enum.IsDefined(sampler)) throw new ArgumentOutOfRangeException(nameof(Sampler), sampler, "Unknown sampler.");
        if (!Enum.IsDefined(Engine)) throw new ArgumentOutOfRangeException(nameof(Engine), Engine, "Unknown engine.");
        if (AttachPathThermodynamics)
        {
            if (Sampler is { } kind && kind != GenerateSamplerKind.Heun)
                throw new ArgumentOutOfRangeException(nameof(Sampler), Sampler,
                    $"'{nameof(AttachPathThermodynamics)}' integrates along the Heun trajectory; set '{nameof(Sampler)}' to Heun.");
            if (OutputColumnName is KineticActionColumnName or EntropyProducedColumnName)
                throw new ArgumentException(
                    $"'{nameof(OutputColumnName)}' = '{OutputColumnName}' collides with a path-thermodynamics column.", nameof(OutputColumnName));
        }
        if (AttachNll)
        {
            if (OutputColumnName == NllColumnName)
                throw new ArgumentException(
                    $"'{nameof(OutputColumnName)}' = '{OutputColumnName}' collides with the '{NllColumnName}' column of '{nameof(AttachNll)}'.", nameof(OutputColumnName));
            try
            {
                Likelihood?.Validate();
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"'{nameof(Likelihood)}' is invalid: {e.Message}", $"{nameof(Likelihood)}.{e.ParamName}", e);
            }
        }
    }

}
