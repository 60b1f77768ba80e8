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
    /// <exception cref="ObjectDisposedException">The transformer was disposed.</exception>
    public static GenerateBatchRunner Create(GenerateTransformer owner, int capacity)
    {
        owner.ThrowIfDisposed();
        return CreateCore(owner, capacity);
    }

    private static GenerateBatchRunner CreateCore(GenerateTransformer owner, int capacity) => owner.Options.Engine switch
    {
        GenerateEngine.OnnxGraph => new Graph(owner, capacity),
        GenerateEngine.OnnxHostLoop => new HostLoop(owner, capacity),
        _ => new CSharp(owner, capacity),
    };

    /// <summary>Generates the first <paramref name="rows"/> rows in data units, the model's feature transforms applied last
    /// (<see cref="FeatureEncoding.Decode"/>, on the C# side after every engine); when <paramref name="kineticAction"/> is
    /// given, also each row's path thermodynamics (C# engine, Heun, standardised units).</summary>
    public void Run(int rows, double[]? kineticAction, double[]? entropyProduced)
    {
        RunEngine(rows, kineticAction, entropyProduced);
        Owner.Model?.FeatureEncoding.Decode(Samples.AsSpan(0, rows * Owner.Dimension));
    }

    /// <summary>The engine's part of <see cref="Run"/>: samples before the feature transforms, and the thermodynamics.</summary>
    protected virtual void RunEngine(int rows, double[]? kineticAction, double[]? entropyProduced)
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
        PathThermodynamics.IntegrateHeun(model.Denoiser, Owner.Plan!.Schedule, Owner.Times, x, kineticAction.AsSpan(0, rows), entropyProduced.AsSpan(0, rows));
        if (samples is not null) Owner.ToDataUnits(x, samples.AsSpan(0, n));
    }

    public virtual void Dispose()
    {
    }

    /// <summary>
    /// The compiled sampler graph, run on the batch in chunks of at most <see cref="ChunkRows"/> rows, each chunk's input
    /// and output bound once to its slice of <see cref="Latents"/> and <see cref="Samples"/> (pinned by ONNX Runtime's
    /// <see cref="OrtValue.CreateTensorValueFromMemory{T}(OrtMemoryInfo, Memory{T}, long[])"/>); a later batch of the same
    /// size reuses the bindings and allocates nothing.
    /// </summary>
    /// <remarks>ONNX Runtime runs a graph one operator at a time over the whole input, so a layer's activations
    /// (rows x width floats) travel through memory between operators; chunks of about 128 K activation floats (1024 rows at
    /// width 128, 512 KB) keep them in a core's L2 cache. Measured with one ORT thread (docs/benchmarks.md, "Generation"):
    /// the penguins model at batch 65536 went from 45 k to 65 k rows/s, the rate it has at batch 256-4096.</remarks>
    private sealed class Graph(GenerateTransformer owner, int capacity) : GenerateBatchRunner(owner, capacity)
    {
        private static readonly string[] InputNames = [SamplerGraphCompiler.InputNoise];
        private static readonly string[] OutputNames = [SamplerGraphCompiler.OutputSamples];
        private readonly RunOptions _runOptions = new();
        private readonly int _chunkRows = ChunkRows(owner);
        private readonly List<(OrtValue[] Input, OrtValue[] Output)> _chunks = new();
        private int _boundRows;

        /// <summary>Rows per ORT run: 128 K / the network's widest layer (from 64 up; 1024 when the width is unknown, as
        /// for a loaded sampler file).</summary>
        private static int ChunkRows(GenerateTransformer owner)
        {
            int? width = owner.Model?.Denoiser.Network.Layers.Max(l => l.OutputSize);
            return width is { } w ? Math.Max(64, (1 << 17) / w) : 1024;
        }

        protected override void RunSamples(int rows)
        {
            if (_boundRows != rows)
            {
                Unbind();
                int d = Owner.Dimension;
                for (int start = 0; start < rows; start += _chunkRows)
                {
                    int n = Math.Min(_chunkRows, rows - start);
                    long[] shape = [n, d];
                    _chunks.Add((
                        [OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, Latents.AsMemory(start * d, n * d), shape)],
                        [OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, Samples.AsMemory(start * d, n * d), shape)]));
                }
                _boundRows = rows;
            }
            foreach (var (input, output) in _chunks)
                Owner.Session!.Run(_runOptions, InputNames, input, OutputNames, output);
        }

        private void Unbind()
        {
            foreach (var (input, output) in _chunks)
            {
                input[0].Dispose();
                output[0].Dispose();
            }
            _chunks.Clear();
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
        private readonly ISampler _sampler = owner.Plan!.CreateSampler();

        protected abstract IDenoiser Denoiser { get; }

        protected override void RunSamples(int rows)
        {
            var model = Owner.Model!;
            int n = rows * Owner.Dimension;
            var x = _x.AsSpan(0, n);
            Owner.StartState(Latents.AsSpan(0, n), x);
            _sampler.Sample(Denoiser, Owner.Plan!.Schedule, Owner.Times, x);
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

        protected override void RunEngine(int rows, double[]? kineticAction, double[]? entropyProduced)
        {
            if (kineticAction is null) RunSamples(rows);
            else RunThermodynamics(rows, kineticAction, entropyProduced!, Samples);
        }
    }
}
