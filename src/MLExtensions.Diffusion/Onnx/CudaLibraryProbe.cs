using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace MLExtensions.Diffusion.Onnx;

/// <summary>
/// Says why ONNX Runtime's CUDA provider did not start. ONNX Runtime reports only "Failed to load shared library"; the
/// dynamic loader knows which dependency is missing, so this loads the provider library itself and reads the loader's
/// message (e.g. "libcublasLt.so.13: cannot open shared object file"), then checks cuDNN, which the provider opens later.
/// </summary>
internal static partial class CudaLibraryProbe
{
    /// <summary>What the GPU native package needs at run time, in words a user can act on.</summary>
    internal const string Requirement =
        "the CUDA 13 runtime libraries (cudart, cuBLAS, cuBLASLt, cuRAND and the driver's libcuda) and cuDNN 9";

    private static readonly string[] ProviderLibraryNames =
        OperatingSystem.IsWindows() ? ["onnxruntime_providers_cuda.dll"] : ["libonnxruntime_providers_cuda.so"];

    private static readonly string[] LazyLibraries =
        OperatingSystem.IsWindows() ? ["cudnn64_9.dll"] : ["libcudnn.so.9"];

    private static readonly Lazy<string?> Missing = new(FindMissingLibrary);

    /// <summary>The first library the CUDA provider needs that cannot be loaded here, or null when none is missing (or
    /// the provider library itself cannot be found). Probed once per process.</summary>
    internal static string? MissingLibrary() => Missing.Value;

    private static string? FindMissingLibrary()
    {
        string? provider = FindProviderLibrary();
        if (provider is not null)
        {
            try
            {
                NativeLibrary.Free(NativeLibrary.Load(provider));
            }
            catch (DllNotFoundException ex)
            {
                var match = MissingLibraryPattern().Match(ex.Message);
                return match.Success ? match.Groups[1].Value : ex.Message;
            }
            catch (BadImageFormatException ex)
            {
                return ex.Message;
            }
        }
        foreach (string lazy in LazyLibraries)
        {
            if (!NativeLibrary.TryLoad(lazy, out var handle)) return lazy;
            NativeLibrary.Free(handle);
        }
        return null;
    }

    /// <summary>One sentence naming the missing library and what to install, for warnings and exceptions.</summary>
    internal static string Explain()
    {
        string? missing = MissingLibrary();
        string what = missing is null ? "a CUDA library could not be loaded" : $"{missing} could not be loaded";
        return $"{what}; the CUDA provider needs {Requirement} on the library path " +
               (OperatingSystem.IsWindows() ? "(PATH)" : "(LD_LIBRARY_PATH or the system's ldconfig paths)");
    }

    private static string? FindProviderLibrary()
    {
        string baseDir = AppContext.BaseDirectory;
        var folders = new List<string> { baseDir };
        foreach (string rid in new[] { RuntimeInformation.RuntimeIdentifier, OperatingSystem.IsWindows() ? "win-x64" : "linux-x64" })
            folders.Add(Path.Combine(baseDir, "runtimes", rid, "native"));
        foreach (string folder in folders)
            foreach (string name in ProviderLibraryNames)
            {
                string path = Path.Combine(folder, name);
                if (File.Exists(path)) return path;
            }
        return null;
    }

    [GeneratedRegex(@"([\w.+-]+\.(?:so(?:\.\d+)*|dll))\s*:\s*cannot open shared object file", RegexOptions.CultureInvariant)]
    private static partial Regex MissingLibraryPattern();
}
