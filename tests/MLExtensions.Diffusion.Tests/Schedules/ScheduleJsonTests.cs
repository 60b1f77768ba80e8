using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Thermodynamics;

namespace MLExtensions.Diffusion.Tests.Schedules;

public class ScheduleJsonTests
{
    public static TheoryData<string> Families => new()
    {
        "cosine", "cond-ot", "vp-linear", "vp-cosine", "ve", "gaussian-ot", "tabulated", "tabulated-m0", "discrete-beta",
    };

    private static NoiseSchedule Make(string family) => family switch
    {
        "cosine" => new CosineSchedule(2.0, 3e-3),
        "cond-ot" => new CondOtSchedule(1.5, 2e-3),
        "vp-linear" => new VpLinearSchedule(0.2, 15, 1.3),
        "vp-cosine" => new VpCosineSchedule(1.1, 0.01, 0.99, 500),
        "ve" => new VeSchedule(50),
        "gaussian-ot" => new GaussianOtSchedule(0.37, 1.2, 4e-3),
        "tabulated" => new TabulatedSchedule([0, 0.3, 0.7, 1.0], [1, 0.9, 0.6, 0.4], [0, 0.4, 0.8, 1.1]),
        "tabulated-m0" => new TabulatedSchedule([0, 0.5, 1.0], [1, 0.5, 0], [0, 0.6, 1.0], endCutoff: 0.01),
        "discrete-beta" => DiscreteBetaSchedule.DdpmLinear(50, 1e-3, 0.05),
        _ => throw new ArgumentOutOfRangeException(nameof(family)),
    };

    [Theory]
    [MemberData(nameof(Families))]
    public void RoundTrip_GivesASchedule_ThatEvaluatesBitForBitLikeTheOriginal(string family)
    {
        var original = Make(family);
        Assert.True(ScheduleJson.CanSerialize(original));
        string json = ScheduleJson.Serialize(original);
        var back = ScheduleJson.Deserialize(json);
        Assert.Equal(original.GetType(), back.GetType());
        Assert.Equal(original.Name, back.Name);
        Assert.Equal(original.Tau, back.Tau);
        Assert.Equal(original.MaxTime, back.MaxTime);
        for (int k = 0; k <= 40; k++)
        {
            double t = original.MaxTime * k / 40.0;
            Assert.Equal(original.M(t), back.M(t));
            Assert.Equal(original.Sigma(t), back.Sigma(t));
            Assert.Equal(original.MDot(t), back.MDot(t));
            Assert.Equal(original.SigmaDot(t), back.SigmaDot(t));
        }
        // Writing the copy gives the same document.
        Assert.Equal(json, ScheduleJson.Serialize(back));
    }

    [Fact]
    public void AWrappingSchedule_CannotBeWritten_AndTheMessageSaysHowToTabulateIt()
    {
        var retimed = ScheduleRetiming.ConstantSpeed(new CosineSchedule(), t => 1 + t).Schedule;
        Assert.False(ScheduleJson.CanSerialize(retimed));
        var e = Assert.Throws<NotSupportedException>(() => ScheduleJson.Serialize(retimed));
        Assert.Contains(nameof(RetimedSchedule), e.Message);
        Assert.Contains("TabulatedSchedule", e.Message);
    }

    [Theory]
    [InlineData("""{"family":"wavy","tau":1}""", "unknown family 'wavy'")]
    [InlineData("""{"tau":1}""", "no 'family'")]
    [InlineData("""{"family":"cosine","tau":1}""", "lacks 'endCutoff'")]
    [InlineData("""{"family":"cosine","tau":-1,"endCutoff":0.001}""", "invalid parameters")]
    [InlineData("""{"family":"tabulated","times":[0,1],"m":[1,0.5],"sigma":[0,2,3],"endCutoff":0.001}""", "invalid parameters")]
    [InlineData("""{"family":"cosine",""", "not valid JSON")]
    public void BadDocuments_ThrowInvalidData_NamingTheProblem(string json, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => ScheduleJson.Deserialize(json));
        Assert.Contains(expected, e.Message);
    }
}
