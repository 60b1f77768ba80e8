using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Thermodynamics;
using ScottPlot;

namespace PaperReproduction;

/// <summary>The PNG figures (ScottPlot 5), kept small: 640 x 420 pixels.</summary>
internal static class Figures
{
    private const int Width = 640, Height = 420;

    private static readonly Color[] Palette =
    [
        Color.FromHex("#1f77b4"), Color.FromHex("#d62728"), Color.FromHex("#2ca02c"), Color.FromHex("#9467bd"), Color.FromHex("#ff7f0e"),
    ];

    /// <summary>(m_t, sigma_t) of the cosine and cond-OT schedules and of the Gaussian OT path for two data scales.</summary>
    public static void MSigmaPaths(string file)
    {
        var plt = new Plot();
        NoiseSchedule[] schedules = [new CosineSchedule(), new CondOtSchedule(), new GaussianOtSchedule(0.5), new GaussianOtSchedule(2.0)];
        string[] labels = ["cosine", "cond-OT", "OT for N(0, 0.5^2) data", "OT for N(0, 2^2) data"];
        for (int k = 0; k < schedules.Length; k++)
        {
            NoiseSchedule s = schedules[k];
            int n = 200;
            var m = new double[n + 1];
            var sigma = new double[n + 1];
            for (int i = 0; i <= n; i++)
            {
                double t = s.MaxTime * i / n;
                m[i] = s.M(t);
                sigma[i] = s.Sigma(t);
            }
            var line = plt.Add.ScatterLine(m, sigma, Palette[k]);
            line.LineWidth = 2;
            line.LegendText = labels[k];
        }
        plt.XLabel("m_t");
        plt.YLabel("sigma_t");
        plt.Title("(m, sigma) paths from data (m = 1, sigma = 0) to noise (every VP schedule lies on the cosine arc)");
        plt.Axes.Title.Label.FontSize = 11;
        plt.ShowLegend(Alignment.LowerLeft);
        plt.SavePng(file, Width, Height);
    }

    /// <summary>The kinetic cost T_t Sdot(t) = integral nu^2 P_t dx per path (the integrand of c2).</summary>
    public static void KineticEnergy(string file, IReadOnlyList<SpeedAccuracyResult> results)
    {
        var plt = new Plot();
        for (int k = 0; k < results.Count; k++)
        {
            SpeedAccuracyResult r = results[k];
            var line = plt.Add.ScatterLine(r.Times.ToArray(), r.KineticEnergy.ToArray(), Palette[k]);
            line.LineWidth = 2;
            line.LegendText = $"{r.PathName} (c2 = {r.C2:0.000})";
        }
        plt.XLabel("t");
        plt.YLabel("T_t Sdot(t)");
        plt.Title("Kinetic cost along the forward path (1-D mixture)");
        plt.ShowLegend(Alignment.UpperLeft);
        plt.SavePng(file, Width, Height);
    }

