using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Onnx;

/// <summary>
/// Generates rows of a trained model by running its compiled sampler graph (<see cref="SamplerGraphCompiler"/>: the
/// whole solver loop, noise in, data-unit rows out) in ONNX Runtime over fixed batches, with the inputs and outputs bound
/// once (I/O binding) so that a run copies nothing it does not need to. On the CUDA provider the graph's work stays on
/// the device; with <see cref="OnnxSessionSettings.CudaGraph"/> the latents and samples are also device-resident, the
/// batch shape is fixed, and ONNX Runtime captures the first run as a CUDA graph and replays it. No ML.NET needed.
/// </summary>
/// <remarks>
/// <para>Seed contract: row i of the stream with a seed starts from <see cref="LatentStream.Fill"/>(seed, i), as
/// <see cref="DiffusionModelParameters.Generate"/> does, so the rows equal that method's up to float32 rounding (about
/// 1e-5 of each feature's scale on the CPU) whatever the batch size, provider, or the range a call asks for.</para>
/// <para>Deterministic plans only (Euler, Heun, DDIM, DPM-Solver++(2M)); stochastic solvers need per-batch step noise.
/// Calls are serialised (one binding per sampler): for parallel streams create one sampler per thread or device.</para>
/// </remarks>
/// <example>
/// <code>
/// var model = DiffusionModelParameters.Load("model.zip");
/// using var sampler = new OnnxSampler(model, new OnnxSamplerOptions { BatchSize = 65536,
///     Session = new OnnxSessionSettings { ExecutionProvider = OnnxExecutionProvider.Auto, CudaGraph = true } });
/// float[] rows = sampler.Generate(count: 1_000_000, seed: 7);
/// </code>
/// </example>
public sealed class OnnxSampler : IDisposable
{
    private const string NoiseInput = "noise";
    private const string SamplesOutput = "samples";

    private readonly DiffusionModelParameters _model;
    private readonly InferenceSession _session;
    private readonly object _gate = new();
    private readonly Binding _full;
    private bool _disposed;

