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
        Console.WriteLine($"W1: {study.SampleCount} + {study.SampleCount} points carried back by Heun ({study.FlowSteps} geometric steps, tau -> {SwissRollStudy.MinTime} tau), assignment with Euclidean cost; {study.Repetitions} repetition(s), s.e. over them.");
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

        var table = new MarkdownTable("case", "D0", "W1(P_tau, Ptilde)", "W1(q, p)", "dW1 (+- s.e.)", "eta (+- s.e.)", "paper eta", "seconds");
        var cells = new List<SwissRollCell>();
        foreach (double tau in new[] { 1.0, 3.0 })
        {
            for (int k = 0; k < Gs.Length; k++)
            {
                var clock = Stopwatch.StartNew();
                double? d0 = tau == 1.0 ? null : study.RotatingChiSquare(Gs[k], tau, 10, 401);
                SwissRollCell c = study.Rotating(Gs[k], tau, d0, 11);
                cells.Add(c);
                Add(table, c, tau == 1.0 ? Paper[k] : "-", clock);
            }
        }
        {
            var clock = Stopwatch.StartNew();
            SwissRollCell c = study.OptimalTransport(11);
            cells.Add(c);
            Add(table, c, "7e-6", clock);
        }
        Console.WriteLine("### eta per case");
        Console.WriteLine();
        Console.WriteLine(table);
    }

    private static void Add(MarkdownTable table, SwissRollCell c, string paper, Stopwatch clock) =>
        table.Add(c.Case, double.IsPositiveInfinity(c.D0) ? "inf" : F(c.D0), F(c.W1Start), F(c.W1End), $"{F(c.DeltaW1)} +- {F(c.DeltaW1StandardError)}",
            double.IsNaN(c.Eta) ? "0 (D0 = inf)" : $"{F(c.Eta)} +- {F(c.EtaStandardError)}", paper, $"{clock.Elapsed.TotalSeconds:0.0}");
}
