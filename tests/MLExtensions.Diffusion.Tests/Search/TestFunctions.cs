using MLExtensions.Diffusion.Search;

namespace MLExtensions.Diffusion.Tests.Search;

/// <summary>Known test functions and a loop that drives a tuner on one directly (no experiment).</summary>
internal static class TestFunctions
{
    /// <summary>The Branin function on x1 in [-5, 10], x2 in [0, 15]; global minimum 0.397887 at three points.</summary>
    public static double Branin(double x1, double x2)
    {
        double b = 5.1 / (4 * Math.PI * Math.PI), c = 5 / Math.PI, t = 1 / (8 * Math.PI);
        double u = x2 - b * x1 * x1 + c * x1 - 6;
        return u * u + 10 * (1 - t) * Math.Cos(x1) + 10;
    }

    public const double BraninMinimum = 0.397887357729739;

    public static SearchSpace BraninSpace() => new SearchSpace().AddRange("x1", -5, 10).AddRange("x2", 0, 15);

    public static double Branin(Parameter p) => Branin(p.GetDouble("x1"), p.GetDouble("x2"));

    /// <summary>A smooth 4-d bowl on [-5, 5]^4 with its minimum 0 off-centre.</summary>
    public static SearchSpace BowlSpace()
    {
        var space = new SearchSpace();
        for (int i = 0; i < 4; i++) space.AddRange("x" + i, -5, 5);
        return space;
    }

    private static readonly double[] BowlCentre = [1.3, -2.1, 0.7, 3.2];

    public static double Bowl(Parameter p)
    {
        double s = 0;
        for (int i = 0; i < 4; i++)
        {
            double d = p.GetDouble("x" + i) - BowlCentre[i];
            s += d * d;
        }
        return s;
    }

    /// <summary>Runs a tuner for a number of trials on a function; returns the losses in order.</summary>
    public static double[] Drive(ITuner tuner, Func<Parameter, double> f, int trials)
    {
        var losses = new double[trials];
        for (int i = 0; i < trials; i++)
        {
            var p = tuner.Propose(new TrialSettings(i, Parameter.Empty));
            losses[i] = f(p);
            tuner.Update(new TrialResult { TrialSettings = new TrialSettings(i, p), Loss = losses[i], Metric = losses[i] });
        }
        return losses;
    }

    /// <summary>The 1-based number of trials until the running minimum first reaches a target; int.MaxValue when never.</summary>
    public static int TrialsToReach(double[] losses, double target)
    {
        for (int i = 0; i < losses.Length; i++) if (losses[i] <= target) return i + 1;
        return int.MaxValue;
    }
}
