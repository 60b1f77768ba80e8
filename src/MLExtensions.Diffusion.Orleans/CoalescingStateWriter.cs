namespace MLExtensions.Diffusion.Orleans;

/// <summary>
/// Changes a coordinator grain's persisted state and stores it, for the search and generation coordinators alike. Changes
/// are applied under one lock (the storage serialises the state while it writes, and other items' continuations run
/// between the awaits), and writes coalesce: a change queued while a write runs is stored by the next write, which takes
/// every change queued by then, so when <see cref="WriteAsync"/> returns the change is stored and a burst of finished items
/// costs a few writes, not one each.
/// </summary>
/// <param name="store">Writes the state (the grain's <c>IPersistentState.WriteStateAsync</c>).</param>
/// <param name="stopping">Whether the silo is stopping: a coordinator going down stops before applying, its caller retries,
/// and a new activation resumes from the store.</param>
internal sealed class CoalescingStateWriter(Func<Task> store, Func<bool> stopping)
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly List<PendingChange> _pending = [];

    /// <summary>Applies <paramref name="change"/> (null: none) and, when <paramref name="write"/>, stores the state.</summary>
    /// <exception cref="SiloUnavailableException">The silo is stopping.</exception>
    public async Task WriteAsync(Action? change = null, bool write = true)
    {
        var mine = new PendingChange(change ?? (() => { }), write);
        _pending.Add(mine);
        await _lock.WaitAsync();
        try
        {
            if (mine.Applied) return;   // an earlier writer applied and stored it
            if (stopping()) throw new SiloUnavailableException("The coordinator's silo is stopping; call again to resume from the stored state.");
            bool any = false;
            foreach (var p in _pending)
            {
                p.Change();
                p.Applied = true;
                any |= p.Write;
            }
            _pending.Clear();
            if (any) await store();
        }
        finally
        {
            _lock.Release();
        }
    }

    private sealed class PendingChange(Action change, bool write)
    {
        public Action Change { get; } = change;
        public bool Write { get; } = write;
        public bool Applied { get; set; }
    }
}
