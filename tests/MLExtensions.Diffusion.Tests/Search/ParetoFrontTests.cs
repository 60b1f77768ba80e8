using MLExtensions.Diffusion.Search;

namespace MLExtensions.Diffusion.Tests.Search;

public class ParetoFrontSearchTests
{
    private static bool Dominates((double C, double L) a, (double C, double L) b) => a.C <= b.C && a.L <= b.L && (a.C < b.C || a.L < b.L);

    [Fact]
    public void MatchesBruteForceOnRandomPointsWithTies()
    {
        var rng = new Random(3);
        for (int round = 0; round < 200; round++)
        {
            int n = rng.Next(0, 40);
            // Coarse coordinates so that equal costs, equal losses and equal points occur.
            var points = Enumerable.Range(0, n).Select(i => (Id: i, C: (double)rng.Next(0, 8), L: (double)rng.Next(0, 8))).ToList();
            var front = ParetoFront.Compute(points, p => p.C, p => p.L);
            var brute = points.Where(p => !points.Any(q => Dominates((q.C, q.L), (p.C, p.L)))).ToList();
            Assert.Equal(brute.Select(p => p.Id).Order(), front.Select(p => p.Id).Order());
            for (int i = 1; i < front.Count; i++)
            {
                Assert.True(front[i - 1].C <= front[i].C);
                if (front[i - 1].C < front[i].C) Assert.True(front[i - 1].L > front[i].L); // strictly better loss for more cost
            }
        }
    }

    [Fact]
    public void TrialOverloadUsesTheCostMetricAndSkipsFailedTrials()
    {
        TrialResult T(int id, double cost, double loss, string? error = null) => new()
        {
            TrialSettings = new TrialSettings(id, Parameter.Empty),
            Loss = loss,
            Error = error,
            Metrics = new Dictionary<string, double> { ["Cost"] = cost },
        };
        var trials = new[] { T(0, 10, 5), T(1, 20, 3), T(2, 15, 6), T(3, 5, 0, "failed"), T(4, 40, 3), T(5, 30, 1) };
        Assert.Equal([0, 1, 5], ParetoFront.Compute(trials).Select(t => t.TrialSettings.TrialId));
        var noMetric = trials.Append(new TrialResult { TrialSettings = new TrialSettings(9, Parameter.Empty), Loss = 1 });
        Assert.Contains("Trial 9", Assert.Throws<ArgumentException>(() => ParetoFront.Compute(noMetric)).Message);
        Assert.Contains("Point 1", Assert.Throws<ArgumentException>(() => ParetoFront.Compute(new[] { 1.0, double.NaN }, x => x, x => x)).Message);
    }
}
