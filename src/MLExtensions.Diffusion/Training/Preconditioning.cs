namespace MLExtensions.Diffusion.Training;

/// <summary>
/// The coefficients linking network and denoiser at VE noise level sigma (= sigma_t / m_t, data standardised to scale
/// sigma_data): network input c_in x, conditioning c_noise, x0hat = c_skip x + c_out F, and the weight of the squared
/// error on F. The regression target for F is (y - c_skip x) / c_out.
/// </summary>
/// <param name="Skip">c_skip.</param>
/// <param name="Output">c_out.</param>
/// <param name="Input">c_in = 1 / sqrt(sigma^2 + sigma_data^2).</param>
/// <param name="Noise">c_noise = ln(sigma) / 4.</param>
/// <param name="Weight">The weight of |F - target|^2 in the loss.</param>
/// <remarks>
/// EDM (Karras et al., arXiv:2206.00364, Table 1): c_skip = sigma_data^2 / (sigma^2 + sigma_data^2),
/// c_out = sigma sigma_data / sqrt(sigma^2 + sigma_data^2), loss weight lambda(sigma) = (sigma^2 + sigma_data^2) /
/// (sigma sigma_data)^2 on |D - y|^2, i.e. lambda c_out^2 = 1 on F. The other parametrisations use unit weight on F.
/// </remarks>
public readonly record struct Preconditioning(double Skip, double Output, double Input, double Noise, double Weight)
{
    /// <summary>The EDM loss weight lambda(sigma) = (sigma^2 + sigma_data^2) / (sigma sigma_data)^2 on |D - y|^2.</summary>
    public static double EdmLossWeight(double sigma, double sigmaData) => (sigma * sigma + sigmaData * sigmaData) / (sigma * sigma * sigmaData * sigmaData);

    /// <summary>The coefficients of <paramref name="parametrisation"/> at VE noise level <paramref name="sigma"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">sigma or sigma_data is not finite and positive, or the parametrisation is unknown.</exception>
    public static Preconditioning For(Parametrisation parametrisation, double sigma, double sigmaData)
    {
        if (!double.IsFinite(sigma) || sigma <= 0) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "sigma must be finite and positive.");
        if (!double.IsFinite(sigmaData) || sigmaData <= 0) throw new ArgumentOutOfRangeException(nameof(sigmaData), sigmaData, "sigma_data must be finite and positive.");
        double s2 = sigma * sigma, d2 = sigmaData * sigmaData;
        double cIn = 1 / Math.Sqrt(s2 + d2), cNoise = 0.25 * Math.Log(sigma);
        return parametrisation switch
        {
            Parametrisation.Epsilon => new(1, -sigma, cIn, cNoise, 1),
            Parametrisation.Data => new(0, 1, cIn, cNoise, 1),
            Parametrisation.Velocity => new(1 / (1 + s2), -sigma / Math.Sqrt(1 + s2), cIn, cNoise, 1),
            Parametrisation.FlowVelocity => new(1 / (1 + sigma), -sigma / (1 + sigma), cIn, cNoise, 1),
            Parametrisation.Edm => Edm(sigma, sigmaData, cIn, cNoise),
            _ => throw new ArgumentOutOfRangeException(nameof(parametrisation), parametrisation, "Unknown parametrisation."),
        };
    }

    private static Preconditioning Edm(double sigma, double sigmaData, double cIn, double cNoise)
    {
        double d2 = sigmaData * sigmaData;
        double cOut = sigma * sigmaData * cIn;
        return new(d2 * cIn * cIn, cOut, cIn, cNoise, EdmLossWeight(sigma, sigmaData) * cOut * cOut);
    }
}
