namespace MLExtensions.Diffusion.Training;

/// <summary>The operands of one GEMM call, as raw pointers (valid only while the caller keeps them pinned).</summary>
internal readonly unsafe struct GemmJob(GemmKernelKind kind, bool transposeA, bool transposeB, int m, int n, int k,
    float alpha, float beta, float* a, float* b, float* c)
{
    public readonly GemmKernelKind Kind = kind;
    public readonly bool TransposeA = transposeA;
    public readonly bool TransposeB = transposeB;
    public readonly int M = m, N = n, K = k;
    public readonly float Alpha = alpha, Beta = beta;
    public readonly float* A = a, B = b, C = c;
}
