using Microsoft.ML;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Thermodynamics;
using MLExtensions.Diffusion.Transport;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>
/// Finds a better sampling plan for a trained model at a given NFE budget (<c>mlContext.Diffusion().OptimizeSchedule</c>):
/// the same network, sampled along a better path, grid and solver. Fitted on an <see cref="IDataView"/> of data rows, it
/// returns the model with the chosen plan (<see cref="Fit"/>) or the model and a report (<see cref="Optimize"/>).
/// </summary>
/// <remarks>
/// <para>Paths (the Gaussian paths the network can follow): the training schedule; the Gaussian optimal-transport
/// schedule of the data's isotropic moments (<see cref="GaussianOtSchedule"/>, the closed-form case); and, with
/// <see cref="ScheduleOptimizationOptions.FitTransportPath"/>, the path of least kinetic cost under the model's own Monte
/// Carlo path metric (<see cref="DenoiserPathMetric"/>, <see cref="GaussianPathGeodesic"/>), re-timed to constant speed.</para>
/// <para>Grids per path and solver: EDM rho = 7, log-SNR-uniform, uniform t, uniform angle, equal length in the W2 speed
/// sqrt(E|nu_t|^2) of the path metric, and the dynamic-programming grid of <see cref="StepGridOptimizer"/> (one-step solvers;
/// DPM-Solver++(2M) gets the DDIM one); all start at the top of the trained noise range (the dynamic programme may start
/// lower).</para>
/// <para>Selection: each candidate's discretisation error (<see cref="DiscretisationError"/>) on
/// <see cref="ScheduleOptimizationOptions.SelectionRows"/> latents, or its held-out sliced W2 to the selection half of
/// the data (<see cref="ScheduleOptimizationOptions.Criterion"/>). Report: the chosen plan, the model's plan before and the
/// default plan at the budget on <see cref="ScheduleOptimizationOptions.ReportRows"/> other latents and the other half of
/// the data, so what chose a plan is not what reports on it.</para>
/// </remarks>
/// <example>
/// <code>
/// var result = mlContext.Diffusion().OptimizeSchedule(model, new ScheduleOptimizationOptions { Nfe = 5 }).Optimize(data);
/// Console.WriteLine(result.Report);
/// float[] rows = result.Model.Generate(1000, seed: 1);   // 5 network evaluations per row
/// </code>
/// </example>
public sealed class ScheduleOptimizationEstimator : IEstimator<DiffusionModel>
{
    private const int MaxMmdRows = 2000;
    private const int Projections = 128;
    private readonly MLContext _context;
    private readonly ScheduleOptimizationOptions _options;

    /// <summary>Creates the estimator.</summary>
    /// <param name="context">The ML.NET context.</param>
    /// <param name="model">The trained model.</param>
    /// <param name="options">The options (copied; null for the defaults).</param>
    /// <exception cref="ArgumentNullException"><paramref name="context"/> or <paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentException">An option is invalid (<see cref="ScheduleOptimizationOptions.Validate"/>).</exception>
    public ScheduleOptimizationEstimator(MLContext context, DiffusionModel model, ScheduleOptimizationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(model);
        _context = context;
        Model = model;
        _options = (options ?? new ScheduleOptimizationOptions()).Clone();
        _options.Validate();
    }

    /// <summary>The model whose plan is optimised.</summary>
    public DiffusionModel Model { get; }

    /// <summary>A copy of the options.</summary>
    public ScheduleOptimizationOptions Options => _options.Clone();

    /// <summary>The model with the chosen plan (<see cref="Optimize"/> without the report).</summary>
    /// <param name="input">Data rows (the training rows or any sample of the data law).</param>
    /// <returns>The model with the chosen plan.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException">The column is missing or of the wrong type or size, fewer than 4 usable rows, or a
    /// non-finite value with <see cref="MissingValueHandling.Error"/>.</exception>
    /// <exception cref="InvalidOperationException">No candidate could be built.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public DiffusionModel Fit(IDataView input) => Optimize(input).Model;

