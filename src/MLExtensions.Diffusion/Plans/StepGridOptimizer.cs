using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;

namespace MLExtensions.Diffusion.Plans;

/// <summary>
/// Chooses the N-step grid of a one-step solver by dynamic programming over candidate noise levels, minimising the sum
/// of measured one-step errors (in the spirit of dynamic-programming step schedules, e.g. Watson et al. 2021,
/// arXiv:2106.03802, and local-error-based schedules such as Sabour et al. 2024, arXiv:2404.14507).
/// </summary>
/// <remarks>
/// <para>Reference states: from the model's start law at the top candidate level, a fine Heun run
/// (<see cref="StepGridOptimizerOptions.ReferenceSubsteps"/> steps between consecutive candidates, log-uniform in the
/// level) through every candidate level down to 0, on <see cref="StepGridOptimizerOptions.Rows"/> seeded latents; the
/// states are kept in scaled units u = x / m.</para>
/// <para>Edge cost e(i, j), candidate i above j: the per-row RMS distance (scaled units) between one solver step from the
/// reference state at level i to level j and the reference state at j. Start cost at candidate i: the RMS distance
/// between the start law's draw at level i (same latents) and the reference state there, so the grid's first level is
/// chosen too (the top candidate costs 0). The grid minimises start cost + sum of edge costs over paths with exactly the
/// number of steps the NFE budget allows, ending at level 0. The sum bounds the global error only if errors do not
/// grow along the flow; <see cref="DiscretisationError"/> measures the true global error of the result.</para>
/// <para>Solvers: one-step ones only (Heun, Euler, DDIM); a multistep solver's error depends on the previous steps.</para>
/// </remarks>
public sealed class StepGridOptimizer
{
    private readonly DiffusionModelParameters _model;
    private readonly NoiseSchedule _schedule;
    private readonly GenerateSamplerKind _sampler;
    private readonly double[] _levels;     // candidates, decreasing, last = 0
    private readonly double[] _times;
    private readonly double[] _startCost;
    private readonly double[,] _edgeCost;  // [i, j], i < j; +inf where not computed

    /// <summary>Measures the reference states and all one-step errors.</summary>
    /// <param name="model">The model whose network is stepped.</param>
    /// <param name="schedule">The Gaussian path the grid is for.</param>
    /// <param name="sampler">A one-step solver: Heun, Euler or DDIM.</param>
    /// <param name="candidateLevels">Strictly decreasing positive noise levels sigma/m (level 0 is appended); the first is
    /// the highest level a grid may start at; all at most the schedule's level at MaxTime.</param>
    /// <param name="options">Rows, seed, reference resolution, longest jump (null for the defaults).</param>
    /// <param name="cancellationToken">Cancels between candidate levels.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">Fewer than two candidates, a level not finite and positive, levels not strictly
    /// decreasing, or a level above the schedule's top; or a multistep <paramref name="sampler"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public StepGridOptimizer(DiffusionModelParameters model, NoiseSchedule schedule, GenerateSamplerKind sampler, ReadOnlySpan<double> candidateLevels,
        StepGridOptimizerOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(schedule);
        if (sampler is not (GenerateSamplerKind.Heun or GenerateSamplerKind.Euler or GenerateSamplerKind.Ddim))
            throw new ArgumentException($"The grid optimiser needs a one-step solver (Heun, Euler or DDIM), not {sampler}: a multistep solver's error depends on its history.", nameof(sampler));
        options ??= new StepGridOptimizerOptions();
        options.Validate();
        if (candidateLevels.Length < 2) throw new ArgumentException($"At least two candidate levels are needed, got {candidateLevels.Length}.", nameof(candidateLevels));
        double top = schedule.Sigma(schedule.MaxTime) / schedule.M(schedule.MaxTime);
        for (int i = 0; i < candidateLevels.Length; i++)
        {
            double level = candidateLevels[i];
            if (!(double.IsFinite(level) && level > 0)) throw new ArgumentException($"candidateLevels[{i}] = {level} is not finite and positive.", nameof(candidateLevels));
            if (i > 0 && !(level < candidateLevels[i - 1]))
                throw new ArgumentException($"Candidate levels must decrease strictly, but candidateLevels[{i}] = {level} follows {candidateLevels[i - 1]}.", nameof(candidateLevels));
        }
        if (candidateLevels[0] > top * (1 + 1e-12))
            throw new ArgumentException($"candidateLevels[0] = {candidateLevels[0]} exceeds the level {top} that schedule '{schedule.Name}' reaches at MaxTime.", nameof(candidateLevels));
        _model = model;
        _schedule = schedule;
        _sampler = sampler;
        Options = options;
        int k = candidateLevels.Length + 1, d = model.Dimension, rows = options.Rows;
        _levels = [.. candidateLevels, 0.0];
        _times = TimeGrid.FromNoiseLevels(schedule, _levels);

        // Reference states u_i = x / m at every candidate, from the start law at the top.
        var latents = new double[rows * d];
        StandardNormal.Fill(new Random(options.Seed), latents);
        var states = new double[k][];
        var x = (double[])latents.Clone();
        var fine = new HeunSampler();
        model.DrawStart(x, schedule, _times[0]);
        states[0] = Scaled(x, _times[0]);
        for (int i = 1; i < k; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            fine.Sample(model.Denoiser, schedule, FineTimes(_levels[i - 1], _levels[i], options.ReferenceSubsteps), x);
            states[i] = Scaled(x, _times[i]);
        }

        // Start costs: the start law's draw at candidate i against the reference state there.
        _startCost = new double[k];
        for (int i = 1; i < k - 1; i++)
        {
            var start = (double[])latents.Clone();
            model.DrawStart(start, schedule, _times[i]);
            _startCost[i] = DiscretisationError.Rms(Scaled(start, _times[i]), states[i], d);
        }
        _startCost[k - 1] = double.PositiveInfinity;

