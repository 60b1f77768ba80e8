using MLExtensions.Diffusion.Thermodynamics;

namespace MLExtensions.Diffusion.Tests.Thermodynamics;

public class CollapseTimeTests
{
    [Theory]
    [InlineData(1.0, 100, 2)]
    [InlineData(2.5, 1000, 5)]
    [InlineData(0.3, 50, 1)]
    public void BisectionOnTheEntropyCrossingMatchesTheGaussianClosedForm(double v, int n, int d)
    {
        // Entropy per dimension of N(m, v I) under OU, written out here.
        double Entropy(double t) => 0.5 * Math.Log(2 * Math.PI * Math.E * (Math.Exp(-2 * t) * v + 1 - Math.Exp(-2 * t)));
        double solved = CollapseTime.Solve(Entropy, n, d);
        double closed = CollapseTime.ForGaussian(v, n, d);
        Assert.Equal(closed, solved, 9);
        Assert.Equal(Entropy(solved), CollapseTime.MemorizedEntropyPerDimension(solved, n, d), 9);
    }

    [Fact]
    public void MoreTrainingPointsGiveAnEarlierCollapseTime()
    {
        var mixture = new SymmetricGaussianMixtureOu([2.0, 0.0], 0.5);
        double previousGaussian = double.PositiveInfinity, previousMixture = double.PositiveInfinity;
        foreach (int n in new[] { 2, 10, 100, 1000, 100000 })
        {
            double g = CollapseTime.ForGaussian(1.0, n, 2);
            double m = CollapseTime.ForSymmetricMixture(mixture, n);
            Assert.True(g < previousGaussian, $"n = {n}: {g} >= {previousGaussian}");
            Assert.True(m < previousMixture, $"n = {n}: {m} >= {previousMixture}");
            Assert.True(m > 0);
            previousGaussian = g;
            previousMixture = m;
        }
    }

    [Fact]
    public void MixtureWithoutSeparationIsTheGaussianCase()
    {
        var mixture = new SymmetricGaussianMixtureOu([0.0, 0.0, 0.0], 0.8);
        Assert.Equal(CollapseTime.ForGaussian(0.64, 500, 3), CollapseTime.ForSymmetricMixture(mixture, 500), 7);
    }

    [Fact]
    public void OneTrainingPointNeverStopsCollapsing()
    {
        Assert.Equal(double.PositiveInfinity, CollapseTime.ForGaussian(1.0, 1, 4));
        Assert.Equal(double.PositiveInfinity, CollapseTime.ForSymmetricMixture(new SymmetricGaussianMixtureOu([1.0], 1.0), 1));
    }

    [Fact]
    public void InvalidInputsAreRejectedWithTheArgumentName()
    {
        Assert.Equal("variance", Assert.Throws<ArgumentOutOfRangeException>(() => CollapseTime.ForGaussian(0, 10, 2)).ParamName);
        Assert.Equal("variance", Assert.Throws<ArgumentOutOfRangeException>(() => CollapseTime.ForGaussian(double.NaN, 10, 2)).ParamName);
        Assert.Equal("trainingPoints", Assert.Throws<ArgumentOutOfRangeException>(() => CollapseTime.ForGaussian(1, 0, 2)).ParamName);
        Assert.Equal("dimension", Assert.Throws<ArgumentOutOfRangeException>(() => CollapseTime.ForGaussian(1, 10, 0)).ParamName);
        Assert.Equal("t", Assert.Throws<ArgumentOutOfRangeException>(() => CollapseTime.MemorizedEntropyPerDimension(0, 10, 2)).ParamName);
        Assert.Equal("maxTime", Assert.Throws<ArgumentOutOfRangeException>(() => CollapseTime.Solve(t => 0, 10, 2, -1)).ParamName);
        Assert.Equal("entropyPerDimension", Assert.Throws<ArgumentException>(() => CollapseTime.Solve(t => double.NaN, 10, 2)).ParamName);
    }
}
