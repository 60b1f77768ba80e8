using System.Numerics.Tensors;

namespace MLExtensions.Diffusion.Transport;

/// <summary>
/// Entropic optimal transport between two weighted point sets for the squared Euclidean cost, by Sinkhorn's
/// iteration in the log domain, and the debiased Sinkhorn divergence.
/// </summary>
/// <remarks>
/// Solves min_P &lt;P, C&gt; + eps KL(P || a x b) over couplings P of the weights a and b, C_ij = |x_i - y_j|^2
/// (Cuturi, NeurIPS 2013). The dual potentials are updated alternately,
/// g_j = -eps log sum_i a_i exp((f_i - C_ij) / eps), f_i = -eps log sum_j b_j exp((g_j - C_ij) / eps),
/// with stabilised log-sum-exp so that small eps does not underflow (Peyre and Cuturi, <i>Computational Optimal
/// Transport</i>, 2019, section 4.4). The iteration stops when the source marginal of P = a_i b_j
/// exp((f_i + g_j - C_ij) / eps) is within <see cref="SinkhornOptions.Tolerance"/> of a in L1 norm (its target marginal
/// is exact after each g update). The debiased divergence S_eps(a, b) = OT_eps(a, b) - OT_eps(a, a) / 2 -
/// OT_eps(b, b) / 2 is non-negative, vanishes for a = b and interpolates between W2^2 (eps -> 0) and MMD (eps -> inf)
/// (Feydy et al., AISTATS 2019; Genevay, Peyre and Cuturi, AISTATS 2018). Weights are normalised to sum to 1; when
/// omitted they are uniform. The dense cost matrix and, per stage, its scaled copy and transpose are held in memory (3 n m doubles).
/// </remarks>
public static class Sinkhorn
{
    private static readonly SinkhornOptions Defaults = new();

    /// <summary>Marginal tolerance of the intermediate epsilon-scaling stages.</summary>
    private const double IntermediateTolerance = 1e-2;

    /// <summary>Entropic OT between two point sets with uniform weights.</summary>
    /// <param name="source">Row-major source points, n rows of <paramref name="dimension"/> values.</param>
    /// <param name="target">Row-major target points, m rows of <paramref name="dimension"/> values.</param>
    /// <param name="dimension">The dimension d (positive).</param>
    /// <param name="options">Regularisation and stopping rule; null for the defaults.</param>
    /// <returns>Costs and convergence information.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is not positive.</exception>
    /// <exception cref="ArgumentException">A point set is empty, holds a non-finite value or has a length that is not a
    /// multiple of the dimension (the exception names it).</exception>
    public static SinkhornResult Solve(ReadOnlySpan<double> source, ReadOnlySpan<double> target, int dimension, SinkhornOptions? options = null)
    {
        int n = PointSetArguments.RequirePointSet(source, dimension, nameof(source));
        int m = PointSetArguments.RequirePointSet(target, dimension, nameof(target));
        return new Problem(source, Uniform(n), target, Uniform(m), dimension).Run(options ?? Defaults);
    }

    /// <summary>Entropic OT between two weighted point sets.</summary>
    /// <param name="source">Row-major source points, n rows of <paramref name="dimension"/> values.</param>
    /// <param name="sourceWeights">n finite positive weights (normalised internally).</param>
    /// <param name="target">Row-major target points, m rows of <paramref name="dimension"/> values.</param>
    /// <param name="targetWeights">m finite positive weights (normalised internally).</param>
    /// <param name="dimension">The dimension d (positive).</param>
    /// <param name="options">Regularisation and stopping rule; null for the defaults.</param>
    /// <returns>Costs and convergence information.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is not positive.</exception>
    /// <exception cref="ArgumentException">A point set is empty, holds a non-finite value or has a length that is not a
    /// multiple of the dimension, or a weight vector has the wrong length or a non-finite or non-positive entry (the
    /// exception names the argument).</exception>
    public static SinkhornResult Solve(ReadOnlySpan<double> source, ReadOnlySpan<double> sourceWeights,
        ReadOnlySpan<double> target, ReadOnlySpan<double> targetWeights, int dimension, SinkhornOptions? options = null)
    {
        int n = PointSetArguments.RequirePointSet(source, dimension, nameof(source));
        int m = PointSetArguments.RequirePointSet(target, dimension, nameof(target));
        var a = PointSetArguments.NormalizedWeights(sourceWeights, n, nameof(sourceWeights));
        var b = PointSetArguments.NormalizedWeights(targetWeights, m, nameof(targetWeights));
        return new Problem(source, a, target, b, dimension).Run(options ?? Defaults);
    }

