using MLExtensions.Diffusion.Thermodynamics;
using static PaperReproduction.MarkdownTable;

namespace PaperReproduction;

/// <summary>Prints the tables of part (a) and writes its figures.</summary>
internal static class OneDimensionalReport
{
    // Euler steps (NFE = steps) and Heun steps (NFE = 2 steps - 1 with the final Euler step to sigma = 0).
    private static readonly int[] EulerSteps = [4, 8, 16, 64];
    private static readonly int[] HeunSteps = [2, 4, 8];

    public static void Run(OneDimensionalStudy study, string outDir)
    {
        Console.WriteLine("## (a) 1-D two-component Gaussian mixture");
        Console.WriteLine();
        Console.WriteLine($"q = {Weights()}; tau = 1; cosine and cond-OT end at t_end = tau (1 - 1e-3); OT ends at tau.");
        Console.WriteLine($"Exact: {nameof(SpeedAccuracyRelation)} with N = {study.QuantileLevels} quantile levels, {study.TimePanels} Gauss-Legendre time panels.");
        Console.WriteLine();

        var exact = new Dictionary<(string, string), SpeedAccuracyResult>();
        var table = new MarkdownTable("path", "Ptilde", "D0", "W1(P_tau, Ptilde)", "W1(q, p)", "dW1", "eta", "c1", "c2", "eta <= c1 <= c2", "instantaneous");
        foreach (StartPerturbation start in study.Perturbations)
        {
            foreach (PathCase path in study.Paths)
            {
                SpeedAccuracyResult r = study.Exact(path, start);
                exact[(path.Name, start.Name)] = r;
                table.Add(path.Name, start.Name, F(r.D0), F(r.W1Start), F(r.W1End), F(r.DeltaW1), F(r.Eta), F(r.C1), F(r.C2),
                    r.HierarchyHolds ? "yes" : "NO", r.InstantaneousHolds ? "yes" : "NO");
            }
        }
        Console.WriteLine("### Exact flow (no time-stepping error)");
        Console.WriteLine();
        Console.WriteLine(table);

        var spread = new MarkdownTable("Ptilde", "eta cosine", "eta cond-OT", "eta OT", "max/min - 1", "lowest c2");
        foreach (StartPerturbation start in study.Perturbations)
        {
            var etas = study.Paths.Select(p => exact[(p.Name, start.Name)].Eta).ToArray();
            string lowest = study.Paths.MinBy(p => exact[(p.Name, start.Name)].C2)!.Name;
            spread.Add(start.Name, F(etas[0]), F(etas[1]), F(etas[2]), F(etas.Max() / etas.Min() - 1), lowest);
        }
        Console.WriteLine("### Exact eta across paths (differences come only from the end cut-off t_end)");
        Console.WriteLine();
        Console.WriteLine(spread);

        // Finite-step runs.
        var solvers = EulerSteps.Select(s => (Heun: false, Steps: s)).Concat(HeunSteps.Select(s => (Heun: true, Steps: s))).ToArray();
        var cells = new Dictionary<(string, string, int), FiniteStepCell>();
        var headers = new List<string> { "path", "Ptilde", "exact eta" };
        bool headersDone = false;
        var rows = new List<string[]>();
        foreach (StartPerturbation start in study.Perturbations)
        {
            foreach (PathCase path in study.Paths)
            {
                SpeedAccuracyResult r = exact[(path.Name, start.Name)];
                var row = new List<string> { path.Name, start.Name, F(r.Eta) };
                for (int k = 0; k < solvers.Length; k++)
                {
                    FiniteStepCell c = study.FiniteStep(path, start, r, solvers[k].Heun, solvers[k].Steps);
                    cells[(path.Name, start.Name, k)] = c;
                    row.Add($"{F(c.Eta)} ({F(c.DeltaW1)})");
                    if (!headersDone) headers.Add($"{c.Solver} NFE {c.Nfe}");
                }
                headersDone = true;
                rows.Add([.. row]);
            }
        }
        var finite = new MarkdownTable([.. headers]);
        foreach (string[] row in rows) finite.Add(row);
        Console.WriteLine("### Finite-step reverse flow: eta_NFE (signed dW1 in brackets)");
        Console.WriteLine();
        Console.WriteLine("Uniform steps in t from t_end to 0, exact mixture denoiser (cosine, cond-OT) or exact OT velocity; start = N quantiles of Ptilde.");
        Console.WriteLine();
        Console.WriteLine(finite);

        // Solver error alone: start from the exact P_tau.
        var floorHeaders = new List<string> { "path" };
        var floor = new List<string[]>();
        foreach (PathCase path in study.Paths)
        {
            var row = new List<string> { path.Name };
            StartPerturbation end = study.EndLaw(path);
            foreach (var (heun, steps) in solvers)
            {
                (double w1, int nfe) = study.FiniteStepW1(path, end, heun, steps);
                row.Add(F(w1));
                if (floorHeaders.Count <= solvers.Length) floorHeaders.Add($"{(heun ? "Heun" : "Euler")} NFE {nfe}");
            }
            floor.Add([.. row]);
        }
        var floorTable = new MarkdownTable([.. floorHeaders]);
        foreach (string[] row in floor) floorTable.Add(row);
        Console.WriteLine("### Solver error alone: W1(q, p_NFE) when the reverse flow starts from the exact P_tau");
        Console.WriteLine();
        Console.WriteLine(floorTable);

        var order = new MarkdownTable(["Ptilde", "exact", .. headers.Skip(3)]);
        foreach (StartPerturbation start in study.Perturbations)
        {
            var row = new List<string> { start.Name, Ranking(study.Paths.Select(p => (p.Name, exact[(p.Name, start.Name)].Eta))) };
            for (int k = 0; k < solvers.Length; k++) row.Add(Ranking(study.Paths.Select(p => (p.Name, cells[(p.Name, start.Name, k)].Eta))));
            order.Add([.. row]);
        }
        Console.WriteLine("### Ordering of eta across paths (lowest first)");
        Console.WriteLine();
        Console.WriteLine(order);

        Figures.MSigmaPaths(Path.Combine(outDir, "m_sigma_paths.png"));
        Figures.KineticEnergy(Path.Combine(outDir, "kinetic_energy.png"), study.Paths.Select(p => exact[(p.Name, study.Perturbations[0].Name)]).ToList());
        Figures.HierarchyBars(Path.Combine(outDir, "eta_c1_c2.png"), study.Paths.Select(p => p.Name).ToList(),
            study.Perturbations.Select(s => s.Name).ToList(), (p, s) => exact[(p, s)]);
        Figures.EntropyProduction1D(Path.Combine(outDir, "entropy_production_1d.png"), study);
        Figures.EtaVersusNfe(Path.Combine(outDir, "eta_vs_nfe.png"), study, exact);
    }

    private static string Weights() =>
        string.Join(" + ", OneDimensionalStudy.Weights.Select((w, k) => $"{w} N({OneDimensionalStudy.Means[k]}, {OneDimensionalStudy.Stds[k]}^2)"));

    private static string Ranking(IEnumerable<(string Name, double Eta)> cells) =>
        string.Join(" < ", cells.OrderBy(c => c.Eta).Select(c => c.Name));
}
