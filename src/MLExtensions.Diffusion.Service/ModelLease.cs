namespace MLExtensions.Diffusion.Service;

/// <summary>
/// A reference-counted hold on one served snapshot. The registry holds one reference while the snapshot is current; every
/// request takes another (<see cref="ModelRegistry.Acquire"/>) and gives it back by disposing its lease. The snapshot is
/// disposed when the last reference goes, so a request keeps the model it started with through a hot reload.
/// </summary>
internal sealed class ModelLease : IDisposable
{
    private readonly SharedModel _shared;
    private int _released;

    private ModelLease(SharedModel shared) => _shared = shared;

    /// <summary>The snapshot.</summary>
    public IServedModel Model => _shared.Model;

    /// <summary>A new lease on <paramref name="shared"/>, or null when it was already retired and released.</summary>
    internal static ModelLease? TryTake(SharedModel shared) => shared.TryAddReference() ? new ModelLease(shared) : null;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0) _shared.Release();
    }

    /// <summary>A snapshot and its reference count (1 for the registry while current).</summary>
    internal sealed class SharedModel(IServedModel model)
    {
        private int _references = 1;

        public IServedModel Model { get; } = model;

        public DateTimeOffset LoadedAt { get; } = DateTimeOffset.UtcNow;

        public bool TryAddReference()
        {
            while (true)
            {
                int current = Volatile.Read(ref _references);
                if (current == 0) return false;
                if (Interlocked.CompareExchange(ref _references, current + 1, current) == current) return true;
            }
        }

        public void Release()
        {
            if (Interlocked.Decrement(ref _references) == 0) Model.Dispose();
        }
    }
}
