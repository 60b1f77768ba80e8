using System.Text.Json;
using Microsoft.ML.SearchSpace;
using MLExtensions.Diffusion.Search;

namespace MLExtensions.Diffusion.Tests.Search;

public enum SamplerKind { Euler, Heun, Dpm }

public class InnerOptions
{
    [Range(0.0, 1.0, 0.25)]
    public double Eta { get; set; }

    [BooleanChoice(true)]
    public bool Clip { get; set; }
}

public class SamplerOptions
{
    [Range(1e-5, 1e-1, 1e-3, true)]
    public double LearningRate { get; set; }

    [Range(4, 64, 16, true)]
    public int Steps { get; set; }

    [Choice(new object[] { "euler", "heun", "dpm" }, "heun")]
    public string Solver { get; set; } = "";

    [Choice(new object[] { SamplerKind.Euler, SamplerKind.Dpm })]
    public SamplerKind Kind { get; set; }

    [Range(0.5f, 2.0f)]
    public float Scale { get; set; }

    [BooleanChoice]
    public bool UseEma { get; set; }

    [NestOption]
    public InnerOptions Inner { get; set; } = new();

    public int NotSearched { get; set; } = 42;
}

public class BadRangeOnString
{
    [Range(0, 1)]
    public string Text { get; set; } = "";
}

public class BadLogRange
{
    [Range(0.0, 1.0, true)]
    public double X { get; set; }
}

public class BadInvertedRange
{
    [Range(5, 2)]
    public int N { get; set; }
}

public class BadEmptyChoice
{
    [Choice(new object[0])]
    public string S { get; set; } = "";
}

public class NothingToSearch
{
    public int N { get; set; }
}

public class SearchSpaceSearchTests
{
    [Fact]
    public void FromTypeReadsEveryAttributeIncludingNestedOptions()
    {
        var space = SearchSpace.FromType<SamplerOptions>();
        Assert.Equal(["LearningRate", "Steps", "Solver", "Kind", "Scale", "UseEma", "Inner.Eta", "Inner.Clip"], space.Dimensions.Select(d => d.Name));
        var lr = space["LearningRate"];
        Assert.Equal((DimensionKind.Continuous, 1e-5, 1e-1, true, (double?)1e-3), (lr.Kind, lr.Min, lr.Max, lr.LogScale, lr.Init));
        var steps = space["Steps"];
        Assert.Equal((DimensionKind.Integer, 4.0, 64.0, true, (double?)16), (steps.Kind, steps.Min, steps.Max, steps.LogScale, steps.Init));
        Assert.Equal(DimensionKind.Continuous, space["Scale"].Kind);
        Assert.Equal(["\"euler\"", "\"heun\"", "\"dpm\""], space["Solver"].Choices.Select(c => c.GetRawText()));
        Assert.Equal(1, space["Solver"].DefaultChoiceIndex);
        Assert.Equal(["\"Euler\"", "\"Dpm\""], space["Kind"].Choices.Select(c => c.GetRawText()));
        Assert.Equal(1, space["Inner.Clip"].DefaultChoiceIndex); // [BooleanChoice(true)]: choices false, true

        var defaults = space.Default().To<SamplerOptions>();
        Assert.Equal(1e-3, defaults.LearningRate, 15);
        Assert.Equal(16, defaults.Steps);
        Assert.Equal("heun", defaults.Solver);
        Assert.Equal(SamplerKind.Euler, defaults.Kind);
        Assert.Equal(0.25, defaults.Inner.Eta);
        Assert.True(defaults.Inner.Clip);
        Assert.Equal(new BooleanChoiceAttribute().DefaultValue, defaults.UseEma); // the attribute's own default (true in ML.NET 5)
        Assert.True(defaults.UseEma);
        Assert.Equal(42, defaults.NotSearched);
    }

