namespace MLExtensions.Diffusion.Likelihood;

/// <summary>The one-step method that integrates the joint (x, log-density) probability-flow system.</summary>
public enum LikelihoodIntegrator
{
    /// <summary>Explicit Euler (first order; one evaluation per step).</summary>
    Euler,

    /// <summary>Heun's method, the explicit trapezoidal rule (second order; two evaluations per step).</summary>
    Heun,

    /// <summary>The classical fourth-order Runge-Kutta method (four evaluations per step).</summary>
    RungeKutta4,
}
