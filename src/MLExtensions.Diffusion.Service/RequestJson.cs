using System.Text.Json;
using System.Text.Json.Serialization;

namespace MLExtensions.Diffusion.Service;

/// <summary>How request bodies are read: web defaults (camelCase, case-insensitive), unknown fields rejected, numbers
/// only as JSON numbers.</summary>
internal static class RequestJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
    };

    /// <summary>The request field a JSON path points at ("$.count" gives "count"), or "body" for the document itself.</summary>
    public static string FieldOf(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$") return "body";
        return path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
    }

    /// <summary>The first line of a JSON error, without the path and position suffix System.Text.Json appends.</summary>
    public static string Message(JsonException e)
    {
        string message = e.Message;
        int cut = message.IndexOf(" Path: ", StringComparison.Ordinal);
        string position = e.LineNumber is { } line ? $" (line {line + 1}, byte {e.BytePositionInLine + 1})" : "";
        return (cut > 0 ? message[..cut] : message).TrimEnd() + position;
    }
}
