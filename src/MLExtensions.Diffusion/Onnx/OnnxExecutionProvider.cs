namespace MLExtensions.Diffusion.Onnx;

/// <summary>Which ONNX Runtime execution provider runs a session.</summary>
public enum OnnxExecutionProvider
{
    /// <summary>CUDA when the loaded native library offers it and it starts; otherwise CPU, with a warning.</summary>
    Auto = 0,

    /// <summary>The CPU provider, always present.</summary>
    Cpu = 1,

    /// <summary>The CUDA provider on <see cref="OnnxSessionSettings.DeviceId"/>; fails clearly when unavailable.</summary>
    Cuda = 2,

    /// <summary>The TensorRT provider (CUDA for the nodes it does not take); fails clearly when unavailable.</summary>
    TensorRt = 3,
}
