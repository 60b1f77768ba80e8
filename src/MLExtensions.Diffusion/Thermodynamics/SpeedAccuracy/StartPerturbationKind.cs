namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>The family of a <see cref="StartPerturbation"/> (the four start laws of Ikeda et al. plus a user-given one).</summary>
public enum StartPerturbationKind
{
    /// <summary>N(shift, 1): the reference N(0, 1) with its mean moved.</summary>
    MeanShift,

    /// <summary>N(0, scale^2): the reference N(0, 1) with its spread changed.</summary>
    VarianceChange,

    /// <summary>A 1-D Gaussian mixture sum_k w_k N(mu_k, s_k^2).</summary>
    Mixture,

    /// <summary>The uniform law on [a, b].</summary>
    Uniform,

    /// <summary>A user-given law (density, CDF and quantile delegates).</summary>
    Custom,
}
