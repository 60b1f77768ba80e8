namespace MLExtensions.Diffusion.Service;

/// <summary>What the registry compares to tell that a model file changed: its length and time stamps.</summary>
internal readonly record struct FileSignature(long Length, DateTime LastWriteUtc, DateTime CreationUtc)
{
    /// <summary>The signature of <paramref name="path"/>, or null when it cannot be read (gone, or no access).</summary>
    public static FileSignature? Read(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) return null;
            return new FileSignature(info.Length, info.LastWriteTimeUtc, info.CreationTimeUtc);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
