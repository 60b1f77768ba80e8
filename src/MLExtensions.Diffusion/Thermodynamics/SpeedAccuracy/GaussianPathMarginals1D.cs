using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// The marginals P_t = sum_k w_k N(m_t mu_k, m_t^2 s_k^2 + sigma_t^2) of a Gaussian path (schedule) on 1-D
/// Gaussian-mixture data (SPEC section 8), with the velocity of <see cref="ScheduleVelocityField"/>.
/// </summary>
internal sealed class GaussianPathMarginals1D : IMarginalPath1D
{
    private readonly GaussianMixture1D _data;
    private readonly IMarginalDensity _density;
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
        _density = data;
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

    /// <summary>integral nu^2 P_t dx, from the one home of the kinetic energy, <see cref="EntropyProduction.Rate"/>.</summary>
    public double KineticEnergy(double t) => EntropyProduction.Rate(Schedule, _density, t).KineticEnergy;

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