    /// <summary>eta, c1, c2 per (perturbation, path) cell as grouped bars on a log10 axis.</summary>
    public static void HierarchyBars(string file, IReadOnlyList<string> paths, IReadOnlyList<string> starts, Func<string, string, SpeedAccuracyResult> result)
    {
        var plt = new Plot();
        var all = new List<double>();
        foreach (string s in starts)
            foreach (string p in paths)
            {
                SpeedAccuracyResult r = result(p, s);
                all.AddRange([r.Eta, r.C1, r.C2]);
            }
        double floor = Math.Floor(Math.Log10(all.Where(v => v > 0).Min()));
        var bars = new List<Bar>();
        var tickPositions = new List<double>();
        var tickLabels = new List<string>();
        double position = 0;
        string[] names = ["eta", "c1", "c2"];
        for (int si = 0; si < starts.Count; si++)
        {
            for (int pi = 0; pi < paths.Count; pi++)
            {
                SpeedAccuracyResult r = result(paths[pi], starts[si]);
                double[] values = [r.Eta, r.C1, r.C2];
                for (int j = 0; j < 3; j++)
                    bars.Add(new Bar { Position = position + j, Value = Math.Log10(values[j]), ValueBase = floor, FillColor = Palette[j], Size = 0.9 });
                tickPositions.Add(position + 1);
                tickLabels.Add(paths[pi] == "cond-OT" ? "c-OT" : paths[pi] == "cosine" ? "cos" : paths[pi]);
                position += 4;
            }
            position += 2;
        }
        plt.Add.Bars(bars);
        for (int j = 0; j < 3; j++) plt.Legend.ManualItems.Add(new LegendItem { LabelText = names[j], FillColor = Palette[j] });
        plt.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. tickPositions], [.. tickLabels]);
        plt.Axes.Bottom.TickLabelStyle.FontSize = 10;
        plt.YLabel("log10 value");
        plt.Title($"eta <= c1 <= c2; groups: {string.Join(", ", starts)}");
        plt.Axes.Title.Label.FontSize = 11;
        plt.Axes.SetLimitsY(floor, Math.Ceiling(Math.Log10(all.Max())) + 0.2);
        plt.ShowLegend(Alignment.UpperRight);
        plt.SavePng(file, Width + 160, Height + 60);
    }

    /// <summary>eta at finite NFE (Euler) per path for the first perturbation, with the exact eta as a dashed line.</summary>
    public static void EtaVersusNfe(string file, OneDimensionalStudy study, IReadOnlyDictionary<(string, string), SpeedAccuracyResult> exact)
    {
        var plt = new Plot();
        StartPerturbation start = study.Perturbations[0];
        int[] steps = [1, 2, 4, 8, 16, 32, 64, 128];
        for (int k = 0; k < study.Paths.Count; k++)
        {
            PathCase path = study.Paths[k];
            SpeedAccuracyResult r = exact[(path.Name, start.Name)];
            var x = steps.Select(s => Math.Log10(s)).ToArray();
            var y = steps.Select(s => Math.Log10(Math.Max(study.FiniteStep(path, start, r, false, s).Eta, 1e-12))).ToArray();
            var line = plt.Add.Scatter(x, y, Palette[k]);
            line.LineWidth = 2;
            line.LegendText = $"{path.Name}, Euler";
            if (k == 0)
            {
                var h = plt.Add.HorizontalLine(Math.Log10(r.Eta), 1, Colors.Black, LinePattern.Dashed);
                h.LegendText = "exact flow (all paths agree to < 1%)";
            }
        }
        plt.XLabel("log10 NFE (uniform steps in t)");
        plt.YLabel("log10 eta_NFE");
        plt.Title($"eta at finite NFE, Ptilde = {start.Name}");
        plt.ShowLegend(Alignment.UpperRight);
        plt.SavePng(file, Width, Height);
    }

    /// <summary>Sdot(t) of the cosine and cond-OT forward processes on the 1-D mixture (exact quadrature in x).</summary>
    public static void EntropyProduction1D(string file, OneDimensionalStudy study)
    {
        var plt = new Plot();
        int k = 0;
        foreach (PathCase path in study.Paths)
        {
            if (path.Schedule is not { } schedule) continue;
            int n = 160;
            var t = new double[n];
            var y = new double[n];
            for (int i = 0; i < n; i++)
            {
                // Quadratic spacing: dense near t = 0, where cond-OT's Sdot diverges like 1/t.
                t[i] = schedule.MaxTime * Math.Pow((i + 1.0) / n, 2);
                y[i] = Math.Log10(MLExtensions.Diffusion.Thermodynamics.EntropyProduction.Rate(schedule, study.Data, t[i]).Rate);
            }
            var line = plt.Add.ScatterLine(t, y, Palette[k++]);
            line.LineWidth = 2;
            line.LegendText = path.Name;
        }
        plt.XLabel("t");
        plt.YLabel("log10 Sdot(t)");
        plt.Title("Entropy production rate, 1-D mixture (OT: no bath temperature, see kinetic-cost figure)");
        plt.Axes.Title.Label.FontSize = 12;
        plt.ShowLegend(Alignment.UpperRight);
        plt.SavePng(file, Width, Height);
    }

    /// <summary>Sdot(t) and T_t Sdot(t) of the rotating-force process on the Swiss roll (Monte Carlo).</summary>
    public static void EntropyProductionSwissRoll(string file, IReadOnlyList<(double G, double[] T, double[] Rate, double[] Kinetic)> curves)
    {
        var plt = new Plot();
        for (int k = 0; k < curves.Count; k++)
        {
            var c = curves[k];
            var line = plt.Add.ScatterLine(c.T, c.Rate.Select(Math.Log10).ToArray(), Palette[k]);
            line.LineWidth = 2;
            line.LegendText = $"Sdot, g = {c.G}";
            var kin = plt.Add.ScatterLine(c.T, c.Kinetic.Select(Math.Log10).ToArray(), Palette[k]);
            kin.LineWidth = 1.5f;
            kin.LinePattern = LinePattern.Dashed;
            kin.LegendText = $"T Sdot, g = {c.G}";
        }
        plt.XLabel("t");
        plt.YLabel("log10 value");
        plt.Title("Swiss roll, rotating force (tau = 1): Sdot (solid), T Sdot (dashed)");
        plt.Axes.Title.Label.FontSize = 12;
        plt.ShowLegend(Alignment.UpperRight);
        plt.SavePng(file, Width, Height);
    }
}
