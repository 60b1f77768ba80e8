using System.Globalization;
using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Training;

namespace MLExtensions.Diffusion.Onnx;

/// <summary>
/// Compiles a whole sampler run (a <see cref="NeuralDenoiser"/>, a <see cref="NoiseSchedule"/>, a time grid and one of
/// the solvers) into one ONNX graph: the schedule constants at the grid times and the solver coefficients are baked in
/// as float constants, and the network is unrolled once per network evaluation, every copy reading the same weight
/// initializers (the weights are stored once).
/// </summary>
/// <remarks>
/// <para>Units. This is the low-level compiler: the graph runs in the units of the <see cref="NeuralDenoiser"/> it is
/// given (the rows that denoiser was trained on) and starts from x = sigma_{times[0]} noise. For a
/// <see cref="MLExtensions.Diffusion.Models.DiffusionModelParameters"/>'s <c>Denoiser</c> those are the model's standardised units
/// z = (y - FeatureScaler.Mean) / FeatureScaler.Scale (under <see cref="MLExtensions.Diffusion.Models.FeatureScaling.PerFeature"/>), and the start
/// is not the model's start law (<see cref="MLExtensions.Diffusion.Models.DiffusionModelParameters.StartLaw"/>), so the same noise does not give
/// <see cref="MLExtensions.Diffusion.Models.DiffusionModelParameters.GenerateFromNoise(ReadOnlySpan{float}, ISampler?, int?, int)"/>'s rows. For samples in data units, equal to
/// <c>GenerateFromNoise</c> of the same latents, use <see cref="MLExtensions.Diffusion.Models.DiffusionModelParameters.ExportSamplerOnnx(ISampler?, int?)"/>
/// or <see cref="MLExtensions.Diffusion.Models.DiffusionModelParameters.ExportSamplerOnnx(Plans.SamplingPlan)"/>, which compile with the model's start law and
/// de-standardisation built in.</para>
/// <para>Graph signature (all float32, N symbolic):</para>
/// <list type="bullet">
/// <item><description>input <c>noise</c> [N, d]: standard-normal draws; the graph starts from
/// x = sigma_{times[0]} noise, the prior start with the m_{times[0]} y term dropped (as the C# path does when it starts
/// from sigma_T eps);</description></item>
/// <item><description>input <c>step_noise</c> [S, N, d] (stochastic samplers only, S = <see cref="SamplerGraph.NoiseDraws"/>):
/// the standard-normal draws of the noisy steps, in the order the C# sampler draws them (see
/// <see cref="SamplerGraph.FillStepNoise"/>);</description></item>
/// <item><description>output <c>samples</c> [N, d]: the rows at times[^1], in the denoiser's units (standardised units
/// for a <see cref="MLExtensions.Diffusion.Models.DiffusionModelParameters"/>'s denoiser: map them with y = FeatureScaler.Mean + FeatureScaler.Scale z; see
/// Units above).</description></item>
/// </list>
/// <para>Supported solvers (the same objects the C# engine runs): <see cref="EulerSampler"/>, <see cref="HeunSampler"/>,
/// <see cref="DdimSampler"/> (any eta), <see cref="DpmSolverPlusPlus2M"/>, <see cref="DdpmAncestralSampler"/> (both
/// variances) and <see cref="EulerMaruyamaSampler"/>. Each step is affine in the state and the denoiser outputs; the
/// coefficients are computed here in double from the schedule, following the solver's C# implementation (whose class
/// documents the formula), and the tests hold the graph to the C# sampler's output.</para>
/// <para>The state is carried in float32; the samples agree with the C# sampler (double state, same float network) to
/// about 1e-5 on O(1) data (the tests require 1e-4). The graph is immutable: recompile to change the grid or solver.</para>
/// <para>Metadata (<c>metadata_props</c>): <c>mlext.kind = sampler</c>, <c>mlext.sampler</c>, <c>mlext.nfe</c>,
/// <c>mlext.steps</c>, <c>mlext.noise_draws</c>, <c>mlext.schedule</c>, <c>mlext.times</c> (comma-separated, round-trip),
/// <c>mlext.start</c>, and the denoiser's metadata of <see cref="NetworkOnnxExporter"/>.</para>
/// </remarks>
public static class SamplerGraphCompiler
{
    /// <summary>Name of the start-noise input [N, d].</summary>
    public const string InputNoise = "noise";

