namespace MLExtensions.Diffusion.Training;

/// <summary>What the network output F is trained to predict (all conditioned on the VE noise level sigma/m).</summary>
/// <remarks>
/// Every choice is a preconditioning x0hat = c_skip x + c_out F in VE units (see <see cref="Preconditioning"/>), so one
/// loss and one denoiser serve all of them.
/// </remarks>
public enum Parametrisation
{
    /// <summary>Noise prediction (Ho et al., DDPM, 2020): F ~ eps, x0hat = x - sigma F.</summary>
    Epsilon,

    /// <summary>Clean-data prediction: F ~ y, x0hat = F.</summary>
    Data,

    /// <summary>v-prediction (Salimans and Ho, arXiv:2202.00512) on the variance-preserving rescaling: F ~ (eps - sigma y) / sqrt(1 + sigma^2).</summary>
    Velocity,

    /// <summary>Flow-matching / rectified-flow velocity (Lipman et al. 2023; Liu et al. 2023) on the cond-OT rescaling: F ~ eps - y.</summary>
    FlowVelocity,

    /// <summary>EDM preconditioning (Karras et al., arXiv:2206.00364): F ~ (y - c_skip x) / c_out with unit effective weight.</summary>
    Edm,
}
