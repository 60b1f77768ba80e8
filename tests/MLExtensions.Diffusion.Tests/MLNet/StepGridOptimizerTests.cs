using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Tests.MLNet;

public class StepGridOptimizerTests(DiffusionModelFixture fixture) : IClassFixture<DiffusionModelFixture>
{
    private static double[] Candidates(double top, int count) =>
        Enumerable.Range(0, count).Select(i => top * Math.Pow(0.01 / top, i / (double)(count - 1))).ToArray();

    private StepGridOptimizer Optimizer(GenerateSamplerKind kind, int count) =>
        new(fixture.ScaledModel, fixture.ScaledModel.Schedule, kind, Candidates(fixture.ScaledModel.TrainedNoiseLevelRange.High, count),
            new StepGridOptimizerOptions { Rows = 64, Seed = 3, ReferenceSubsteps = 4 });

    [Theory]
    [InlineData(GenerateSamplerKind.Euler, 3)]
    [InlineData(GenerateSamplerKind.Heun, 5)]
    [InlineData(GenerateSamplerKind.Ddim, 4)]
    public void Optimize_FindsTheLeastCostPath_ThatBruteForceEnumerationFinds(GenerateSamplerKind kind, int nfe)
    {
        var optimizer = Optimizer(kind, 7);
        int k = optimizer.Levels.Length, steps = SamplingPlan.StepsForNfe(kind, nfe);
        // Brute force over every start and every strictly increasing path of `steps` steps ending at the last node (level 0).
        double best = double.PositiveInfinity;
        void Walk(int node, int left, double cost)
        {
            if (left == 0)
            {
                if (node == k - 1) best = Math.Min(best, cost);
                return;
            }
            for (int next = node + 1; next < k; next++) Walk(next, left - 1, cost + optimizer.StepError(node, next));
        }
        for (int start = 0; start < k - 1; start++) Walk(start, steps, optimizer.StartError(start));

        var (plan, estimate) = optimizer.Optimize(nfe);
        Assert.Equal(best, estimate, 12);
        Assert.Equal(nfe, plan.Nfe);
        Assert.Equal(0, plan.Times[^1]);
        // The estimate is the start cost plus the step costs along the returned grid.
        var levels = plan.NoiseLevels();
        int[] index = levels.Select(l => Array.FindIndex(optimizer.Levels.ToArray(), c => Math.Abs(c - l) <= 1e-9 * Math.Max(c, 1e-12))).ToArray();
        Assert.DoesNotContain(-1, index);
        double sum = optimizer.StartError(index[0]);
        for (int s = 1; s < index.Length; s++) sum += optimizer.StepError(index[s - 1], index[s]);
        Assert.Equal(estimate, sum, 12);
    }

    [Fact]
    public void StartingAtTheTop_CostsNothing_AndStepErrorsShrinkWithTheStep()
    {
        var optimizer = Optimizer(GenerateSamplerKind.Heun, 9);
        Assert.Equal(0, optimizer.StartError(0));
        // A Heun step between neighbouring candidates is far more accurate than the one jump over all of them.
        Assert.True(optimizer.StepError(3, 4) < optimizer.StepError(0, optimizer.Levels.Length - 1));
    }

    [Fact]
    public void BadArguments_FailClearly()
    {
        var model = fixture.ScaledModel;
        Assert.Equal("sampler", Assert.Throws<ArgumentException>(() =>
            new StepGridOptimizer(model, model.Schedule, GenerateSamplerKind.DpmSolverPlusPlus2M, [5.0, 1.0])).ParamName);
        Assert.Equal("candidateLevels", Assert.Throws<ArgumentException>(() =>
            new StepGridOptimizer(model, model.Schedule, GenerateSamplerKind.Heun, [1.0, 5.0])).ParamName);
        Assert.Equal("candidateLevels", Assert.Throws<ArgumentException>(() =>
            new StepGridOptimizer(model, model.Schedule, GenerateSamplerKind.Heun, [5.0])).ParamName);
        Assert.Equal("candidateLevels", Assert.Throws<ArgumentException>(() =>
            new StepGridOptimizer(model, model.Schedule, GenerateSamplerKind.Heun, [1e6, 1.0])).ParamName);
        Assert.Equal("Rows", Assert.Throws<ArgumentOutOfRangeException>(() =>
            new StepGridOptimizer(model, model.Schedule, GenerateSamplerKind.Heun, [5.0, 1.0], new StepGridOptimizerOptions { Rows = 1 })).ParamName);
        var optimizer = Optimizer(GenerateSamplerKind.Euler, 3);
        Assert.Equal("nfe", Assert.Throws<ArgumentOutOfRangeException>(() => optimizer.Optimize(0)).ParamName);
        // 3 candidates + level 0 allow at most 3 steps.
        Assert.Throws<InvalidOperationException>(() => optimizer.Optimize(4));
    }
}

public class DiscretisationErrorTests(DiffusionModelFixture fixture) : IClassFixture<DiffusionModelFixture>
{
    [Fact]
    public void TheReferencePlan_HasZeroError_AndRmsIsThePerRowDistance()
    {
        var model = fixture.ScaledModel;
        var measure = new DiscretisationError(model, 64, seed: 2, referenceSteps: 200);
        Assert.Equal(0, measure.Measure(measure.ReferencePlan).Rms);
        var plan = model.DefaultSamplingPlan(3);
        var samples = measure.Sample(plan);
        double sum = 0;
        for (int r = 0; r < 64; r++)
        {
            double row = 0;
            for (int j = 0; j < 2; j++) row += Math.Pow(samples[2 * r + j] - measure.ReferenceSamples[2 * r + j], 2);
            sum += row;
        }
        var error = measure.Measure(plan);
        Assert.Equal(Math.Sqrt(sum / 64), error.Rms, 12);
        Assert.Equal(plan.Nfe, error.Nfe);
        Assert.True(error.SlicedW2 <= error.Rms + 1e-12, $"sliced W2 {error.SlicedW2} exceeds the paired RMS {error.Rms}");
    }

    [Fact]
    public void HeunOnTheReferenceGrid_ConvergesToTheReference()
    {
        var model = fixture.ScaledModel;
        var measure = new DiscretisationError(model, 64, seed: 2, referenceSteps: 400);
        double Error(int steps) => measure.Measure(new SamplingPlan(model.Schedule,
            TimeGrid.EdmRho(model.Schedule, steps, Math.Min(0.002, model.TrainedNoiseLevelRange.High / 2), model.TrainedNoiseLevelRange.High))).Rms;
        double e25 = Error(25), e100 = Error(100);
        Assert.True(e100 < e25 / 4, $"Heun 100 steps {e100}, 25 steps {e25}: second order should cut it 16-fold");
    }
}
