using System.Text.Json;
using System.Text.Json.Serialization;

namespace MLExtensions.Diffusion.Search;

/// <summary>The trials of a finished <see cref="SearchExperiment"/>, its best trial and why it stopped; JSON-serialisable.</summary>
public sealed class SearchResult
{
    /// <summary>A result.</summary>
    /// <param name="trials">The recorded trials, in order (failed ones included).</param>
    /// <param name="stopReason">Why the experiment stopped.</param>
    /// <param name="elapsedMilliseconds">The experiment's wall time.</param>
    /// <exception cref="ArgumentNullException"><paramref name="trials"/> is null.</exception>
    [JsonConstructor]
    public SearchResult(IReadOnlyList<TrialResult> trials, SearchStopReason stopReason, double elapsedMilliseconds)
    {
        ArgumentNullException.ThrowIfNull(trials);
        Trials = trials;
        StopReason = stopReason;
        ElapsedMilliseconds = elapsedMilliseconds;
    }

    /// <summary>The recorded trials, in order (failed ones included).</summary>
    public IReadOnlyList<TrialResult> Trials { get; }

    /// <summary>Why the experiment stopped.</summary>
    public SearchStopReason StopReason { get; }

    /// <summary>The experiment's wall time in milliseconds.</summary>
    public double ElapsedMilliseconds { get; }

    /// <summary>The successful trial of smallest loss (the earliest on ties); null when none succeeded.</summary>
    public TrialResult? BestTrial
    {
        get
        {
            TrialResult? best = null;
            foreach (var t in Trials)
                if (t.IsSuccess && (best is null || t.Loss < best.Loss)) best = t;
            return best;
        }
    }

    /// <summary>The result as JSON (failed trials' losses as "Infinity").</summary>
    /// <returns>The JSON text.</returns>
    public string ToJson() => JsonSerializer.Serialize(this, SearchJson.Options);

    /// <summary>Reads a result written by <see cref="ToJson"/>.</summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>The result.</returns>
    /// <exception cref="ArgumentException">The text is not a search result.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="json"/> is null.</exception>
    public static SearchResult FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            return JsonSerializer.Deserialize<SearchResult>(json, SearchJson.Options) ?? throw new ArgumentException("The JSON is null, not a search result.", nameof(json));
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"The JSON is not a search result: {e.Message}", nameof(json), e);
        }
    }

    /// <summary>Writes the JSON to a file atomically (a temporary file next to it, then a move over the target), creating its folder.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        SearchJson.WriteAllTextAtomically(path, ToJson());
    }

    /// <summary>Reads a result saved by <see cref="Save"/>.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The result.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty, or the file is not a search result.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    public static SearchResult Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return FromJson(File.ReadAllText(path));
    }
}
