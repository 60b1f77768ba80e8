using Microsoft.ML;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Randomness;
using Xunit;

namespace MLExtensions.Diffusion.Tests.MLNet;

/// <summary>The quantile-normal feature transform (<see cref="FeatureScaling.QuantileNormal"/>, <see cref="QuantileNormalMap"/>).</summary>
public sealed class QuantileNormalTests
{
    [Fact]
    public void Map_SendsHeavyTailedTrainingValuesToAStandardNormal_AndInvertsExactly()
    {
        // Log-normal values (heavy right tail): after the map, the mean and sd of the training values are those of the
        // normal scores Phi^-1((i - 1/2) / n), close to 0 and 1.
        var random = new Random(3);
        var values = StandardNormal.Sample(random, 2000).Select(z => Math.Exp(1.5 * z)).ToArray();
        var map = QuantileNormalMap.Fit(values);
        var u = values.Select(map.Forward).ToArray();
        Assert.Equal(0, u.Average(), 0.01);
        Assert.Equal(1, Math.Sqrt(u.Select(v => v * v).Average()), 0.03);
        // the order is kept and the inverse recovers each value
        var order = Enumerable.Range(0, values.Length).OrderBy(i => values[i]).ToArray();
        for (int k = 1; k < order.Length; k++) Assert.True(u[order[k]] >= u[order[k - 1]]);
        foreach (double x in values.Take(200)) Assert.Equal(x, map.Inverse(map.Forward(x)), 1e-9 * Math.Max(1, x));
        // beyond the training range the map continues linearly (finite, monotone, invertible)
        double max = values.Max(), min = values.Min();
        Assert.True(map.Forward(2 * max) > map.Forward(max));
        Assert.True(map.Forward(min - 1) < map.Forward(min));
        Assert.Equal(2 * max, map.Inverse(map.Forward(2 * max)), 1e-6 * max);
    }

    [Fact]
    public void Map_OfASpike_IsOneKnotAtTheMeanLevelOfItsRows()
    {
        // 30 zeros among 100 values: the zeros' mid-rank levels (i + 1/2)/100, i = 0..29, average 0.15.
        var values = Enumerable.Repeat(0.0, 30).Concat(Enumerable.Range(1, 70).Select(i => (double)i)).ToArray();
        var map = QuantileNormalMap.Fit(values);
        Assert.Equal(71, map.Values.Count);
        Assert.Equal(-1.0364333894937898, map.Forward(0), 1e-9);   // Phi^-1(0.15)
    }

    [Fact]
    public void Map_KeepsAtMostMaxKnots()
    {
        var values = Enumerable.Range(0, 5000).Select(i => Math.Sqrt(i)).ToArray();
        var map = QuantileNormalMap.Fit(values);
        Assert.Equal(QuantileNormalMap.MaxKnots, map.Values.Count);
        Assert.Equal(values.Min(), map.Values[0]);
        Assert.Equal(values.Max(), map.Values[^1]);
    }

    [Fact]
    public void QuantileNormalModel_TrainsGeneratesAndRoundTrips()
    {
        var context = new MLContext(seed: 1);
        var data = BoundedFeatureTests.RainAndFraction(500, 4);
        var options = MLNetTestData.TinyOptions(300);
        options.FeatureScaling = FeatureScaling.QuantileNormal;
        options.FeatureBounds = [new FeatureBound(0, Lower: 0)];
        var model = context.Diffusion().Trainers.ScoreMatching(options).Fit(MLNetTestData.View(context, data));
        Assert.True(model.FeatureEncoding.IsQuantileNormal(0) && model.FeatureEncoding.IsQuantileNormal(1));
        // no per-feature standardisation after the quantile map
        Assert.Equal([0.0, 0.0], model.FeatureScaler.Mean.ToArray());
        var rows = model.Generate(1000, seed: 2);
        for (int r = 0; r < 1000; r++) Assert.True(rows[2 * r] >= 0);
        // the generated fraction's median is near the training median (the map is fitted, not the identity)
        double Median(IEnumerable<float> v) => v.Order().ElementAt(v.Count() / 2);
        Assert.Equal(Median(Enumerable.Range(0, 500).Select(r => data[2 * r + 1])), Median(Enumerable.Range(0, 1000).Select(r => rows[2 * r + 1])), 0.1);
        string path = Path.Combine(Path.GetTempPath(), $"quantile-{Guid.NewGuid():N}.zip");
        try
        {
            model.Save(path);
            var again = context.Diffusion().LoadModel(path);
            Assert.True(again.FeatureEncoding.IsQuantileNormal(1));
            Assert.Equal(rows, again.Generate(1000, seed: 2));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