    /// <summary>Debiased Sinkhorn divergence between two point sets with uniform weights.</summary>
    /// <inheritdoc cref="Solve(ReadOnlySpan{double}, ReadOnlySpan{double}, int, SinkhornOptions?)"/>
    /// <returns>The divergence and the three entropic problems, with their convergence information.</returns>
    public static SinkhornDivergenceResult Divergence(ReadOnlySpan<double> source, ReadOnlySpan<double> target, int dimension, SinkhornOptions? options = null)
    {
        int n = PointSetArguments.RequirePointSet(source, dimension, nameof(source));
        int m = PointSetArguments.RequirePointSet(target, dimension, nameof(target));
        return DivergenceValidated(source, Uniform(n), target, Uniform(m), dimension, options ?? Defaults);
    }

    /// <summary>Debiased Sinkhorn divergence between two weighted point sets.</summary>
    /// <inheritdoc cref="Solve(ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, int, SinkhornOptions?)"/>
    /// <returns>The divergence and the three entropic problems, with their convergence information.</returns>
    public static SinkhornDivergenceResult Divergence(ReadOnlySpan<double> source, ReadOnlySpan<double> sourceWeights,
        ReadOnlySpan<double> target, ReadOnlySpan<double> targetWeights, int dimension, SinkhornOptions? options = null)
    {
        int n = PointSetArguments.RequirePointSet(source, dimension, nameof(source));
        int m = PointSetArguments.RequirePointSet(target, dimension, nameof(target));
        var a = PointSetArguments.NormalizedWeights(sourceWeights, n, nameof(sourceWeights));
        var b = PointSetArguments.NormalizedWeights(targetWeights, m, nameof(targetWeights));
        return DivergenceValidated(source, a, target, b, dimension, options ?? Defaults);
    }

    private static SinkhornDivergenceResult DivergenceValidated(ReadOnlySpan<double> source, double[] a,
        ReadOnlySpan<double> target, double[] b, int dimension, SinkhornOptions options)
    {
        var cross = new Problem(source, a, target, b, dimension).Run(options);
        var sourceSelf = new Problem(source, a, source, a, dimension).Run(options);
        var targetSelf = new Problem(target, b, target, b, dimension).Run(options);
        return new SinkhornDivergenceResult(cross, sourceSelf, targetSelf);
    }

    private static double[] Uniform(int count)
    {
        var w = new double[count];
        Array.Fill(w, 1.0 / count);
        return w;
    }

    /// <summary>One entropic problem: the scaled cost matrices and the weights.</summary>
    private sealed class Problem
    {
        private readonly int _n, _m;
        private readonly double[] _cost;           // C_ij, row-major n x m
        private readonly double[] _a, _b;
        private readonly bool _symmetric;

        public Problem(ReadOnlySpan<double> source, double[] a, ReadOnlySpan<double> target, double[] b, int dimension)
        {
            _symmetric = source == target && a.AsSpan().SequenceEqual(b);
            _n = source.Length / dimension;
            _m = target.Length / dimension;
            _a = a;
            _b = b;
            _cost = AssignmentSolver.SquaredEuclideanCost(source, target, dimension);
        }

