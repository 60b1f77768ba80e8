using System.Text.Json;
using System.Text.Json.Serialization;

namespace MLExtensions.Diffusion.Schedules;

/// <summary>
/// Writes a <see cref="NoiseSchedule"/> as JSON and reads it back exactly: a family name plus the constructor
/// parameters (families with parameters), or the knots (<see cref="TabulatedSchedule"/>) or betas
/// (<see cref="DiscreteBetaSchedule"/>). Doubles are written in their shortest round-trip form, so a schedule read back
/// evaluates bit for bit like the one written.
/// </summary>
/// <remarks>
/// <para>Supported: <see cref="CosineSchedule"/>, <see cref="CondOtSchedule"/>, <see cref="VpLinearSchedule"/>,
/// <see cref="VpCosineSchedule"/>, <see cref="VeSchedule"/>, <see cref="GaussianOtSchedule"/>,
/// <see cref="TabulatedSchedule"/> and <see cref="DiscreteBetaSchedule"/>. Any other subclass (for instance a
/// re-timed schedule, which wraps another schedule and a numerical inverse) cannot be written: tabulate it first
/// (build a <see cref="TabulatedSchedule"/> from its m and sigma on a fine grid).</para>
/// <para>Example document: <c>{"family":"cosine","tau":1,"endCutoff":0.001}</c>.</para>
/// </remarks>
public static class ScheduleJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Whether <see cref="Serialize"/> can write <paramref name="schedule"/>.</summary>
    /// <param name="schedule">The schedule.</param>
    /// <returns>True for the built-in families listed in the remarks.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="schedule"/> is null.</exception>
    public static bool CanSerialize(NoiseSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        return schedule is CosineSchedule or CondOtSchedule or VpLinearSchedule or VpCosineSchedule or VeSchedule
            or GaussianOtSchedule or TabulatedSchedule or DiscreteBetaSchedule;
    }

    /// <summary>The JSON document of <paramref name="schedule"/>.</summary>
    /// <param name="schedule">The schedule.</param>
    /// <returns>One JSON object (see the remarks).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="schedule"/> is null.</exception>
    /// <exception cref="NotSupportedException">The schedule's type is not one of the supported families; the message
    /// names the type and says how to tabulate it.</exception>
    public static string Serialize(NoiseSchedule schedule) => JsonSerializer.Serialize(ToDocument(schedule), Options);

    /// <summary>Rebuilds a schedule from <see cref="Serialize"/>'s document.</summary>
    /// <param name="json">The document.</param>
    /// <returns>The schedule.</returns>
    /// <exception cref="ArgumentException"><paramref name="json"/> is blank.</exception>
    /// <exception cref="InvalidDataException">The document is not valid JSON, names an unknown family, lacks a parameter
    /// of its family, or its parameters are rejected by the family's constructor (the message says which).</exception>
    public static NoiseSchedule Deserialize(string json)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(json);
        Document? doc;
        try
        {
            doc = JsonSerializer.Deserialize<Document>(json, Options);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The schedule document is not valid JSON: {e.Message}", e);
        }
        if (doc is null) throw new InvalidDataException("The schedule document is null.");
        return FromDocument(doc);
    }

    internal static Document ToDocument(NoiseSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        return schedule switch
        {
            CosineSchedule c => new Document { Family = c.Name, Tau = c.Tau, EndCutoff = c.EndCutoff },
            CondOtSchedule c => new Document { Family = c.Name, Tau = c.Tau, EndCutoff = c.EndCutoff },
            VpLinearSchedule v => new Document { Family = v.Name, Tau = v.Tau, BetaMin = v.BetaMin, BetaMax = v.BetaMax },
            VpCosineSchedule v => new Document { Family = v.Name, Tau = v.Tau, Offset = v.Offset, BetaMax = v.BetaMax, ReferenceSteps = v.ReferenceSteps },
            VeSchedule v => new Document { Family = v.Name, SigmaMax = v.SigmaMax },
            GaussianOtSchedule g => new Document { Family = g.Name, Tau = g.Tau, EndCutoff = g.EndCutoff, DataStd = g.DataStd },
            TabulatedSchedule t => new Document
            {
                Family = t.Name, EndCutoff = t.RequestedEndCutoff, Times = t.KnotTimes.ToArray(), M = t.KnotM.ToArray(), Sigma = t.KnotSigma.ToArray(),
            },
            DiscreteBetaSchedule b => new Document { Family = b.Name, Betas = b.Betas.ToArray() },
            _ => throw new NotSupportedException(
                $"A schedule of type {schedule.GetType().Name} ('{schedule.Name}') cannot be written as JSON: only the built-in families " +
                "(cosine, cond-ot, vp-linear, vp-cosine, ve, gaussian-ot, tabulated, discrete-beta) can. Tabulate it first: " +
                "new TabulatedSchedule(times, m, sigma) from its M and Sigma on a fine time grid."),
        };
    }

    internal static NoiseSchedule FromDocument(Document doc)
    {
        try
        {
            return doc.Family switch
            {
                "cosine" => new CosineSchedule(Need(doc.Tau, "tau"), Need(doc.EndCutoff, "endCutoff")),
                "cond-ot" => new CondOtSchedule(Need(doc.Tau, "tau"), Need(doc.EndCutoff, "endCutoff")),
                "vp-linear" => new VpLinearSchedule(Need(doc.BetaMin, "betaMin"), Need(doc.BetaMax, "betaMax"), Need(doc.Tau, "tau")),
                "vp-cosine" => new VpCosineSchedule(Need(doc.Tau, "tau"), Need(doc.Offset, "offset"), Need(doc.BetaMax, "betaMax"),
                    doc.ReferenceSteps ?? throw Missing("referenceSteps")),
                "ve" => new VeSchedule(Need(doc.SigmaMax, "sigmaMax")),
                "gaussian-ot" => new GaussianOtSchedule(Need(doc.DataStd, "dataStd"), Need(doc.Tau, "tau"), Need(doc.EndCutoff, "endCutoff")),
                "tabulated" => new TabulatedSchedule(doc.Times ?? throw Missing("times"), doc.M ?? throw Missing("m"),
                    doc.Sigma ?? throw Missing("sigma"), Need(doc.EndCutoff, "endCutoff")),
                "discrete-beta" => DiscreteBetaSchedule.FromBetas(doc.Betas ?? throw Missing("betas")),
                null => throw new InvalidDataException("The schedule document has no 'family'."),
                _ => throw new InvalidDataException($"The schedule document names the unknown family '{doc.Family}'."),
            };
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"The {doc.Family} schedule document holds invalid parameters: {e.Message}", e);
        }

        double Need(double? value, string name) => value ?? throw Missing(name);
        InvalidDataException Missing(string name) => new($"The {doc.Family} schedule document lacks '{name}'.");
    }

    /// <summary>The JSON shape: a family and the parameters it needs.</summary>
    internal sealed class Document
    {
        public string? Family { get; set; }
        public double? Tau { get; set; }
        public double? EndCutoff { get; set; }
        public double? BetaMin { get; set; }
        public double? BetaMax { get; set; }
        public double? Offset { get; set; }
        public int? ReferenceSteps { get; set; }
        public double? SigmaMax { get; set; }
        public double? DataStd { get; set; }
        public double[]? Times { get; set; }
        public double[]? M { get; set; }
        public double[]? Sigma { get; set; }
        public double[]? Betas { get; set; }
    }
}
