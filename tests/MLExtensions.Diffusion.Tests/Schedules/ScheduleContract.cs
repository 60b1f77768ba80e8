using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Tests.Schedules;

/// <summary>Checks every schedule must pass: derivatives, temperature, endpoints and log-SNR inverse.</summary>
internal static class ScheduleContract
{
    /// <summary>Interior sample points, as fractions of MaxTime.</summary>
    public static readonly double[] Fractions = { 0.003, 0.05, 0.2, 0.45, 0.7, 0.9, 0.99, 0.9999 };

    public static IEnumerable<double> Times(NoiseSchedule s) => Fractions.Select(f => f * s.MaxTime);

    private static double Step(NoiseSchedule s, double t) =>
        Math.Min(1e-6 * s.Tau, 1e-4 * Math.Min(t, s.Tau - t));

    private static void Close(double expected, double actual, double relTol, string what)
    {
        double err = Math.Abs(expected - actual);
        Assert.True(err <= relTol * Math.Max(1.0, Math.Abs(expected)),
            $"{what}: expected {expected}, got {actual} (error {err}).");
    }

    public static void All(NoiseSchedule s, double derivTol = 1e-6)
    {
        Endpoints(s);
        Derivatives(s, derivTol);
        Temperature(s, derivTol);
        LogSnrRoundTrip(s);
    }

    public static void Endpoints(NoiseSchedule s)
    {
        Assert.Equal(1.0, s.M(0), 14);
        Assert.Equal(0.0, s.Sigma(0), 14);
        Assert.Equal(double.PositiveInfinity, s.LogSnr(0));
        Assert.True(s.M(s.MaxTime) > 0, $"{s}: m must be positive at MaxTime.");
        Assert.True(s.MaxTime <= s.Tau);
    }

    public static void Derivatives(NoiseSchedule s, double relTol)
    {
        foreach (double t in Times(s))
        {
            double h = Step(s, t);
            Close((s.M(t + h) - s.M(t - h)) / (2 * h), s.MDot(t), relTol, $"{s} MDot({t})");
            Close((s.Sigma(t + h) - s.Sigma(t - h)) / (2 * h), s.SigmaDot(t), relTol, $"{s} SigmaDot({t})");
            Close(s.MDot(t) / s.M(t), s.DriftRate(t), 1e-12, $"{s} DriftRate({t})");
        }
    }

    /// <summary>T_t = m sigma d/dt(sigma/m), the derivative by central differences; and T_t &gt;= 0.</summary>
    public static void Temperature(NoiseSchedule s, double relTol)
    {
        foreach (double t in Times(s))
        {
            double h = Step(s, t);
            double rhoDot = (s.Sigma(t + h) / s.M(t + h) - s.Sigma(t - h) / s.M(t - h)) / (2 * h);
            double expected = s.M(t) * s.Sigma(t) * rhoDot;
            Close(expected, s.Temperature(t), relTol, $"{s} Temperature({t})");
            Assert.True(s.Temperature(t) >= 0, $"{s}: T({t}) = {s.Temperature(t)} < 0.");
        }
        double t0 = s.Temperature(0);
        Assert.True(double.IsFinite(t0) && t0 >= 0, $"{s}: T(0) = {t0}.");
    }

    public static void LogSnrRoundTrip(NoiseSchedule s)
    {
        foreach (double t in Times(s))
        {
            double back = s.TimeAtLogSnr(s.LogSnr(t));
            Assert.True(Math.Abs(back - t) <= 1e-9 * s.Tau, $"{s}: TimeAtLogSnr(LogSnr({t})) = {back}.");
            Close(Math.Log(s.M(t) / s.Sigma(t)), s.LogSnr(t), 1e-12, $"{s} LogSnr({t})");
        }
        Assert.Equal(0.0, s.TimeAtLogSnr(double.PositiveInfinity));
        Assert.Equal(s.MaxTime, s.TimeAtLogSnr(double.NegativeInfinity));
        Assert.Equal(s.MaxTime, s.TimeAtLogSnr(-1e6));
        Assert.Throws<ArgumentException>("logSnr", () => s.TimeAtLogSnr(double.NaN));
    }

    /// <summary>Variance preserving: m^2 + sigma^2 = 1.</summary>
    public static void VariancePreserving(NoiseSchedule s)
    {
        foreach (double t in Times(s).Append(0.0).Append(s.MaxTime))
        {
            double m = s.M(t), sg = s.Sigma(t);
            Assert.Equal(1.0, m * m + sg * sg, 13);
        }
    }
}
