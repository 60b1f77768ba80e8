using MLExtensions.Diffusion.Thermodynamics;

namespace PaperReproduction;

/// <summary>Placeholder Euler / Heun on an <see cref="IVelocityField"/> until ProbabilityFlow lands on main.</summary>
internal static class FlowSteps
{
    public static int Integrate(IVelocityField field, Span<double> x, ReadOnlySpan<double> times, bool heun)
    {
        var k1 = new double[x.Length];
        var k2 = new double[x.Length];
        var xp = new double[x.Length];
        int nfe = 0;
        for (int i = 0; i + 1 < times.Length; i++)
        {
            double h = times[i + 1] - times[i];
            field.Velocity(x, times[i], k1);
            nfe++;
            if (!heun)
            {
                for (int j = 0; j < x.Length; j++) x[j] += h * k1[j];
                continue;
            }
            for (int j = 0; j < x.Length; j++) xp[j] = x[j] + h * k1[j];
            field.Velocity(xp, times[i + 1], k2);
            nfe++;
            for (int j = 0; j < x.Length; j++) x[j] += 0.5 * h * (k1[j] + k2[j]);
        }
        return nfe;
    }
}
