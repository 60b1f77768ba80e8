using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Thermodynamics;
using ScottPlot;
using SkiaSharp;

namespace MLExtensions.Diffusion.Cli.Demo;

/// <summary>The demo's PNG figures (ScottPlot 5; the pair plot is composed with SkiaSharp).</summary>
internal static class DemoFigures
{
    private static readonly Color DataColor = new(120, 120, 120, 150);
    private static readonly Color GeneratedColor = new(214, 96, 31, 170);
    private static readonly Color[] Palette = [new(31, 119, 180), new(214, 96, 31), new(44, 160, 44)];

    /// <summary>A 4 x 4 scatter matrix: training rows (grey) and generated rows (orange); histograms on the diagonal.</summary>
    public static void PairPlot(string file, float[] data, float[] generated, string title)
    {
        const int d = DemoData.Dimension, cell = 300, header = 44;
        using var surface = SKSurface.Create(new SKImageInfo(d * cell, d * cell + header));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using (var font = new SKFont(SKTypeface.Default, 22))
        using (var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true })
            canvas.DrawText(title, d * cell / 2f, 30, SKTextAlign.Center, font, paint);
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
            {
                var plt = new Plot();
                if (i == j)
                {
                    double lo = Math.Min(Column(data, i).Min(), Column(generated, i).Min()), hi = Math.Max(Column(data, i).Max(), Column(generated, i).Max());
                    AddDensity(plt, Column(data, i), lo, hi, DataColor, "data");
                    AddDensity(plt, Column(generated, i), lo, hi, GeneratedColor, "generated");
                    plt.Axes.Left.TickLabelStyle.IsVisible = false;
                    if (i == 0) plt.ShowLegend(Alignment.UpperRight);
                }
                else
                {
                    var a = plt.Add.ScatterPoints(Column(data, j), Column(data, i), DataColor);
                    a.MarkerSize = 4;
                    var b = plt.Add.ScatterPoints(Column(generated, j), Column(generated, i), GeneratedColor);
                    b.MarkerSize = 4;
                }
                if (i == d - 1 || i == j) plt.Axes.Bottom.Label.Text = DemoData.Labels[j];
                if (j == 0 && i != j) plt.Axes.Left.Label.Text = DemoData.Labels[i];
                plt.Axes.Bottom.Label.FontSize = 15;
                plt.Axes.Left.Label.FontSize = 15;
                byte[] png = plt.GetImageBytes(cell, cell, ImageFormat.Png);
                using var bitmap = SKBitmap.Decode(png);
                canvas.DrawBitmap(bitmap, j * cell, header + i * cell);
            }
        using var image = surface.Snapshot();
        using var encoded = image.Encode(SKEncodedImageFormat.Png, 100);
        using var stream = File.Create(file);
        encoded.SaveTo(stream);
    }

    /// <summary>The kinetic energy E|nu_t|^2 along each path (the model's own path metric), against t / tau; the area under
    /// each curve is the path's kinetic cost c2.</summary>
    public static void KineticEnergy(string file, IGaussianPathMetric metric, IReadOnlyDictionary<string, NoiseSchedule> paths,
        IReadOnlyDictionary<string, double> costs)
    {
        var plt = new Plot();
        int k = 0;
        foreach (var (role, schedule) in paths)
        {
            var speed = GaussianPathKineticCost.Speed(metric, schedule);
            const int points = 120;
            var x = new List<double>();
            var y = new List<double>();
            for (int p = 1; p < points; p++)
            {
                double u = (double)p / points, energy = Math.Pow(speed(u * schedule.MaxTime), 2) * schedule.MaxTime;
                if (energy > 0 && double.IsFinite(energy)) { x.Add(u); y.Add(Math.Log10(energy)); }
            }
            var line = plt.Add.ScatterLine(x.ToArray(), y.ToArray(), Palette[k++ % Palette.Length]);
            line.LineWidth = 2.5f;
            line.LegendText = $"{role}: {schedule.Name} (c2 = {costs.GetValueOrDefault(role, double.NaN):0.00})";
        }
        plt.Title("Kinetic energy along each noising path (learned denoiser's path metric)");
        plt.XLabel("normalised time t / tau  (0 = data, 1 = noise)");
        plt.YLabel("log10 of tau E|nu_t|^2  (area under = c2)");
        plt.Axes.Title.Label.FontSize = 14;
        plt.ShowLegend(Alignment.UpperCenter);
        plt.SavePng(file, 900, 560);
    }

    /// <summary>Discretisation RMS against NFE for the default plan family and the optimised one.</summary>
    public static void ErrorVsNfe(string file, IReadOnlyList<DemoNfePoint> curve, PlanCandidate chosen)
    {
        var plt = new Plot();
        double[] nfe = curve.Select(p => (double)p.Nfe).ToArray();
        var a = plt.Add.Scatter(nfe, curve.Select(p => Math.Log10(p.DefaultRms)).ToArray(), Palette[0]);
        a.LegendText = "default plan (training schedule, Heun, angle grid)";
        a.LineWidth = 2.5f;
        a.MarkerSize = 9;
        var b = plt.Add.Scatter(nfe, curve.Select(p => Math.Log10(p.OptimisedRms)).ToArray(), Palette[1]);
        b.LegendText = $"optimised plan ({chosen.Schedule}, {chosen.Grid}, {chosen.Sampler}; fitted at NFE {chosen.Nfe})";
        b.LineWidth = 2.5f;
        b.MarkerSize = 9;
        var v = plt.Add.VerticalLine(chosen.Nfe, 1.5f, Colors.Gray);
        v.LinePattern = LinePattern.Dashed;
        plt.Title("Sampling error against network evaluations (lower is better)");
        plt.XLabel("NFE (network evaluations per generated row)");
        plt.YLabel("log10 RMS to the 1000-step Heun samples (std units)");
        plt.Axes.Title.Label.FontSize = 14;
        plt.ShowLegend(Alignment.UpperRight);
        plt.SavePng(file, 900, 560);
    }

    private static void AddDensity(Plot plt, double[] values, double lo, double hi, Color color, string label)
    {
        const int bins = 24;
        double width = (hi - lo) / bins;
        if (!(width > 0)) width = 1;
        var counts = new double[bins];
        foreach (var v in values) counts[Math.Clamp((int)((v - lo) / width), 0, bins - 1)] += 1.0 / (values.Length * width);
        var x = new List<double>();
        var y = new List<double>();
        for (int b = 0; b < bins; b++)
        {
            x.Add(lo + b * width); y.Add(counts[b]);
            x.Add(lo + (b + 1) * width); y.Add(counts[b]);
        }
        var line = plt.Add.ScatterLine(x.ToArray(), y.ToArray(), color);
        line.LineWidth = 2.5f;
        line.LegendText = label;
    }

    private static double[] Column(float[] rows, int j)
    {
        var c = new double[rows.Length / DemoData.Dimension];
        for (int r = 0; r < c.Length; r++) c[r] = rows[r * DemoData.Dimension + j];
        return c;
    }
}
