namespace MLExtensions.Diffusion.Samplers;

/// <summary>The reverse-step variance of <see cref="DdpmAncestralSampler"/> (Ho, Jain, Abbeel, arXiv:2006.11239, section 3.2).</summary>
public enum DdpmVariance
{
    /// <summary>The posterior variance betatilde = sigma_s^2 (sigma_t^2 - a^2 sigma_s^2) / sigma_t^2, a = m_t / m_s:
    /// optimal when the data is a point mass (the lower choice).</summary>
    BetaTilde = 0,

    /// <summary>The reverse-transition variance when the data is N(0, I):
    /// (m_s^2 + sigma_s^2)(sigma_t^2 - a^2 sigma_s^2) / (m_t^2 + sigma_t^2), which is DDPM's beta_t on a VP path (the upper choice).</summary>
    Beta = 1,
}
