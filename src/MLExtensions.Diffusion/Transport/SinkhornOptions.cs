namespace MLExtensions.Diffusion.Transport;

/// <summary>Settings of the log-domain Sinkhorn iteration (<see cref="Sinkhorn"/>).</summary>
public sealed class SinkhornOptions
{
    private readonly double _epsilon = 0.05;
    private readonly int _maxIterations = 10_000;
    private readonly double _tolerance = 1e-5;
    private readonly double _epsilonScaling = 0.5;
    private readonly double _overRelaxation = 1.0;

    /// <summary>
    /// Entropic regularisation epsilon, in the units of the cost (squared distance); finite and positive. Default 0.05.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not finite or not positive.</exception>
    public double Epsilon
    {
        get => _epsilon;
        init
        {
            if (!double.IsFinite(value) || value <= 0)
                throw new ArgumentOutOfRangeException(nameof(Epsilon), value, $"'{nameof(Epsilon)}' must be finite and positive.");
            _epsilon = value;
        }
    }

    /// <summary>Maximum number of Sinkhorn iterations (one update of each potential); positive. Default 10000.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public int MaxIterations
    {
        get => _maxIterations;
        init
        {
            if (value <= 0)
                throw new ArgumentOutOfRangeException(nameof(MaxIterations), value, $"'{nameof(MaxIterations)}' must be positive.");
            _maxIterations = value;
        }
    }

    /// <summary>
    /// Stopping tolerance on the L1 error of the source marginal, sum_i |sum_j P_ij - a_i| (the target marginal is
    /// exact after each iteration); finite and positive. Default 1e-5.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not finite or not positive.</exception>
    public double Tolerance
    {
        get => _tolerance;
        init
        {
            if (!double.IsFinite(value) || value <= 0)
                throw new ArgumentOutOfRangeException(nameof(Tolerance), value, $"'{nameof(Tolerance)}' must be finite and positive.");
            _tolerance = value;
        }
    }

    /// <summary>
    /// Epsilon-scaling factor in (0, 1]: the iteration starts at epsilon = max(Epsilon, max_ij C_ij) and multiplies it
    /// by this factor per stage (each intermediate stage runs until the marginal error is below 1e-2) down to
    /// <see cref="Epsilon"/>, warm-starting the potentials; 1 switches scaling off. Default 0.5. Iterations of all
    /// stages count towards <see cref="MaxIterations"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not in (0, 1].</exception>
    public double EpsilonScaling
    {
        get => _epsilonScaling;
        init
        {
            if (!(value > 0 && value <= 1))
                throw new ArgumentOutOfRangeException(nameof(EpsilonScaling), value, $"'{nameof(EpsilonScaling)}' must be in (0, 1].");
            _epsilonScaling = value;
        }
    }

    /// <summary>
    /// Over-relaxation weight omega in [1, 2) of the final stage: each potential moves to (1 - omega) old + omega
    /// Sinkhorn update (Thibault, Chizat, Dossal and Papadakis, Algorithms 14:143, 2021). 1 gives the plain
    /// iteration; values around 1.5 to 1.9 speed up the slow linear tail of small-epsilon problems. Default 1.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not in [1, 2).</exception>
    public double OverRelaxation
    {
        get => _overRelaxation;
        init
        {
            if (!(value >= 1 && value < 2))
                throw new ArgumentOutOfRangeException(nameof(OverRelaxation), value, $"'{nameof(OverRelaxation)}' must be in [1, 2).");
            _overRelaxation = value;
        }
    }
}
