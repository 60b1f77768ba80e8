namespace MLExtensions.Diffusion.Search;

/// <summary>One trial's identity and the point it evaluates.</summary>
/// <param name="TrialId">The trial's number in its experiment, from 0.</param>
/// <param name="Parameter">The point of the search space to evaluate (empty while a tuner proposes it).</param>
public sealed record TrialSettings(int TrialId, Parameter Parameter);
