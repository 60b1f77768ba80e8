using Microsoft.ML.OnnxRuntime;
using MLExtensions.Diffusion.Onnx;

namespace MLExtensions.Diffusion.Tests.Onnx;

public class OnnxSessionFactoryTests
{
    private static OnnxModel TinyModel()
    {
        var g = new OnnxGraphBuilder();
        string x = g.AddInput("x", OnnxElementType.Float, "N", 2);
        g.AddOutput(g.Exp(x), "y", OnnxElementType.Float, "N", 2);
        return g.Build();
    }

    private static void WithTempDir(Action<string> body)
    {
        string dir = Path.Combine(Path.GetTempPath(), "mlext-onnx-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            body(dir);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void TruncatedFileGivesExceptionNamingTheFile()
    {
        WithTempDir(dir =>
        {
            var bytes = TinyModel().ToBytes();
            string path = Path.Combine(dir, "truncated.onnx");
            File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
            var ex = Assert.Throws<InvalidDataException>(() => OnnxSessionFactory.CreateFromFile(path, OrtTestRunner.Settings));
            Assert.Contains(path, ex.Message);
            Assert.IsType<OnnxRuntimeException>(ex.InnerException);
        });
    }

    [Fact]
    public void GarbageFileGivesExceptionNamingTheFile()
    {
        WithTempDir(dir =>
        {
            string path = Path.Combine(dir, "garbage.onnx");
            File.WriteAllText(path, "this is not a protobuf model \u0001\u00ff");
            var ex = Assert.Throws<InvalidDataException>(() => OnnxSessionFactory.CreateFromFile(path, OrtTestRunner.Settings));
            Assert.Contains("garbage.onnx", ex.Message);
        });
    }

    [Fact]
    public void MissingFileGivesFileNotFound()
    {
        string path = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N") + ".onnx");
        var ex = Assert.Throws<FileNotFoundException>(() => OnnxSessionFactory.CreateFromFile(path));
        Assert.Equal(path, ex.FileName);
    }

    [Fact]
    public void UnknownOperatorInMemoryModelIsReported()
    {
        var g = new OnnxGraphBuilder();
        string x = g.AddInput("x", OnnxElementType.Float, 2);
        g.AddOutput(g.AddNode("NoSuchOperator", new[] { x }), OnnxElementType.Float, 2);
        var ex = Assert.Throws<InvalidDataException>(() => OnnxSessionFactory.Create(g.Build(), OrtTestRunner.Settings));
        Assert.Contains("in-memory ONNX model", ex.Message);
        Assert.Contains("NoSuchOperator", ex.Message);
    }

    [Fact]
    public void BytesOverloadLoadsAndValidates()
    {
        var model = TinyModel();
        using (var session = OnnxSessionFactory.Create(model.ToBytes(), new OnnxSessionSettings { IntraOpThreads = 1, OptimizeGraph = false }))
        {
            var (got, _) = OrtTestRunner.Run(session, "y", ("x", new[] { 0f, 1f }, new long[] { 1, 2 }));
            OrtTestRunner.AssertClose(new[] { 1.0, Math.E }, got, 1e-6);
        }
        Assert.Equal("modelBytes", Assert.Throws<ArgumentException>(() => OnnxSessionFactory.Create(Array.Empty<byte>())).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new OnnxSessionSettings { IntraOpThreads = -1 });
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(false, true)]
    public void MemorySettingsReachTheSessionAndKeepResults(bool arena, bool pattern)
    {
        var settings = new OnnxSessionSettings { ExecutionProvider = OnnxExecutionProvider.Cpu, IntraOpThreads = 1, EnableCpuMemoryArena = arena, EnableMemoryPattern = pattern };
        using (var options = OnnxSessionFactory.CreateSessionOptions(settings, out _))
        {
            Assert.Equal(arena, options.EnableCpuMemArena);
            Assert.Equal(pattern, options.EnableMemoryPattern);
        }
        using var session = OnnxSessionFactory.Create(TinyModel(), settings);
        var (got, _) = OrtTestRunner.Run(session, "y", ("x", new[] { 0f, 1f }, new long[] { 1, 2 }));
        OrtTestRunner.AssertClose(new[] { 1.0, Math.E }, got, 1e-6);
    }

    [Fact]
    public void ReportsVersionsTheModelsUse()
    {
        var model = TinyModel();
        Assert.Equal(OnnxGraphBuilder.IrVersion, model.IrVersion);
        Assert.Equal(17, model.OpsetVersion);
        Assert.StartsWith("1.", OrtEnv.Instance().GetVersionString());
    }
}
