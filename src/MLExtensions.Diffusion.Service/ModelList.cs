namespace MLExtensions.Diffusion.Service;

/// <summary>The body of <c>GET /v1/models</c>.</summary>
/// <param name="Models">The served models, by name.</param>
public sealed record ModelList(IReadOnlyList<ModelDescription> Models);
