namespace MLExtensions.Diffusion.Training;

/// <summary>Which micro-kernel a <see cref="Gemm"/> call uses (tests force each one).</summary>
internal enum GemmKernelKind
{
    Auto,
    Vector512,
    Vector256,
    Vector128,
    Scalar,
}
