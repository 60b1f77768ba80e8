using MLExtensions.Diffusion.Onnx;
using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Training;

namespace MLExtensions.Diffusion.Tests.Onnx;

public class OnnxModelSignatureTests
{
    private static OnnxModel Graph(params (string Name, OnnxDim[] Shape)[] inputs)
    {
        var g = new OnnxGraphBuilder();
        string? first = null;
        foreach (var (name, shape) in inputs)
            first ??= g.AddInput(name, OnnxElementType.Float, shape);
        g.AddOutput(g.Identity(first!), "x0", OnnxElementType.Float, "N", 2);
        foreach (var (name, shape) in inputs.Skip(1))
            g.AddInput(name, OnnxElementType.Float, shape);
        return g.Build();
    }

    private static InvalidDataException Reject(OnnxModel model, int? dimension)
    {
        using var session = OnnxSessionFactory.Create(model, OrtTestRunner.Settings);
        return Assert.Throws<InvalidDataException>(() => OnnxModelSignature.ValidateDenoiser(session, dimension, "/models/bad.onnx"));
    }

    [Fact]
    public void WrongInputNameIsNamed()
    {
        var ex = Reject(Graph(("y", new OnnxDim[] { "N", 2 }), ("m", new OnnxDim[] { "N", 1 }), ("sigma", new OnnxDim[] { "N", 1 })), 2);
        Assert.Contains("/models/bad.onnx", ex.Message);
        Assert.Contains("no input named 'x'", ex.Message);
        Assert.Contains("y", ex.Message);
    }

    [Fact]
    public void WrongRankAndFeatureCountAreNamed()
    {
        var ex = Reject(Graph(("x", new OnnxDim[] { "N", 2 }), ("m", new OnnxDim[] { "N" }), ("sigma", new OnnxDim[] { "N", 1 })), 2);
        Assert.Contains("'m' must have rank 2", ex.Message);
        Assert.Contains("[N]", ex.Message);
        ex = Reject(Graph(("x", new OnnxDim[] { "N", 2 }), ("m", new OnnxDim[] { "N", 1 }), ("sigma", new OnnxDim[] { "N", 3 })), 2);
        Assert.Contains("'sigma' has 3 features", ex.Message);
        ex = Reject(Graph(("x", new OnnxDim[] { "N", 2 }), ("m", new OnnxDim[] { "N", 1 }), ("sigma", new OnnxDim[] { "N", 1 })), 5);
        Assert.Contains("'x' has 2 features", ex.Message);
        Assert.Contains("5 are expected", ex.Message);
    }

    [Fact]
    public void SamplerGraphIsNotADenoiserAndViceVersa()
    {
        var denoiser = ExportTestModels.Random(2, ExportTestModels.Plain, Parametrisation.Edm, seed: 1);
        var schedule = new CosineSchedule();
        var sampler = SamplerGraphCompiler.Compile(denoiser, schedule, TimeGrid.EdmRho(schedule, 3, 0.002, 80), new EulerSampler());
        using (var session = OnnxSessionFactory.Create(sampler.Model, OrtTestRunner.Settings))
        {
            Assert.Equal((2, 0), OnnxModelSignature.ValidateSampler(session, null, "s.onnx"));
            var ex = Assert.Throws<InvalidDataException>(() => OnnxModelSignature.ValidateDenoiser(session, 2, "s.onnx"));
            Assert.Contains("not an exported denoiser", ex.Message);
            ex = Assert.Throws<InvalidDataException>(() => OnnxModelSignature.ValidateSampler(session, 4, "s.onnx"));
            Assert.Contains("'noise' has 2 features", ex.Message);
        }
        using (var session = OnnxSessionFactory.Create(NetworkOnnxExporter.Export(denoiser), OrtTestRunner.Settings))
        {
            var ex = Assert.Throws<InvalidDataException>(() => OnnxModelSignature.ValidateSampler(session, 2, "d.onnx"));
            Assert.Contains("d.onnx", ex.Message);
            Assert.Contains("'noise'", ex.Message);
        }
    }

    [Fact]
    public void ArgumentsAreChecked()
    {
        var denoiser = ExportTestModels.Random(2, ExportTestModels.Plain, Parametrisation.Edm, seed: 1);
        using var session = OnnxSessionFactory.Create(NetworkOnnxExporter.Export(denoiser), OrtTestRunner.Settings);
        Assert.Throws<ArgumentNullException>(() => OnnxModelSignature.ValidateDenoiser(null!, 2, "a"));
        Assert.Equal("modelName", Assert.Throws<ArgumentException>(() => OnnxModelSignature.ValidateDenoiser(session, 2, "")).ParamName);
        Assert.Equal("expectedDimension", Assert.Throws<ArgumentOutOfRangeException>(() => OnnxModelSignature.ValidateDenoiser(session, 0, "a")).ParamName);
    }
}