    /// <summary>Name of the per-step noise input [S, N, d] of stochastic samplers.</summary>
    public const string InputStepNoise = "step_noise";

    /// <summary>Name of the output [N, d].</summary>
    public const string OutputSamples = "samples";

    /// <summary>The <c>mlext.kind</c> metadata value of a compiled sampler.</summary>
    public const string Kind = "sampler";

    /// <summary>Compiles <paramref name="sampler"/> run with <paramref name="denoiser"/> along <paramref name="times"/>: the
    /// graph maps <c>noise</c> to x = sigma_{times[0]} noise and returns the solver's rows at times[^1] in
    /// <paramref name="denoiser"/>'s units (for <c>DiffusionModel.Denoiser</c>: standardised units, not data units; use
    /// <see cref="MLExtensions.Diffusion.Models.DiffusionModelParameters.ExportSamplerOnnx(ISampler?, int?)"/> for a graph in data units).</summary>
    /// <param name="denoiser">The neural denoiser; its current weights are copied into the model.</param>
    /// <param name="schedule">The (m, sigma) path.</param>
    /// <param name="times">Strictly decreasing times, at least two, within [0, schedule.MaxTime]; only the last may have sigma = 0.</param>
    /// <param name="sampler">One of the supported solvers (see remarks).</param>
    /// <returns>The compiled graph and what it needs as inputs.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The times are invalid for the schedule (as for <see cref="ISampler.Sample"/>), or
    /// <paramref name="sampler"/> is not a supported solver.</exception>
    public static SamplerGraph Compile(NeuralDenoiser denoiser, NoiseSchedule schedule, ReadOnlySpan<double> times, ISampler sampler) => Compile(denoiser, schedule, times, sampler, null, null);

    /// <summary>
    /// <see cref="Compile(NeuralDenoiser, NoiseSchedule, ReadOnlySpan{double}, ISampler)"/> with an affine start and an
    /// affine read-out: the graph starts from x_j = start.Shift_j + start.Scale_j noise_j instead of sigma_{times[0]} noise,
    /// and outputs y_j = output.Shift_j + output.Scale_j x_j (null: the default start, the identity read-out).
    /// </summary>
    internal static SamplerGraph Compile(NeuralDenoiser denoiser, NoiseSchedule schedule, ReadOnlySpan<double> times, ISampler sampler,
        (double[] Shift, double[] Scale)? start, (double[] Shift, double[] Scale)? output)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(sampler);
        int d = denoiser.Dimension;
        SamplerArguments.Check(denoiser, schedule, times, new double[d]);
        var grid = times.ToArray();
        var plan = StepPlan.For(sampler, schedule, grid);

        var g = new OnnxGraphBuilder("mlext_sampler");
        string noise = g.AddInput(InputNoise, OnnxElementType.Float, "N", d);
        string? stepNoise = plan.NoiseDraws > 0 ? g.AddInput(InputStepNoise, OnnxElementType.Float, plan.NoiseDraws, "N", d) : null;
        var emitter = new DenoiserGraphEmitter(g, denoiser);
        var writer = new StepWriter(g, emitter, schedule, stepNoise);
        string x = start is { } s0
            ? g.Add(g.Mul(noise, g.AddInitializer("start_scale", s0.Scale, d)), g.AddInitializer("start_shift", s0.Shift, d))
            : g.Mul(noise, g.Constant((float)schedule.Sigma(grid[0])));
        x = plan.Emit(writer, x);
        if (output is { } r)
            x = g.Add(g.Mul(x, g.AddInitializer("output_scale", r.Scale, d)), g.AddInitializer("output_shift", r.Shift, d));
        g.AddOutput(x, OutputSamples, OnnxElementType.Float, "N", d);

