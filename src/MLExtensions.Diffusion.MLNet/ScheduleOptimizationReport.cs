using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>
/// What <see cref="ScheduleOptimizationEstimator"/> measured and chose: every candidate (selection sample), the chosen
/// plan, its discretisation error before and after on separate report latents, held-out metrics on the report split of
/// the data, and the thermodynamics of the chosen path (kinetic cost c2, efficiency, speed-limit W2 bound).
/// Readable as text (<see cref="ToString"/>) and JSON (<see cref="ToJson"/>).
/// </summary>
/// <remarks>All distances are in the diffusion's z units (standardised under <see cref="FeatureScaling.PerFeature"/>).
/// Thermodynamics: c2 = integral over [0, MaxTime] of E|nu_t|^2 under the model's Monte Carlo path metric
/// (<see cref="Thermodynamics.DenoiserPathMetric"/>, or the Gaussian closed form with
/// <see cref="PathMetricSource.GaussianMoments"/>; <see cref="Thermodynamics.GaussianPathKineticCost"/>); the speed limit
/// W2(data, noise) &lt;= sqrt(tau c2) gives <see cref="W2Bound"/>; <see cref="Efficiency"/> = W2^2 / (tau c2) with W2 from the
/// data's first two moments (the Gelbrich bound, a lower bound on the true W2 to N(0, I), so the efficiency shown is a lower
/// bound too).</remarks>
public sealed class ScheduleOptimizationReport
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    internal ScheduleOptimizationReport(int nfeBudget, PlanSelectionCriterion criterion, IReadOnlyList<PlanCandidate> candidates, PlanCandidate chosen,
        SamplingPlan chosenPlan, SamplingPlan beforePlan, PlanError before, PlanError defaultAtBudget, PlanError after,
        double heldOutSlicedW2Before, double heldOutSlicedW2DefaultAtBudget, double heldOutSlicedW2After, double heldOutMmdBefore, double heldOutMmdAfter,
        IReadOnlyDictionary<string, double> kineticCosts, IReadOnlyDictionary<string, Schedules.NoiseSchedule> paths, double gelbrichW2, int selectionRows, int reportRows, int referenceSteps)
    {
        NfeBudget = nfeBudget;
        Criterion = criterion;
        Candidates = candidates;
        Chosen = chosen;
        ChosenPlan = chosenPlan;
        BeforePlan = beforePlan;
        Before = before;
        DefaultAtBudget = defaultAtBudget;
        After = after;
        HeldOutSlicedW2Before = heldOutSlicedW2Before;
        HeldOutSlicedW2DefaultAtBudget = heldOutSlicedW2DefaultAtBudget;
        HeldOutSlicedW2After = heldOutSlicedW2After;
        HeldOutMmdBefore = heldOutMmdBefore;
        HeldOutMmdAfter = heldOutMmdAfter;
        KineticCosts = kineticCosts;
        Paths = paths;
        W2Estimate = gelbrichW2;
        SelectionRows = selectionRows;
        ReportRows = reportRows;
        ReferenceSteps = referenceSteps;
    }

    /// <summary>The NFE budget asked for.</summary>
    public int NfeBudget { get; }

    /// <summary>What the selection minimised.</summary>
    public PlanSelectionCriterion Criterion { get; }

    /// <summary>Every candidate, measured on the selection latents.</summary>
    public IReadOnlyList<PlanCandidate> Candidates { get; }

    /// <summary>The chosen candidate (selection measures).</summary>
    public PlanCandidate Chosen { get; }

    /// <summary>The chosen plan.</summary>
    public SamplingPlan ChosenPlan { get; }

    /// <summary>The model's plan before optimisation.</summary>
    public SamplingPlan BeforePlan { get; }

    /// <summary>The model's plan before optimisation, on the report latents (at its own NFE).</summary>
    public PlanError Before { get; }

    /// <summary>The default plan (<see cref="DiffusionModelParameters.DefaultSamplingPlan"/>, Heun) at the budget, on the report latents.</summary>
    public PlanError DefaultAtBudget { get; }

    /// <summary>The chosen plan on the report latents.</summary>
    public PlanError After { get; }

    /// <summary>Sliced W2 between the plan-before's samples and the report split of the data.</summary>
    public double HeldOutSlicedW2Before { get; }

    /// <summary>Sliced W2 between the default plan's samples at the budget and the report split.</summary>
    public double HeldOutSlicedW2DefaultAtBudget { get; }

    /// <summary>Sliced W2 between the chosen plan's samples and the report split.</summary>
    public double HeldOutSlicedW2After { get; }

    /// <summary>Unbiased MMD^2 (Gaussian kernel, median bandwidth) between the plan-before's samples and the report split.</summary>
    public double HeldOutMmdBefore { get; }

    /// <summary>Unbiased MMD^2 between the chosen plan's samples and the report split.</summary>
    public double HeldOutMmdAfter { get; }

    /// <summary>c2 of each schedule tried ("training", "gaussian-ot", "fitted-path"), under the model's path metric.</summary>
    public IReadOnlyDictionary<string, double> KineticCosts { get; }

    /// <summary>The schedules tried, by role ("training", "gaussian-ot", "fitted-path").</summary>
    [JsonIgnore]
    public IReadOnlyDictionary<string, Schedules.NoiseSchedule> Paths { get; }

    /// <summary>c2 of the chosen plan's schedule.</summary>
    public double KineticCost => KineticCosts[Chosen.Schedule];

    /// <summary>tau of the chosen plan's schedule.</summary>
    public double Tau => ChosenPlan.Schedule.Tau;

    /// <summary>The speed-limit bound sqrt(tau c2) on W2(data, noise) of the chosen path.</summary>
    public double W2Bound => Math.Sqrt(Tau * KineticCost);

    /// <summary>W2 between N(mean, covariance) of the data's selection split and N(0, I) (Gelbrich lower bound on the data's W2 to noise).</summary>
    public double W2Estimate { get; }

    /// <summary>W2Estimate^2 / (tau c2) of the chosen path.</summary>
    public double Efficiency => W2Estimate * W2Estimate / (Tau * KineticCost);

    /// <summary>Latent rows of the selection measure.</summary>
    public int SelectionRows { get; }

    /// <summary>Latent rows of the report measure.</summary>
    public int ReportRows { get; }

    /// <summary>Heun steps of the converged reference.</summary>
    public int ReferenceSteps { get; }

    /// <summary>The report as indented JSON (plans as <see cref="SamplingPlan.ToJson"/> documents).</summary>
    /// <returns>The document.</returns>
    public string ToJson()
    {
        var node = new JsonObject
        {
            ["nfeBudget"] = NfeBudget,
            ["criterion"] = Criterion.ToString(),
            ["chosen"] = JsonSerializer.SerializeToNode(Chosen, Json),
            ["chosenPlan"] = JsonNode.Parse(ChosenPlan.ToJson()),
            ["beforePlan"] = ScheduleJsonOrNull(BeforePlan),
            ["before"] = JsonSerializer.SerializeToNode(Before, Json),
            ["defaultAtBudget"] = JsonSerializer.SerializeToNode(DefaultAtBudget, Json),
            ["after"] = JsonSerializer.SerializeToNode(After, Json),
            ["heldOutSlicedW2Before"] = HeldOutSlicedW2Before,
            ["heldOutSlicedW2DefaultAtBudget"] = HeldOutSlicedW2DefaultAtBudget,
            ["heldOutSlicedW2After"] = HeldOutSlicedW2After,
            ["heldOutMmdBefore"] = HeldOutMmdBefore,
            ["heldOutMmdAfter"] = HeldOutMmdAfter,
            ["kineticCosts"] = JsonSerializer.SerializeToNode(KineticCosts, Json),
            ["kineticCost"] = KineticCost,
            ["tau"] = Tau,
            ["w2Bound"] = W2Bound,
            ["w2Estimate"] = W2Estimate,
            ["efficiency"] = Efficiency,
            ["selectionRows"] = SelectionRows,
            ["reportRows"] = ReportRows,
            ["referenceSteps"] = ReferenceSteps,
            ["candidates"] = JsonSerializer.SerializeToNode(Candidates, Json),
        };
        return node.ToJsonString(Json);
    }

    /// <summary>A text summary: chosen plan, before/after, thermodynamics, then every candidate sorted by the criterion.</summary>
    /// <returns>The text.</returns>
    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"Schedule optimisation at NFE <= {NfeBudget} (criterion {Criterion}; selection on {SelectionRows} latents, report on {ReportRows} other latents; reference Heun {ReferenceSteps} steps)");
        text.AppendLine(c, $"chosen: {Chosen.Label}: {ChosenPlan}");
        text.AppendLine(c, $"discretisation error (report latents, z units)   RMS        sliced W2   held-out sliced W2");
        text.AppendLine(c, $"  before  ({Before.Nfe,3} NFE, the model's plan)      {Before.Rms,-10:G4} {Before.SlicedW2,-11:G4} {HeldOutSlicedW2Before:G4}");
        text.AppendLine(c, $"  default ({DefaultAtBudget.Nfe,3} NFE, Heun default grid)   {DefaultAtBudget.Rms,-10:G4} {DefaultAtBudget.SlicedW2,-11:G4} {HeldOutSlicedW2DefaultAtBudget:G4}");
        text.AppendLine(c, $"  after   ({After.Nfe,3} NFE, chosen plan)         {After.Rms,-10:G4} {After.SlicedW2,-11:G4} {HeldOutSlicedW2After:G4}");
        text.AppendLine(c, $"held-out MMD^2: before {HeldOutMmdBefore:G4}, after {HeldOutMmdAfter:G4}");
        text.AppendLine("kinetic cost c2: " + string.Join(", ", KineticCosts.Select(k => string.Create(c, $"{k.Key} {k.Value:G4}"))));
        text.AppendLine(c, $"chosen path: c2 = {KineticCost:G4}, W2 bound sqrt(tau c2) = {W2Bound:G4}, W2 (Gelbrich) = {W2Estimate:G4}, efficiency = {Efficiency:G4}");
        text.AppendLine("candidates (selection latents):");
        var ordered = Candidates.OrderBy(k => Criterion switch
        {
            PlanSelectionCriterion.SlicedW2 => k.SlicedW2,
            PlanSelectionCriterion.HeldOutSlicedW2 => k.HeldOutSlicedW2,
            _ => k.Rms,
        }).ThenBy(k => k.Label, StringComparer.Ordinal);
        foreach (var k in ordered)
            text.AppendLine(k.Failure is null
                ? string.Create(c, $"  {k.Label,-52} NFE {k.Nfe,3}  top {k.TopNoiseLevel,8:G4}  RMS {k.Rms,-9:G4} sliced W2 {k.SlicedW2,-9:G4} held-out {k.HeldOutSlicedW2:G4}")
                : string.Create(c, $"  {k.Label,-52} not built: {k.Failure}"));
        return text.ToString();
    }

    private static JsonNode? ScheduleJsonOrNull(SamplingPlan plan)
    {
        try
        {
            return JsonNode.Parse(plan.ToJson());
        }
        catch (NotSupportedException)
        {
            return null;
        }
    }
}