        public SinkhornResult Run(SinkhornOptions options)
        {
            int n = _n, m = _m;
            double eps = options.Epsilon;
            // Potentials in units of the current epsilon: fHat = f / eps, gHat = g / eps.
            var fHat = new double[n];
            var fNew = new double[n];
            var gHat = new double[m];
            var logA = new double[n];
            var logB = new double[m];
            for (int i = 0; i < n; i++) logA[i] = Math.Log(_a[i]);
            for (int j = 0; j < m; j++) logB[j] = Math.Log(_b[j]);
            var shiftedF = new double[n];
            var shiftedG = new double[m];
            var scratch = new double[Math.Max(n, m)];
            var scaled = new double[_cost.Length];           // C_ij / eps of the current stage, row-major n x m
            var scaledTransposed = new double[_symmetric ? 0 : _cost.Length]; // its transpose, m x n

            // Epsilon scaling: start at the largest cost (or eps if larger) and divide by 1 / EpsilonScaling per stage,
            // carrying the potentials f and g (not their scaled forms) from stage to stage.
            double maxCost = TensorPrimitives.Max(_cost);
            double stageEps = options.EpsilonScaling < 1 ? Math.Max(eps, maxCost) : eps;
            bool converged = false;
            int iterations = 0;
            double error = double.PositiveInfinity;
            while (true)
            {
                bool finalStage = stageEps <= eps;
                double inverseEps = 1.0 / stageEps;
                TensorPrimitives.Multiply(_cost, inverseEps, scaled);
                if (!_symmetric)
                {
                    for (int i = 0; i < n; i++)
                        for (int j = 0; j < m; j++)
                            scaledTransposed[j * n + i] = scaled[i * m + j];
                }
                double omega = finalStage ? options.OverRelaxation : 1.0;
                double stageTolerance = finalStage ? options.Tolerance : Math.Max(options.Tolerance, IntermediateTolerance);
                while (iterations < options.MaxIterations)
                {
                    iterations++;
                    if (_symmetric)
                    {
                        // Symmetric problem (same points and weights): averaged fixed-point update f <- (f + T(f)) / 2,
                        // with g = f throughout (Feydy et al. 2019).
                        TensorPrimitives.Add(logA, fHat, shiftedF);
                        error = 0;
                        for (int i = 0; i < n; i++)
                        {
                            fNew[i] = -LogSumExp(shiftedF, scaled.AsSpan(i * n, n), scratch.AsSpan(0, n));
                            error += _a[i] * Math.Abs(Math.Exp(fHat[i] - fNew[i]) - 1);
                        }
                        if (error < stageTolerance) break;
                        for (int i = 0; i < n; i++) fHat[i] = 0.5 * (fHat[i] + fNew[i]);
                        continue;
                    }
                    // g_j / eps = -LSE_i(log a_i + f_i / eps - C_ij / eps): exact target marginal.
                    TensorPrimitives.Add(logA, fHat, shiftedF);
                    double columnError = 0;
                    for (int j = 0; j < m; j++)
                    {
                        double gTarget = -LogSumExp(shiftedF, scaledTransposed.AsSpan(j * n, n), scratch.AsSpan(0, n));
                        if (omega != 1.0)
                        {
                            columnError += _b[j] * Math.Abs(Math.Exp(gHat[j] - gTarget) - 1);
                            gTarget = (1 - omega) * gHat[j] + omega * gTarget;
                        }
                        gHat[j] = gTarget;
                    }
                    // Candidate f update; the source marginal of the current plan is a_i exp(f_i / eps - fNew_i / eps).
                    TensorPrimitives.Add(logB, gHat, shiftedG);
                    error = 0;
                    for (int i = 0; i < n; i++)
                    {
                        fNew[i] = -LogSumExp(shiftedG, scaled.AsSpan(i * m, m), scratch.AsSpan(0, m));
                        error += _a[i] * Math.Abs(Math.Exp(fHat[i] - fNew[i]) - 1);
                    }
                    error = Math.Max(error, columnError);
                    if (error < stageTolerance) break;
                    if (omega == 1.0)
                        Array.Copy(fNew, fHat, n);
                    else
                        for (int i = 0; i < n; i++) fHat[i] = (1 - omega) * fHat[i] + omega * fNew[i];
                }
                if (finalStage)
                {
                    converged = error < options.Tolerance;
                    break;
                }
                if (iterations >= options.MaxIterations) break;
                double nextEps = Math.Max(eps, stageEps * options.EpsilonScaling);
                TensorPrimitives.Multiply(fHat, stageEps / nextEps, fHat);
                TensorPrimitives.Multiply(gHat, stageEps / nextEps, gHat);
                stageEps = nextEps;
            }
            if (_symmetric) Array.Copy(fHat, gHat, n);

            // Transport cost <P, C> and dual value eps (<a, fHat> + <b, gHat>).
            double scale = 1.0 / stageEps;
            double transport = 0;
            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<double> row = _cost.AsSpan(i * m, m);
                double rowBase = logA[i] + fHat[i];
                double acc = 0;
                for (int j = 0; j < m; j++)
                    acc += Math.Exp(rowBase + logB[j] + gHat[j] - row[j] * scale) * row[j];
                transport += acc;
            }
            double dual = stageEps * (TensorPrimitives.Dot(_a, fHat) + TensorPrimitives.Dot(_b, gHat));
            return new SinkhornResult(transport, dual, iterations, converged, error);
        }

        /// <summary>log sum_k exp(shift_k - scaledCost_k), stabilised by the maximum.</summary>
        private static double LogSumExp(ReadOnlySpan<double> shift, ReadOnlySpan<double> scaledCost, Span<double> scratch)
        {
            TensorPrimitives.Subtract(shift, scaledCost, scratch);
            double max = TensorPrimitives.Max(scratch);
            TensorPrimitives.Subtract(scratch, max, scratch);
            // Terms below e^-700 are negligible next to the largest (= 1); clamping them keeps Exp off its slow
            // underflow/subnormal path.
            TensorPrimitives.Max(scratch, -700.0, scratch);
            TensorPrimitives.Exp(scratch, scratch);
            return max + Math.Log(TensorPrimitives.Sum(scratch));
        }
    }
}
