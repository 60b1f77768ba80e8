using System.Diagnostics;
using static PaperReproduction.MarkdownTable;

namespace PaperReproduction;

/// <summary>Prints the tables of part (b).</summary>
internal static class SwissRollReport
{
    private static readonly double[] Gs = [0, 3, 5];
    private static readonly string[] Paper = ["9.3e-2", "3.4e-1", "5.6e-1"];

    public static void Run(SwissRollStudy study, string outDir)
    {
        Console.WriteLine("## (b) 2-D Swiss roll with the rotating force");
        Console.WriteLine();
        Console.WriteLine($"n = {study.DataCount} roll points (empirical q); Ptilde = N(0, {SwissRollStudy.StartStd}^2 I); h = 1.1, T_fin = 0.5.");
        Console.WriteLine($"W1: {study.SampleCount} + {study.SampleCount} (+ {study.SampleCount} for the null run) points carried back by Heun ({study.FlowSteps} geometric steps, tau -> {SwissRollStudy.MinTime} tau), assignment with Euclidean cost; {study.Repetitions} repetition(s), s.e. over them.");
        Console.WriteLine();

        // Is D0 finite? P_tau is a mixture of N(c_i, s I); chi2(N(0, v I) || P_tau) is finite only if 2 s > v = 0.81.
        var finite = new MarkdownTable("tau", "component variance s of P_tau", "2 s > 0.81 (D0 finite)?", "grid D0, box +-4", "grid D0, box +-6", "grid D0, box +-8");
        foreach (double tau in new[] { 1.0, 3.0 })
        {
            double s = SwissRollStudy.EndVariance(0, tau);
            finite.Add(tau.ToString(System.Globalization.CultureInfo.InvariantCulture), F(s), 2 * s > 0.81 ? "yes" : "NO",
                F(study.RotatingChiSquare(0, tau, 4, 161)), F(study.RotatingChiSquare(0, tau, 6, 241)), F(study.RotatingChiSquare(0, tau, 8, 321)));
        }
        Console.WriteLine("### Start mismatch D0 = chi2(Ptilde || P_tau), g = 0 (s does not depend on g)");
        Console.WriteLine();
        Console.WriteLine(finite);

        var table = new MarkdownTable("case", "D0", "W1(P_tau, Ptilde)", "W1(q, p)", "raw dW1", "null dW1", "dW1 = raw - null (+- s.e.)", "eta (+- s.e.)", "D0' = chi2(P_tau || Ptilde)", "dW1^2 / (tau D0')", "paper eta", "seconds");
        var cells = new List<SwissRollCell>();
        foreach (double tau in new[] { 1.0, 3.0 })
        {
            for (int k = 0; k < Gs.Length; k++)
            {
                var clock = Stopwatch.StartNew();
                double? d0 = tau == 1.0 ? null : study.RotatingChiSquare(Gs[k], tau, 10, 401);
                SwissRollCell c = study.Rotating(Gs[k], tau, d0, 11);
                cells.Add(c);
                Add(table, c, study.RotatingChiSquare(Gs[k], tau, 6, 241, reverse: true), tau, tau == 1.0 ? Paper[k] : "-", clock);
            }
        }
        {
            var clock = Stopwatch.StartNew();
            SwissRollCell c = study.OptimalTransport(11);
            cells.Add(c);
            // chi2(N(0, I) || N(0, s^2 I)) in 2-D from the 1-D closed form s^2 / sqrt(2 s^2 - 1) - 1 (SPEC section 8).
            double s2 = SwissRollStudy.StartStd * SwissRollStudy.StartStd, oneD = s2 / Math.Sqrt(2 * s2 - 1);
            Add(table, c, oneD * oneD - 1, 1.0, "7e-6", clock);
        }
        Console.WriteLine("### eta per case");
        Console.WriteLine();
        Console.WriteLine(table);

        var curves = new List<(double, double[], double[], double[])>();
        var costs = new MarkdownTable("g", "c2 = integral T Sdot dt (t >= 0.02)", "integral Sdot dt (t >= 0.02)");
        foreach (double g in Gs)
        {
            var process = MLExtensions.Diffusion.Thermodynamics.LinearForceProcess.RotatingFromData(g, study.Data);
            int n = study.Quick ? 20 : 50;
            var t = new double[n];
            var rate = new double[n];
            var kinetic = new double[n];
            for (int i = 0; i < n; i++)
            {
                t[i] = 0.02 + (1 - 0.02) * i / (n - 1);
                var r = process.MonteCarloEntropyProductionRate(t[i], study.Quick ? 500 : 2000, new Random(5));
                rate[i] = r.Rate;
                kinetic[i] = r.KineticEnergy;
            }
            curves.Add((g, t, rate, kinetic));
            costs.Add(g.ToString(System.Globalization.CultureInfo.InvariantCulture), F(Trapezoid(t, kinetic)), F(Trapezoid(t, rate)));
        }
        Console.WriteLine("### Rotating force, tau = 1: kinetic cost and entropy production (Monte Carlo, trapezoid in t)");
        Console.WriteLine();
        Console.WriteLine(costs);
        Figures.EntropyProductionSwissRoll(Path.Combine(outDir, "entropy_production_swiss_roll.png"), curves);
    }

    private static void Add(MarkdownTable table, SwissRollCell c, double reversedD0, double tau, string paper, Stopwatch clock) =>
        table.Add(c.Case, double.IsPositiveInfinity(c.D0) ? "inf" : F(c.D0), F(c.W1Start), F(c.W1End), F(c.RawDeltaW1), F(c.NullDeltaW1),
            $"{F(c.DeltaW1)} +- {F(c.DeltaW1StandardError)}",
            double.IsNaN(c.Eta) ? "0 (D0 = inf)" : $"{F(c.Eta)} +- {F(c.EtaStandardError)}", F(reversedD0), F(c.DeltaW1 * c.DeltaW1 / (tau * reversedD0)), paper,
            $"{clock.Elapsed.TotalSeconds:0.0}");

    private static double Trapezoid(double[] t, double[] y)
    {
        double s = 0;
        for (int i = 1; i < t.Length; i++) s += 0.5 * (t[i] - t[i - 1]) * (y[i] + y[i - 1]);
        return s;
    }
}
