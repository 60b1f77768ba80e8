namespace MLExtensions.Diffusion.Search;

/// <summary>Proposes points of a search space and learns from their results.</summary>
public interface ITuner
{
    /// <summary>The next point to evaluate.</summary>
    /// <param name="settings">The trial about to run (its parameter still empty).</param>
    /// <returns>A point of the tuner's search space.</returns>
    Parameter Propose(TrialSettings settings);

    /// <summary>Records a finished trial (failed trials too: their loss is +Infinity).</summary>
    /// <param name="result">The result.</param>
    void Update(TrialResult result);
}
