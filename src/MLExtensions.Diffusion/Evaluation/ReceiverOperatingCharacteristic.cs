namespace MLExtensions.Diffusion.Evaluation;

/// <summary>
/// The area under the ROC curve of a score that should rank positives (e.g. anomalies) above negatives, computed as the
/// Mann-Whitney U statistic: AUC = P(s+ &gt; s-) + P(s+ = s-) / 2 over all pairs of a positive and a negative score.
/// </summary>
/// <remarks>
/// Computed from mid-ranks of the pooled scores (ties share the mean of their ranks), which is exactly the pairwise count
/// with ties counted one half: AUC = (R+ - n+ (n+ + 1) / 2) / (n+ n-), R+ the rank sum of the positives
/// (Mann and Whitney, Ann. Math. Stat. 18, 1947; Hanley and McNeil, Radiology 143, 1982). O((n+ + n-) log(n+ + n-)).
/// </remarks>
public static class ReceiverOperatingCharacteristic
{
    /// <summary>The area under the ROC curve of scores where larger means "more likely positive".</summary>
    /// <param name="positiveScores">Scores of the positives (e.g. anomalies); non-empty, no NaN.</param>
    /// <param name="negativeScores">Scores of the negatives (e.g. normal rows); non-empty, no NaN.</param>
    /// <returns>The AUC in [0, 1]: 1 when every positive scores above every negative, 0.5 for a score unrelated to the label.</returns>
    /// <exception cref="ArgumentException">A set is empty or holds NaN (ParamName names it).</exception>
    public static double AreaUnderCurve(ReadOnlySpan<double> positiveScores, ReadOnlySpan<double> negativeScores)
    {
        Check(positiveScores, nameof(positiveScores));
        Check(negativeScores, nameof(negativeScores));
        int np = positiveScores.Length, nn = negativeScores.Length, n = np + nn;
        var scores = new double[n];
        var isPositive = new bool[n];
        positiveScores.CopyTo(scores);
        negativeScores.CopyTo(scores.AsSpan(np));
        for (int i = 0; i < np; i++) isPositive[i] = true;
        Array.Sort(scores, isPositive);
        double rankSum = 0;
        for (int start = 0; start < n;)
        {
            int end = start + 1;
            while (end < n && scores[end] == scores[start]) end++;
            // Ranks start + 1 .. end share their mean.
            double midRank = 0.5 * (start + 1 + end);
            for (int i = start; i < end; i++) if (isPositive[i]) rankSum += midRank;
            start = end;
        }
        return (rankSum - 0.5 * np * (np + 1.0)) / ((double)np * nn);
    }

    private static void Check(ReadOnlySpan<double> scores, string paramName)
    {
        if (scores.IsEmpty) throw new ArgumentException("The score set must not be empty.", paramName);
        for (int i = 0; i < scores.Length; i++)
            if (double.IsNaN(scores[i])) throw new ArgumentException($"Score {i} is NaN.", paramName);
    }
}
