using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Thermodynamics;
using Xunit.Abstractions;

namespace MLExtensions.Diffusion.Tests.Thermodynamics;

public class SpeedAccuracyRelationTests(ITestOutputHelper output)
{
    // The paper's setting (its mixture parameters are not stated): q = 0.5 N(-2, 0.5^2) + 0.5 N(2, 0.5^2),
    // start laws N(1, 1), N(0, 1.2^2), 0.5 N(-1, 0.6^2) + 0.5 N(1, 0.6^2), U(-2, 2).
    private static GaussianMixtureDenoiser Mixture() => GaussianMixtureDenoiser.Isotropic([0.5, 0.5], [-2.0, 2.0], [0.5, 0.5]);

    public static TheoryData<string, int> Cells()
    {
        var data = new TheoryData<string, int>();
        foreach (string path in new[] { "cosine", "cond-ot", "ot" })
            for (int k = 0; k < 4; k++) data.Add(path, k);
        return data;
    }

    private static StartPerturbation Perturbation(int k) => k switch
    {
        0 => StartPerturbation.MeanShift(1),
        1 => StartPerturbation.VarianceChange(1.2),
        2 => StartPerturbation.Mixture([0.5, 0.5], [-1.0, 1.0], [0.6, 0.6]),
        _ => StartPerturbation.Uniform(-2, 2),
    };

    private static SpeedAccuracyResult Run(string path, StartPerturbation p, int levels = 1000, int panels = 32) => path switch
    {
        "cosine" => SpeedAccuracyRelation.Compute(new CosineSchedule(), Mixture(), p, levels, panels),
        "cond-ot" => SpeedAccuracyRelation.Compute(new CondOtSchedule(), Mixture(), p, levels, panels),
        _ => SpeedAccuracyRelation.Compute(OptimalTransportPath1D.FromGaussianMixture(Mixture()), p, levels, panels),
    };

    [Theory]
    [MemberData(nameof(Cells))]
    public void HierarchyHoldsOnEveryCell(string path, int perturbation)
    {
        SpeedAccuracyResult r = Run(path, Perturbation(perturbation));
        output.WriteLine($"{r.PathName,-8} {r.PerturbationName,-22} D0={r.D0:G5} dW1={r.DeltaW1:G5} (rate {r.DeltaW1FromRate:G5}) eta={r.Eta:G5} c1={r.C1:G5} c2={r.C2:G5} inst={r.InstantaneousMargin:G3}");
        Assert.True(r.HierarchyHolds, $"eta = {r.Eta}, c1 = {r.C1}, c2 = {r.C2}");
        Assert.True(r.InstantaneousHolds, $"instantaneous margin {r.InstantaneousMargin}");
        // dW1 from the end points agrees with the integral of the exact rate.
        Assert.Equal(r.DeltaW1, r.DeltaW1FromRate, 3);
    }
}
