using System.Buffers;
using System.Numerics.Tensors;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Denoisers;

/// <summary>
/// Adapts a model that predicts x0, eps, v, the score or the probability-flow velocity into an x0 <see cref="IDenoiser"/>,
/// converting with <see cref="PredictionConversions"/>.
/// </summary>
/// <remarks>
/// <para>At sigma = 0 the result is x / m without calling the model (IDenoiser contract), except for
/// <see cref="Prediction.X0"/> models, which are always called.</para>
/// <para>Velocity: nu = mdot x0 + sigmadot eps depends on the path's clock, so a velocity model belongs to a schedule. Given
/// (m, sigma) the wrapper finds the time t with the same log-SNR, t = schedule.TimeAtLogSnr(ln(m / sigma)), rescales
/// the rows to that schedule's level, x' = (m_t / m) x (the posterior of y depends on sigma / m only, so E[y | x] = E[y | x']),
/// calls the model with (x', m_t, sigma_t) and inverts nu with the schedule's mdot and sigmadot at t. The rescaled rows
/// are kept in a per-call buffer rented from <see cref="ArrayPool{T}.Shared"/>. A level whose log-SNR the schedule does not
/// reach (checked to a relative 1e-6) is rejected.</para>
/// <para>Thread-safe when the model is.</para>
/// </remarks>
public sealed class PredictionDenoiser : IDenoiser
{
    private readonly PredictionModel _model;

    /// <summary>Wraps <paramref name="model"/>.</summary>
    /// <param name="dimension">Features per row, d &gt; 0.</param>
    /// <param name="kind">What the model predicts.</param>
    /// <param name="model">The model.</param>
    /// <param name="schedule">The schedule a <see cref="Prediction.Velocity"/> model was trained on; required for that kind, ignored otherwise.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is not positive.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null, or <paramref name="schedule"/> is null for a velocity model.</exception>
    /// <exception cref="ArgumentException"><paramref name="kind"/> is not a defined value.</exception>
    public PredictionDenoiser(int dimension, Prediction kind, PredictionModel model, NoiseSchedule? schedule = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentNullException.ThrowIfNull(model);
        if (!Enum.IsDefined(kind)) throw new ArgumentException($"Unknown prediction kind {kind}.", nameof(kind));
        if (kind == Prediction.Velocity && schedule is null)
            throw new ArgumentNullException(nameof(schedule), "A velocity model needs the schedule that defines its time derivatives.");
        Dimension = dimension;
        Kind = kind;
        _model = model;
        Schedule = kind == Prediction.Velocity ? schedule : null;
    }

    /// <inheritdoc />
    public int Dimension { get; }

    /// <summary>What the wrapped model predicts.</summary>
    public Prediction Kind { get; }

    /// <summary>The schedule of a velocity model; null for other kinds.</summary>
    public NoiseSchedule? Schedule { get; }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">For a velocity model, also when the schedule does not reach the log-SNR ln(m / sigma) (ParamName "sigma").</exception>
    public void Denoise(ReadOnlySpan<double> x, double m, double sigma, Span<double> x0)
    {
        DenoiserArguments.Check(Dimension, x, m, sigma, x0);
        if (((ReadOnlySpan<double>)x0).Overlaps(x))
            throw new ArgumentException("The destination must not overlap the input.", nameof(x0));
        if (Kind == Prediction.X0)
        {
            _model(x, m, sigma, x0);
            return;
        }
        if (sigma == 0)
        {
            TensorPrimitives.Divide(x, m, x0);
            return;
        }
        if (Kind != Prediction.Velocity)
        {
            _model(x, m, sigma, x0);
            PredictionConversions.ToX0(Kind, x, x0, m, sigma, x0);
            return;
        }

        NoiseSchedule schedule = Schedule!;
        double logSnr = Math.Log(m) - Math.Log(sigma);
        double t = schedule.TimeAtLogSnr(logSnr);
        double mt = schedule.M(t), st = schedule.Sigma(t);
        double reached = Math.Log(mt) - Math.Log(st);
        if (!(Math.Abs(reached - logSnr) <= 1e-6 * (1 + Math.Abs(logSnr))))
            throw new ArgumentOutOfRangeException(nameof(sigma), sigma,
                $"The log-SNR ln(m / sigma) = {logSnr} is outside the range of the schedule {schedule} (closest {reached} at t = {t}).");
        double[] rented = ArrayPool<double>.Shared.Rent(x.Length);
        try
        {
            Span<double> scaled = rented.AsSpan(0, x.Length);
            TensorPrimitives.Multiply(x, mt / m, scaled);
            _model(scaled, mt, st, x0);
            PredictionConversions.X0FromVelocity(scaled, x0, mt, st, schedule.MDot(t), schedule.SigmaDot(t), x0);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(rented);
        }
    }
}
