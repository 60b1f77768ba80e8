namespace MLExtensions.Diffusion.Training;

/// <summary>Where a <see cref="TimeConditionedMlp"/> feeds the noise embedding in.</summary>
public enum TimeConditioning
{
    /// <summary>The embedding is concatenated with the input row only.</summary>
    InputOnly,

    /// <summary>
    /// Concatenated with the input row, and a learned linear projection of it is also added to the input of every
    /// later hidden layer or residual block (as in the time-embedding injection of DDPM's U-Net blocks).
    /// </summary>
    EveryLayer,
}
