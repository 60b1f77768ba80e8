namespace MLExtensions.Diffusion.Service;

/// <summary>The JSON body of a samples response (written as a stream, rows last).</summary>
/// <param name="Model">The model's name.</param>
/// <param name="Sha256">The served snapshot's file hash.</param>
/// <param name="Columns">The column names.</param>
/// <param name="Count">Rows.</param>
/// <param name="Seed">The seed.</param>
/// <param name="Plan">The plan the rows were generated with.</param>
/// <param name="Rows">The rows, data units.</param>
public sealed record SampleResponse(string Model, string Sha256, IReadOnlyList<string> Columns, int Count, int Seed, ServedPlan Plan, float[][] Rows);
