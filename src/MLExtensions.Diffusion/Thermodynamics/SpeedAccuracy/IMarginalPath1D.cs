namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// A 1-D path of marginals P_t on [0, EndTime] together with its mean local velocity nu_t: the input of the exact 1-D
/// speed-accuracy computation (<see cref="SpeedAccuracyRelation"/>).
/// </summary>
internal interface IMarginalPath1D
{
    /// <summary>A name for reports.</summary>
    string PathName { get; }

    /// <summary>The nominal final time tau.</summary>
    double PathTau { get; }

    /// <summary>The regular end of the path (tau, or tau minus a cut-off for singular schedules).</summary>
    double PathEndTime { get; }

    /// <summary>The marginal P_t (t = 0: the data law q).</summary>
    ILaw1D MarginalAt(double t);

    /// <summary>
    /// For each tail level, the quantile x_i of P_t and the velocity nu_t(x_i) there; t in (0, PathEndTime]. On entry
    /// <paramref name="x"/> may hold starting guesses (e.g. the quantiles at a nearby time) or NaN. The caller does not
    /// mutate <paramref name="levels"/> and <paramref name="upper"/> between calls, so implementations may cache per array.
    /// </summary>
    void QuantilesAndVelocities(double[] levels, bool[] upper, double t, Span<double> x, Span<double> velocity);

    /// <summary>The kinetic energy T_t Sdot(t) = integral nu_t^2 P_t dx; t in (0, PathEndTime].</summary>
    double KineticEnergy(double t);
}
