namespace MLExtensions.Diffusion.Service;

/// <summary>One entry of <c>GET /v1/models</c>.</summary>
/// <param name="Name">The model's name (file name without extension).</param>
/// <param name="Dimension">Features per row.</param>
/// <param name="Columns">The column names.</param>
/// <param name="Plan">The model's sampling plan.</param>
/// <param name="Card">The model card (Markdown), or null.</param>
/// <param name="Engine">The engine and provider, e.g. "onnx (Cpu)".</param>
/// <param name="Sha256">SHA-256 of the model file served.</param>
/// <param name="LoadedAt">When this snapshot was swapped in.</param>
public sealed record ModelDescription(string Name, int Dimension, IReadOnlyList<string> Columns, ServedPlan Plan, string? Card,
    string Engine, string Sha256, DateTimeOffset LoadedAt);
