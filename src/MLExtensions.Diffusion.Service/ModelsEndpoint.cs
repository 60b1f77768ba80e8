using Microsoft.AspNetCore.Http;

namespace MLExtensions.Diffusion.Service;

/// <summary><c>GET /v1/models</c>: the served snapshots with their name, dimension, columns, plan, card, engine and hash.</summary>
internal static class ModelsEndpoint
{
    public static IResult Handle(ModelRegistry registry) =>
        Results.Ok(new ModelList(registry.List()
            .Select(m => new ModelDescription(m.Model.Name, m.Model.Dimension, m.Model.Columns, m.Model.Plan, m.Model.Card, m.Model.Engine, m.Model.Sha256, m.LoadedAt))
            .ToList()));
}
