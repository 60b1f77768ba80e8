using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Thermodynamics;
using MLExtensions.Diffusion.Transport;

namespace PaperReproduction;

/// <summary>One forward path of the 1-D study: a Gaussian (m, sigma) schedule or the exact OT path.</summary>
internal sealed record PathCase(string Name, NoiseSchedule? Schedule, OptimalTransportPath1D? OtPath);

/// <summary>eta, dW1 and W1(q, p) of one finite-step run.</summary>
internal sealed record FiniteStepCell(string Path, string Perturbation, string Solver, int Nfe, double W1ToData, double DeltaW1, double Eta);

/// <summary>
/// Part (a): the 1-D two-component Gaussian mixture under the cosine, cond-OT and OT paths with four start perturbations.
/// The exact numbers come from <see cref="SpeedAccuracyRelation"/>; the finite-step numbers run the reverse flow with
/// Euler / Heun from the quantiles of Ptilde and measure W1 to the data law in the same quantile discretisation.
/// </summary>
internal sealed class OneDimensionalStudy
{
    // The paper does not state its mixture; this one is symmetric, well separated, with variance 4.25.
    public static readonly double[] Weights = [0.5, 0.5];
    public static readonly double[] Means = [-2.0, 2.0];
    public static readonly double[] Stds = [0.5, 0.5];

    private readonly int _levels;
    private readonly int _panels;
    private readonly double[] _dataQuantiles;
    private readonly double[] _midLevels;

    public OneDimensionalStudy(bool quick)
    {
        _levels = quick ? 500 : SpeedAccuracyRelation.DefaultQuantileLevels;
        _panels = quick ? 8 : SpeedAccuracyRelation.DefaultTimePanels;
        Data = GaussianMixtureDenoiser.Isotropic(Weights, Means, Stds);
        DataLaw = StartPerturbation.Mixture(Weights, Means, Stds);
        Paths =
        [
            new PathCase("cosine", new CosineSchedule(), null),
            new PathCase("cond-OT", new CondOtSchedule(), null),
            new PathCase("OT", null, OptimalTransportPath1D.FromGaussianMixture(Data)),
        ];
        Perturbations =
        [
            StartPerturbation.MeanShift(1.0),
            StartPerturbation.VarianceChange(1.2),
            StartPerturbation.Mixture([0.5, 0.5], [-1.0, 1.0], [0.6, 0.6]),
            StartPerturbation.Uniform(-2.0, 2.0),
        ];
        _midLevels = new double[_levels];
        _dataQuantiles = new double[_levels];
        for (int i = 0; i < _levels; i++)
        {
            _midLevels[i] = (i + 0.5) / _levels;
            _dataQuantiles[i] = DataLaw.Quantile(_midLevels[i]);
        }
    }

    public GaussianMixtureDenoiser Data { get; }

    /// <summary>q as a 1-D law (quantiles).</summary>
    public StartPerturbation DataLaw { get; }

    public IReadOnlyList<PathCase> Paths { get; }

    public IReadOnlyList<StartPerturbation> Perturbations { get; }

    public int QuantileLevels => _levels;

    public int TimePanels => _panels;

    /// <summary>The exact relation for one cell.</summary>
    public SpeedAccuracyResult Exact(PathCase path, StartPerturbation start) => path.Schedule is { } s
        ? SpeedAccuracyRelation.Compute(s, Data, start, _levels, _panels)
        : SpeedAccuracyRelation.Compute(path.OtPath!, start, _levels, _panels);

    /// <summary>P_tau of the path (at its end time) as a 1-D law: the noised mixture, or N(0, 1) for OT.</summary>
    public StartPerturbation EndLaw(PathCase path)
    {
        if (path.Schedule is not { } s) return StartPerturbation.Mixture([1.0], [0.0], [1.0]);
        double t = s.MaxTime, m = s.M(t), sigma = s.Sigma(t);
        var means = Means.Select(mu => m * mu).ToArray();
        var stds = Stds.Select(sd => Math.Sqrt(m * m * sd * sd + sigma * sigma)).ToArray();
        return StartPerturbation.Mixture(Weights, means, stds);
    }

    /// <summary>
    /// Runs the reverse flow with <paramref name="steps"/> uniform steps in t from the quantiles of <paramref name="start"/>
    /// and returns W1(q, p) in the midpoint-quantile discretisation that <see cref="SpeedAccuracyRelation"/> uses.
    /// </summary>
    public (double W1, int Nfe) FiniteStepW1(PathCase path, StartPerturbation start, bool heun, int steps)
    {
        var x = new double[_levels];
        for (int i = 0; i < _levels; i++) x[i] = start.Quantile(_midLevels[i]);
        int nfe;
        if (path.Schedule is { } s)
        {
            ISampler sampler = heun ? new HeunSampler() : new EulerSampler();
            nfe = sampler.Sample(Data, s, TimeGrid.Uniform(s, steps), x).Nfe;
        }
        else
        {
            OptimalTransportPath1D ot = path.OtPath!;
            var times = new double[steps + 1];
            for (int i = 0; i <= steps; i++) times[i] = ot.Tau * (steps - i) / steps;
            nfe = ProbabilityFlow.Integrate(ot, x, times, heun ? FlowIntegrator.Heun : FlowIntegrator.Euler);
        }
        // Equal-size samples: W1 is the mean gap of the sorted rows against q's midpoint quantiles.
        return (Wasserstein1D.W1(x, _dataQuantiles), nfe);
    }

    /// <summary>eta at finite NFE: dW1 = W1(q, p_NFE) - W1(P_tau, Ptilde), eta = dW1^2 / (t_end D0).</summary>
    public FiniteStepCell FiniteStep(PathCase path, StartPerturbation start, SpeedAccuracyResult exact, bool heun, int steps)
    {
        (double w1, int nfe) = FiniteStepW1(path, start, heun, steps);
        double dw1 = w1 - exact.W1Start;
        return new FiniteStepCell(path.Name, start.Name, heun ? "Heun" : "Euler", nfe, w1, dw1, dw1 * dw1 / (exact.EndTime * exact.D0));
    }
}
