using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Randomness;
using Xunit;

namespace MLExtensions.Diffusion.Tests.MLNet;

/// <summary>Integer and categorical features (<see cref="ScoreMatchingOptions.IntegerFeatures"/>,
/// <see cref="ScoreMatchingOptions.CategoricalFeatures"/>): a penguins-like table with a species column is synthesised whole.</summary>
public sealed class CategoricalAndIntegerFeatureTests
{
    private static readonly string[] Species = ["Adelie", "Chinstrap", "Gentoo"];
    private static readonly double[] Share = [0.44, 0.20, 0.36];

    // per species: beak length, beak depth, flipper length (integral mm), body mass (g): means and sds
    private static readonly double[][] Means = [[38.8, 18.3, 190, 3700], [48.8, 18.4, 196, 3730], [47.5, 15.0, 217, 5080]];
    private static readonly double[][] Sds = [[2.7, 1.2, 6.5, 460], [3.3, 1.1, 7.1, 380], [3.1, 1.0, 6.5, 500]];

    public sealed class Penguin
    {
        public string Species { get; set; } = "";
        public float BeakLength { get; set; }
        public float BeakDepth { get; set; }
        public float FlipperLength { get; set; }
        public float BodyMass { get; set; }
    }

    private static List<Penguin> Penguins(int rows, int seed)
    {
        var random = new Random(seed);
        var list = new List<Penguin>();
        for (int r = 0; r < rows; r++)
        {
            double p = random.NextDouble();
            int s = p < Share[0] ? 0 : p < Share[0] + Share[1] ? 1 : 2;
            var z = StandardNormal.Sample(random, 4);
            double V(int j) => Means[s][j] + Sds[s][j] * z[j];
            list.Add(new Penguin
            {
                Species = Species[s], BeakLength = (float)V(0), BeakDepth = (float)V(1),
                FlipperLength = (float)Math.Round(V(2)), BodyMass = (float)V(3),
            });
        }
        return list;
    }

    /// <summary>Species one-hot (ML.NET's OneHotEncoding: slots 0-2) then the four measurements (slots 3-6) in "Features".</summary>
    private static IDataView Features(MLContext context, List<Penguin> penguins)
    {
        var data = context.Data.LoadFromEnumerable(penguins);
        var pipeline = context.Transforms.Categorical.OneHotEncoding("SpeciesCode", nameof(Penguin.Species))
            .Append(context.Transforms.Concatenate("Features", "SpeciesCode", nameof(Penguin.BeakLength), nameof(Penguin.BeakDepth),
                nameof(Penguin.FlipperLength), nameof(Penguin.BodyMass)));
        return pipeline.Fit(data).Transform(data);
    }

    private static ScoreMatchingOptions Options()
    {
        var o = MLNetTestData.TinyOptions(600);
        o.Width = 64;
        o.CategoricalFeatures = [new CategoricalFeatureRange(0, 3)];
        o.IntegerFeatures = [5];
        return o;
    }

    [Fact]
    public void PenguinsTable_IsSynthesisedWhole_ValidSpeciesAtTrainingFrequencies_IntegerFlippers()
    {
        var context = new MLContext(seed: 1);
        var penguins = Penguins(600, 1);
        var view = Features(context, penguins);
        var model = context.Diffusion().Trainers.ScoreMatching(Options()).Fit(view);
        Assert.Equal(7, model.Dimension);
        const int n = 3000;
        var rows = model.Generate(n, seed: 2);
        // the one-hot slots follow ML.NET's key order, the order of first appearance in the training rows
        var training = view.GetColumn<float[]>("Features").ToArray();
        var trainShare = new double[3];
        foreach (var row in training) trainShare[Array.IndexOf(row, 1f, 0, 3)] += 1.0 / training.Length;
        var share = new double[3];
        var bodyMass = new double[3];
        for (int r = 0; r < n; r++)
        {
            var row = rows.AsSpan(r * 7, 7);
            Assert.Equal(1, row[..3].ToArray().Count(v => v == 1));
            Assert.Equal(2, row[..3].ToArray().Count(v => v == 0));
            int s = row[..3].IndexOf(1f);
            share[s] += 1.0 / n;
            bodyMass[s] += row[6];
            Assert.Equal(Math.Round(row[5]), row[5]);
        }
        for (int s = 0; s < 3; s++)
        {
            Assert.InRange(share[s], trainShare[s] - 0.06, trainShare[s] + 0.06);
            bodyMass[s] /= share[s] * n;
        }
        // the measurements stay tied to the species: the heavy species (Gentoo, ~5080 g) is generated heavier than the others
        int gentoo = Array.IndexOf(training.First(t => t[6] > 0 && penguins[Array.IndexOf(training, t)].Species == "Gentoo"), 1f, 0, 3);
        for (int s = 0; s < 3; s++)
            if (s != gentoo) Assert.True(bodyMass[gentoo] > bodyMass[s] + 700, $"Gentoo {bodyMass[gentoo]:F0} g vs species {s} {bodyMass[s]:F0} g");
    }

