using System.CommandLine;
using System.Globalization;
using System.Text;
using Microsoft.ML;
using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Thermodynamics;

namespace MLExtensions.Diffusion.Cli;

/// <summary><c>thermo</c>: entropy production, kinetic cost, efficiency and the speed-accuracy table.</summary>
internal static class ThermoCommand
{
    public static Command Create(CliContext ctx)
    {
        var model = new Option<string>("--model") { Description = "A model zip; needs --data (held-out rows)." };
        var data = new Option<string>("--data") { Description = "Held-out rows (CSV or .parquet) for --model." };
        var mixture = new Option<string>("--mixture")
        {
            Description = "An exact 1-D Gaussian mixture instead of a model: components 'weight:mean:sd' separated by ';' " +
                          "(e.g. --mixture \"0.5:-2:0.5;0.5:2:0.5\"); computed by quadrature, no sampling.",
        };
        var schedule = new Option<ScheduleKind>("--schedule") { Description = "Forward schedule for --mixture: Cosine, CondOt, VpLinear, VpCosine, Ve.", DefaultValueFactory = _ => ScheduleKind.Cosine };
        var nfe = new Option<string>("--nfe") { Description = "For --model: solver step counts of the speed-accuracy table, comma separated.", DefaultValueFactory = _ => "2,4,8,16" };
        var columns = new Option<string[]>("--columns")
        {
            Description = "Feature columns of --data, comma separated; default: the model's.",
            CustomParser = r => r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray(),
        };
        var missing = new Option<MissingMode>("--missing") { Description = "Empty cells: error or drop.", DefaultValueFactory = _ => MissingMode.Error };
        var seed = new Option<int>("--seed") { Description = "Seed.", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of text." };
        var cmd = new Command("thermo",
            "Thermodynamics of the forward process. With --model and --data: the kinetic cost c2 and the entropy production S_tot " +
            "(Monte Carlo, with standard errors), the efficiency W2(q, P_tau)^2 / (tau c2), and a speed-accuracy table (NFE against " +
            "held-out sliced W2 and MMD^2). With --mixture: c2, S_tot (system and bath parts) by quadrature, the efficiency with the exact 1-D W2(q, P_tau), and the exact " +
            "speed-accuracy table (eta <= c1 <= c2 and the W1 change) for three start perturbations.")
        {
            model, data, mixture, schedule, nfe, columns, missing, seed, json,
        };
        cmd.SetAction(CliApp.Guard(ctx, (p, ct) =>
        {
            bool j = p.GetValue(json);
            string? mix = p.GetValue(mixture), modelPath = p.GetValue(model);
            if ((mix is null) == (modelPath is null))
                throw new CliException("Give either --model (with --data) or --mixture.", ExitCodes.UsageError);
            return mix is not null ? Mixture(ctx, mix, p.GetValue(schedule), j) : Model(ctx, p, modelPath!, p.GetValue(data), p.GetValue(nfe)!,
                p.GetValue(columns), p.GetValue(missing), p.GetValue(seed), j, ct);
        }));
        return cmd;
    }

    private static int Model(CliContext ctx, ParseResult p, string modelPath, string? dataPath, string nfeList, string[]? columns,
        MissingMode missing, int seed, bool json, CancellationToken ct)
    {
        if (dataPath is null) throw new CliException("--model needs --data (held-out rows).", ExitCodes.UsageError);
        var nfes = ParseInts(nfeList, "--nfe");
        var ml = new MLContext(seed);
        var m = CliApp.LoadModel(ml, modelPath);
        var table = CliApp.ReadForModel(dataPath, columns, missing, m);
        var view = CliApp.ToDataView(ml, table.Values, m.Dimension);
        var baseMetrics = ml.Diffusion().Evaluate(m, view, new EvaluationOptions { Seed = seed, ComputeLikelihood = false });
        var rows = new List<(int Steps, DiffusionMetrics Metrics)>();
        CliApp.WithProgress(ctx, json, "speed-accuracy", report =>
        {
            for (int i = 0; i < nfes.Length; i++)
            {
                ct.ThrowIfCancellationRequested();
                rows.Add((nfes[i], ml.Diffusion().Evaluate(m, view, new EvaluationOptions { Seed = seed, ComputeLikelihood = false, SamplingSteps = nfes[i], ThermodynamicSamples = 64 })));
                report((i + 1.0) / nfes.Length, $"{nfes[i]} steps");
            }
            return 0;
        });
        if (json)
        {
            ctx.Out.WriteLine(CliApp.Json(new
            {
                kineticCost = baseMetrics.KineticCost, kineticCostStandardError = baseMetrics.KineticCostStandardError,
                entropyProduction = baseMetrics.TotalEntropyProduction, entropyProductionStandardError = baseMetrics.TotalEntropyProductionStandardError,
                efficiency = baseMetrics.Efficiency, endpointW2 = baseMetrics.EndpointW2,
                speedAccuracy = rows.Select(r => new { steps = r.Steps, nfe = r.Metrics.Nfe, slicedW2 = r.Metrics.SlicedW2, mmd2 = r.Metrics.Mmd2 }),
            }));
            return ExitCodes.Ok;
        }
        var sb = new StringBuilder();
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"kinetic cost c2          {baseMetrics.KineticCost:F4} +/- {baseMetrics.KineticCostStandardError:F4}"));
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"entropy production S_tot {baseMetrics.TotalEntropyProduction:F4} +/- {baseMetrics.TotalEntropyProductionStandardError:F4}"));
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"efficiency               {baseMetrics.Efficiency:F4} (W2(q, P_tau) = {baseMetrics.EndpointW2:F4})"));
        sb.AppendLine();
        sb.AppendLine("steps  NFE  held-out sliced W2  MMD^2");
        foreach (var (steps, mt) in rows)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{steps,5}  {mt.Nfe,3}  {mt.SlicedW2,18:F4}  {mt.Mmd2:F5}"));
        ctx.Out.Write(sb.ToString());
        return ExitCodes.Ok;
    }

    private static int Mixture(CliContext ctx, string spec, ScheduleKind kind, bool json)
    {
        var parts = spec.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var w = new double[parts.Length];
        var mu = new double[parts.Length];
        var sd = new double[parts.Length];
        for (int k = 0; k < parts.Length; k++)
        {
            var f = parts[k].Split(':');
            if (f.Length != 3 || !double.TryParse(f[0], NumberStyles.Float, CultureInfo.InvariantCulture, out w[k])
                || !double.TryParse(f[1], NumberStyles.Float, CultureInfo.InvariantCulture, out mu[k])
                || !double.TryParse(f[2], NumberStyles.Float, CultureInfo.InvariantCulture, out sd[k]) || w[k] <= 0 || sd[k] <= 0)
                throw new CliException($"--mixture component '{parts[k]}' is not 'weight:mean:sd' with weight > 0 and sd > 0.", ExitCodes.UsageError);
        }
        double total = w.Sum();
        for (int k = 0; k < w.Length; k++) w[k] /= total;
        var density = GaussianMixtureDenoiser.Isotropic(w, mu, sd);
        var schedule = new ScoreMatchingOptions { Schedule = kind }.CreateSchedule();
        var integral = EntropyProduction.Integrate(schedule, density);
        // Exact 1-D W2(q, P_T) between the data law and the noised mixture at T = MaxTime, by quantiles (midpoint rule).
        double mT = schedule.M(schedule.MaxTime), sT = schedule.Sigma(schedule.MaxTime);
        var q = StartPerturbation.Mixture(w, mu, sd);
        var pT = StartPerturbation.Mixture(w, mu.Select(x => mT * x).ToArray(), sd.Select(x => Math.Sqrt(mT * mT * x * x + sT * sT)).ToArray());
        const int levels = 2000;
        double w2sq = 0;
        for (int i = 0; i < levels; i++)
        {
            double u = (i + 0.5) / levels, diff = q.Quantile(u) - pT.Quantile(u);
            w2sq += diff * diff / levels;
        }
        double endpointW2 = Math.Sqrt(w2sq);
        double efficiency = MLExtensions.Diffusion.Thermodynamics.WassersteinSpeed.Efficiency(endpointW2, schedule.MaxTime, integral.KineticCost);
        var perturbations = new[]
        {
            StartPerturbation.MeanShift(1.0), StartPerturbation.VarianceChange(1.2), StartPerturbation.Uniform(-2.0, 2.0),
        };
        var table = perturbations.Select(pt => SpeedAccuracyRelation.Compute(schedule, density, pt, quantileLevels: 500, timePanels: 8)).ToList();
        if (json)
        {
            ctx.Out.WriteLine(CliApp.Json(new
            {
                schedule = kind.ToString(), kineticCost = integral.KineticCost, entropyProduction = integral.TotalEntropyProduction,
                systemEntropyChange = integral.SystemEntropyChange, bathEntropyChange = integral.BathEntropyChange,
                divergesAtStart = integral.DivergesAtStart, endpointW2, efficiency,
                speedAccuracy = table.Select(r => new { perturbation = r.PerturbationName, r.Eta, r.C1, r.C2, r.D0, r.W1Start, r.W1End, r.DeltaW1, r.HierarchyHolds }),
            }));
            return ExitCodes.Ok;
        }
        var sb = new StringBuilder();
        sb.AppendLine($"1-D Gaussian mixture with {w.Length} components, {kind} schedule (quadrature)");
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"kinetic cost c2          {integral.KineticCost:F5}"));
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"entropy production S_tot {integral.TotalEntropyProduction:F5} (system {integral.SystemEntropyChange:F5}, bath {integral.BathEntropyChange:F5}){(integral.DivergesAtStart ? " [diverges at t = 0; cut off]" : "")}"));
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"efficiency               {efficiency:F5} (W2(q, P_tau) = {endpointW2:F5}, exact)"));
        sb.AppendLine();
        sb.AppendLine("speed-accuracy (eta <= c1 <= c2):");
        sb.AppendLine($"{"start perturbation",-28} {"eta",10} {"c1",10} {"c2",10} {"dW1",10}  holds");
        foreach (var r in table)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{r.PerturbationName,-28} {r.Eta,10:F5} {r.C1,10:F5} {r.C2,10:F5} {r.DeltaW1,10:F5}  {r.HierarchyHolds}"));
        ctx.Out.Write(sb.ToString());
        return ExitCodes.Ok;
    }

    internal static int[] ParseInts(string list, string name)
    {
        var parts = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var result = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out result[i]) || result[i] < 1)
                throw new CliException($"{name}: '{parts[i]}' is not a positive integer.", ExitCodes.UsageError);
        if (result.Length == 0) throw new CliException($"{name} is empty.", ExitCodes.UsageError);
        return result;
    }
}
