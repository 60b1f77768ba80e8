using MLExtensions.Diffusion.Thermodynamics;

namespace MLExtensions.Diffusion.Tests.Thermodynamics;

public class SpeciationTimeTests
{
    // Second derivative of -ln P_t at the origin along the unit vector u, by central finite differences.
    private static double CurvatureAtOrigin(SymmetricGaussianMixtureOu mixture, double t, double[] u)
    {
        const double h = 1e-3;
        int d = u.Length;
        var x = new double[3 * d];
        for (int j = 0; j < d; j++)
        {
            x[j] = -h * u[j];
            x[2 * d + j] = h * u[j];
        }
        var lp = new double[3];
        mixture.LogDensity(x, t, lp);
        return -(lp[0] - 2 * lp[1] + lp[2]) / (h * h);
    }

    [Theory]
    [InlineData(new[] { 2.0 }, 0.6)]
    [InlineData(new[] { 1.3 }, 1.2)]
    [InlineData(new[] { 1.0, -2.0, 0.5 }, 0.8)]
    public void CurvatureDefinitionMatchesTheSignChangeOfTheFiniteDifferenceCurvature(double[] mu, double s)
    {
        var mixture = new SymmetricGaussianMixtureOu(mu, s);
        double norm = Math.Sqrt(mu.Sum(v => v * v));
        double[] u = mu.Select(v => v / norm).ToArray();
        double ts = SpeciationTime.CurvatureAtOrigin(mixture);
        Assert.True(ts > 0);
        Assert.True(CurvatureAtOrigin(mixture, 0.9 * ts, u) < 0, "bimodal (negative curvature) before t_s");
        Assert.True(CurvatureAtOrigin(mixture, 1.1 * ts, u) > 0, "unimodal (positive curvature) after t_s");
        double lo = 0.5 * ts, hi = 2 * ts;
        for (int i = 0; i < 60; i++)
        {
            double mid = 0.5 * (lo + hi);
            if (CurvatureAtOrigin(mixture, mid, u) < 0) lo = mid; else hi = mid;
        }
        Assert.Equal(ts, 0.5 * (lo + hi), 4);
    }

    [Fact]
    public void NoSpeciationWhenTheDataAreUnimodalAlongMu()
    {
        var mixture = new SymmetricGaussianMixtureOu([0.3], 1.0);
        Assert.Equal(0, SpeciationTime.CurvatureAtOrigin(mixture));
        Assert.True(CurvatureAtOrigin(mixture, 0, [1.0]) > 0);
        Assert.Equal(0, SpeciationTime.BiroliMezard(0.5));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(1.0)]
    [InlineData(2.0)]
    public void DefinitionsAgreeAtLargeSeparation(double s)
    {
        foreach (double m2 in new[] { 50.0, 200.0, 1000.0, 5000.0 })
        {
            var mixture = new SymmetricGaussianMixtureOu([Math.Sqrt(m2 / 2), Math.Sqrt(m2 / 2)], s);
            double lambda = m2 + s * s;
            Assert.Equal(lambda, mixture.TopCovarianceEigenvalue, 9);
            double curvature = SpeciationTime.CurvatureAtOrigin(mixture);
            double bm = SpeciationTime.BiroliMezard(mixture);
            double yh = SpeciationTime.YuHuang(mixture);
            Assert.Equal(0.5 * Math.Log(lambda), bm, 12);
            // curvature - BM = (1 - 2 s^2) / (2 Lambda) + O(1/Lambda^2)
            Assert.True(Math.Abs(curvature - bm) <= (Math.Abs(1 - 2 * s * s) / 2 + 1) / lambda, $"curvature {curvature}, BM {bm}");
            // The SPEC's Yu-Huang formula is (ln 2)/2 above BM, up to O(1/Lambda).
            Assert.True(Math.Abs(yh - bm - 0.5 * Math.Log(2)) <= (s * s / 2 + 1) / lambda, $"YH {yh}, BM {bm}");
        }
    }

    [Fact]
    public void TopCovarianceEigenvalueOfDataRows()
    {
        const double a = 3, b = 1;
        double[] rows = [a, 0, -a, 0, 0, b, 0, -b];
        Assert.Equal(2 * a * a / 3, SpeciationTime.TopCovarianceEigenvalue(rows, 2), 12);
        Assert.Equal(0.5 * Math.Log(2 * a * a / 3), SpeciationTime.BiroliMezard(rows, 2), 12);
        var matrix = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfRowMajor(4, 2, rows);
        Assert.Equal(0.5 * Math.Log(2 * a * a / 3), SpeciationTime.BiroliMezard(matrix), 12);

        var mixture = new SymmetricGaussianMixtureOu([2.0, 1.0, -1.0], 0.7);
        var samples = new double[3 * 40000];
        mixture.Sample(new Random(2), 0, samples);
        double lambda = SpeciationTime.TopCovarianceEigenvalue(samples, 3);
        Assert.True(Math.Abs(lambda / mixture.TopCovarianceEigenvalue - 1) < 0.03, $"{lambda} vs {mixture.TopCovarianceEigenvalue}");
    }

    [Fact]
    public void InvalidInputsAreRejectedWithTheArgumentName()
    {
        Assert.Equal("lambda", Assert.Throws<ArgumentOutOfRangeException>(() => SpeciationTime.BiroliMezard(0.0)).ParamName);
        Assert.Equal("lambda", Assert.Throws<ArgumentOutOfRangeException>(() => SpeciationTime.BiroliMezard(double.NaN)).ParamName);
        Assert.Equal("dataRows", Assert.Throws<ArgumentException>(() => SpeciationTime.TopCovarianceEigenvalue([1.0, 2.0], 2)).ParamName);
        Assert.Equal("dataRows", Assert.Throws<ArgumentException>(() => SpeciationTime.TopCovarianceEigenvalue([1.0, double.NaN, 2, 3], 2)).ParamName);
        Assert.Equal("dataRows", Assert.Throws<ArgumentException>(() => SpeciationTime.TopCovarianceEigenvalue([1.0, 1.0, 1.0], 1)).ParamName);
        Assert.Equal("data", Assert.Throws<ArgumentException>(() =>
            SpeciationTime.BiroliMezard(MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(1, 2))).ParamName);
        Assert.Equal("dimension", Assert.Throws<ArgumentOutOfRangeException>(() => SpeciationTime.TopCovarianceEigenvalue([1.0, 2.0], 0)).ParamName);
        Assert.Equal("s", Assert.Throws<ArgumentException>(() => new SymmetricGaussianMixtureOu([1.0], 0)).ParamName);
        Assert.Equal("mu", Assert.Throws<ArgumentException>(() => new SymmetricGaussianMixtureOu([], 1)).ParamName);
        Assert.Equal("mu", Assert.Throws<ArgumentException>(() => new SymmetricGaussianMixtureOu([double.NaN], 1)).ParamName);
        Assert.Throws<ArgumentNullException>(() => SpeciationTime.CurvatureAtOrigin(null!));
    }
}
