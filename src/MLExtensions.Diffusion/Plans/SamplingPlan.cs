using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;

namespace MLExtensions.Diffusion.Plans;

/// <summary>
/// How a model samples: the Gaussian path (<see cref="Schedule"/>), the decreasing time grid on it (<see cref="Times"/>,
/// ending at t = 0) and the solver (<see cref="Sampler"/>). A <see cref="DiffusionModelParameters"/> carries one
/// (<see cref="DiffusionModelParameters.SamplingPlan"/>, replaced by <see cref="DiffusionModelParameters.WithSamplingPlan"/>); it is saved in
/// the model zip and compiled into the sampler graph.
/// </summary>
/// <remarks>
/// <para>The network is conditioned on the noise level sigma/m (it denoises x/m), so one trained network serves every
/// Gaussian path: the plan's schedule need not be the one the model was trained with. What the network cannot follow
/// is a noise level far outside its training range; <see cref="DiffusionModelParameters.WithSamplingPlan"/> checks
/// <see cref="TopNoiseLevel"/> against <see cref="DiffusionModelParameters.TrainedNoiseLevelRange"/>.</para>
/// <para>Instances are immutable and safe to share between threads.</para>
/// </remarks>
/// <example>
/// <code>
/// var schedule = new GaussianOtSchedule(dataStd: 1.0);
/// var plan = new SamplingPlan(schedule, TimeGrid.Uniform(schedule, steps: 5, tStart: schedule.TimeAtLogSnr(-Math.Log(20))), GenerateSamplerKind.Heun);
/// var tuned = model.WithSamplingPlan(plan);   // plan.Nfe == 9 network evaluations per row
/// </code>
/// </example>
public sealed class SamplingPlan
{
    private readonly double[] _times;

