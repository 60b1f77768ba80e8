using MathNet.Numerics.Distributions;
using MLExtensions.Diffusion.Transport;

namespace MLExtensions.Diffusion.Tests.Transport;

public class GaussianDivergenceTests
{
    /// <summary>Composite Simpson rule on [lo, hi] with an even number of cells.</summary>
    private static double Simpson(Func<double, double> f, double lo, double hi, int cells = 20_000)
    {
        double h = (hi - lo) / cells;
        double sum = f(lo) + f(hi);
        for (int k = 1; k < cells; k++) sum += (k % 2 == 1 ? 4 : 2) * f(lo + k * h);
        return sum * h / 3;
    }

    public static TheoryData<double, double, double, double> Cases => new()
    {
        { 0.0, 1.0, 0.0, 1.0 },
        { 1.0, 1.0, 0.0, 1.0 },
        { 0.3, 0.7, -0.2, 1.1 },
        { -0.5, 1.3, 0.4, 1.0 },
        { 2.0, 0.5, 0.0, 2.0 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void OneDimensionalFormulasMatchNumericalIntegration(double m1, double s1, double m0, double s0)
    {
        double lo = Math.Min(m1, m0) - 30 * Math.Max(s1, s0), hi = Math.Max(m1, m0) + 30 * Math.Max(s1, s0);
        double kl = Simpson(x =>
        {
            double p1 = Normal.PDF(m1, s1, x);
            return p1 == 0 ? 0 : p1 * (Normal.PDFLn(m1, s1, x) - Normal.PDFLn(m0, s0, x));
        }, lo, hi);
        Assert.Equal(kl, GaussianDivergence.KullbackLeibler(m1, s1, m0, s0), 8);
        double chi = Simpson(x =>
        {
            double log = 2 * Normal.PDFLn(m1, s1, x) - Normal.PDFLn(m0, s0, x);
            return Math.Exp(log) - 2 * Normal.PDF(m1, s1, x) + Normal.PDF(m0, s0, x);
        }, lo, hi);
        Assert.Equal(chi, GaussianDivergence.ChiSquare(m1, s1, m0, s0), 7);
    }

    [Fact]
    public void ChiSquareIsInfiniteWhenSourceIsTooWide()
    {
        Assert.Equal(double.PositiveInfinity, GaussianDivergence.ChiSquare(0, Math.Sqrt(2), 0, 1));
        Assert.Equal(double.PositiveInfinity, GaussianDivergence.ChiSquare(1, 3, 0, 1));
        Assert.Equal(double.PositiveInfinity, GaussianDivergence.ChiSquareIsotropic(new[] { 0.0, 0 }, 1.5, new[] { 0.0, 0 }, 1));
        Assert.True(double.IsFinite(GaussianDivergence.ChiSquare(0, 1.4, 0, 1)));
    }

    [Fact]
    public void KlIsHalfChiSquareForSmallMismatches()
    {
        double previous = double.PositiveInfinity;
        foreach (double delta in new[] { 1e-1, 1e-2, 1e-3, 1e-4 })
        {
            double kl = GaussianDivergence.KullbackLeibler(delta, 1 + delta, 0, 1);
            double chi = GaussianDivergence.ChiSquare(delta, 1 + delta, 0, 1);
            double relative = Math.Abs(kl / (chi / 2) - 1);
            Assert.True(relative < 3 * delta, $"delta {delta}: {relative}");
            Assert.True(relative < previous);
            previous = relative;
        }
        // Pure small mean shift: chi2 = exp(dm^2 / s^2) - 1, accurate near zero.
        Assert.Equal(1e-16, GaussianDivergence.ChiSquare(1e-8, 1, 0, 1), 1e-28);
        Assert.Equal(0.0, GaussianDivergence.ChiSquare(0.4, 0.9, 0.4, 0.9));
        Assert.Equal(0.0, GaussianDivergence.KullbackLeibler(0.4, 0.9, 0.4, 0.9), 15);
    }

    [Fact]
    public void MultivariateFormsReduceToOneDimensionalOnes()
    {
        // Diagonal covariances: KL is the sum of per-coordinate KLs; isotropic chi2 is a product of factors.
        var m1 = new[] { 0.3, -1.0, 0.5 };
        var m0 = new[] { 0.0, 0.2, 0.5 };
        var v1 = new[] { 0.5, 1.2, 2.0 };
        var v0 = new[] { 1.0, 0.8, 2.5 };
        var c1 = new double[9];
        var c0 = new double[9];
        for (int k = 0; k < 3; k++)
        {
            c1[k * 4] = v1[k];
            c0[k * 4] = v0[k];
        }
        double expected = Enumerable.Range(0, 3).Sum(k => GaussianDivergence.KullbackLeibler(m1[k], Math.Sqrt(v1[k]), m0[k], Math.Sqrt(v0[k])));
        Assert.Equal(expected, GaussianDivergence.KullbackLeibler(m1, c1, m0, c0, 3), 12);

        double product = Enumerable.Range(0, 3).Aggregate(1.0, (acc, k) => acc * (1 + GaussianDivergence.ChiSquare(m1[k], 0.9, m0[k], 1.1)));
        Assert.Equal(product - 1, GaussianDivergence.ChiSquareIsotropic(m1, 0.9, m0, 1.1), 12);
        Assert.Equal(GaussianDivergence.ChiSquare(0.3, 0.9, 0.0, 1.1), GaussianDivergence.ChiSquareIsotropic(new[] { 0.3 }, 0.9, new[] { 0.0 }, 1.1), 14);
    }

    [Fact]
    public void FullCovarianceKlIsInvariantUnderRotation()
    {
        // Rotating both laws by the same orthogonal map leaves KL unchanged: compare with the diagonal frame.
        double c = Math.Cos(0.7), s = Math.Sin(0.7);
        double[] Rotate(double a, double b) => new[] { c * c * a + s * s * b, c * s * (a - b), c * s * (a - b), s * s * a + c * c * b };
        double[] RotateVector(double x, double y) => new[] { c * x - s * y, s * x + c * y };
        double expected = GaussianDivergence.KullbackLeibler(1, Math.Sqrt(0.5), 0, 1) + GaussianDivergence.KullbackLeibler(-1, Math.Sqrt(3.0), 0.5, Math.Sqrt(2.0));
        double actual = GaussianDivergence.KullbackLeibler(RotateVector(1, -1), Rotate(0.5, 3), RotateVector(0, 0.5), Rotate(1, 2), 2);
        Assert.Equal(expected, actual, 12);
    }

    [Fact]
    public void RejectsBadInput()
    {
        Assert.Equal("standardDeviation1", Assert.Throws<ArgumentOutOfRangeException>(() => GaussianDivergence.ChiSquare(0, 0, 0, 1)).ParamName);
        Assert.Equal("standardDeviation0", Assert.Throws<ArgumentOutOfRangeException>(() => GaussianDivergence.KullbackLeibler(0, 1, 0, double.NaN)).ParamName);
        Assert.Equal("mean1", Assert.Throws<ArgumentException>(() => GaussianDivergence.KullbackLeibler(double.NaN, 1, 0, 1)).ParamName);
        Assert.Equal("mean0", Assert.Throws<ArgumentException>(() => GaussianDivergence.ChiSquareIsotropic(new[] { 0.0 }, 1, new[] { 0.0, 1 }, 1)).ParamName);
        Assert.Equal("mean1", Assert.Throws<ArgumentException>(() => GaussianDivergence.ChiSquareIsotropic(Array.Empty<double>(), 1, Array.Empty<double>(), 1)).ParamName);
        var id = new[] { 1.0, 0, 0, 1 };
        var mu = new[] { 0.0, 0 };
        Assert.Equal("covariance1", Assert.Throws<ArgumentException>(() => GaussianDivergence.KullbackLeibler(mu, new[] { 1.0, 1, 1, 1 }, mu, id, 2)).ParamName);
        Assert.Equal("covariance0", Assert.Throws<ArgumentException>(() => GaussianDivergence.KullbackLeibler(mu, id, mu, new[] { 1.0, 0.2, 0.1, 1 }, 2)).ParamName);
        Assert.Equal("covariance0", Assert.Throws<ArgumentException>(() => GaussianDivergence.KullbackLeibler(mu, id, mu, new[] { -1.0, 0, 0, 1 }, 2)).ParamName);
        Assert.Equal("mean0", Assert.Throws<ArgumentException>(() => GaussianDivergence.KullbackLeibler(mu, id, new[] { 0.0 }, id, 2)).ParamName);
    }
}