    /// <summary>The input schema plus the generated column of the model.</summary>
    /// <param name="inputSchema">The input shape.</param>
    /// <returns>The output shape.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="inputSchema"/> is null.</exception>
    /// <exception cref="ArgumentException">The feature column is missing or not a known-size float vector.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        FeatureColumnReader.CheckShape(inputSchema, _options.FeatureColumnName);
        return _context.Transforms.CopyColumns(Model.Options.GeneratedColumnName, _options.FeatureColumnName).GetOutputSchema(inputSchema);
    }

    /// <summary>Measures every candidate and returns the model with the best plan and the report.</summary>
    /// <param name="input">Data rows.</param>
    /// <returns>The model and the report.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException">The column is missing or of the wrong type or size, fewer than 4 usable rows, or a
    /// non-finite value with <see cref="MissingValueHandling.Error"/>.</exception>
    /// <exception cref="InvalidOperationException">No candidate could be built.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public ScheduleOptimizationResult Optimize(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var o = _options;
        var token = o.CancellationToken;
        var model = Model;
        int d = model.Dimension;
        int size = FeatureColumnReader.RequireVectorColumn(input.Schema, o.FeatureColumnName, nameof(input));
        if (size != d)
            throw new ArgumentException($"Column '{o.FeatureColumnName}' has {size} values per row, but the model's dimension is {d}.", nameof(input));
        float[] rows = FeatureColumnReader.Read(input, o.FeatureColumnName, d, o.MissingValueHandling == MissingValueHandling.DropRows, out _, token);
        int n = rows.Length / d;
        if (n < 4) throw new ArgumentException($"The data have {n} usable rows; at least 4 are needed (two per split).", nameof(input));

        // Data in z units, split in a selection half and a report half.
        var random = new Random(o.Seed);
        double[] z = model.ToDiffusionUnits(rows);
        var order = Enumerable.Range(0, n).ToArray();
        random.Shuffle(order);
        double[] selectionData = Gather(z, order.AsSpan(0, n / 2), d), reportData = Gather(z, order.AsSpan(n / 2), d);

        Report("reference", 0, 2);
        var selection = new DiscretisationError(model, o.SelectionRows, random.Next(), o.ReferenceSteps, token);
        Report("reference", 1, 2);
        var report = new DiscretisationError(model, o.ReportRows, random.Next(), o.ReferenceSteps, token);
        Report("reference", 2, 2);

        // Paths and their kinetic costs under the model's own path metric.
        var moments = GaussianDataPathMetric.FromData(selectionData, d);
        int metricSeed = random.Next();
        IGaussianPathMetric metric = o.PathMetric == PathMetricSource.GaussianMoments
            ? moments
            : new DenoiserPathMetric(model.Denoiser, selectionData, o.PathMetricSamples, metricSeed);
        double isotropicStd = Math.Sqrt(moments.Eigenvalues.Average());
        var paths = new List<(string Role, NoiseSchedule Schedule)> { ("training", model.Schedule), ("gaussian-ot", new GaussianOtSchedule(isotropicStd)) };
        if (o.FitTransportPath)
        {
            Report("path", 0, 1);
            paths.Add(("fitted-path", GaussianPathGeodesic.Fit(metric).Schedule));
            Report("path", 1, 1);
        }
        var costs = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (role, schedule) in paths) costs[role] = GaussianPathKineticCost.Compute(metric, schedule);

        // Candidate plans.
        var plans = new List<(PlanCandidate Shell, SamplingPlan? Plan)>();
        double trainedTop = model.TrainedNoiseLevelRange.High;
        int grids = 0, gridTotal = paths.Count * o.Samplers.Length * o.Grids.Length;
        SamplingPlan? ddimProgramme = null;
        foreach (var (role, schedule) in paths)
        {
            double top = Math.Min(trainedTop, schedule.Sigma(schedule.MaxTime) / schedule.M(schedule.MaxTime));
            foreach (var sampler in o.Samplers.Distinct().OrderBy(s => s == GenerateSamplerKind.DpmSolverPlusPlus2M ? 1 : 0))
                foreach (var grid in o.Grids.Distinct())
                {
                    token.ThrowIfCancellationRequested();
                    Report("grids", grids++, gridTotal);
                    string label = $"{role} / {grid} / {sampler}";
                    var shell = new PlanCandidate(label, role, grid, sampler, 0, double.NaN, double.NaN, double.NaN, double.NaN, null, null);
                    try
                    {
                        if (grid != SamplingGridKind.DynamicProgramming)
                        {
                            plans.Add((shell, SamplingPlan.Create(schedule, grid, sampler, o.Nfe, top, o.BottomLevel, speed: GaussianPathKineticCost.Speed(metric, schedule))));
                            continue;
                        }
                        if (sampler == GenerateSamplerKind.DpmSolverPlusPlus2M)
                        {
                            // Multistep: no step errors of its own; it takes the DDIM programme's levels on this path.
                            var ddim = ddimProgramme ?? throw new InvalidOperationException("needs the DDIM dynamic-programming grid (add DDIM to Samplers)");
                            plans.Add((shell, new SamplingPlan(schedule, TimeGrid.FromNoiseLevels(schedule, ddim.NoiseLevels()), sampler)));
                            continue;
                        }
                        if (sampler == GenerateSamplerKind.Ddim && role != "training")
                        {
                            // DDIM steps depend on the noise levels only: the programme is the same on every path.
                            var ddim = ddimProgramme ?? throw new InvalidOperationException("the DDIM programme is run on the training schedule");
                            plans.Add((shell, new SamplingPlan(schedule, TimeGrid.FromNoiseLevels(schedule, ddim.NoiseLevels()), sampler)));
                            continue;
                        }
                        var levels = Enumerable.Range(0, o.CandidateLevels)
                            .Select(i => top * Math.Pow(o.BottomLevel / top, i / (double)(o.CandidateLevels - 1))).ToArray();
                        var optimizer = new StepGridOptimizer(model, schedule, sampler, levels,
                            new StepGridOptimizerOptions { Rows = o.OptimizerRows, Seed = random.Next() }, token);
                        var (plan, estimate) = optimizer.Optimize(o.Nfe);
                        if (sampler == GenerateSamplerKind.Ddim) ddimProgramme = plan;
                        plans.Add((shell with { EstimatedError = estimate }, plan));
                    }
                    catch (Exception e) when (e is ArgumentException or InvalidOperationException)
                    {
                        plans.Add((shell with { Failure = e.Message }, null));
                    }
                }
        }
        Report("grids", gridTotal, gridTotal);

        // Measure every candidate on the selection latents and the selection half of the data.
        var candidates = new List<PlanCandidate>(plans.Count);
        for (int i = 0; i < plans.Count; i++)
        {
            Report("candidates", i, plans.Count);
            var (shell, plan) = plans[i];
            if (plan is null)
            {
                candidates.Add(shell);
                continue;
            }
            var samples = selection.Sample(plan, token);
            candidates.Add(shell with
            {
                Nfe = plan.Nfe,
                TopNoiseLevel = plan.TopNoiseLevel,
                Rms = DiscretisationError.Rms(samples, selection.ReferenceSamples, d),
                SlicedW2 = SlicedWasserstein.W2(samples, selection.ReferenceSamples, d, Projections, new Random(o.Seed)),
                HeldOutSlicedW2 = SlicedWasserstein.W2(samples, selectionData, d, Projections, new Random(o.Seed)),
            });
        }
        Report("candidates", plans.Count, plans.Count);
        int best = -1;
        for (int i = 0; i < candidates.Count; i++)
        {
            if (plans[i].Plan is null || candidates[i].Nfe > o.Nfe) continue;
            if (best < 0 || Score(candidates[i]) < Score(candidates[best])) best = i;
        }
        if (best < 0)
            throw new InvalidOperationException("No candidate plan could be built: " + string.Join("; ", candidates.Select(k => $"{k.Label}: {k.Failure}")));
        var chosenPlan = plans[best].Plan!;

        // Report on other latents and the other half of the data.
        Report("report", 0, 3);
        var defaultPlan = model.DefaultSamplingPlan((o.Nfe + 1) / 2);
        var (before, w2Before, mmdBefore) = Evaluate(report, model.SamplingPlan, reportData);
        Report("report", 1, 3);
        var (atBudget, w2Default, _) = Evaluate(report, defaultPlan, reportData);
        Report("report", 2, 3);
        var (after, w2After, mmdAfter) = Evaluate(report, chosenPlan, reportData);
        Report("report", 3, 3);

        var result = new ScheduleOptimizationReport(o.Nfe, o.Criterion, candidates, candidates[best], chosenPlan, model.SamplingPlan, before, atBudget, after,
            w2Before, w2Default, w2After, mmdBefore, mmdAfter, costs, paths.ToDictionary(p => p.Role, p => p.Schedule, StringComparer.Ordinal), Math.Sqrt(moments.SquaredDistanceToNoise), o.SelectionRows, o.ReportRows, o.ReferenceSteps);
        return new ScheduleOptimizationResult(model.WithSamplingPlan(chosenPlan), result);

        double Score(PlanCandidate k) => o.Criterion switch
        {
            PlanSelectionCriterion.SlicedW2 => k.SlicedW2,
            PlanSelectionCriterion.HeldOutSlicedW2 => k.HeldOutSlicedW2,
            _ => k.Rms,
        };

        (PlanError Error, double SlicedW2, double Mmd) Evaluate(DiscretisationError measure, SamplingPlan plan, double[] data)
        {
            var samples = measure.Sample(plan, token);
            var error = new PlanError(plan.Nfe, DiscretisationError.Rms(samples, measure.ReferenceSamples, d),
                SlicedWasserstein.W2(samples, measure.ReferenceSamples, d, Projections, new Random(o.Seed + 1)));
            double w2 = SlicedWasserstein.W2(samples, data, d, Projections, new Random(o.Seed + 1));
            int m = Math.Min(samples.Length / d, MaxMmdRows);
            double mmd = MaximumMeanDiscrepancy.UnbiasedSquared(samples.AsSpan(0, m * d), data, d);
            return (error, w2, mmd);
        }

        void Report(string stage, int done, int total) => o.Progress?.Report(new ScheduleOptimizationProgress(stage, done, total));
    }

    private static double[] Gather(double[] z, ReadOnlySpan<int> rows, int d)
    {
        var result = new double[rows.Length * d];
        for (int r = 0; r < rows.Length; r++) Array.Copy(z, rows[r] * d, result, r * d, d);
        return result;
    }
}
