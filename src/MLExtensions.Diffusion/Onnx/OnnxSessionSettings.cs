namespace MLExtensions.Diffusion.Onnx;

/// <summary>Settings for ONNX Runtime sessions created by <see cref="OnnxSessionFactory"/>.</summary>
/// <remarks>Only the CPU execution provider is wired up so far; provider selection will be added here.</remarks>
public sealed class OnnxSessionSettings
{
    private readonly int _intraOpThreads;

    /// <summary>Threads used inside one operator (0, the default, lets ONNX Runtime choose).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int IntraOpThreads
    {
        get => _intraOpThreads;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value, nameof(IntraOpThreads));
            _intraOpThreads = value;
        }
    }

    /// <summary>Whether ONNX Runtime applies all graph optimisations (constant folding, fusions); default true.</summary>
    public bool OptimizeGraph { get; init; } = true;

    /// <summary>Default settings.</summary>
    public static OnnxSessionSettings Default { get; } = new();
}