        // Edge costs: one solver step from the reference state at i to level j.
        _edgeCost = new double[k, k];
        var solver = SamplingPlan.CreateSampler(sampler);
        var buffer = new double[rows * d];
        for (int i = 0; i < k; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (int j = 0; j < k; j++)
            {
                _edgeCost[i, j] = double.PositiveInfinity;
                if (j <= i || j - i > options.MaxJump) continue;
                double mi = schedule.M(_times[i]);
                for (int q = 0; q < buffer.Length; q++) buffer[q] = mi * states[i][q];
                solver.Sample(model.Denoiser, schedule, [_times[i], _times[j]], buffer);
                _edgeCost[i, j] = DiscretisationError.Rms(Scaled(buffer, _times[j]), states[j], d);
            }
        }
    }

    /// <summary>The options in use.</summary>
    public StepGridOptimizerOptions Options { get; }

    /// <summary>The candidate levels, decreasing, with the final 0.</summary>
    public ReadOnlySpan<double> Levels => _levels;

    /// <summary>The measured cost of one step from candidate <paramref name="from"/> to candidate <paramref name="to"/>
    /// (indices into <see cref="Levels"/>); +infinity for a jump longer than <see cref="StepGridOptimizerOptions.MaxJump"/>.</summary>
    /// <param name="from">The upper candidate.</param>
    /// <param name="to">The lower candidate, above <paramref name="from"/> in index.</param>
    /// <returns>The per-row RMS distance, scaled units.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An index is out of range or <paramref name="to"/> &lt;= <paramref name="from"/>.</exception>
    public double StepError(int from, int to)
    {
        if ((uint)from >= (uint)_levels.Length) throw new ArgumentOutOfRangeException(nameof(from), from, "No such candidate.");
        if ((uint)to >= (uint)_levels.Length || to <= from) throw new ArgumentOutOfRangeException(nameof(to), to, "'to' must be a later candidate than 'from'.");
        return _edgeCost[from, to];
    }

    /// <summary>The cost of starting at candidate <paramref name="index"/> (0 at the top).</summary>
    /// <param name="index">Index into <see cref="Levels"/>.</param>
    /// <returns>The per-row RMS distance between the start law's draw and the reference state there.</returns>
    /// <exception cref="ArgumentOutOfRangeException">No such candidate.</exception>
    public double StartError(int index)
    {
        if ((uint)index >= (uint)_levels.Length) throw new ArgumentOutOfRangeException(nameof(index), index, "No such candidate.");
        return _startCost[index];
    }

    /// <summary>The grid of least estimated error for an NFE budget.</summary>
    /// <param name="nfe">The budget: Heun makes 2 steps - 1 evaluations (so an even budget leaves one unused), Euler and
    /// DDIM one per step.</param>
    /// <returns>The plan and its estimated error (start cost + sum of step costs).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="nfe"/> is below 1.</exception>
    /// <exception cref="InvalidOperationException">No path of that many steps exists (more steps than candidates, or
    /// too few steps for <see cref="StepGridOptimizerOptions.MaxJump"/>).</exception>
    public (SamplingPlan Plan, double EstimatedError) Optimize(int nfe)
    {
        if (nfe < 1) throw new ArgumentOutOfRangeException(nameof(nfe), nfe, "The NFE budget must be at least 1 network evaluation.");
        int steps = _sampler == GenerateSamplerKind.Heun ? (nfe + 1) / 2 : nfe;
        int k = _levels.Length;
        var cost = new double[steps + 1, k];
        var from = new int[steps + 1, k];
        for (int j = 0; j < k; j++) cost[0, j] = _startCost[j];
        for (int s = 1; s <= steps; s++)
            for (int j = 0; j < k; j++)
            {
                cost[s, j] = double.PositiveInfinity;
                from[s, j] = -1;
                for (int i = 0; i < j; i++)
                {
                    double c = cost[s - 1, i] + _edgeCost[i, j];
                    if (c < cost[s, j])
                    {
                        cost[s, j] = c;
                        from[s, j] = i;
                    }
                }
            }
        if (double.IsPositiveInfinity(cost[steps, k - 1]))
            throw new InvalidOperationException($"No {steps}-step path through the {k} candidates reaches level 0 (MaxJump = {Options.MaxJump}).");
        var path = new int[steps + 1];
        path[steps] = k - 1;
        for (int s = steps; s > 0; s--) path[s - 1] = from[s, path[s]];
        var times = path.Select(i => _times[i]).ToArray();
        return (new SamplingPlan(_schedule, times, _sampler), cost[steps, k - 1]);
    }

    private double[] Scaled(double[] x, double t)
    {
        double m = _schedule.M(t);
        var u = new double[x.Length];
        for (int i = 0; i < u.Length; i++) u[i] = x[i] / m;
        return u;
    }

    /// <summary>Times of <paramref name="substeps"/> log-uniform steps from level <paramref name="hi"/> to
    /// <paramref name="lo"/>; to level 0 the last sub-step goes from hi / 1000 (capped at 0.002) to 0.</summary>
    private double[] FineTimes(double hi, double lo, int substeps)
    {
        double end = lo > 0 ? lo : Math.Min(0.002, hi / 1000);
        int n = lo > 0 ? substeps : 4 * substeps;
        var levels = new double[lo > 0 ? n + 1 : n + 2];
        for (int q = 0; q <= n; q++) levels[q] = hi * Math.Pow(end / hi, q / (double)n);
        levels[n] = end;
        if (lo == 0) levels[n + 1] = 0;
        return TimeGrid.FromNoiseLevels(_schedule, levels);
    }
}
