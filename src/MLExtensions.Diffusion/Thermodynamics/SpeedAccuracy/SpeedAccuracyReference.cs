namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// The law against which <see cref="SpeedAccuracyRelation"/> measures the start mismatch: D0 = chi2(Ptilde || R) and
/// W1(R, Ptilde) in dW1 = W1(q, p) - W1(R, Ptilde). The reverse flow always starts from Ptilde at t_end.
/// </summary>
public enum SpeedAccuracyReference
{
    /// <summary>R = P_{t_end}, the marginal at the end time actually run (the default; tau (1 - eps) for cosine and
    /// cond-OT). With it the hierarchy eta &lt;= c1 &lt;= c2 is a theorem on [0, t_end].</summary>
    EndMarginal = 0,

    /// <summary>R = N(0, 1), the nominal P_tau of the paper. For paths with a cut-off this differs from P_{t_end} by
    /// O(eps), and the hierarchy is then no longer guaranteed.</summary>
    StandardNormal = 1,
}

/// <summary>The duration that divides eta = dW1^2 / (duration D0) in <see cref="SpeedAccuracyRelation"/>.</summary>
public enum SpeedAccuracyDuration
{
    /// <summary>The end time actually run, t_end (the default; tau (1 - eps) for cosine and cond-OT, tau for OT).</summary>
    EndTime = 0,

    /// <summary>The nominal duration tau of the path.</summary>
    Tau = 1,
}
