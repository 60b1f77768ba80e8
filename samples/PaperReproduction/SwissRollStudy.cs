using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Thermodynamics;
using MLExtensions.Diffusion.Transport;

namespace PaperReproduction;

/// <summary>eta of one Swiss-roll case, with the spread over repetitions.</summary>
internal sealed record SwissRollCell(string Case, double Tau, double D0, double W1Start, double W1End, double RawDeltaW1, double NullDeltaW1,
    double DeltaW1, double DeltaW1StandardError, double Eta, double EtaStandardError, int Repetitions);

/// <summary>
/// Part (b): the 2-D Swiss roll under the paper's rotating-force process (h = 1.1, T_fin = 0.5, g in {0, 3, 5}, tau = 1),
/// reverse flow from Ptilde = N(0, 0.9^2 I), and the sample OT path from the roll to N(0, I).
/// </summary>
/// <remarks>
/// Data: n points y = (theta cos theta, theta sin theta) / 7 with theta = 1.5 pi (1 + 2 s), s ~ U(0, 1) (the
/// scikit-learn roll without noise, scaled to about unit variance per coordinate); q is their empirical law, so P_t is the
/// n-component mixture of <see cref="LinearForceProcess.RotatingFromData"/>.
/// D0: trapezoid rule on a uniform 2-D grid. W1: a coupled sample estimator. M points w ~ P_tau and M points z ~ Ptilde
/// are both carried back by the same probability flow (Heun on a geometric time grid from tau to t_min); the flowed w
/// are draws of q (at t_min), the flowed z are draws of p. W1(q, p) and W1(P_tau, Ptilde) are the exact W1 between the
/// two M-point clouds (assignment with Euclidean cost). Their finite-sample biases differ (q is a curve, P_tau is not),
/// so a null run with Ptilde = P_tau (a second independent draw z' ~ P_tau, whose true dW1 is 0) measures the bias of
/// the estimator, and dW1 = raw - null per repetition.
/// </remarks>
internal sealed class SwissRollStudy
{
    public const double StartStd = 0.9;
    public const double MinTime = 1e-3;

    public SwissRollStudy(bool quick, int seed = 7)
    {
        Quick = quick;
        DataCount = quick ? 200 : 800;
        SampleCount = quick ? 200 : 600;
        Repetitions = quick ? 2 : 3;
        FlowSteps = quick ? 60 : 100;
        Data = SwissRoll(DataCount, new Random(seed));
    }

    public bool Quick { get; }

    public int DataCount { get; }

    public int SampleCount { get; }

    public int Repetitions { get; }

    public int FlowSteps { get; }

    public double[] Data { get; }

    public static double[] SwissRoll(int n, Random random)
    {
        var rows = new double[2 * n];
        for (int i = 0; i < n; i++)
        {
            double theta = 1.5 * Math.PI * (1 + 2 * random.NextDouble());
            rows[2 * i] = theta * Math.Cos(theta) / 7;
            rows[2 * i + 1] = theta * Math.Sin(theta) / 7;
        }
        return rows;
    }

    /// <summary>Geometric grid from tau down to t_min (backward), FlowSteps steps.</summary>
    public double[] BackwardTimes(double tau)
    {
        var times = new double[FlowSteps + 1];
        for (int i = 0; i <= FlowSteps; i++) times[i] = tau * Math.Pow(MinTime, (double)i / FlowSteps);
        times[FlowSteps] = tau * MinTime;
        return times;
    }

    /// <summary>chi-square of N(0, s^2 I) against P_tau on a uniform grid (or of P_tau against it when <paramref name="reverse"/>).</summary>
    public static double ChiSquareOnGrid(Func<double[], double[]> logPtau, double half = 5.0, int points = 241, bool reverse = false)
    {
        double h = 2 * half / (points - 1), s2 = StartStd * StartStd;
        var rows = new double[2 * points * points];
        for (int i = 0; i < points; i++)
            for (int j = 0; j < points; j++)
            {
                rows[2 * (i * points + j)] = -half + i * h;
                rows[2 * (i * points + j) + 1] = -half + j * h;
            }
        double[] logP = logPtau(rows);
        double sum = 0;
        for (int i = 0; i < points; i++)
            for (int j = 0; j < points; j++)
            {
                int k = i * points + j;
                double x = rows[2 * k], y = rows[2 * k + 1];
                double logTilde = -(x * x + y * y) / (2 * s2) - Math.Log(2 * Math.PI * s2);
                double w = (i == 0 || i == points - 1 ? 0.5 : 1) * (j == 0 || j == points - 1 ? 0.5 : 1);
                sum += w * Math.Exp(reverse ? 2 * logP[k] - logTilde : 2 * logTilde - logP[k]);
            }
        return sum * h * h - 1;
    }

