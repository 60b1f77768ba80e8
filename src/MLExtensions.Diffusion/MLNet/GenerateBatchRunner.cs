using Microsoft.ML.OnnxRuntime;
using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Onnx;
using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Thermodynamics;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>
/// One cursor's generation engine: owns the batch buffers (<see cref="Latents"/> in, <see cref="Samples"/> out, capacity
/// rows x d) and turns the first <c>rows</c> latents into samples in data units. Not thread-safe (one per cursor); the
/// ONNX Runtime session it runs is shared and thread-safe for <c>Run</c>.
/// </summary>
internal abstract class GenerateBatchRunner : IDisposable
{
    private double[] _thermoRows = [];

    protected GenerateBatchRunner(GenerateTransformer owner, int capacity)
    {
        Owner = owner;
        Capacity = capacity;
        Latents = new float[checked(capacity * owner.Dimension)];
        Samples = new float[Latents.Length];
    }

    protected GenerateTransformer Owner { get; }

    public int Capacity { get; }

    /// <summary>Standard-normal latents, row-major.</summary>
    public float[] Latents { get; }

    /// <summary>Generated rows in data units, row-major.</summary>
    public float[] Samples { get; }

    /// <summary>Creates the runner of <paramref name="owner"/>'s engine.</summary>
    public static GenerateBatchRunner Create(GenerateTransformer owner, int capacity) => owner.Options.Engine switch
    {
        GenerateEngine.OnnxGraph => new Graph(owner, capacity),
        GenerateEngine.OnnxHostLoop => new HostLoop(owner, capacity),
        _ => new CSharp(owner, capacity),
    };

    /// <summary>Generates the first <paramref name="rows"/> rows; when <paramref name="kineticAction"/> is given, also each
    /// row's path thermodynamics (C# engine, Heun, standardised units).</summary>
    public virtual void Run(int rows, double[]? kineticAction, double[]? entropyProduced)
    {
        RunSamples(rows);
        if (kineticAction is not null) RunThermodynamics(rows, kineticAction, entropyProduced!, null);
    }

    protected abstract void RunSamples(int rows);

    /// <summary>The C# Heun pass with <see cref="PathThermodynamics"/>; writes the samples too when <paramref name="samples"/> is given.</summary>
    protected void RunThermodynamics(int rows, double[] kineticAction, double[] entropyProduced, float[]? samples)
    {
        var model = Owner.Model!;
        int n = rows * Owner.Dimension;
        if (_thermoRows.Length < n) _thermoRows = new double[Latents.Length];
        var x = _thermoRows.AsSpan(0, n);
        Owner.StartState(Latents.AsSpan(0, n), x);
        PathThermodynamics.IntegrateHeun(model.Denoiser, model.Schedule, Owner.Times, x, kineticAction.AsSpan(0, rows), entropyProduced.AsSpan(0, rows));
        if (samples is not null) Owner.ToDataUnits(x, samples.AsSpan(0, n));
    }

    public virtual void Dispose()
    {
    }

    /// <summary>The compiled sampler graph: one run per batch, input and output bound to <see cref="Latents"/> and
    /// <see cref="Samples"/> (pinned by ONNX Runtime's <see cref="OrtValue.CreateTensorValueFromMemory{T}(OrtMemoryInfo, Memory{T}, long[])"/>).</summary>
    private sealed class Graph(GenerateTransformer owner, int capacity) : GenerateBatchRunner(owner, capacity)
    {
        private static readonly string[] InputNames = [SamplerGraphCompiler.InputNoise];
        private static readonly string[] OutputNames = [SamplerGraphCompiler.OutputSamples];
        private readonly RunOptions _runOptions = new();
        private readonly OrtValue[] _inputs = new OrtValue[1];
        private readonly OrtValue[] _outputs = new OrtValue[1];
        private int _boundRows;

        protected override void RunSamples(int rows)
        {
            if (_boundRows != rows)
            {
                Unbind();
                int d = Owner.Dimension;
                long[] shape = [rows, d];
                _inputs[0] = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, Latents.AsMemory(0, rows * d), shape);
                _outputs[0] = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, Samples.AsMemory(0, rows * d), shape);
                _boundRows = rows;
            }
            Owner.Session!.Run(_runOptions, InputNames, _inputs, OutputNames, _outputs);
        }

        private void Unbind()
        {
            _inputs[0]?.Dispose();
            _outputs[0]?.Dispose();
            _inputs[0] = _outputs[0] = null!;
            _boundRows = 0;
        }

        public override void Dispose()
        {
            Unbind();
            _runOptions.Dispose();
        }
    }

    /// <summary>A C# sampler over an <see cref="IDenoiser"/> in standardised units, with the model's start and scaling.</summary>
    private abstract class SamplerLoop(GenerateTransformer owner, int capacity) : GenerateBatchRunner(owner, capacity)
    {
        private readonly double[] _x = new double[capacity * owner.Dimension];
        private readonly ISampler _sampler = owner.Options.CreateSampler();

        protected abstract IDenoiser Denoiser { get; }

        protected override void RunSamples(int rows)
        {
            var model = Owner.Model!;
            int n = rows * Owner.Dimension;
            var x = _x.AsSpan(0, n);
            Owner.StartState(Latents.AsSpan(0, n), x);
            _sampler.Sample(Denoiser, model.Schedule, Owner.Times, x);
            Owner.ToDataUnits(x, Samples.AsSpan(0, n));
        }
    }

    /// <summary>The host loop: the C# sampler with the network in ONNX Runtime (a per-cursor <see cref="OnnxDenoiser"/> over
    /// the shared network session).</summary>
    private sealed class HostLoop(GenerateTransformer owner, int capacity) : SamplerLoop(owner, capacity)
    {
        private readonly OnnxDenoiser _denoiser = new(owner.Session!, owner.ModelName, owner.Dimension, capacity);

        protected override IDenoiser Denoiser => _denoiser;

        public override void Dispose() => _denoiser.Dispose();
    }

    /// <summary>The C# engine: the C# sampler with the model's <see cref="Training.NeuralDenoiser"/> (whose calls are
    /// serialised by its own lock). With path thermodynamics and Heun, one pass gives both the samples and the integrals.</summary>
    private sealed class CSharp(GenerateTransformer owner, int capacity) : SamplerLoop(owner, capacity)
    {
        protected override IDenoiser Denoiser => Owner.Model!.Denoiser;

        public override void Run(int rows, double[]? kineticAction, double[]? entropyProduced)
        {
            if (kineticAction is null) RunSamples(rows);
            else RunThermodynamics(rows, kineticAction, entropyProduced!, Samples);
        }
    }
}
