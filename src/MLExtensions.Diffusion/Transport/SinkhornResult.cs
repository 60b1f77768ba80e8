namespace MLExtensions.Diffusion.Transport;

/// <summary>Outcome of one entropic optimal transport problem solved by <see cref="Sinkhorn"/>.</summary>
public sealed class SinkhornResult
{
    internal SinkhornResult(double transportCost, double regularizedCost, int iterations, bool converged, double marginalError)
    {
        TransportCost = transportCost;
        RegularizedCost = regularizedCost;
        Iterations = iterations;
        Converged = converged;
        MarginalError = marginalError;
    }

    /// <summary>
    /// Transport cost &lt;P, C&gt; = sum_ij P_ij |x_i - y_j|^2 of the entropic plan P; tends to W2^2 as epsilon tends to 0.
    /// </summary>
    public double TransportCost { get; }

    /// <summary>
    /// Entropic OT value OT_eps = &lt;P, C&gt; + eps KL(P || a x b), evaluated as the dual objective &lt;a, f&gt; + &lt;b, g&gt;
    /// (equal to the primal at convergence). This is the quantity debiased by <see cref="SinkhornDivergenceResult"/>.
    /// </summary>
    public double RegularizedCost { get; }

    /// <summary>Number of iterations performed (each updates both potentials).</summary>
    public int Iterations { get; }

    /// <summary>
    /// Whether the marginal error fell below <see cref="SinkhornOptions.Tolerance"/> at the requested epsilon within the
    /// iteration budget. When the budget runs out during an intermediate epsilon-scaling stage, the costs reported are
    /// those of that stage's (larger) epsilon.
    /// </summary>
    public bool Converged { get; }

    /// <summary>Final L1 error of the source marginal, sum_i |sum_j P_ij - a_i|.</summary>
    public double MarginalError { get; }
}
