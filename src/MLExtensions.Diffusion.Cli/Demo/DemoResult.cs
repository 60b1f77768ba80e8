namespace MLExtensions.Diffusion.Cli.Demo;

/// <summary>One row of the demo's table. Distances are in standardised units (each feature divided by its training std);
/// kinetic cost, efficiency, NFE and rows/s are null for sources that are not diffusion samplers.</summary>
public sealed record DemoRow(string Source, double HeldOutSlicedW2, double HeldOutMmd2, double? DiscretisationRms, double? KineticCost,
    double? Efficiency, int? Nfe, double? RowsPerSecond);

/// <summary>A point of the error-vs-NFE curve: discretisation RMS (to the same network's 1000-step Heun samples from
/// the same latents) of the default and the optimised plan families at one NFE.</summary>
public sealed record DemoNfePoint(int Nfe, double DefaultRms, double OptimisedRms);

/// <summary>What the demo measured and wrote (also saved as demo.json in the output folder).</summary>
public sealed record DemoResult(
    int TotalRows, int DroppedRows, int TrainRows, int HeldOutRows, int TrainingSteps, int BestStep, bool StoppedEarly, double TrainingSeconds, double FinalLoss,
    int Nfe, string DefaultPlan, string OptimisedPlan, double OptimizeSeconds, IReadOnlyList<DemoRow> Table, IReadOnlyList<DemoNfePoint> ErrorVsNfe,
    IReadOnlyDictionary<string, double> PathKineticCosts, IReadOnlyList<string> Files, double TotalSeconds);
