using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// The marginals P_t = sum_k w_k N(m_t mu_k, m_t^2 s_k^2 + sigma_t^2) of a Gaussian path (schedule) on 1-D
/// Gaussian-mixture data (SPEC section 8), with the velocity of <see cref="ScheduleVelocityField"/>.
/// </summary>
internal sealed class GaussianPathMarginals1D : IMarginalPath1D
{
    private const int KineticIntervals = 2000;
    private readonly GaussianMixture1D _data;
    private readonly ScheduleVelocityField _field;

    public GaussianPathMarginals1D(NoiseSchedule schedule, IMarginalDensity data)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Dimension != 1)
            throw new ArgumentException($"The exact speed-accuracy computation is 1-D; the data law has dimension {data.Dimension}.", nameof(data));
        _data = data switch
        {
            GaussianMixtureDenoiser g => FromMixture(g),
            GaussianDenoiser g => new GaussianMixture1D([1.0], [g.Mean[0]], [Math.Sqrt(g.Variance[0])]),
            _ => throw new ArgumentException(
                $"The exact 1-D computation needs the marginal CDF, available for {nameof(GaussianMixtureDenoiser)} and {nameof(GaussianDenoiser)} data; got {data.GetType().Name}.",
                nameof(data)),
        };
        Schedule = schedule;
        _field = new ScheduleVelocityField(schedule, data);
    }

    public NoiseSchedule Schedule { get; }

    public string PathName => Schedule.Name;

    public double PathTau => Schedule.Tau;

    public double PathEndTime => Schedule.MaxTime;

    public ILaw1D MarginalAt(double t) => Marginal(t);

    public void QuantilesAndVelocities(double[] levels, bool[] upper, double t, Span<double> x, Span<double> velocity)
    {
        GaussianMixture1D law = Marginal(t);
        for (int i = 0; i < levels.Length; i++) x[i] = law.Quantile(levels[i], upper[i], x[i]);
        _field.Velocity(x, t, velocity);
    }

    /// <summary>integral nu^2 P_t dx by composite Simpson between the 1e-15 tail quantiles of P_t.</summary>
    public double KineticEnergy(double t)
    {
        GaussianMixture1D law = Marginal(t);
        double lo = law.Quantile(1e-15, false), hi = law.Quantile(1e-15, true);
        double h = (hi - lo) / KineticIntervals;
        var x = new double[KineticIntervals + 1];
        var v = new double[KineticIntervals + 1];
        for (int i = 0; i <= KineticIntervals; i++) x[i] = lo + i * h;
        _field.Velocity(x, t, v);
        double sum = 0;
        for (int i = 0; i <= KineticIntervals; i++)
        {
            double w = i == 0 || i == KineticIntervals ? 1 : (i % 2 == 1 ? 4 : 2);
            sum += w * v[i] * v[i] * Math.Exp(law.LogDensity(x[i]));
        }
        return sum * h / 3;
    }

    private GaussianMixture1D Marginal(double t) => _data.Noised(Schedule.M(t), Schedule.Sigma(t));

    private static GaussianMixture1D FromMixture(GaussianMixtureDenoiser g)
    {
        var means = new double[g.ComponentCount];
        var stds = new double[g.ComponentCount];
        for (int k = 0; k < g.ComponentCount; k++)
        {
            means[k] = g.Means[k];
            stds[k] = Math.Sqrt(g.GetCovariance(k)[0, 0]);
        }
        return new GaussianMixture1D(g.Weights, means, stds);
    }
}
