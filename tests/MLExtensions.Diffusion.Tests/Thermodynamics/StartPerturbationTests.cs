using MLExtensions.Diffusion.Thermodynamics;

namespace MLExtensions.Diffusion.Tests.Thermodynamics;

public class StartPerturbationTests
{
    public static TheoryData<int> Kinds() => [0, 1, 2, 3, 4];

    private static StartPerturbation Make(int k) => k switch
    {
        0 => StartPerturbation.MeanShift(1),
        1 => StartPerturbation.VarianceChange(0.7),
        2 => StartPerturbation.Mixture([1.0, 3.0], [-1.0, 2.0], [0.4, 1.1]),
        3 => StartPerturbation.Uniform(-1.5, 2.5),
        _ => StartPerturbation.Custom("logistic", x => Math.Exp(-x) / Math.Pow(1 + Math.Exp(-x), 2), x => 1 / (1 + Math.Exp(-x)), p => Math.Log(p / (1 - p))),
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void QuantileInvertsCdfAndDensityIsItsDerivative(int kind)
    {
        StartPerturbation law = Make(kind);
        foreach (double p in new[] { 1e-7, 0.01, 0.3, 0.5, 0.71, 0.999, 1 - 1e-7 })
        {
            double x = law.Quantile(p);
            Assert.Equal(p, law.Cdf(x), 1e-9 * Math.Max(p, 1e-3));
        }
        foreach (double p in new[] { 0.05, 0.4, 0.8 })
        {
            double x = law.Quantile(p), h = 1e-5;
            double fd = (law.Cdf(x + h) - law.Cdf(x - h)) / (2 * h);
            Assert.Equal(fd, law.Density(x), 1e-6);
            Assert.Equal(Math.Log(law.Density(x)), law.LogDensity(x), 12);
        }
    }

    [Fact]
    public void FactoriesHaveTheStatedLaws()
    {
        Assert.Equal(MathNet.Numerics.Distributions.Normal.PDF(1, 1, 0.3), StartPerturbation.MeanShift(1).Density(0.3), 14);
        Assert.Equal(MathNet.Numerics.Distributions.Normal.PDF(0, 0.7, 0.3), StartPerturbation.VarianceChange(0.7).Density(0.3), 14);
        var mix = StartPerturbation.Mixture([1.0, 3.0], [-1.0, 2.0], [0.4, 1.1]);
        double expected = 0.25 * MathNet.Numerics.Distributions.Normal.PDF(-1, 0.4, 0.5) + 0.75 * MathNet.Numerics.Distributions.Normal.PDF(2, 1.1, 0.5);
        Assert.Equal(expected, mix.Density(0.5), 14);
        var uniform = StartPerturbation.Uniform(-1.5, 2.5);
        Assert.Equal(0.25, uniform.Density(0), 14);
        Assert.Equal(0.0, uniform.Density(3));
        Assert.Equal(-1.5, uniform.SupportLower);
        Assert.Equal(2.5, uniform.SupportUpper);
        Assert.Equal(StartPerturbationKind.Uniform, uniform.Kind);
        Assert.Equal(StartPerturbationKind.MeanShift, StartPerturbation.MeanShift(1).Kind);
    }

    [Fact]
    public void InvalidInputsAreRejected()
    {
        Assert.Equal("shift", Assert.Throws<ArgumentException>(() => StartPerturbation.MeanShift(double.NaN)).ParamName);
        Assert.Equal("scale", Assert.Throws<ArgumentException>(() => StartPerturbation.VarianceChange(0)).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => StartPerturbation.Mixture([], [], [])).ParamName);
        Assert.Equal("means", Assert.Throws<ArgumentException>(() => StartPerturbation.Mixture([1.0], [0.0, 1.0], [1.0])).ParamName);
        Assert.Equal("standardDeviations", Assert.Throws<ArgumentException>(() => StartPerturbation.Mixture([1.0], [0.0], [-1.0])).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => StartPerturbation.Mixture([0.0], [0.0], [1.0])).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => StartPerturbation.Uniform(1, 1)).ParamName);
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => StartPerturbation.Uniform(double.NegativeInfinity, 1)).ParamName);
        Assert.Throws<ArgumentNullException>(() => StartPerturbation.Custom("x", null!, x => x, p => p));
        Assert.Equal("supportUpper", Assert.Throws<ArgumentException>(() => StartPerturbation.Custom("x", x => 1, x => x, p => p, 1, 0)).ParamName);
        Assert.Equal("p", Assert.Throws<ArgumentOutOfRangeException>(() => StartPerturbation.MeanShift(0).Quantile(0)).ParamName);
    }
}
