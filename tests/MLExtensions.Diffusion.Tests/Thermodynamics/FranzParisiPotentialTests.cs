using MathNet.Numerics.Distributions;
using MLExtensions.Diffusion.Thermodynamics;

namespace MLExtensions.Diffusion.Tests.Thermodynamics;

public class FranzParisiPotentialTests
{
    private static int LocalMinima(double[] v)
    {
        int count = 0;
        for (int i = 1; i < v.Length - 1; i++)
            if (v[i] < v[i - 1] && v[i] <= v[i + 1]) count++;
        return count;
    }

    [Fact]
    public void MonteCarloMatchesTheClosedFormUpToAConstant()
    {
        const double mu = 2, s = 0.6, t = 0.5;
        var mixture = new SymmetricGaussianMixtureOu([mu], s);
        double[] q = [-3, -2, -1, 0, 0.5, 1, 2, 3];
        var v = new double[q.Length];
        const int n = 200000;
        FranzParisiPotential.Evaluate(mixture, q, t, n, new Random(4), v);
        // E|y| for the symmetric mixture (folded normal), and -ln q(q) written out.
        double absMean = s * Math.Sqrt(2 / Math.PI) * Math.Exp(-mu * mu / (2 * s * s)) + mu * (1 - 2 * Normal.CDF(0, 1, -mu / s));
        double NegLogQ(double x) => -Math.Log(0.5 * (Normal.PDF(mu, s, x) + Normal.PDF(-mu, s, x)));
        double e2 = Math.Exp(-2 * t), delta = 1 - e2;
        double Closed(double x) => e2 * (x - absMean) * (x - absMean) / (2 * delta) + NegLogQ(x);
        double second = mu * mu + s * s;
        for (int i = 0; i < q.Length; i++)
        {
            double tolerance = 5 * Math.Exp(-t) * Math.Abs(q[i] - q[3]) * Math.Sqrt((e2 * second + delta) / n) / delta + 1e-9;
            Assert.True(Math.Abs(v[i] - v[3] - (Closed(q[i]) - Closed(q[3]))) < tolerance, $"q = {q[i]}");
        }
    }

    [Fact]
    public void TwoWellsAtLargeTimeOneWellAtSmallTime()
    {
        var mixture = new SymmetricGaussianMixtureOu([2.0], 0.5);
        double ts = SpeciationTime.CurvatureAtOrigin(mixture);
        var q = Enumerable.Range(0, 801).Select(i => -4 + 0.01 * i).ToArray();
        var v = new double[q.Length];
        FranzParisiPotential.Evaluate(mixture, q, 3 * ts, 20000, new Random(1), v);
        Assert.Equal(2, LocalMinima(v));
        // both wells have (nearly) equal depth: the class is not chosen yet
        Assert.True(Math.Abs(v[200] - v[600]) < 0.1, $"{v[200]} vs {v[600]}");
        FranzParisiPotential.Evaluate(mixture, q, 0.1 * ts, 20000, new Random(1), v);
        Assert.Equal(1, LocalMinima(v));
        Assert.True(q[Array.IndexOf(v, v.Min())] > 0, "the surviving well is the reference's class");
    }

    [Fact]
    public void InvalidInputsAreRejectedWithTheArgumentName()
    {
        var mixture = new SymmetricGaussianMixtureOu([1.0], 1.0);
        var dst = new double[1];
        var random = new Random(1);
        Assert.Equal("mixture", Assert.Throws<ArgumentException>(() =>
            FranzParisiPotential.Evaluate(new SymmetricGaussianMixtureOu([1.0, 1.0], 1), [0.0], 1, 10, random, dst)).ParamName);
        Assert.Equal("t", Assert.Throws<ArgumentOutOfRangeException>(() => FranzParisiPotential.Evaluate(mixture, [0.0], 0, 10, random, dst)).ParamName);
        Assert.Equal("overlaps", Assert.Throws<ArgumentException>(() => FranzParisiPotential.Evaluate(mixture, [double.NaN], 1, 10, random, dst)).ParamName);
        Assert.Equal("overlaps", Assert.Throws<ArgumentException>(() => FranzParisiPotential.Evaluate(mixture, [], 1, 10, random, [])).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => FranzParisiPotential.Evaluate(mixture, [0.0, 1.0], 1, 10, random, dst)).ParamName);
        Assert.Equal("sampleCount", Assert.Throws<ArgumentOutOfRangeException>(() => FranzParisiPotential.Evaluate(mixture, [0.0], 1, 0, random, dst)).ParamName);
    }
}
