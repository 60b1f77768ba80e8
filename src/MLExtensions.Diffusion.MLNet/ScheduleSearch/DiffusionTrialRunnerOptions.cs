using Microsoft.ML;
using MLExtensions.Diffusion.MLNet;

namespace MLExtensions.Diffusion.ScheduleSearch;

/// <summary>Options of <see cref="DiffusionTrialRunner"/>: the data splits, the network (fixed, or trained per training point),
/// the loss and the measurement sizes.</summary>
public sealed class DiffusionTrialRunnerOptions
{
    /// <summary>Training rows: fitted paths and Gaussian-OT moments are computed on them, and networks are trained on them
    /// when the space has training dimensions. Required.</summary>
    public IDataView? TrainingData { get; set; }

    /// <summary>Validation rows: the held-out losses are measured on them (they choose the plan). Required.</summary>
    public IDataView? ValidationData { get; set; }

    /// <summary>Test rows, reported as the metrics "TestSlicedW2" and "TestMmd" and never used for the loss; null for none.</summary>
    public IDataView? TestData { get; set; }

    /// <summary>The fixed network of a sampling-only search; null when every point has training dimensions.</summary>
    public DiffusionModel? Model { get; set; }

    /// <summary>The training options the "Training.*" dimensions modify (copied per trial; null for the defaults).</summary>
    public ScoreMatchingOptions? BaseTrainingOptions { get; set; }

    /// <summary>The data column (default "Features").</summary>
    public string FeatureColumnName { get; set; } = ScoreMatchingOptions.DefaultFeatureColumnName;

    /// <summary>What a trial minimises (default <see cref="SearchLoss.ValidationSlicedW2"/>).</summary>
    public SearchLoss Loss { get; set; } = SearchLoss.ValidationSlicedW2;

    /// <summary>Latent rows each trial generates (default 2048).</summary>
    public int Rows { get; set; } = 2048;

    /// <summary>Heun steps of the converged reference of <see cref="SearchLoss.DiscretisationRms"/> (default 1000).</summary>
    public int ReferenceSteps { get; set; } = 1000;

    /// <summary>Seed of latents, projections and training: same seed, same trial results (default 0).</summary>
    public int Seed { get; set; }
}
