namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// The speed-accuracy relation of one (path, start perturbation) pair in 1-D (SPEC section 3), computed by
/// <see cref="SpeedAccuracyRelation"/>: D0, dW1, eta, c1, c2, the per-time loss speed and kinetic energy, and whether
/// the hierarchy eta &lt;= c1 &lt;= c2 and its instantaneous form hold.
/// </summary>
/// <remarks>
/// Per-time arrays are given at the quadrature nodes <see cref="Times"/> (composite 4-point Gauss-Legendre on
/// [0, <see cref="EndTime"/>], so t = 0 and the end are not nodes); <see cref="QuadratureWeights"/> integrate over
/// [0, EndTime]: c1 = sum w v_loss^2, c2 = sum w T Sdot.
/// </remarks>
public sealed record SpeedAccuracyResult
{
    /// <summary>The path's name (schedule name, or "ot").</summary>
    public required string PathName { get; init; }

    /// <summary>The start law's name.</summary>
    public required string PerturbationName { get; init; }

    /// <summary>The nominal final time tau of the path.</summary>
    public required double Tau { get; init; }

    /// <summary>
    /// The end time actually used, t_end: P_tau means P at t_end, and t_end is the duration in eta. Equal to tau for
    /// the OT path; tau (1 - eps) for cosine and cond-OT (eps = the schedule's end cut-off).
    /// </summary>
    public required double EndTime { get; init; }

    /// <summary>The cut-off tau - t_end at the singular end (0 for the OT path).</summary>
    public double EndCutoff => Tau - EndTime;

    /// <summary>The reference law R that <see cref="D0"/> and <see cref="W1Start"/> are measured against (default P_{t_end}).</summary>
    public SpeedAccuracyReference Reference { get; init; } = SpeedAccuracyReference.EndMarginal;

    /// <summary>The duration eta divides by: t_end (the default) or tau.</summary>
    public double EtaDuration { get; init; }

    /// <summary>D0 = integral (Ptilde - P_tau)^2 / P_tau dx, the Pearson chi-square of the start mismatch.</summary>
    public required double D0 { get; init; }

    /// <summary>W1(P_tau, Ptilde): the start error.</summary>
    public required double W1Start { get; init; }

    /// <summary>W1(q, p): the error of the generated law p (exact reverse flow from Ptilde).</summary>
    public required double W1End { get; init; }

    /// <summary>dW1 = W1(q, p) - W1(P_tau, Ptilde).</summary>
    public double DeltaW1 => W1End - W1Start;

    /// <summary>-integral_0^t_end d/dt W1(P_t, Ptilde_t) dt by the quadrature: agrees with <see cref="DeltaW1"/> up to discretisation.</summary>
    public required double DeltaW1FromRate { get; init; }

    /// <summary>eta = dW1^2 / (<see cref="EtaDuration"/> D0), by default dW1^2 / (t_end D0).</summary>
    public required double Eta { get; init; }

    /// <summary>c1 = integral v_loss(t)^2 dt, v_loss = |d/dt W1(P_t, Ptilde_t)| / sqrt(D0).</summary>
    public required double C1 { get; init; }

    /// <summary>c2 = integral T_t Sdot(t) dt = integral integral nu_t^2 P_t dx dt, the kinetic cost.</summary>
    public required double C2 { get; init; }

    /// <summary>c1 - eta (non-negative when the first inequality holds).</summary>
    public double EtaMargin => C1 - Eta;

    /// <summary>c2 - c1 (non-negative when the second inequality holds).</summary>
    public double CostMargin => C2 - C1;

    /// <summary>
    /// Whether eta &lt;= c1 &lt;= c2, each up to a relative rounding slack of <see cref="RelativeTolerance"/>: the 1-D OT path
    /// attains eta = c1 exactly (W1(P_t, Ptilde_t) is linear in t there), so the computed values tie up to rounding.
    /// </summary>
    public bool HierarchyHolds => Eta <= C1 * (1 + RelativeTolerance) && C1 <= C2 * (1 + RelativeTolerance);

    /// <summary>The relative slack 1e-9 allowed by <see cref="HierarchyHolds"/> for rounding in ties.</summary>
    public const double RelativeTolerance = 1e-9;

    /// <summary>The quadrature nodes t_j in (0, t_end).</summary>
    public required IReadOnlyList<double> Times { get; init; }

    /// <summary>The quadrature weights w_j (summing to t_end).</summary>
    public required IReadOnlyList<double> QuadratureWeights { get; init; }

    /// <summary>W1(P_t, Ptilde_t) at each node.</summary>
    public required IReadOnlyList<double> W1 { get; init; }

    /// <summary>d/dt W1(P_t, Ptilde_t) at each node (exact in t: from the velocities at the quantiles).</summary>
    public required IReadOnlyList<double> W1Rate { get; init; }

    /// <summary>v_loss(t)^2 = [d/dt W1(P_t, Ptilde_t)]^2 / D0 at each node.</summary>
    public required IReadOnlyList<double> LossSpeedSquared { get; init; }

    /// <summary>T_t Sdot(t) = integral nu_t^2 P_t dx at each node.</summary>
    public required IReadOnlyList<double> KineticEnergy { get; init; }

    /// <summary>The smallest T_t Sdot(t) - v_loss(t)^2 over the nodes.</summary>
    public required double InstantaneousMargin { get; init; }

    /// <summary>Whether the instantaneous form [d/dt W1]^2 / D0 &lt;= T_t Sdot(t) holds at every node.</summary>
    public bool InstantaneousHolds => InstantaneousMargin >= 0;
}
