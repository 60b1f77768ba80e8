using Microsoft.ML;
using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Transport;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>The evaluation entry point on <see cref="DiffusionCatalog"/>: <c>mlContext.Diffusion().Evaluate(model, heldOut)</c>.</summary>
public static class EvaluationCatalogExtensions
{
    /// <summary>
    /// Held-out sample metrics (sliced and exact W2, MMD^2), the mean held-out NLL, and the thermodynamics of the model's
    /// forward process (kinetic cost c2, entropy production S_tot, efficiency) plus the sampler's NFE.
    /// </summary>
    /// <remarks>
    /// <para>Held-out rows are read from <see cref="EvaluationOptions.FeatureColumnName"/> and mapped to standardised units
    /// with the model's <see cref="DiffusionModelParameters.FeatureScaler"/>; <see cref="EvaluationOptions.GeneratedRows"/> rows come
    /// from <see cref="DiffusionModelParameters.Generate"/> (seed <see cref="EvaluationOptions.Seed"/>) and are mapped the same way.
    /// Sample metrics: <see cref="SlicedWasserstein"/>, <see cref="DiscreteOptimalTransport"/> on the first
    /// min(n, m, <see cref="EvaluationOptions.MaxExactW2Rows"/>) rows, <see cref="MaximumMeanDiscrepancy.UnbiasedSquared(ReadOnlySpan{double}, ReadOnlySpan{double}, int)"/>.</para>
    /// <para>Thermodynamics: <see cref="Thermodynamics.EntropyProduction.MonteCarloIntegrate(Schedules.NoiseSchedule, Denoisers.IDenoiser, ReadOnlySpan{double}, int, Random, double, double?, double)"/>
    /// with the model's denoiser and <see cref="EvaluationOptions.ThermodynamicSamples"/> pairs (y resampled from the
    /// held-out rows), from 0 to MaxTime of the schedule the model samples along (its plan's); efficiency as in <see cref="DiffusionMetrics.Efficiency"/>.</para>
    /// <para>NLL: <see cref="LikelihoodTransformer.Score(ReadOnlySpan{float}, int)"/> over all held-out rows with <see cref="EvaluationOptions.Likelihood"/>.</para>
    /// </remarks>
    /// <param name="catalog">The diffusion catalog.</param>
    /// <param name="model">The model.</param>
    /// <param name="heldOut">Held-out data with the feature column; at least 2 (finite) rows.</param>
    /// <param name="options">Settings; <see langword="null"/> for the defaults.</param>
    /// <returns>The metrics.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="catalog"/>, <paramref name="model"/> or <paramref name="heldOut"/> is null.</exception>
    /// <exception cref="ArgumentException">The feature column is missing, of the wrong type or size, a row holds a
    /// non-finite value under <see cref="MissingValueHandling.Error"/> (the message names it), or fewer than 2 rows remain.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (ParamName names it).</exception>
    public static DiffusionMetrics Evaluate(this DiffusionCatalog catalog, DiffusionModel model, IDataView heldOut, EvaluationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(heldOut);
        options ??= new EvaluationOptions();
        options.Validate();
        int d = model.Dimension;
        int size = FeatureColumnReader.RequireVectorColumn(heldOut.Schema, options.FeatureColumnName, nameof(heldOut));
        if (size != d)
            throw new ArgumentException($"Column '{options.FeatureColumnName}' has {size} values per row, but the model's dimension is {d}.", nameof(heldOut));
        float[] held = FeatureColumnReader.Read(heldOut, options.FeatureColumnName, d, dropNonFinite: options.MissingValueHandling == MissingValueHandling.DropRows, out _, CancellationToken.None);
        int n = held.Length / d;
        if (n < 2) throw new ArgumentException($"The held-out data have {n} rows; at least 2 are needed.", nameof(heldOut));

        var (schedule, times, sampler) = model.Resolve(options.Sampler, options.SamplingSteps);
        int generatedRows = options.GeneratedRows ?? n;
        var random = new Random(options.Seed);
        ReadOnlySpan<double> mean = model.FeatureScaler.Mean, scale = model.FeatureScaler.Scale;
        double[] z = DiffusionEvaluator.Standardise(held, mean, scale);
        double[] generated = DiffusionEvaluator.Standardise(model.Generate(generatedRows, options.Seed, sampler, options.SamplingSteps), mean, scale);

        double sliced = SlicedWasserstein.W2(generated, z, d, options.Projections, new Random(random.Next()));
        int w2Rows = Math.Min(Math.Min(n, generatedRows), options.MaxExactW2Rows);
        double w2 = DiscreteOptimalTransport.W2(generated.AsSpan(0, w2Rows * d), z.AsSpan(0, w2Rows * d), d);
        double mmd2 = MaximumMeanDiscrepancy.UnbiasedSquared(generated, z, d);

        var (integral, endpoint, efficiency) = DiffusionEvaluator.Thermodynamics(model.Denoiser, schedule, z, options.ThermodynamicSamples, new Random(random.Next()));
        int nfe = DiffusionEvaluator.Nfe(model.Denoiser, schedule, times, sampler);

        double meanNll = double.NaN;
        if (options.ComputeLikelihood)
        {
            var likelihood = options.Likelihood ?? new LikelihoodTransformOptions();
            using var transformer = new LikelihoodTransformer(model, likelihood);
            meanNll = transformer.Score(held, likelihood.Seed).Average();
        }
        return new DiffusionMetrics(n, generatedRows, sliced, w2, w2Rows, mmd2, meanNll,
            integral.KineticCost, integral.KineticCostStandardError, integral.TotalEntropyProduction, integral.TotalEntropyProductionStandardError,
            endpoint, efficiency, nfe);
    }
}
