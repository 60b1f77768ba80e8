using System.Diagnostics;
using MLExtensions.Diffusion.Search;

namespace MLExtensions.Diffusion.Benchmarks;

/// <summary>
/// Tuner study (dotnet run -c Release --project benchmarks/MLExtensions.Diffusion.Benchmarks -- search [seeds=5]):
/// on a smooth 4-d bowl, per seed, the best of 64 random-search trials and the number of Gaussian-process trials
/// (at most 64) to reach it, with the median over seeds; on Branin, the trials each tuner needs to get below 1.0
/// (global minimum 0.398). Prints the process CPU time of each part.
/// </summary>
internal static class TunerStudy
{
    public static void Run(string[] args)
    {
        int seeds = args.Length > 1 ? int.Parse(args[1]) : 5;
        var cpu = Stopwatch.StartNew();
        var process = Process.GetCurrentProcess();
        TimeSpan start = process.TotalProcessorTime;

        Console.WriteLine("bowl (4-d, [-5, 5]^4): random best-of-64 vs Gaussian-process trials to reach it");
        var reach = new List<int>();
        for (int seed = 0; seed < seeds; seed++)
        {
            double target = Drive(new RandomSearchTuner(BowlSpace(), seed), Bowl, 64).Min();
            var gp = Drive(new GaussianProcessTuner(BowlSpace(), seed), Bowl, 64);
            int n = TrialsToReach(gp, target);
            reach.Add(n);
            Console.WriteLine($"  seed {seed}: random best-of-64 {target,8:F4}  GP reaches it at trial {(n == int.MaxValue ? ">64" : n.ToString()),4}  GP best-of-64 {gp.Min():F5}");
        }
        reach.Sort();
        process.Refresh();
        Console.WriteLine($"  median trials to reach: {reach[reach.Count / 2]}   (CPU {(process.TotalProcessorTime - start).TotalSeconds:F2} s)");

        start = process.TotalProcessorTime;
        Console.WriteLine("Branin: trials to get below 1.0 (random: up to 1000, GP: up to 64)");
        for (int seed = 0; seed < seeds; seed++)
        {
            var r = Drive(new RandomSearchTuner(BraninSpace(), seed), Branin, 1000);
            var g = Drive(new GaussianProcessTuner(BraninSpace(), seed), Branin, 64);
            Console.WriteLine($"  seed {seed}: random {TrialsToReach(r, 1.0),5}  GP {TrialsToReach(g, 1.0),4}  GP best-of-64 {g.Min():F4}");
        }
        process.Refresh();
        Console.WriteLine($"  (CPU {(process.TotalProcessorTime - start).TotalSeconds:F2} s, wall {cpu.Elapsed.TotalSeconds:F2} s in all)");
    }

    private static SearchSpace BraninSpace() => new SearchSpace().AddRange("x1", -5, 10).AddRange("x2", 0, 15);

    private static double Branin(Parameter p)
    {
        double x1 = p.GetDouble("x1"), x2 = p.GetDouble("x2");
        double b = 5.1 / (4 * Math.PI * Math.PI), c = 5 / Math.PI, t = 1 / (8 * Math.PI);
        double u = x2 - b * x1 * x1 + c * x1 - 6;
        return u * u + 10 * (1 - t) * Math.Cos(x1) + 10;
    }

    private static readonly double[] BowlCentre = [1.3, -2.1, 0.7, 3.2];

    private static SearchSpace BowlSpace()
    {
        var space = new SearchSpace();
        for (int i = 0; i < 4; i++) space.AddRange("x" + i, -5, 5);
        return space;
    }

    private static double Bowl(Parameter p)
    {
        double s = 0;
        for (int i = 0; i < 4; i++) s += Math.Pow(p.GetDouble("x" + i) - BowlCentre[i], 2);
        return s;
    }

    private static double[] Drive(ITuner tuner, Func<Parameter, double> f, int trials)
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

    private static int TrialsToReach(double[] losses, double target)
    {
        for (int i = 0; i < losses.Length; i++) if (losses[i] <= target) return i + 1;
        return int.MaxValue;
    }
}