    [Fact]
    public void FeaturesMapToTypedOptionsAndBack()
    {
        var space = SearchSpace.FromType<SamplerOptions>();
        var zero = space.Sample<SamplerOptions>(new double[space.Count]);
        Assert.Equal((1e-5, 4, "euler", SamplerKind.Euler, 0.5f, false, 0.0, false), (zero.LearningRate, zero.Steps, zero.Solver, zero.Kind, zero.Scale, zero.UseEma, zero.Inner.Eta, zero.Inner.Clip));
        var one = space.Sample<SamplerOptions>(Enumerable.Repeat(1.0, space.Count).ToArray());
        Assert.Equal((1e-1, 64, "dpm", SamplerKind.Dpm, 2.0f, true, 1.0, true), (Math.Round(one.LearningRate, 12), one.Steps, one.Solver, one.Kind, one.Scale, one.UseEma, one.Inner.Eta, one.Inner.Clip));

        // Log scale: u = 0.5 is the geometric mean; integer log range rounds.
        var mid = space.Sample(Enumerable.Repeat(0.5, space.Count).ToArray());
        Assert.Equal(Math.Sqrt(1e-5 * 1e-1), mid.GetDouble("LearningRate"), 12);
        Assert.Equal(16, mid.GetInt32("Steps"));
        Assert.Equal("heun", mid.Get<string>("Solver")); // bucket [1/3, 2/3)

        // Back to features: ranges invert exactly, choices land on bucket centres, integers on their own feature.
        var rng = new Random(1);
        for (int k = 0; k < 50; k++)
        {
            var u = Enumerable.Range(0, space.Count).Select(_ => rng.NextDouble()).ToArray();
            var p = space.Sample(u);
            var back = space.MapToFeature(p);
            Assert.Equal(u[0], back[0], 9);
            Assert.Equal(u[4], back[4], 9);
            Assert.Equal(p, space.Sample(back)); // a point's feature samples the same point
            Assert.Equal(((int)(u[2] * 3) + 0.5) / 3, back[2], 12);
        }
    }

