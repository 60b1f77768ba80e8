namespace MLExtensions.Diffusion.Service;

/// <summary>A seam for the in-process tests: <see cref="BeforeWork"/> runs in a samples or likelihood request after it
/// holds its concurrency slot and its model lease, before it computes (so a test can hold requests in flight). Unset in
/// production.</summary>
internal sealed class ServiceTestHooks
{
    /// <summary>Called with the endpoint ("samples" or "likelihood") and the request's cancellation token.</summary>
    public Func<string, CancellationToken, Task>? BeforeWork { get; set; }

    public Task BeforeWorkAsync(string endpoint, CancellationToken cancellationToken) =>
        BeforeWork?.Invoke(endpoint, cancellationToken) ?? Task.CompletedTask;
}
