namespace MLExtensions.Diffusion.IO;

/// <summary>
/// Writes a file so that readers see either the old file or the whole new one: the content goes to a temporary file
/// <c>.&lt;name&gt;.&lt;32 hex digits&gt;.tmp</c> in the target's folder, is flushed to disk, then moved over the target; on
/// failure the temporary file is deleted and the target left as it was. A process killed mid-write leaves its temporary
/// file behind, so every successful write of a target deletes that target's leftovers last written more than
/// <see cref="StaleTemporaryFileAge"/> ago (younger ones may belong to a write still running in another process).
/// Used by the model, chain, ONNX and search-result files and by the mldiffusion CLI's outputs.
/// </summary>
internal static class AtomicFile
{
    private const string Suffix = ".tmp";

    /// <summary>How old a leftover temporary file must be before a write of the same target deletes it: 5 minutes.</summary>
    public static TimeSpan StaleTemporaryFileAge { get; } = TimeSpan.FromMinutes(5);

    /// <summary>Writes <paramref name="path"/> atomically with <paramref name="write"/>.</summary>
    /// <param name="path">The target; its folder must exist unless <paramref name="createFolder"/>.</param>
    /// <param name="write">Writes the content to the stream it is given.</param>
    /// <param name="createFolder">Whether to create the target's folder.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> has no folder.</exception>
    /// <exception cref="IOException">The file cannot be written (the target is left as it was).</exception>
    public static void Write(string path, Action<Stream> write, bool createFolder = false)
    {
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' has no folder.", nameof(path));
        if (createFolder) Directory.CreateDirectory(folder);
        string name = Path.GetFileName(full);
        string temp = Path.Combine(folder, $".{name}.{Guid.NewGuid():N}{Suffix}");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
        DeleteStaleTemporaryFiles(folder, name);
    }

    /// <summary>Deletes <c>.&lt;name&gt;.&lt;32 hex&gt;.tmp</c> files in <paramref name="folder"/> older than
    /// <see cref="StaleTemporaryFileAge"/>, ignoring those that cannot be read or deleted.</summary>
    private static void DeleteStaleTemporaryFiles(string folder, string name)
    {
        string prefix = $".{name}.";
        var cutoff = DateTime.UtcNow - StaleTemporaryFileAge;
        try
        {
            foreach (string file in Directory.EnumerateFiles(folder, "*" + Suffix))
            {
                string leaf = Path.GetFileName(file);
                if (leaf.Length != prefix.Length + 32 + Suffix.Length || !leaf.StartsWith(prefix, StringComparison.Ordinal)
                    || !leaf.EndsWith(Suffix, StringComparison.Ordinal) || leaf.AsSpan(prefix.Length, 32).IndexOfAnyExcept("0123456789abcdef") >= 0)
                    continue;
                try
                {
                    if (File.GetLastWriteTimeUtc(file) < cutoff) File.Delete(file);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