    [Fact]
    public void HandBuiltSpaceValidatesDimensionsNamingThem()
    {
        Assert.Contains("'lr'", Assert.Throws<ArgumentException>(() => new SearchSpace().AddRange("lr", 0, 1, logScale: true)).Message);
        Assert.Contains("'lr'", Assert.Throws<ArgumentException>(() => new SearchSpace().AddRange("lr", -1, 1, logScale: true)).Message);
        Assert.Contains("'a'", Assert.Throws<ArgumentException>(() => new SearchSpace().AddRange("a", 1, 1)).Message);
        Assert.Contains("inverted", Assert.Throws<ArgumentException>(() => new SearchSpace().AddIntegerRange("n", 5, 2)).Message);
        Assert.Contains("'x'", Assert.Throws<ArgumentException>(() => new SearchSpace().AddRange("x", 0, double.PositiveInfinity)).Message);
        Assert.Contains("Init", Assert.Throws<ArgumentException>(() => new SearchSpace().AddRange("x", 0, 1, init: 2)).Message);
        Assert.Contains("'c'", Assert.Throws<ArgumentException>(() => new SearchSpace().AddChoice("c")).Message);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => new SearchSpace().AddChoice("c", "a", "a")).Message);
        Assert.Contains("'d'", Assert.Throws<ArgumentException>(() => new SearchSpace().AddRange("d", 0, 1).AddChoice("d", 1, 2)).Message);
        Assert.Contains("'c'", Assert.Throws<ArgumentException>(() => SearchDimension.Choice("c", ["a", "b"], "z")).Message);
        Assert.Throws<ArgumentException>(() => new SearchSpace().AddRange(" ", 0, 1));
    }

    [Fact]
    public void FromTypeRejectsBadAttributesNamingTheProperty()
    {
        Assert.Contains("'Text'", Assert.Throws<ArgumentException>(() => SearchSpace.FromType<BadRangeOnString>()).Message);
        Assert.Contains("'X'", Assert.Throws<ArgumentException>(() => SearchSpace.FromType<BadLogRange>()).Message);
        Assert.Contains("'N'", Assert.Throws<ArgumentException>(() => SearchSpace.FromType<BadInvertedRange>()).Message);
        Assert.Contains("'S'", Assert.Throws<ArgumentException>(() => SearchSpace.FromType<BadEmptyChoice>()).Message);
        Assert.Contains("NothingToSearch", Assert.Throws<ArgumentException>(() => SearchSpace.FromType<NothingToSearch>()).Message);
    }

    [Fact]
    public void ParametersOutsideTheSpaceAreRejectedNamingTheDimension()
    {
        var space = new SearchSpace().AddRange("lr", 1e-4, 1, logScale: true).AddIntegerRange("n", 1, 10).AddChoice("act", "relu", "tanh");
        var good = Parameter.Create([new("lr", 0.01), new("n", 3), new("act", "tanh")]);
        space.Validate(good);
        Assert.Contains("'act'", Assert.Throws<ArgumentException>(() => space.Validate(good.With("act", "sigmoid"))).Message);
        Assert.Contains("'lr'", Assert.Throws<ArgumentException>(() => space.Validate(good.With("lr", 2.0))).Message);
        Assert.Contains("'lr'", Assert.Throws<ArgumentException>(() => space.Validate(good.With("lr", "big"))).Message);
        Assert.Contains("'n'", Assert.Throws<ArgumentException>(() => space.Validate(good.With("n", 2.5))).Message);
        Assert.Contains("'n'", Assert.Throws<ArgumentException>(() => space.Validate(Parameter.Create([new("lr", 0.01), new("act", "relu")]))).Message);
        // Numbers compare by value: 3.0 is the integer 3, and 2.0 is the numeric choice 2.
        space.Validate(good.With("n", JsonDocument.Parse("3.0").RootElement));
        var numeric = new SearchSpace().AddChoice("k", 1, 2, 3);
        Assert.Equal(0.5, numeric.MapToFeature(Parameter.Create([new("k", JsonDocument.Parse("2.0").RootElement)]))[0], 12);
        Assert.Contains("'k'", Assert.Throws<ArgumentException>(() => numeric.Validate(Parameter.Create([new("k", "2")]))).Message);
        Assert.Contains("3 dimensions", Assert.Throws<ArgumentException>(() => space.Sample(new double[2])).Message);
        Assert.Contains("'n'", Assert.Throws<ArgumentException>(() => space.Sample([0.5, 1.5, 0.5])).Message);
        Assert.Contains("'lr'", Assert.Throws<ArgumentException>(() => space.Sample([double.NaN, 0.5, 0.5])).Message);
    }

    [Fact]
    public void SpaceRoundTripsThroughJson()
    {
        var space = SearchSpace.FromType<SamplerOptions>().AddIntegerRange("Batch", 8, 256, logScale: true, init: 32).AddChoice("Mixed", 1, "two", 3.5, true);
        string json = space.ToJson();
        var back = SearchSpace.FromJson(json);
        Assert.Equal(json, back.ToJson());
        Assert.Equal(space.Count, back.Count);
        var rng = new Random(2);
        for (int k = 0; k < 20; k++)
        {
            var u = Enumerable.Range(0, space.Count).Select(_ => rng.NextDouble()).ToArray();
            Assert.Equal(space.Sample(u), back.Sample(u));
        }
        Assert.Equal(space.Default(), back.Default());
    }

    [Fact]
    public void SpaceFromJsonValidatesAgain()
    {
        string json = new SearchSpace().AddRange("lr", 1e-4, 1, logScale: true).ToJson().Replace("0.0001", "-1");
        Assert.Contains("'lr'", Assert.Throws<ArgumentException>(() => SearchSpace.FromJson(json)).Message);
        Assert.Throws<ArgumentException>(() => SearchSpace.FromJson("{ not json"));
        string dup = new SearchSpace().AddRange("a", 0, 1).ToJson();
        string twice = "[" + dup.Trim()[1..^1] + "," + dup.Trim()[1..^1] + "]";
        Assert.Contains("'a'", Assert.Throws<ArgumentException>(() => SearchSpace.FromJson(twice)).Message);
    }

    [Fact]
    public void ParameterRoundTripsThroughJsonAndConvertsToOptions()
    {
        var p = Parameter.Create([new("LearningRate", 0.003), new("Steps", 20), new("Solver", "dpm"), new("Kind", SamplerKind.Dpm), new("Inner.Eta", 0.5), new("Inner.Clip", true)]);
        string json = p.ToJson();
        var back = Parameter.FromJson(json);
        Assert.Equal(p, back);
        Assert.Equal(p.GetHashCode(), back.GetHashCode());
        Assert.Equal(json, back.ToJson());
        var options = back.To<SamplerOptions>();
        Assert.Equal((0.003, 20, "dpm", SamplerKind.Dpm, 0.5, true, 42), (options.LearningRate, options.Steps, options.Solver, options.Kind, options.Inner.Eta, options.Inner.Clip, options.NotSearched));
        Assert.NotEqual(p, p.With("Steps", 21));
        Assert.Equal(JsonValueKind.String, p["Kind"].ValueKind);
        Assert.Contains("'Missing'", Assert.Throws<ArgumentException>(() => p["Missing"]).Message);
        Assert.Contains("'Solver'", Assert.Throws<ArgumentException>(() => p.GetDouble("Solver")).Message);
        Assert.Throws<ArgumentException>(() => Parameter.FromJson("[1, 2]"));
        Assert.Throws<ArgumentException>(() => p.With("Steps", "many").To<SamplerOptions>());
    }
}
