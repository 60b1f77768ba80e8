namespace MLExtensions.Diffusion.Training;

/// <summary>The architecture of a <see cref="TimeConditionedMlp"/>.</summary>
public sealed record MlpOptions
{
    /// <summary>Hidden width (default 256).</summary>
    public int Width { get; init; } = 256;

    /// <summary>Hidden layers (plain) or residual blocks (default 3).</summary>
    public int Depth { get; init; } = 3;

    /// <summary>Whether hidden layers after the first are pre-norm residual blocks (default false).</summary>
    public bool Residual { get; init; }

    /// <summary>Whether residual blocks start with a layer norm (default false; only used with <see cref="Residual"/>).</summary>
    public bool LayerNorm { get; init; }

    /// <summary>Fourier frequencies of the noise embedding; the embedding has twice as many features (default 16).</summary>
    public int EmbeddingFrequencies { get; init; } = 16;

    /// <summary>Where the noise embedding enters (default <see cref="Training.TimeConditioning.InputOnly"/>).</summary>
    public TimeConditioning TimeConditioning { get; init; } = TimeConditioning.InputOnly;

    /// <summary>GEMM threads; 0 means <see cref="Gemm.DefaultThreads"/>.</summary>
    public int Threads { get; init; }

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A field is out of range.</exception>
    public void Validate()
    {
        if (Width <= 0) throw new ArgumentOutOfRangeException(nameof(Width), Width, "The width must be positive.");
        if (Depth <= 0) throw new ArgumentOutOfRangeException(nameof(Depth), Depth, "The depth must be positive.");
        if (EmbeddingFrequencies <= 0) throw new ArgumentOutOfRangeException(nameof(EmbeddingFrequencies), EmbeddingFrequencies, "The embedding needs at least one frequency.");
        if (!Enum.IsDefined(TimeConditioning)) throw new ArgumentOutOfRangeException(nameof(TimeConditioning), TimeConditioning, "Unknown time conditioning.");
        if (Threads < 0) throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "Threads must be non-negative.");
    }
}
