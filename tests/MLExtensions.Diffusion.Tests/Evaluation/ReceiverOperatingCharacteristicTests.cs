using MLExtensions.Diffusion.Evaluation;

namespace MLExtensions.Diffusion.Tests.Evaluation;

public class ReceiverOperatingCharacteristicTests
{
    [Fact]
    public void HandComputedCaseWithATie()
    {
        // Pairs won by each positive over the 4 negatives: 0.9 -> 4, 0.8 -> 4, 0.4 -> 2 wins + 1 tie (0.5) = 2.5; 10.5 / 12.
        double auc = ReceiverOperatingCharacteristic.AreaUnderCurve([0.9, 0.8, 0.4], [0.7, 0.4, 0.1, 0.3]);
        Assert.Equal(10.5 / 12, auc, 12);
    }

    [Fact]
    public void SeparatedReversedAndConstantScores()
    {
        Assert.Equal(1.0, ReceiverOperatingCharacteristic.AreaUnderCurve([5, 6, 7], [1, 2]));
        Assert.Equal(0.0, ReceiverOperatingCharacteristic.AreaUnderCurve([1, 2], [5, 6, 7]));
        Assert.Equal(0.5, ReceiverOperatingCharacteristic.AreaUnderCurve([3, 3], [3, 3, 3]));
    }

    [Fact]
    public void MatchesTheBruteForcePairCountWithManyTies()
    {
        var random = new Random(5);
        var positives = Enumerable.Range(0, 57).Select(_ => (double)random.Next(8)).ToArray();
        var negatives = Enumerable.Range(0, 83).Select(_ => (double)random.Next(6)).ToArray();
        double count = 0;
        foreach (double p in positives)
            foreach (double n in negatives)
                count += p > n ? 1 : p == n ? 0.5 : 0;
        Assert.Equal(count / (positives.Length * negatives.Length), ReceiverOperatingCharacteristic.AreaUnderCurve(positives, negatives), 12);
    }

    [Fact]
    public void RejectsEmptyAndNaN()
    {
        Assert.Equal("positiveScores", Assert.Throws<ArgumentException>(() => ReceiverOperatingCharacteristic.AreaUnderCurve([], [1.0])).ParamName);
        var e = Assert.Throws<ArgumentException>(() => ReceiverOperatingCharacteristic.AreaUnderCurve([1.0], [2.0, double.NaN]));
        Assert.Equal("negativeScores", e.ParamName);
        Assert.Contains("Score 1", e.Message);
    }
}
