using MLExtensions.Diffusion.Numerics;

namespace MLExtensions.Diffusion.Tests.Numerics;

public class ElementaryFunctionsTests
{
    [Theory]
    [InlineData(1e-3)]
    [InlineData(-1e-8)]
    [InlineData(0.3)]
    [InlineData(-2.0)]
    public void ExpM1AndLog1P_MatchTheirTaylorSeriesOrDirectForm(double x)
    {
        // Series to 12 terms (exact to double precision for |x| <= 0.3); the direct forms elsewhere.
        double series = 0, term = 1;
        for (int k = 1; k <= 12; k++) { term *= x / k; series += term; }
        double expected = Math.Abs(x) <= 0.3 ? series : Math.Exp(x) - 1;
        Assert.Equal(expected, ElementaryFunctions.ExpM1(x), Math.Abs(expected) * 1e-14);
        Assert.Equal(x, ElementaryFunctions.Log1P(ElementaryFunctions.ExpM1(x)), Math.Abs(x) * 1e-14);
    }

    [Fact]
    public void LogSumExp_IsStableForLargeAndSmallValues()
    {
        Assert.Equal(Math.Log(Math.Exp(0.5) + Math.Exp(-1.25) + Math.Exp(2)), ElementaryFunctions.LogSumExp([0.5, -1.25, 2]), 14);
        Assert.Equal(1000 + Math.Log(2), ElementaryFunctions.LogSumExp([1000, 1000]), 12);
        Assert.Equal(-1000 + Math.Log(3), ElementaryFunctions.LogSumExp([-1000, -1000, -1000]), 12);
        Assert.Equal(-3.0, ElementaryFunctions.LogSumExp([double.NegativeInfinity, -3]), 14);
        Assert.Equal(double.NegativeInfinity, ElementaryFunctions.LogSumExp([double.NegativeInfinity, double.NegativeInfinity]));
        Assert.Equal(double.NegativeInfinity, ElementaryFunctions.LogSumExp([]));
    }
}
