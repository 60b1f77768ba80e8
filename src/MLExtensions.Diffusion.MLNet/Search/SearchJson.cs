using System.Text.Json;
using System.Text.Json.Serialization;

namespace MLExtensions.Diffusion.Search;

/// <summary>The one set of System.Text.Json options the search types read and write with.</summary>
internal static class SearchJson
{
    /// <summary>Indented, enums as strings, NaN and infinities as named literals (a failed trial's loss is +Infinity).</summary>
    public static readonly JsonSerializerOptions Options = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions
        {
            WriteIndented = true,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals | JsonNumberHandling.AllowReadingFromString,
        };
        options.Converters.Add(new JsonStringEnumConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>Writes text to a file atomically: a temporary file next to it, then a move over the target.</summary>
    public static void WriteAllTextAtomically(string path, string text) =>
        IO.AtomicFile.Write(path, stream => stream.Write(System.Text.Encoding.UTF8.GetBytes(text)), createFolder: true);
}
