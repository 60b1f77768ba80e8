namespace MLExtensions.Diffusion.Onnx;

/// <summary>A serialised ONNX model (a <c>ModelProto</c>) produced by <see cref="OnnxGraphBuilder.Build()"/>.</summary>
public sealed class OnnxModel
{
    private readonly byte[] _bytes;

    internal OnnxModel(byte[] bytes, string[] inputNames, string[] outputNames, long irVersion, int opsetVersion)
    {
        _bytes = bytes;
        InputNames = inputNames;
        OutputNames = outputNames;
        IrVersion = irVersion;
        OpsetVersion = opsetVersion;
    }

    /// <summary>Names of the graph inputs, in declaration order.</summary>
    public IReadOnlyList<string> InputNames { get; }

    /// <summary>Names of the graph outputs, in declaration order.</summary>
    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>The ONNX IR version written in the model.</summary>
    public long IrVersion { get; }

    /// <summary>The version of the default operator set the model imports.</summary>
    public int OpsetVersion { get; }

    /// <summary>Size of the serialised model in bytes.</summary>
    public int SizeInBytes => _bytes.Length;

    /// <summary>The serialised model bytes without a copy (callers inside the library must not modify them).</summary>
    internal byte[] Bytes => _bytes;

    /// <summary>A copy of the serialised model bytes.</summary>
    /// <returns>The bytes of the <c>.onnx</c> file.</returns>
    public byte[] ToBytes() => (byte[])_bytes.Clone();

    /// <summary>
    /// Writes the model to <paramref name="path"/> atomically: the bytes go to a temporary file in the same directory,
    /// which then replaces <paramref name="path"/>, so readers never see a half-written model.
    /// </summary>
    /// <param name="path">Destination file (conventionally <c>*.onnx</c>); its directory must exist.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null, empty or white space.</exception>
    /// <exception cref="DirectoryNotFoundException">The directory of <paramref name="path"/> does not exist.</exception>
    /// <exception cref="IOException">Writing or replacing the file failed.</exception>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' has no directory.", nameof(path));
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Cannot save ONNX model to '{full}': directory '{directory}' does not exist.");
        IO.AtomicFile.Write(full, stream => stream.Write(_bytes));
    }
}
