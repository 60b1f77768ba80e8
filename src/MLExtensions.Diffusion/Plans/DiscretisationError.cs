using System.Globalization;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Transport;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;

namespace MLExtensions.Diffusion.Plans;

/// <summary>
/// The discretisation error of sampling plans for one model: how far a plan's samples land from the same model's
/// converged samples from the same latents. It isolates what a plan changes (grid, solver, path), since the network and
/// the latents are shared.
/// </summary>
/// <remarks>
/// <para>Reference: Heun with <see cref="ReferenceSteps"/> steps on the EDM rho = 7 grid of the training schedule from the
/// top of the trained noise range (<see cref="DiffusionModelParameters.TrainedNoiseLevelRange"/>) down to 0.002 then 0, started from
/// the model's start law (<see cref="DiffusionModelParameters.StartLaw"/>), on <see cref="Rows"/> seeded standard-normal latents.
/// Every plan starts from the same latents through its own start law.</para>
/// <para>Measures, in the diffusion's z units (standardised under <see cref="FeatureScaling.PerFeature"/>): the per-row
/// RMS distance sqrt(mean_r |x_r - x_ref,r|^2) (rows paired by latent) and the sliced 2-Wasserstein distance between the
/// two sample sets (unpaired). A plan that starts at another noise level than the reference carries, besides its
/// discretisation error, the difference between the two Gaussian start approximations (small when both levels are far
/// above the data's scale).</para>
/// <para>Not thread-safe for concurrent <see cref="Measure"/> calls on one instance (the denoiser serialises anyway).</para>
/// </remarks>
public sealed class DiscretisationError
{
    private readonly DiffusionModelParameters _model;
    private readonly double[] _latents;
    private readonly double[] _reference;
    private readonly int _projectionSeed;

    /// <summary>Computes the reference samples.</summary>
    /// <param name="model">The model.</param>
    /// <param name="rows">Latent rows, at least 2.</param>
    /// <param name="seed">Seed of the latents (and of the sliced-W2 projections).</param>
    /// <param name="referenceSteps">Heun steps of the reference, at least 100 (default 1000).</param>
    /// <param name="cancellationToken">Cancels the reference run between blocks of rows.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> or <paramref name="referenceSteps"/> is too small.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public DiscretisationError(DiffusionModelParameters model, int rows, int seed, int referenceSteps = 1000, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (rows < 2) throw new ArgumentOutOfRangeException(nameof(rows), rows, "At least 2 rows are needed.");
        if (referenceSteps < 100) throw new ArgumentOutOfRangeException(nameof(referenceSteps), referenceSteps, "The reference needs at least 100 Heun steps.");
        _model = model;
        Rows = rows;
        ReferenceSteps = referenceSteps;
        var random = new Random(seed);
        _latents = new double[checked(rows * model.Dimension)];
        StandardNormal.Fill(random, _latents);
        _projectionSeed = random.Next();
        double top = Math.Min(model.TrainedNoiseLevelRange.High, model.Schedule.Sigma(model.Schedule.MaxTime) / model.Schedule.M(model.Schedule.MaxTime));
        ReferencePlan = new SamplingPlan(model.Schedule, TimeGrid.EdmRho(model.Schedule, referenceSteps, Math.Min(0.002, 0.5 * top), top), GenerateSamplerKind.Heun);
        _reference = Sample(ReferencePlan, cancellationToken);
    }

    /// <summary>Latent rows.</summary>
    public int Rows { get; }

    /// <summary>Heun steps of the reference.</summary>
    public int ReferenceSteps { get; }

    /// <summary>The reference plan.</summary>
    public SamplingPlan ReferencePlan { get; }

    /// <summary>The model measured.</summary>
    public DiffusionModelParameters Model => _model;

    /// <summary>The reference samples, Rows x d, z units.</summary>
    public ReadOnlySpan<double> ReferenceSamples => _reference;

    /// <summary>Samples of <paramref name="plan"/> from this instance's latents, Rows x d, z units.</summary>
    /// <param name="plan">The plan (not checked against the trained range: any plan can be measured).</param>
    /// <param name="cancellationToken">Cancels between blocks of rows.</param>
    /// <returns>The samples.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="plan"/> is null.</exception>
    public double[] Sample(SamplingPlan plan, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var x = (double[])_latents.Clone();
        int block = 1024 * _model.Dimension;
        var sampler = plan.CreateSampler();
        for (int start = 0; start < x.Length; start += block)
        {
            cancellationToken.ThrowIfCancellationRequested();
            _model.RunStandardised(x.AsSpan(start, Math.Min(block, x.Length - start)), plan.Schedule, plan.Times, sampler);
        }
        return x;
    }

    /// <summary>Measures <paramref name="plan"/>.</summary>
    /// <param name="plan">The plan.</param>
    /// <param name="projections">Projections of the sliced W2 (default 128).</param>
    /// <param name="cancellationToken">Cancels between blocks of rows.</param>
    /// <returns>RMS distance, sliced W2 and NFE.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="plan"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="projections"/> is not positive.</exception>
    public PlanError Measure(SamplingPlan plan, int projections = 128, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (projections < 1) throw new ArgumentOutOfRangeException(nameof(projections), projections, "At least one projection is needed.");
        var x = Sample(plan, cancellationToken);
        return new PlanError(plan.Nfe, Rms(x, _reference, _model.Dimension),
            SlicedWasserstein.W2(x, _reference, _model.Dimension, projections, new Random(_projectionSeed)));
    }

    /// <summary>sqrt(mean over rows of the squared Euclidean distance between paired rows).</summary>
    internal static double Rms(ReadOnlySpan<double> a, ReadOnlySpan<double> b, int d)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double e = a[i] - b[i];
            sum += e * e;
        }
        return Math.Sqrt(sum / (a.Length / d));
    }
}
