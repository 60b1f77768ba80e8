using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Randomness;

namespace MLExtensions.Diffusion.Tests.Denoisers;

public class PredictionConversionsTests
{
    // (m, sigma, mdot, sigmadot): cosine, VE, cond-OT and a non-VP non-normalised level.
    public static TheoryData<double, double, double, double> Levels => new()
    {
        { Math.Cos(0.3), Math.Sin(0.3), -Math.PI / 2 * Math.Sin(0.3), Math.PI / 2 * Math.Cos(0.3) },
        { 1.0, 7.5, 0.0, 3.0 },
        { 0.25, 0.75, -1.0, 1.0 },
        { 2.0, 0.01, -0.5, 0.2 },
    };

    private static (double[] y, double[] eps, double[] x) Draw(int seed, int n, double m, double sigma)
    {
        var random = new Random(seed);
        double[] y = StandardNormal.Sample(random, n), eps = StandardNormal.Sample(random, n), x = new double[n];
        for (int i = 0; i < n; i++) { y[i] = 3 * y[i] + 1; x[i] = m * y[i] + sigma * eps[i]; }
        return (y, eps, x);
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public void DefinitionsHoldOnTheForwardProcess(double m, double sigma, double mDot, double sigmaDot)
    {
        var (y, eps, x) = Draw(1, 64, m, sigma);
        var output = new double[x.Length];
        double r = Math.Sqrt(m * m + sigma * sigma);

        PredictionConversions.EpsFromX0(x, y, m, sigma, output);
        for (int i = 0; i < x.Length; i++) Assert.Equal(eps[i], output[i], 1e-9 * (1 + Math.Abs(y[i]) / sigma));

        PredictionConversions.ScoreFromX0(x, y, m, sigma, output);
        for (int i = 0; i < x.Length; i++) Assert.Equal(-eps[i] / sigma, output[i], 1e-9 * (1 + Math.Abs(y[i])) / (sigma * sigma));

        PredictionConversions.VFromX0(x, y, m, sigma, output);
        for (int i = 0; i < x.Length; i++) Assert.Equal((m * eps[i] - sigma * y[i]) / r, output[i], 1e-9 * (1 + Math.Abs(y[i]) / sigma));

        PredictionConversions.VelocityFromX0(x, y, m, sigma, mDot, sigmaDot, output);
        for (int i = 0; i < x.Length; i++) Assert.Equal(mDot * y[i] + sigmaDot * eps[i], output[i], 1e-9 * (1 + Math.Abs(y[i])) * (1 + Math.Abs(sigmaDot) / sigma));
    }

    [Fact]
    public void VReducesToSalimansHoOnVariancePreservingPaths()
    {
        double alpha = 0.6, sigma = 0.8;
        var (y, eps, x) = Draw(2, 16, alpha, sigma);
        var v = new double[x.Length];
        PredictionConversions.VFromX0(x, y, alpha, sigma, v);
        for (int i = 0; i < x.Length; i++) Assert.Equal(alpha * eps[i] - sigma * y[i], v[i], 1e-12);
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public void EveryKindRoundTripsThroughX0(double m, double sigma, double mDot, double sigmaDot)
    {
        var random = new Random(3);
        double[] x = StandardNormal.Sample(random, 50), x0 = StandardNormal.Sample(random, 50);
        var prediction = new double[x.Length];
        var back = new double[x.Length];
        foreach (Prediction kind in Enum.GetValues<Prediction>())
        {
            PredictionConversions.FromX0(kind, x, x0, m, sigma, mDot, sigmaDot, prediction);
            PredictionConversions.ToX0(kind, x, prediction, m, sigma, mDot, sigmaDot, back);
            for (int i = 0; i < x.Length; i++) Assert.Equal(x0[i], back[i], 1e-9);
        }
    }

    [Fact]
    public void ConvertBetweenKindsMatchesGoingThroughX0AndWorksInPlace()
    {
        double m = 0.7, sigma = 0.9, mDot = -0.4, sigmaDot = 0.6;
        var (y, _, x) = Draw(4, 20, m, sigma);
        var eps = new double[x.Length];
        var v = new double[x.Length];
        PredictionConversions.EpsFromX0(x, y, m, sigma, eps);
        PredictionConversions.VFromX0(x, y, m, sigma, v);
        var converted = (double[])eps.Clone();
        PredictionConversions.Convert(Prediction.Eps, Prediction.V, x, converted, m, sigma, mDot, sigmaDot, converted);
        for (int i = 0; i < x.Length; i++) Assert.Equal(v[i], converted[i], 1e-12);

        var velocity = new double[x.Length];
        PredictionConversions.VelocityFromX0(x, y, m, sigma, mDot, sigmaDot, velocity);
        PredictionConversions.Convert(Prediction.V, Prediction.Velocity, x, converted, m, sigma, mDot, sigmaDot, converted);
        for (int i = 0; i < x.Length; i++) Assert.Equal(velocity[i], converted[i], 1e-11);
    }

    [Fact]
    public void VAndVelocityInvertAtTheEndsOfThePath()
    {
        double[] x = [1.5, -2.0], v = new double[2], x0 = new double[2];
        // sigma = 0: x0 = x / m whatever the prediction.
        PredictionConversions.X0FromV(x, [10.0, 20.0], 2.0, 0.0, x0);
        Assert.Equal([0.75, -1.0], x0);
        PredictionConversions.X0FromVelocity(x, [10.0, 20.0], 2.0, 0.0, -1.0, 1.0, x0);
        Assert.Equal(0.75, x0[0], 15);
        // m = 0: x = sigma eps, v = -x0.
        PredictionConversions.X0FromV(x, [0.25, -0.5], 0.0, 3.0, v);
        Assert.Equal([-0.25, 0.5], v);
    }

    [Fact]
    public void BadInputIsRejectedNamingTheArgument()
    {
        double[] x = [1, 2, 3], p = [1, 2, 3], d = new double[3];
        Assert.Equal("x0", Assert.Throws<ArgumentException>(() => PredictionConversions.EpsFromX0(x, new double[2], 1, 1, d)).ParamName);
        Assert.Equal("eps", Assert.Throws<ArgumentException>(() => PredictionConversions.EpsFromX0(x, p, 1, 1, new double[4])).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => PredictionConversions.X0FromEps([], [], 1, 1, [])).ParamName);
        Assert.Equal("sigma", Assert.Throws<ArgumentOutOfRangeException>(() => PredictionConversions.EpsFromX0(x, p, 1, 0, d)).ParamName);
        Assert.Equal("sigma", Assert.Throws<ArgumentOutOfRangeException>(() => PredictionConversions.ScoreFromX0(x, p, 1, double.NaN, d)).ParamName);
        Assert.Equal("m", Assert.Throws<ArgumentOutOfRangeException>(() => PredictionConversions.X0FromEps(x, p, 0, 1, d)).ParamName);
        Assert.Equal("m", Assert.Throws<ArgumentOutOfRangeException>(() => PredictionConversions.X0FromScore(x, p, -1, 1, d)).ParamName);
        Assert.Equal("sigma", Assert.Throws<ArgumentOutOfRangeException>(() => PredictionConversions.X0FromV(x, p, 0, 0, d)).ParamName);
        Assert.Equal("mDot", Assert.Throws<ArgumentOutOfRangeException>(() => PredictionConversions.VelocityFromX0(x, p, 1, 1, double.NaN, 1, d)).ParamName);
        // m sigmadot - sigma mdot = 1 * 1 - 1 * 1 = 0: the velocity does not determine x0.
        Assert.Equal("sigmaDot", Assert.Throws<ArgumentException>(() => PredictionConversions.X0FromVelocity(x, p, 1, 1, 1, 1, d)).ParamName);
        Assert.Equal("mDot", Assert.Throws<ArgumentOutOfRangeException>(() => PredictionConversions.ToX0(Prediction.Velocity, x, p, 1, 1, d)).ParamName);
        Assert.Equal("kind", Assert.Throws<ArgumentException>(() => PredictionConversions.ToX0((Prediction)42, x, p, 1, 1, d)).ParamName);
        var buffer = new double[4];
        Assert.Equal("x0", Assert.Throws<ArgumentException>(() => PredictionConversions.X0FromEps(x, buffer.AsSpan(0, 3), 1, 1, buffer.AsSpan(1, 3))).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => PredictionConversions.Convert(Prediction.Eps, Prediction.V, x, p, 1, 1, 0, 1, x)).ParamName);
    }
}
