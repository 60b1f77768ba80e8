// Samples a 2-D Gaussian mixture with its exact denoiser under four schedules and four samplers, and prints how far
// each result lies from the true law: exact W2 (assignment), sliced W2 and MMD^2 against fresh draws from the mixture,
// and the RMS distance of each row from where the exact probability-flow map sends the same start noise (the solver's
// own discretisation error, free of sampling noise).
// Usage: dotnet run -c Release --project samples/GaussianMixtureDemo [-- --rows 2000 --seed 1]
using System.Diagnostics;
using System.Globalization;
using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Transport;

int rows = 2000, seed = 1;
for (int i = 0; i + 1 < args.Length; i += 2)
{
    if (args[i] == "--rows") rows = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
    else if (args[i] == "--seed") seed = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
    else { Console.Error.WriteLine($"Unknown option {args[i]}. Options: --rows N, --seed S."); return 2; }
}
if (rows < 10) { Console.Error.WriteLine("--rows must be at least 10."); return 2; }

const int d = 2;
// Three well-separated components with full covariances: the truth the exact denoiser encodes.
var data = GaussianMixtureDenoiser.Full(
    weights: [0.5, 0.3, 0.2],
    means: [-2.0, 0.0, 2.0, 1.0, 0.0, -2.5],
    covariances: [new double[,] { { 0.30, 0.10 }, { 0.10, 0.20 } },
                  new double[,] { { 0.15, -0.05 }, { -0.05, 0.25 } },
                  new double[,] { { 0.40, 0.00 }, { 0.00, 0.10 } }]);

var truth = new double[rows * d];
data.SampleData(new Random(seed + 1000), truth);
var reference = new double[rows * d];
data.SampleData(new Random(seed + 2000), reference);

NoiseSchedule[] schedules = [new CosineSchedule(), new CondOtSchedule(), new VpLinearSchedule(), new VeSchedule()];
(string Name, ISampler Sampler, int Steps)[] samplers =
[
    ("euler", new EulerSampler(), 50),
    ("heun", new HeunSampler(), 25),
    ("ddim", new DdimSampler(), 25),
    ("dpm-solver++2m", new DpmSolverPlusPlus2M(), 25),
];

Console.WriteLine($"2-D three-component Gaussian mixture, exact denoiser, {rows} rows, seed {seed}.");
Console.WriteLine("Grid: EDM rho = 7 in sigma/m from min(80, end of schedule) down to 0.002, then t = 0; start x = sigma_T * eps.");
Console.WriteLine();
// All Gaussian paths are re-timings of the VE path in (x / m, sigma / m), so the exact flow map from a start
// x = sigma_T eps with the same sigma_T / m_T is the same for every schedule: approximate it once with fine Heun steps.
var ve = new VeSchedule();
var exact = new double[rows * d];
StandardNormal.Fill(new Random(seed), exact);
for (int j = 0; j < exact.Length; j++) exact[j] *= 80.0;
new HeunSampler().Sample(data, ve, TimeGrid.EdmRho(ve, 1000, 0.002, 80.0), exact);

Console.WriteLine($"{"schedule",-12} {"sampler",-16} {"NFE",4} {"W2",8} {"sliced W2",10} {"MMD^2",10} {"flow RMS",9} {"ms",7}");
double floorW2 = DiscreteOptimalTransport.W2(reference, truth, d);
double floorSliced = SlicedWasserstein.W2(reference, truth, d, 200, new Random(seed));
double floorMmd = MaximumMeanDiscrepancy.UnbiasedSquared(reference, truth, d);
Console.WriteLine($"{"(truth)",-12} {"fresh draws",-16} {0,4} {floorW2,8:F4} {floorSliced,10:F4} {floorMmd,10:F6} {"",9} {"",7}");
Console.WriteLine($"{"(exact map)",-12} {"heun x 1000",-16} {1999,4} {DiscreteOptimalTransport.W2(exact, truth, d),8:F4} {SlicedWasserstein.W2(exact, truth, d, 200, new Random(seed)),10:F4} {MaximumMeanDiscrepancy.UnbiasedSquared(exact, truth, d),10:F6} {0.0,9:F5} {"",7}");

var x = new double[rows * d];
foreach (var schedule in schedules)
{
    double tStart = schedule.MaxTime;
    double sigmaMax = Math.Min(80.0, schedule.Sigma(tStart) / schedule.M(tStart));
    if (sigmaMax < 80.0) throw new InvalidOperationException($"{schedule} cannot reach sigma/m = 80; the shared start needs it.");
    double[] grid = TimeGrid.EdmRho(schedule, 25, sigmaMin: 0.002, sigmaMax: sigmaMax);
    foreach (var (name, sampler, steps) in samplers)
    {
        double[] times = steps == 25 ? grid : TimeGrid.EdmRho(schedule, steps, 0.002, sigmaMax);
        StandardNormal.Fill(new Random(seed), x);
        double sigmaStart = schedule.Sigma(times[0]);
        for (int j = 0; j < x.Length; j++) x[j] *= sigmaStart;
        // With m_T > 0 the exact start is m_T y + sigma_T eps; dropping m_T y is the usual prior approximation.
        var clock = Stopwatch.StartNew();
        SamplerResult result = sampler.Sample(data, schedule, times, x, new Random(seed + 1));
        clock.Stop();
        double w2 = DiscreteOptimalTransport.W2(x, truth, d);
        double sliced = SlicedWasserstein.W2(x, truth, d, 200, new Random(seed));
        double mmd = MaximumMeanDiscrepancy.UnbiasedSquared(x, truth, d);
        // The exact map starts from 80 eps in VE units; this run starts from sigma_T eps = (80 m_T) eps in its own units.
        double scale = schedule.M(times[^1]), squared = 0;
        for (int j = 0; j < x.Length; j++) { double e = x[j] / scale - exact[j]; squared += e * e; }
        double flowRms = Math.Sqrt(squared / rows);
        Console.WriteLine($"{schedule.Name,-12} {name,-16} {result.Nfe,4} {w2,8:F4} {sliced,10:F4} {mmd,10:F6} {flowRms,9:F5} {clock.Elapsed.TotalMilliseconds,7:F1}");
    }
}
Console.WriteLine();
Console.WriteLine("(truth): two independent draws of the mixture compared the same way, the finite-sample floor of W2, sliced W2 and MMD^2.");
Console.WriteLine("flow RMS: root-mean-square distance per row from the exact probability-flow map of the same noise (solver error only).");
return 0;