    /// <summary>Compiles <paramref name="model"/>'s plan (or <see cref="OnnxSamplerOptions.Plan"/>) and opens a session.</summary>
    /// <param name="model">The trained model.</param>
    /// <param name="options">Plan, batch size and session settings (null: defaults).</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentException">The plan's solver is stochastic, or the plan starts where the network cannot follow.</exception>
    /// <exception cref="InvalidOperationException">An explicit GPU provider cannot start (the message names the missing library).</exception>
    public OnnxSampler(DiffusionModelParameters model, OnnxSamplerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new OnnxSamplerOptions();
        var plan = options.Plan ?? model.SamplingPlan;
        var graph = model.ExportSamplerOnnx(plan);
        if (graph.IsStochastic)
            throw new ArgumentException(
                $"OnnxSampler runs deterministic plans only; the plan's solver '{graph.SamplerName}' draws step noise. " +
                "Use Euler, Heun, DDIM or DPM-Solver++(2M), or the model's C# Generate.", nameof(options));
        _model = model;
        Plan = plan;
        Nfe = graph.Nfe;
        Dimension = model.Dimension;
        BatchSize = options.BatchSize;
        var settings = options.Session ?? OnnxSessionSettings.Default;
        using (var sessionOptions = OnnxSessionFactory.CreateSessionOptions(settings, out var provider))
        {
            ExecutionProvider = provider;
            try
            {
                _session = new InferenceSession(graph.Model.Bytes, sessionOptions);
            }
            catch (OnnxRuntimeException ex)
            {
                throw new InvalidDataException($"ONNX Runtime could not load the compiled sampler graph: {ex.Message}", ex);
            }
        }
        UsesCudaGraph = settings.CudaGraph && ExecutionProvider == OnnxExecutionProvider.Cuda;
        try
        {
            _full = UsesCudaGraph ? DeviceBinding.Create(_session, BatchSize, Dimension, settings.DeviceId) : new HostBinding(_session, BatchSize, Dimension);
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    /// <summary>The plan the graph was compiled from.</summary>
    public SamplingPlan Plan { get; }

    /// <summary>Network evaluations per row.</summary>
    public int Nfe { get; }

    /// <summary>Features per row, d.</summary>
    public int Dimension { get; }

    /// <summary>Rows per ONNX Runtime run.</summary>
    public int BatchSize { get; }

    /// <summary>The provider the session runs on (Auto resolved).</summary>
    public OnnxExecutionProvider ExecutionProvider { get; }

    /// <summary>Whether runs replay a captured CUDA graph on device-resident buffers.</summary>
    public bool UsesCudaGraph { get; }

    /// <summary>Generates rows 0 .. <paramref name="count"/> - 1 of the stream with <paramref name="seed"/>.</summary>
    /// <param name="count">Rows, at least 1 and at most <see cref="Array.MaxLength"/> / d.</param>
    /// <param name="seed">Seed of the latents.</param>
    /// <returns>count x d floats, row-major, in data units.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not positive or too large for one array.</exception>
    /// <exception cref="ObjectDisposedException">The sampler was disposed.</exception>
    public float[] Generate(int count, int seed)
    {
        _model.CheckCount(count);
        var rows = new float[(long)count * Dimension];
        Generate(seed, 0, rows);
        return rows;
    }

    /// <summary>Generates rows <paramref name="firstRow"/> .. firstRow + destination.Length / d - 1 of the stream with
    /// <paramref name="seed"/> into <paramref name="destination"/>: any range of the stream, so shards of one stream can
    /// be generated separately, in any order, on any machine.</summary>
    /// <param name="seed">Seed of the latents.</param>
    /// <param name="firstRow">Index of the first row, in [0, 2^40).</param>
    /// <param name="destination">A positive multiple of d floats.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is empty or not a multiple of d.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The rows leave [0, 2^40).</exception>
    /// <exception cref="ObjectDisposedException">The sampler was disposed.</exception>
    public void Generate(int seed, long firstRow, Span<float> destination)
    {
        int d = Dimension;
        if (destination.IsEmpty || destination.Length % d != 0)
            throw new ArgumentException($"The destination length {destination.Length} is not a positive multiple of the dimension {d}.", nameof(destination));
        long rows = destination.Length / d;
        if (firstRow < 0 || firstRow > LatentStream.MaximumRows - rows)
            throw new ArgumentOutOfRangeException(nameof(firstRow), firstRow, $"Rows [{firstRow}, {firstRow + rows}) leave the stream's range [0, 2^40).");
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            for (long done = 0; done < rows;)
            {
                int n = (int)Math.Min(BatchSize, rows - done);
                var binding = n == BatchSize || UsesCudaGraph ? _full : new HostBinding(_session, n, d);
                try
                {
                    var latents = binding.Latents;
                    for (int r = 0; r < n; r++) LatentStream.Fill(seed, firstRow + done + r, latents.Slice(r * d, d));
                    // A fixed-shape (CUDA graph) binding pads a short last batch with zero latents; those rows are dropped.
                    latents[(n * d)..].Clear();
                    var output = destination.Slice((int)(done * d), n * d);
                    binding.Run(_session, output);
                }
                finally
                {
                    if (!ReferenceEquals(binding, _full)) binding.Dispose();
                }
                done += n;
            }
        }
        if (!_model.FeatureEncoding.IsIdentity) _model.FeatureEncoding.Decode(destination);
    }

    /// <summary>Releases the session and the bound buffers.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _full.Dispose();
            _session.Dispose();
        }
    }

    /// <summary>The bound input and output of one batch shape.</summary>
    private abstract class Binding : IDisposable
    {
        /// <summary>Host buffer of the batch's latents (rows x d).</summary>
        public abstract Span<float> Latents { get; }

        /// <summary>Runs the graph and copies the first output.Length samples to <paramref name="output"/>.</summary>
        public abstract void Run(InferenceSession session, Span<float> output);

        public abstract void Dispose();
    }

    /// <summary>Inputs and outputs in host memory, bound once: ONNX Runtime reads and writes them in place on the CPU, and
    /// copies them to and from the device on a GPU provider.</summary>
    private sealed class HostBinding : Binding
    {
        private readonly float[] _latents, _samples;
        private readonly OrtValue _noise, _out;
        private readonly OrtIoBinding _binding;
        private readonly RunOptions _run = new();

        public HostBinding(InferenceSession session, int rows, int dimension)
        {
            _latents = new float[rows * dimension];
            _samples = new float[rows * dimension];
            long[] shape = [rows, dimension];
            _noise = OrtValue.CreateTensorValueFromMemory(_latents, shape);
            _out = OrtValue.CreateTensorValueFromMemory(_samples, shape);
            _binding = session.CreateIoBinding();
            _binding.BindInput(NoiseInput, _noise);
            _binding.BindOutput(SamplesOutput, _out);
        }

        public override Span<float> Latents => _latents;

        public override void Run(InferenceSession session, Span<float> output)
        {
            session.RunWithBinding(_run, _binding);
            _samples.AsSpan(0, output.Length).CopyTo(output);
        }

        public override void Dispose()
        {
            _binding.Dispose();
            _noise.Dispose();
            _out.Dispose();
            _run.Dispose();
        }
    }

    /// <summary>Inputs and outputs in CUDA device memory at fixed addresses (what CUDA-graph replay needs), filled from and
    /// read back to host tensors with <see cref="OrtEnv.CopyTensors"/>.</summary>
    private sealed class DeviceBinding : Binding
    {
        private readonly float[] _latents, _samples;
        private readonly OrtValue _hostNoise, _hostOut, _deviceNoise, _deviceOut;
        private readonly OrtAllocator _allocator;
        private readonly OrtMemoryInfo _memory;
        private readonly OrtIoBinding _binding;
        private readonly RunOptions _run = new();

        private DeviceBinding(InferenceSession session, int rows, int dimension, int deviceId)
        {
            _latents = new float[rows * dimension];
            _samples = new float[rows * dimension];
            long[] shape = [rows, dimension];
            _hostNoise = OrtValue.CreateTensorValueFromMemory(_latents, shape);
            _hostOut = OrtValue.CreateTensorValueFromMemory(_samples, shape);
            _memory = new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, deviceId, OrtMemType.Default);
            _allocator = new OrtAllocator(session, _memory);
            _deviceNoise = OrtValue.CreateAllocatedTensorValue(_allocator, TensorElementType.Float, shape);
            _deviceOut = OrtValue.CreateAllocatedTensorValue(_allocator, TensorElementType.Float, shape);
            _binding = session.CreateIoBinding();
            _binding.BindInput(NoiseInput, _deviceNoise);
            _binding.BindOutput(SamplesOutput, _deviceOut);
        }

        /// <summary>Allocates the device buffers; a clear error when this ONNX Runtime cannot copy to them.</summary>
        public static DeviceBinding Create(InferenceSession session, int rows, int dimension, int deviceId)
        {
            try
            {
                return new DeviceBinding(session, rows, dimension, deviceId);
            }
            catch (OnnxRuntimeException ex)
            {
                throw new InvalidOperationException(
                    $"CUDA-graph sampling could not bind device buffers on device {deviceId}: {ex.Message}. Set OnnxSessionSettings.CudaGraph = false.", ex);
            }
        }

        public override Span<float> Latents => _latents;

        public override void Run(InferenceSession session, Span<float> output)
        {
            OrtEnv.Instance().CopyTensors([_hostNoise], [_deviceNoise], null);
            session.RunWithBinding(_run, _binding);
            OrtEnv.Instance().CopyTensors([_deviceOut], [_hostOut], null);
            _samples.AsSpan(0, output.Length).CopyTo(output);
        }

        public override void Dispose()
        {
            _binding.Dispose();
            _deviceNoise.Dispose();
            _deviceOut.Dispose();
            _hostNoise.Dispose();
            _hostOut.Dispose();
            _allocator.Dispose();
            _memory.Dispose();
            _run.Dispose();
        }
    }
}