    /// <summary>Exact W1 between two equal-size 2-D point clouds (Euclidean cost, assignment).</summary>
    public static double W1(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        int n = a.Length / 2;
        var cost = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double dx = a[2 * i] - b[2 * j], dy = a[2 * i + 1] - b[2 * j + 1];
                cost[i * n + j] = Math.Sqrt(dx * dx + dy * dy);
            }
        return AssignmentSolver.Solve(cost, n).MeanCost;
    }

    /// <summary>The shared variance s of the components of P_tau (Sigma_tau = s I for the rotating force).</summary>
    public static double EndVariance(double g, double tau)
    {
        LinearForceProcess process = LinearForceProcess.RotatingFromData(g, [0.0, 0.0], tau: tau);
        var sigma = new double[4];
        process.Covariance(tau, sigma);
        return sigma[0];
    }

    /// <summary>The grid chi-square of Ptilde against P_tau of the rotating process on the box [-half, half]^2.</summary>
    public double RotatingChiSquare(double g, double tau, double half, int points, bool reverse = false)
    {
        LinearForceProcess process = LinearForceProcess.RotatingFromData(g, Data, tau: tau);
        return ChiSquareOnGrid(rows =>
        {
            var lp = new double[rows.Length / 2];
            process.LogDensity(rows, tau, lp);
            return lp;
        }, half, points, reverse);
    }

    /// <summary>The rotating-force case for one g; <paramref name="d0"/> null when the chi-square is infinite (eta = NaN).</summary>
    public SwissRollCell Rotating(double g, double tau, double? d0, int seed)
    {
        LinearForceProcess process = LinearForceProcess.RotatingFromData(g, Data, tau: tau);
        return Estimate($"rotating g = {g}, tau = {tau}", process, d0 ?? double.PositiveInfinity, (random, w) => process.Sample(tau, random, w), seed);
    }

    /// <summary>The sample OT path from the roll to N(0, I); P_tau = N(0, I), so D0 is closed-form.</summary>
    public SwissRollCell OptimalTransport(int seed)
    {
        var path = new SampleOptimalTransportPath(Data, 2, new Random(seed + 500));
        // chi2(N(0, s^2 I) || N(0, I)) in 2-D: (1 + chi2_1D)^2 - 1, chi2_1D = 1 / (s sqrt(2 - s^2)) - 1 (SPEC section 8).
        double s = StartStd, oneD = 1 / (s * Math.Sqrt(2 - s * s));
        double d0 = oneD * oneD - 1;
        return Estimate("OT (sample path)", path, d0, (random, w) => StandardNormal.Fill(random, w), seed);
    }

    private SwissRollCell Estimate(string name, IVelocityField field, double d0, Action<Random, double[]> sampleEnd, int seed)
    {
        double tau = field.EndTime;
        double[] times = BackwardTimes(tau);
        var dws = new double[Repetitions];
        double w1Start = 0, w1End = 0, raw = 0, nul = 0;
        for (int r = 0; r < Repetitions; r++)
        {
            var random = new Random(seed + 1000 * r);
            var w = new double[2 * SampleCount];
            var z = new double[2 * SampleCount];
            var z2 = new double[2 * SampleCount];
            sampleEnd(random, w);
            sampleEnd(random, z2);
            StandardNormal.Fill(random, z);
            for (int i = 0; i < z.Length; i++) z[i] *= StartStd;
            double start = W1(w, z), nullStart = W1(w, z2);
            ProbabilityFlow.Integrate(field, w, times, FlowIntegrator.Heun);
            ProbabilityFlow.Integrate(field, z, times, FlowIntegrator.Heun);
            ProbabilityFlow.Integrate(field, z2, times, FlowIntegrator.Heun);
            double end = W1(w, z), nullEnd = W1(w, z2);
            dws[r] = (end - start) - (nullEnd - nullStart);
            w1Start += start / Repetitions;
            w1End += end / Repetitions;
            raw += (end - start) / Repetitions;
            nul += (nullEnd - nullStart) / Repetitions;
        }
        double mean = dws.Average();
        double se = Repetitions > 1 ? Math.Sqrt(dws.Sum(v => (v - mean) * (v - mean)) / (Repetitions - 1) / Repetitions) : double.NaN;
        double eta = double.IsPositiveInfinity(d0) ? double.NaN : mean * mean / (tau * d0);
        // Delta method for the standard error of eta = dW1^2 / (tau D0).
        double etaSe = double.IsNaN(eta) ? double.NaN : 2 * Math.Abs(mean) * se / (tau * d0);
        return new SwissRollCell(name, tau, d0, w1Start, w1End, raw, nul, mean, se, eta, etaSe, Repetitions);
    }
}
