namespace MLExtensions.Diffusion.Likelihood;

/// <summary>How <see cref="ProbabilityFlowLikelihood"/> obtains the trace of the denoiser Jacobian in div nu_t.</summary>
public enum DivergenceEstimator
{
    /// <summary>The exact trace: d Jacobian-vector products with the basis vectors per row (cost grows with d; for small d).</summary>
    Exact,

    /// <summary>
    /// Hutchinson's estimator tr(J) ~ mean_k v_k^T J v_k with a fixed number of Rademacher probes per row, drawn once and
    /// kept along the whole trajectory (Hutchinson, Commun. Stat. Simul. Comput. 18, 1989; Grathwohl et al., FFJORD,
    /// ICLR 2019). Unbiased for the log-density integral; the spread over probes gives a standard error.
    /// </summary>
    Hutchinson,
}
