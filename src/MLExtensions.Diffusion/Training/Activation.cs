namespace MLExtensions.Diffusion.Training;

/// <summary>The activation fused into a <see cref="Linear"/> layer.</summary>
public enum Activation
{
    /// <summary>No activation: y = z.</summary>
    None,

    /// <summary>SiLU (swish): y = z sigmoid(z).</summary>
    SiLU,
}
