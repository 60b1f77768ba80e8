namespace MLExtensions.Diffusion.Search;

/// <summary>Why a <see cref="SearchExperiment"/> stopped.</summary>
public enum SearchStopReason
{
    /// <summary>It ran its maximum number of trials.</summary>
    MaxTrials,

    /// <summary>Its wall-time budget ran out (a trial still running then is not recorded).</summary>
    MaxWallTime,

    /// <summary>The caller's cancellation token was cancelled (a trial still running then is not recorded).</summary>
    Cancelled,
}
