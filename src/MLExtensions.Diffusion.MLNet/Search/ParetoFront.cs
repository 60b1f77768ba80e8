namespace MLExtensions.Diffusion.Search;

/// <summary>
/// The non-dominated (cost, loss) trade-offs of a set of points, both minimised: a point is dominated when another has
/// cost &lt;= and loss &lt;= with at least one strictly smaller. Equal points do not dominate each other, so all are kept.
/// </summary>
/// <remarks>One sort by (cost, loss) and a sweep keeping each point whose loss is below every earlier one: O(n log n).</remarks>
public static class ParetoFront
{
    /// <summary>The non-dominated points, sorted by increasing cost (then loss; ties keep input order).</summary>
    /// <typeparam name="T">The point type.</typeparam>
    /// <param name="items">The points.</param>
    /// <param name="cost">A point's cost (e.g. the number of function evaluations).</param>
    /// <param name="loss">A point's loss.</param>
    /// <returns>The front; empty for no points.</returns>
    /// <exception cref="ArgumentException">A cost or loss is NaN (the message gives the point's index).</exception>
    /// <exception cref="ArgumentNullException"><paramref name="items"/> is null.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="cost"/> is null.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="loss"/> is null.</exception>
    public static IReadOnlyList<T> Compute<T>(IEnumerable<T> items, Func<T, double> cost, Func<T, double> loss)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(cost);
        ArgumentNullException.ThrowIfNull(loss);
        var points = items.Select((item, index) =>
        {
            double c = cost(item), l = loss(item);
            if (double.IsNaN(c) || double.IsNaN(l)) throw new ArgumentException($"Point {index} has a NaN cost or loss.", nameof(items));
            return (Item: item, Cost: c, Loss: l);
        }).OrderBy(p => p.Cost).ThenBy(p => p.Loss).ToList();
        var front = new List<T>();
        double bestLoss = double.PositiveInfinity, bestCost = double.NaN;
        foreach (var p in points)
        {
            if (p.Loss < bestLoss || (front.Count == 0 && p.Loss == bestLoss))
            {
                (bestLoss, bestCost) = (p.Loss, p.Cost);
                front.Add(p.Item);
            }
            else if (p.Loss == bestLoss && p.Cost == bestCost)
                front.Add(p.Item); // equal to a front point: neither dominates
        }
        return front;
    }

    /// <summary>The non-dominated successful trials by (a cost metric, loss), sorted by increasing cost; failed trials are left out.</summary>
    /// <param name="trials">The trials.</param>
    /// <param name="costMetric">The name of the cost in each successful trial's <see cref="TrialResult.Metrics"/>.</param>
    /// <returns>The front.</returns>
    /// <exception cref="ArgumentException">A successful trial has no such metric, or it is NaN (the message names the trial).</exception>
    /// <exception cref="ArgumentNullException"><paramref name="trials"/> is null.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="costMetric"/> is null.</exception>
    public static IReadOnlyList<TrialResult> Compute(IEnumerable<TrialResult> trials, string costMetric = "Cost")
    {
        ArgumentNullException.ThrowIfNull(trials);
        ArgumentException.ThrowIfNullOrEmpty(costMetric);
        var successful = trials.Where(t => t.IsSuccess).ToList();
        foreach (var t in successful)
            if (t.Metrics is null || !t.Metrics.TryGetValue(costMetric, out double c) || double.IsNaN(c))
                throw new ArgumentException($"Trial {t.TrialSettings.TrialId} has no metric '{costMetric}' (or it is NaN).", nameof(trials));
        return Compute(successful, t => t.Metrics![costMetric], t => t.Loss);
    }
}
