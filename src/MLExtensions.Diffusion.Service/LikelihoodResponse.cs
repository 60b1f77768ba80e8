namespace MLExtensions.Diffusion.Service;

/// <summary>The body of a likelihood response.</summary>
/// <param name="Model">The model's name.</param>
/// <param name="Sha256">The served snapshot's file hash.</param>
/// <param name="Rows">Rows scored.</param>
/// <param name="Nll">-ln p(y) per row, nats, data units (high: unlikely).</param>
/// <param name="MeanNll">The mean of <paramref name="Nll"/>.</param>
public sealed record LikelihoodResponse(string Model, string Sha256, int Rows, double[] Nll, double MeanNll);