        var c = CultureInfo.InvariantCulture;
        g.SetMetadata("mlext.kind", Kind);
        g.SetMetadata("mlext.sampler", sampler.Name);
        g.SetMetadata("mlext.nfe", writer.Nfe.ToString(c));
        g.SetMetadata("mlext.steps", (grid.Length - 1).ToString(c));
        g.SetMetadata("mlext.noise_draws", writer.NoiseDraws.ToString(c));
        g.SetMetadata("mlext.schedule", schedule.ToString());
        g.SetMetadata("mlext.times", string.Join(",", grid.Select(t => t.ToString("R", c))));
        g.SetMetadata("mlext.start", start is null ? "x = sigma(times[0]) * noise" : "x = start_shift + start_scale * noise");
        if (output is not null) g.SetMetadata("mlext.output", "samples = output_shift + output_scale * x");
        NetworkOnnxExporter.AddDenoiserMetadata(g, denoiser);
        return new SamplerGraph(g.Build(), sampler.Name, schedule.ToString(), grid, d, writer.Nfe, writer.NoiseDraws);
    }

    /// <summary>Emits denoiser calls, affine combinations and noise terms, counting network evaluations and noise draws.</summary>
    private sealed class StepWriter(OnnxGraphBuilder g, DenoiserGraphEmitter emitter, NoiseSchedule schedule, string? stepNoise)
    {
        public NoiseSchedule Schedule { get; } = schedule;

        public int Nfe { get; private set; }

        public int NoiseDraws { get; private set; }

        /// <summary>x0hat of the rows <paramref name="x"/> at time <paramref name="t"/> (sigma_t &gt; 0).</summary>
        public string Denoise(string x, double t)
        {
            Nfe++;
            return emitter.Denoise(x, Schedule.M(t), Schedule.Sigma(t));
        }

        /// <summary>The next standard-normal draw [N, d] (slice k of step_noise).</summary>
        public string NextNoise()
        {
            long k = NoiseDraws++;
            string index = g.AddInt64Initializer("step_index", new[] { k });
            return g.AddNode("Gather", new[] { stepNoise!, index }, OnnxAttribute.Int("axis", 0));
        }

        /// <summary>Consumes a draw the solver makes but multiplies by zero (no nodes), keeping later draws aligned.</summary>
        public void SkipNoise() => NoiseDraws++;

        /// <summary>sum_k c_k v_k over the terms with a non-zero coefficient (double coefficients rounded to float once).</summary>
        public string Combine(params (string Value, double Coefficient)[] terms)
        {
            string? sum = null;
            foreach (var (value, coefficient) in terms)
            {
                if (coefficient == 0) continue;
                string term = coefficient == 1 ? value : g.Mul(value, g.Constant((float)coefficient));
                sum = sum is null ? term : g.Add(sum, term);
            }
            return sum ?? g.Mul(terms[0].Value, g.Constant(0f));
        }
    }

    /// <summary>The solver-specific unrolling: how many noise draws it makes and how it emits its steps.</summary>
    private abstract class StepPlan
    {
        public abstract int NoiseDraws { get; }

        public abstract string Emit(StepWriter w, string x);

        public static StepPlan For(ISampler sampler, NoiseSchedule schedule, double[] times) => sampler switch
        {
            EulerSampler => new EulerPlan(times),
            HeunSampler => new HeunPlan(times),
            DdimSampler ddim => new DdimPlan(times, schedule, ddim.Eta),
            DpmSolverPlusPlus2M => new DpmPlusPlus2MPlan(times),
            DdpmAncestralSampler ddpm => new DdpmPlan(times, schedule, ddpm.Variance),
            EulerMaruyamaSampler => new EulerMaruyamaPlan(times),
            _ => throw new ArgumentException(
                $"The sampler '{sampler.Name}' ({sampler.GetType().Name}) cannot be compiled; supported: Euler, Heun, DDIM, DPM-Solver++(2M), DDPM ancestral, Euler-Maruyama.",
                nameof(sampler)),
        };

        /// <summary>The probability-flow velocity nu = mdot x0hat + sigmadot (x - m x0hat) / sigma as (coefficient of x, coefficient of x0hat).</summary>
        protected static (double X, double X0) Velocity(NoiseSchedule s, double t)
        {
            double sigma = s.Sigma(t), sigmaDot = s.SigmaDot(t);
            return (sigmaDot / sigma, s.MDot(t) - sigmaDot * s.M(t) / sigma);
        }
    }

    /// <summary><see cref="EulerSampler"/>: x += h nu_t(x).</summary>
    private sealed class EulerPlan(double[] times) : StepPlan
    {
        public override int NoiseDraws => 0;

        public override string Emit(StepWriter w, string x)
        {
            for (int i = 0; i + 1 < times.Length; i++)
            {
                double t = times[i], h = times[i + 1] - t;
                string x0 = w.Denoise(x, t);
                var v = Velocity(w.Schedule, t);
                x = w.Combine((x, 1 + h * v.X), (x0, h * v.X0));
            }
            return x;
        }
    }

    /// <summary><see cref="HeunSampler"/>: Euler predictor, trapezoidal corrector skipped when sigma_next = 0.</summary>
    private sealed class HeunPlan(double[] times) : StepPlan
    {
        public override int NoiseDraws => 0;

        public override string Emit(StepWriter w, string x)
        {
            for (int i = 0; i + 1 < times.Length; i++)
            {
                double t = times[i], tn = times[i + 1], h = tn - t;
                string x0 = w.Denoise(x, t);
                var v0 = Velocity(w.Schedule, t);
                string predictor = w.Combine((x, 1 + h * v0.X), (x0, h * v0.X0));
                if (w.Schedule.Sigma(tn) == 0)
                {
                    x = predictor;
                    continue;
                }
                string x0Next = w.Denoise(predictor, tn);
                var v1 = Velocity(w.Schedule, tn);
                double half = 0.5 * h;
                x = w.Combine((x, 1 + half * v0.X), (x0, half * v0.X0), (predictor, half * v1.X), (x0Next, half * v1.X0));
            }
            return x;
        }
    }

    /// <summary><see cref="DdimSampler"/>: x_s = m_s x0hat + sqrt(sigma_s^2 - c^2) epshat + c z.</summary>
    private sealed class DdimPlan : StepPlan
    {
        private readonly double[] _times;
        private readonly double[] _c;

        public DdimPlan(double[] times, NoiseSchedule schedule, double eta)
        {
            _times = times;
            _c = new double[times.Length - 1];
            for (int i = 0; i < _c.Length; i++)
            {
                double t = times[i], s = times[i + 1];
                _c[i] = DdimSampler.NoiseScale(eta, schedule.M(t), schedule.Sigma(t), schedule.M(s), schedule.Sigma(s));
            }
        }

        public override int NoiseDraws => _c.Count(c => c > 0);

        public override string Emit(StepWriter w, string x)
        {
            var sch = w.Schedule;
            for (int i = 0; i + 1 < _times.Length; i++)
            {
                double t = _times[i], s = _times[i + 1];
                double mT = sch.M(t), sigmaT = sch.Sigma(t), mS = sch.M(s), sigmaS = sch.Sigma(s), c = _c[i];
                string x0 = w.Denoise(x, t);
                double a = Math.Sqrt(Math.Max(0, sigmaS * sigmaS - c * c));
                // epshat = (x - m_t x0hat) / sigma_t.
                var terms = new List<(string, double)> { (x, a / sigmaT), (x0, mS - a * mT / sigmaT) };
                if (c > 0) terms.Add((w.NextNoise(), c));
                x = w.Combine(terms.ToArray());
            }
            return x;
        }
    }

    /// <summary><see cref="DpmSolverPlusPlus2M"/>: multistep data-prediction update; DDIM on the first step, m_s x0hat on a final step to sigma = 0.</summary>
    private sealed class DpmPlusPlus2MPlan(double[] times) : StepPlan
    {
        public override int NoiseDraws => 0;

        public override string Emit(StepWriter w, string x)
        {
            var sch = w.Schedule;
            string? x0Previous = null;
            double hPrevious = 0;
            for (int i = 0; i + 1 < times.Length; i++)
            {
                double t = times[i], s = times[i + 1];
                double sigmaT = sch.Sigma(t), mS = sch.M(s), sigmaS = sch.Sigma(s);
                string x0 = w.Denoise(x, t);
                if (sigmaS == 0)
                {
                    x = w.Combine((x0, mS));
                }
                else
                {
                    double h = sch.LogSnr(s) - sch.LogSnr(t);
                    double ratio = sigmaS / sigmaT, phi = mS * (1 - Math.Exp(-h));
                    if (i == 0)
                    {
                        x = w.Combine((x, ratio), (x0, phi));
                    }
                    else
                    {
                        double r = hPrevious / h, b = 1 / (2 * r), a = 1 + b;
                        x = w.Combine((x, ratio), (x0, phi * a), (x0Previous!, -phi * b));
                    }
                    hPrevious = h;
                }
                x0Previous = x0;
            }
            return x;
        }
    }

    /// <summary><see cref="DdpmAncestralSampler"/>: x_s = c_x x_t + c_0 x0hat + sqrt(var) z.</summary>
    private sealed class DdpmPlan : StepPlan
    {
        private readonly double[] _times;
        private readonly (double Cx, double C0, double Sd)[] _steps;

        public DdpmPlan(double[] times, NoiseSchedule schedule, DdpmVariance variance)
        {
            _times = times;
            _steps = new (double, double, double)[times.Length - 1];
            for (int i = 0; i < _steps.Length; i++)
            {
                double t = times[i], s = times[i + 1];
                double mT = schedule.M(t), sigmaT = schedule.Sigma(t), mS = schedule.M(s), sigmaS = schedule.Sigma(s);
                double a = mT / mS, st2 = sigmaT * sigmaT, ss2 = sigmaS * sigmaS;
                double transition = Math.Max(0, st2 - a * a * ss2);
                double v = sigmaS == 0 ? 0
                    : variance == DdpmVariance.BetaTilde ? ss2 * transition / st2
                    : (mS * mS + ss2) * transition / (mT * mT + st2);
                _steps[i] = (a * ss2 / st2, mS * transition / st2, v > 0 ? Math.Sqrt(v) : 0);
            }
        }

        public override int NoiseDraws => _steps.Count(s => s.Sd > 0);

        public override string Emit(StepWriter w, string x)
        {
            for (int i = 0; i < _steps.Length; i++)
            {
                string x0 = w.Denoise(x, _times[i]);
                var (cx, c0, sd) = _steps[i];
                x = sd > 0 ? w.Combine((x, cx), (x0, c0), (w.NextNoise(), sd)) : w.Combine((x, cx), (x0, c0));
            }
            return x;
        }
    }

    /// <summary><see cref="EulerMaruyamaSampler"/>: x_s = x_t - h [f_t x_t - 2 T_t s_t(x_t)] + sqrt(2 T_t h) z; every step draws.</summary>
    private sealed class EulerMaruyamaPlan(double[] times) : StepPlan
    {
        public override int NoiseDraws => times.Length - 1;

        public override string Emit(StepWriter w, string x)
        {
            var sch = w.Schedule;
            for (int i = 0; i + 1 < times.Length; i++)
            {
                double t = times[i], h = t - times[i + 1];
                double m = sch.M(t), sigma = sch.Sigma(t), f = sch.DriftRate(t), temperature = sch.Temperature(t);
                string x0 = w.Denoise(x, t);
                double noise = Math.Sqrt(2 * Math.Max(0, temperature) * h);
                // score = -(x - m x0hat) / sigma^2, so x_s = (1 - h f - 2 h T / sigma^2) x + (2 h T m / sigma^2) x0hat + noise z.
                double k = 2 * h * temperature / (sigma * sigma);
                if (noise > 0)
                {
                    x = w.Combine((x, 1 - h * f - k), (x0, k * m), (w.NextNoise(), noise));
                }
                else
                {
                    w.SkipNoise();
                    x = w.Combine((x, 1 - h * f - k), (x0, k * m));
                }
            }
            return x;
        }
    }
}