    [Fact]
    public void InferIntegerFeatures_FlagsIntegralColumnsOnly_NotTheOneHotRange()
    {
        var context = new MLContext(seed: 1);
        var o = Options();
        o.IntegerFeatures = [];
        o.InferIntegerFeatures = true;
        o.Steps = 50;
        o.WarmupSteps = 5;
        var model = context.Diffusion().Trainers.ScoreMatching(o).Fit(Features(context, Penguins(200, 3)));
        Assert.Equal([false, false, false, false, false, true, false], Enumerable.Range(0, 7).Select(model.FeatureEncoding.IsInteger).ToArray());
        var rows = model.Generate(200, seed: 4);
        for (int r = 0; r < 200; r++) Assert.Equal(Math.Round(rows[r * 7 + 5]), rows[r * 7 + 5]);
    }

    [Fact]
    public void Categorical_Declarations_AreChecked_NamingTheOption()
    {
        var context = new MLContext(seed: 1);
        var view = Features(context, Penguins(100, 5));
        void Fails(Action<ScoreMatchingOptions> edit, string option)
        {
            var o = Options();
            o.Steps = 10;
            o.WarmupSteps = 1;
            edit(o);
            var e = Assert.ThrowsAny<ArgumentException>(() => context.Diffusion().Trainers.ScoreMatching(o).Fit(view));
            Assert.Equal(option, e.ParamName);
        }
        // slots 3-5 hold measurements, not a one-hot code
        Fails(o => o.CategoricalFeatures = [new CategoricalFeatureRange(3, 3)], nameof(ScoreMatchingOptions.CategoricalFeatures));
        Fails(o => o.CategoricalFeatures = [new CategoricalFeatureRange(5, 3)], nameof(ScoreMatchingOptions.CategoricalFeatures));
        Fails(o => o.CategoricalFeatures = [new CategoricalFeatureRange(0, 1)], nameof(ScoreMatchingOptions.CategoricalFeatures));
        Fails(o => o.IntegerFeatures = [1], nameof(ScoreMatchingOptions.IntegerFeatures));
        Fails(o => o.IntegerFeatures = [7], nameof(ScoreMatchingOptions.IntegerFeatures));
        Fails(o => o.FeatureBounds = [new FeatureBound(0, Lower: 0)], nameof(ScoreMatchingOptions.FeatureBounds));
    }

    [Fact]
    public void Decode_ArgmaxOfEachRange_AndRoundingWithinBounds()
    {
        var o = new ScoreMatchingOptions
        {
            CategoricalFeatures = [new CategoricalFeatureRange(1, 3)],
            IntegerFeatures = [0],
            FeatureBounds = [new FeatureBound(0, Lower: 0, Upper: 10)],
        };
        float[] train = [0, 1, 0, 0, 10, 0, 0, 1, 3, 0, 1, 0];
        var encoding = FeatureEncoding.Fit(train, 4, o);
        var u = new double[4];
        encoding.Encode([2.4f, 0, 1, 0], u);
        float[] decoded = [(float)u[0], 0.2f, 0.9f, -0.3f, (float)u[0], 0.7f, 0.1f, 0.69f];
        encoding.Decode(decoded);
        Assert.Equal([2f, 0, 1, 0, 2f, 1, 0, 0], decoded);
    }
}
