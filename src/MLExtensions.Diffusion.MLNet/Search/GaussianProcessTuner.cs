using MathNet.Numerics.Distributions;

namespace MLExtensions.Diffusion.Search;

/// <summary>
/// Bayesian optimisation: a Gaussian-process surrogate of the loss on the unit cube and the expected-improvement
/// acquisition, maximised over uniform random candidates plus Gaussian perturbations of the best observed points.
/// </summary>
/// <remarks>
/// The first <see cref="GaussianProcessTunerOptions.InitialRandomTrials"/> proposals are uniform random. After that each
/// proposal standardises the observed losses (a failed trial counts as the worst finite loss), fits the GP's length scale
/// and noise by the log marginal likelihood over the option grids (Cholesky factorisation), and proposes the candidate of
/// largest EI(x) = (y* - μ - ξ) Φ(z) + s φ(z), z = (y* - μ - ξ) / s, y* the best standardised loss. Every random draw
/// comes from one seeded generator, so the same seed and the same results give the same proposals.
/// </remarks>
public sealed class GaussianProcessTuner : ITuner
{
    private static readonly double[] PerturbationScales = [0.02, 0.06, 0.15];
    private readonly SearchSpace _space;
    private readonly GaussianProcessTunerOptions _options;
    private readonly Random _random;
    private readonly List<double[]> _features = [];
    private readonly List<double> _losses = [];
    private int _proposed;

    /// <summary>A Gaussian-process tuner.</summary>
    /// <param name="space">The search space, at least one dimension.</param>
    /// <param name="seed">The seed.</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <exception cref="ArgumentException">The space has no dimensions, or an option is out of range (the message names it).</exception>
    /// <exception cref="ArgumentNullException"><paramref name="space"/> is null.</exception>
    public GaussianProcessTuner(SearchSpace space, int seed = 0, GaussianProcessTunerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(space);
        if (space.Count == 0) throw new ArgumentException("The search space has no dimensions.", nameof(space));
        options ??= new GaussianProcessTunerOptions();
        if (options.InitialRandomTrials < 1) throw new ArgumentException($"InitialRandomTrials must be at least 1, not {options.InitialRandomTrials}.", nameof(options));
        if (options.RandomCandidates < 1) throw new ArgumentException($"RandomCandidates must be at least 1, not {options.RandomCandidates}.", nameof(options));
        if (options.LocalCandidatesPerPoint < 0) throw new ArgumentException($"LocalCandidatesPerPoint must be >= 0, not {options.LocalCandidatesPerPoint}.", nameof(options));
        if (!(options.Exploration >= 0) || double.IsInfinity(options.Exploration)) throw new ArgumentException($"Exploration must be finite and >= 0, not {options.Exploration}.", nameof(options));
        if (options.LengthScales is null || options.LengthScales.Count == 0 || options.LengthScales.Any(l => !(l > 0) || double.IsInfinity(l)))
            throw new ArgumentException("LengthScales must be a non-empty list of finite numbers > 0.", nameof(options));
        if (options.NoiseLevels is null || options.NoiseLevels.Count == 0 || options.NoiseLevels.Any(g => !(g > 0) || double.IsInfinity(g)))
            throw new ArgumentException("NoiseLevels must be a non-empty list of finite numbers > 0.", nameof(options));
        _space = space;
        _options = options;
        _random = new Random(seed);
    }

    /// <summary>The surrogate's length scale at the last model-based proposal (NaN before).</summary>
    public double LastLengthScale { get; private set; } = double.NaN;

    /// <inheritdoc/>
    public Parameter Propose(TrialSettings settings)
    {
        _proposed++;
        var finite = _losses.Where(double.IsFinite).ToArray();
        if (_proposed <= _options.InitialRandomTrials || finite.Length == 0) return _space.Sample(RandomPoint());

        // Standardised targets; failed trials count as the worst finite loss.
        double worst = finite.Max(), mean = finite.Average();
        double std = Math.Sqrt(finite.Sum(l => (l - mean) * (l - mean)) / finite.Length);
        if (!(std > 0)) std = 1;
        var y = _losses.Select(l => ((double.IsFinite(l) ? l : worst) - mean) / std).ToArray();
        var gp = GaussianProcess.Fit(_options.Kernel, _features.ToArray(), y, _options.LengthScales, _options.NoiseLevels);
        if (gp is null) return _space.Sample(RandomPoint());
        LastLengthScale = gp.LengthScale;
        double best = y.Min();
        var scratch = new double[y.Length];

        double bestEi = double.NegativeInfinity;
        double[] bestPoint = RandomPoint();
        void Consider(double[] point)
        {
            double ei = ExpectedImprovement(gp, point, best, scratch);
            if (ei > bestEi) (bestEi, bestPoint) = (ei, point);
        }

        for (int c = 0; c < _options.RandomCandidates; c++) Consider(RandomPoint());
        if (_options.LocalCandidatesPerPoint > 0)
        {
            int[] order = Enumerable.Range(0, y.Length).OrderBy(i => y[i]).ThenBy(i => i).Take(Math.Min(5, y.Length)).ToArray();
            foreach (int i in order)
                for (int c = 0; c < _options.LocalCandidatesPerPoint; c++)
                    Consider(Perturb(_features[i], PerturbationScales[c % PerturbationScales.Length]));
            // A finer pass around the acquisition's best candidate so far.
            double[] centre = bestPoint;
            for (int c = 0; c < _options.LocalCandidatesPerPoint; c++) Consider(Perturb(centre, 0.01));
        }
        return _space.Sample(bestPoint);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The result's parameter is not a point of the tuner's search space.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="result"/> is null.</exception>
    public void Update(TrialResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        _features.Add(_space.MapToFeature(result.TrialSettings.Parameter));
        _losses.Add(result.IsSuccess ? result.Loss : double.PositiveInfinity);
    }

    private double ExpectedImprovement(GaussianProcess gp, double[] point, double best, double[] scratch)
    {
        var (mu, s) = gp.Predict(point, scratch);
        double improvement = best - mu - _options.Exploration;
        if (s < 1e-12) return Math.Max(improvement, 0);
        double z = improvement / s;
        return improvement * Normal.CDF(0, 1, z) + s * Normal.PDF(0, 1, z);
    }

    private double[] RandomPoint()
    {
        var p = new double[_space.Count];
        for (int i = 0; i < p.Length; i++) p[i] = _random.NextDouble();
        return p;
    }

    private double[] Perturb(double[] centre, double scale)
    {
        var p = new double[centre.Length];
        for (int i = 0; i < p.Length; i++)
        {
            // Box-Muller from the tuner's own generator, for determinism.
            double u1 = 1 - _random.NextDouble(), u2 = _random.NextDouble();
            double gauss = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            p[i] = Math.Clamp(centre[i] + scale * gauss, 0, 1);
        }
        return p;
    }
}