    /// <summary>Creates a plan.</summary>
    /// <param name="schedule">The Gaussian path to sample along.</param>
    /// <param name="times">At least two finite, strictly decreasing times, the first at most the schedule's
    /// <see cref="NoiseSchedule.MaxTime"/>, the last exactly 0 (where the sample is a data row).</param>
    /// <param name="sampler">The solver (default Heun).</param>
    /// <exception cref="ArgumentNullException"><paramref name="schedule"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="times"/> has fewer than two entries (no step: 0 network
    /// evaluations), a non-finite entry, does not decrease strictly (the message names the index), starts above MaxTime, or
    /// does not end at 0.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sampler"/> is not a defined value.</exception>
    public SamplingPlan(NoiseSchedule schedule, ReadOnlySpan<double> times, GenerateSamplerKind sampler = GenerateSamplerKind.Heun)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (!Enum.IsDefined(sampler)) throw new ArgumentOutOfRangeException(nameof(sampler), sampler, "Unknown sampler.");
        if (times.Length < 2)
            throw new ArgumentException($"A sampling plan needs at least one step (two times), but 'times' has {times.Length}: that is 0 network evaluations.", nameof(times));
        for (int i = 0; i < times.Length; i++)
        {
            if (!double.IsFinite(times[i])) throw new ArgumentException($"times[{i}] = {times[i]} is not finite.", nameof(times));
            if (i > 0 && !(times[i] < times[i - 1]))
                throw new ArgumentException($"The grid must decrease strictly, but times[{i}] = {times[i]} is not below times[{i - 1}] = {times[i - 1]}.", nameof(times));
        }
        if (times[0] > schedule.MaxTime)
            throw new ArgumentException($"times[0] = {times[0]} exceeds MaxTime = {schedule.MaxTime} of schedule '{schedule.Name}'.", nameof(times));
        if (times[^1] != 0)
            throw new ArgumentException($"The grid must end at t = 0, where the sample is a data row, but it ends at {times[^1]}.", nameof(times));
        Schedule = schedule;
        Sampler = sampler;
        _times = times.ToArray();
        Nfe = CountEvaluations(schedule, _times, CreateSampler(sampler));
    }

    /// <summary>The Gaussian path sampled along.</summary>
    public NoiseSchedule Schedule { get; }

    /// <summary>The grid: <see cref="Steps"/> + 1 strictly decreasing times from <c>Times[0]</c> down to 0.</summary>
    public ReadOnlySpan<double> Times => _times;

    /// <summary>The solver.</summary>
    public GenerateSamplerKind Sampler { get; }

    /// <summary>Solver steps, Times.Length - 1.</summary>
    public int Steps => _times.Length - 1;

    /// <summary>Network evaluations per row (counted by running the solver on a one-row stub: Heun makes 2 per step except
    /// one on a final step to sigma = 0; Euler, DDIM and DPM-Solver++(2M) make one per step).</summary>
    public int Nfe { get; }

    /// <summary>The noise level sigma/m at the first time, where sampling starts.</summary>
    public double TopNoiseLevel => Schedule.Sigma(_times[0]) / Schedule.M(_times[0]);

    /// <summary>The noise level sigma/m at every time of the grid (the last is 0).</summary>
    /// <returns>Steps + 1 decreasing levels.</returns>
    public double[] NoiseLevels()
    {
        var levels = new double[_times.Length];
        for (int i = 0; i < levels.Length; i++) levels[i] = Schedule.Sigma(_times[i]) / Schedule.M(_times[i]);
        return levels;
    }

    /// <summary>The solver object of <see cref="Sampler"/>.</summary>
    /// <returns>A new solver.</returns>
    public ISampler CreateSampler() => CreateSampler(Sampler);

    /// <summary>The solver object of <paramref name="kind"/>.</summary>
    /// <param name="kind">The solver kind.</param>
    /// <returns>A new solver.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not a defined value.</exception>
    public static ISampler CreateSampler(GenerateSamplerKind kind) => kind switch
    {
        GenerateSamplerKind.Heun => new HeunSampler(),
        GenerateSamplerKind.Euler => new EulerSampler(),
        GenerateSamplerKind.Ddim => new DdimSampler(),
        GenerateSamplerKind.DpmSolverPlusPlus2M => new DpmSolverPlusPlus2M(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown sampler."),
    };

    /// <summary>The number of steps that spends <paramref name="nfe"/> network evaluations per row with a grid ending at 0:
    /// (nfe + 1) / 2 for Heun (nfe must be odd), nfe for the one-evaluation-per-step solvers.</summary>
    /// <param name="kind">The solver kind.</param>
    /// <param name="nfe">The budget, at least 1.</param>
    /// <returns>The steps.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="nfe"/> is below 1, or even for Heun (Heun spends
    /// 2 steps - 1), or <paramref name="kind"/> is not defined.</exception>
    public static int StepsForNfe(GenerateSamplerKind kind, int nfe)
    {
        if (!Enum.IsDefined(kind)) throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown sampler.");
        if (nfe < 1) throw new ArgumentOutOfRangeException(nameof(nfe), nfe, "The NFE budget must be at least 1 network evaluation.");
        if (kind != GenerateSamplerKind.Heun) return nfe;
        if (nfe % 2 == 0)
            throw new ArgumentOutOfRangeException(nameof(nfe), nfe, "Heun spends 2 steps - 1 evaluations on a grid ending at 0, so its NFE is odd.");
        return (nfe + 1) / 2;
    }

    /// <summary>A plan with a grid of the given kind for an NFE budget: steps = (nfe + 1) / 2 for Heun (whose NFE is then
    /// 2 steps - 1, one less than an even budget), nfe for the other solvers; the grid runs from
    /// <paramref name="topLevel"/> down to <paramref name="bottomLevel"/> (where a grid has such a level) and then 0.</summary>
    /// <param name="schedule">The schedule.</param>
    /// <param name="grid">The grid kind (not <see cref="SamplingGridKind.DynamicProgramming"/>).</param>
    /// <param name="sampler">The solver.</param>
    /// <param name="nfe">The budget, at least 1.</param>
    /// <param name="topLevel">The noise level sigma/m of the first time; at most the schedule's level at MaxTime.</param>
    /// <param name="bottomLevel">The last positive level of the EDM-rho and log-SNR grids (default 0.002); below
    /// <paramref name="topLevel"/>.</param>
    /// <param name="rho">The EDM exponent (default 7).</param>
    /// <param name="speed">The speed v(t) of <see cref="SamplingGridKind.EqualLength"/>; required for it, ignored otherwise.</param>
    /// <returns>The plan.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="schedule"/> is null, or <paramref name="speed"/> for an
    /// equal-length grid.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="nfe"/> is below 1, a level is out of range, or an enum
    /// is not defined.</exception>
    /// <exception cref="ArgumentException"><paramref name="grid"/> is <see cref="SamplingGridKind.DynamicProgramming"/>, or
    /// the grid cannot be resolved.</exception>
    public static SamplingPlan Create(NoiseSchedule schedule, SamplingGridKind grid, GenerateSamplerKind sampler, int nfe, double topLevel,
        double bottomLevel = 0.002, double rho = 7.0, Func<double, double>? speed = null)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (!Enum.IsDefined(sampler)) throw new ArgumentOutOfRangeException(nameof(sampler), sampler, "Unknown sampler.");
        if (nfe < 1) throw new ArgumentOutOfRangeException(nameof(nfe), nfe, "The NFE budget must be at least 1 network evaluation.");
        if (!(double.IsFinite(bottomLevel) && bottomLevel > 0 && bottomLevel < topLevel))
            throw new ArgumentOutOfRangeException(nameof(bottomLevel), bottomLevel, $"'bottomLevel' must be positive and below topLevel = {topLevel}.");
        int steps = sampler == GenerateSamplerKind.Heun ? (nfe + 1) / 2 : nfe;
        double tTop = TimeGrid.FromNoiseLevels(schedule, [topLevel, 0])[0];
        double[] times = grid switch
        {
            SamplingGridKind.EdmRho => TimeGrid.EdmRho(schedule, steps, bottomLevel, topLevel, rho),
            SamplingGridKind.UniformLogSnr => TimeGrid.UniformLogSnr(schedule, steps, tTop, TimeGrid.FromNoiseLevels(schedule, [bottomLevel, 0])[0], appendZero: true),
            SamplingGridKind.UniformTime => TimeGrid.Uniform(schedule, steps, tTop),
            SamplingGridKind.UniformAngle => TimeGrid.FromNoiseLevels(schedule, UniformAngleLevels(steps, topLevel)),
            SamplingGridKind.EqualLength => Thermodynamics.ScheduleRetiming.EqualLengthSteps(schedule,
                speed ?? throw new ArgumentNullException(nameof(speed), "An equal-length grid needs the speed v(t)."), steps, tTop, 0).Times,
            SamplingGridKind.DynamicProgramming => throw new ArgumentException(
                "A dynamic-programming grid needs measured step errors of a model: use StepGridOptimizer.", nameof(grid)),
            _ => throw new ArgumentOutOfRangeException(nameof(grid), grid, "Unknown grid kind."),
        };
        return new SamplingPlan(schedule, times, sampler);
    }

    /// <summary>steps + 1 noise levels tan(phi_i), phi_i = atan(top) (steps - i) / steps: uniform in the polar angle, ending at 0.</summary>
    internal static double[] UniformAngleLevels(int steps, double topLevel)
    {
        double top = Math.Atan(topLevel);
        var levels = new double[steps + 1];
        levels[0] = topLevel;
        for (int i = 1; i < steps; i++) levels[i] = Math.Tan(top * (steps - i) / steps);
        return levels;
    }

    /// <summary>The plan as JSON: <c>{"sampler": "Heun", "times": [...], "schedule": {...}}</c> with the schedule written by
    /// <see cref="ScheduleJson"/>.</summary>
    /// <returns>The document.</returns>
    /// <exception cref="NotSupportedException">The schedule cannot be written (see <see cref="ScheduleJson"/>).</exception>
    public string ToJson()
    {
        var node = new JsonObject
        {
            ["sampler"] = Sampler.ToString(),
            ["nfe"] = Nfe,
            ["times"] = new JsonArray(_times.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()),
            ["schedule"] = JsonNode.Parse(ScheduleJson.Serialize(Schedule)),
        };
        return node.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Reads <see cref="ToJson"/>'s document.</summary>
    /// <param name="json">The document.</param>
    /// <returns>The plan.</returns>
    /// <exception cref="ArgumentException"><paramref name="json"/> is blank.</exception>
    /// <exception cref="InvalidDataException">The document is malformed, names an unknown sampler, or holds an invalid
    /// schedule or grid (the message says which).</exception>
    public static SamplingPlan FromJson(string json)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(json);
        try
        {
            var node = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException("The sampling plan document is not a JSON object.");
            string samplerName = node["sampler"]?.GetValue<string>() ?? throw new InvalidDataException("The sampling plan document lacks 'sampler'.");
            if (!Enum.TryParse<GenerateSamplerKind>(samplerName, ignoreCase: false, out var sampler) || !Enum.IsDefined(sampler))
                throw new InvalidDataException($"The sampling plan names the unknown sampler '{samplerName}'.");
            var times = (node["times"] as JsonArray ?? throw new InvalidDataException("The sampling plan document lacks 'times'."))
                .Select(v => v?.GetValue<double>() ?? throw new InvalidDataException("The sampling plan's 'times' holds a null.")).ToArray();
            var scheduleNode = node["schedule"] ?? throw new InvalidDataException("The sampling plan document lacks 'schedule'.");
            var schedule = ScheduleJson.Deserialize(scheduleNode.ToJsonString());
            return new SamplingPlan(schedule, times, sampler);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            throw new InvalidDataException($"The sampling plan document is malformed: {e.Message}", e);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"The sampling plan document holds an invalid plan: {e.Message}", e);
        }
    }

    /// <summary>A one-line description, e.g. "Heun, 5 steps (NFE 9) on cosine(tau=1) from sigma/m = 20".</summary>
    /// <returns>The description.</returns>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Sampler}, {Steps} steps (NFE {Nfe}) on {Schedule} from sigma/m = {TopNoiseLevel:G4}");

    private static int CountEvaluations(NoiseSchedule schedule, double[] times, ISampler sampler) =>
        sampler.Sample(new ZeroDenoiser(), schedule, times, new double[1], new Random(0)).Nfe;

    /// <summary>A one-feature denoiser returning 0: enough to count a solver's evaluations.</summary>
    private sealed class ZeroDenoiser : IDenoiser
    {
        public int Dimension => 1;

        public void Denoise(ReadOnlySpan<double> x, double m, double sigma, Span<double> x0) => x0.Clear();
    }
}
