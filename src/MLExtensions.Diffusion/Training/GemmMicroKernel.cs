using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MLExtensions.Diffusion.Training;

/// <summary>The register-blocked micro-kernels behind <see cref="Gemm"/>, one per vector width.</summary>
/// <remarks>
/// Each kernel computes an MR x NR tile C += alpha * Apanel * Bpanel (or, with overwrite, C = alpha * Apanel * Bpanel
/// without reading C) from packed panels: the A panel stores, for every
/// k, MR consecutive values of one column of op(A); the B panel stores, for every k, NR consecutive values of one row
/// of op(B). The accumulators live in registers for the whole K loop (Goto and van de Geijn, "Anatomy of
/// high-performance matrix multiplication", ACM TOMS 34(3), 2008).
/// </remarks>
internal static unsafe class GemmMicroKernel
{
    /// <summary>Vector512 kernel: 12 x 32 floats, 24 zmm accumulators (AVX-512 has 32 registers).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel512(int kc, float* a, float* b, float* c, nint ldc, float alpha, bool overwrite)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        Vector512<float> c80 = default, c81 = default, c90 = default, c91 = default, c100 = default, c101 = default, c110 = default, c111 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16);
            Vector512<float> ai;
            ai = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(ai, b0, c00); c01 = Vector512.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(ai, b0, c10); c11 = Vector512.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(ai, b0, c20); c21 = Vector512.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(ai, b0, c30); c31 = Vector512.FusedMultiplyAdd(ai, b1, c31);
            ai = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(ai, b0, c40); c41 = Vector512.FusedMultiplyAdd(ai, b1, c41);
            ai = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(ai, b0, c50); c51 = Vector512.FusedMultiplyAdd(ai, b1, c51);
            ai = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(ai, b0, c60); c61 = Vector512.FusedMultiplyAdd(ai, b1, c61);
            ai = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(ai, b0, c70); c71 = Vector512.FusedMultiplyAdd(ai, b1, c71);
            ai = Vector512.Create(a[8]);
            c80 = Vector512.FusedMultiplyAdd(ai, b0, c80); c81 = Vector512.FusedMultiplyAdd(ai, b1, c81);
            ai = Vector512.Create(a[9]);
            c90 = Vector512.FusedMultiplyAdd(ai, b0, c90); c91 = Vector512.FusedMultiplyAdd(ai, b1, c91);
            ai = Vector512.Create(a[10]);
            c100 = Vector512.FusedMultiplyAdd(ai, b0, c100); c101 = Vector512.FusedMultiplyAdd(ai, b1, c101);
            ai = Vector512.Create(a[11]);
            c110 = Vector512.FusedMultiplyAdd(ai, b0, c110); c111 = Vector512.FusedMultiplyAdd(ai, b1, c111);
            a += 12;
            b += 32;
        }
        Vector512<float> al = Vector512.Create(alpha);
        Store512(c, al, c00, c01, overwrite); c += ldc;
        Store512(c, al, c10, c11, overwrite); c += ldc;
        Store512(c, al, c20, c21, overwrite); c += ldc;
        Store512(c, al, c30, c31, overwrite); c += ldc;
        Store512(c, al, c40, c41, overwrite); c += ldc;
        Store512(c, al, c50, c51, overwrite); c += ldc;
        Store512(c, al, c60, c61, overwrite); c += ldc;
        Store512(c, al, c70, c71, overwrite); c += ldc;
        Store512(c, al, c80, c81, overwrite); c += ldc;
        Store512(c, al, c90, c91, overwrite); c += ldc;
        Store512(c, al, c100, c101, overwrite); c += ldc;
        Store512(c, al, c110, c111, overwrite);
    }

    /// <summary>
    /// Vector512 kernel for the last column panel of a product when at most 16 of its 32 columns are used: 12 x 16
    /// floats from the same packed panels (B read with its stride of 32), half the work of <see cref="Kernel512"/>.
    /// Every element is summed in the same order as by the full kernel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel512Half(int kc, float* a, float* b, float* c, nint ldc, float alpha, bool overwrite)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        Vector512<float> c6 = default, c7 = default, c8 = default, c9 = default, c10 = default, c11 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[1]), b0, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[2]), b0, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a[3]), b0, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a[4]), b0, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a[5]), b0, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a[6]), b0, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a[7]), b0, c7);
            c8 = Vector512.FusedMultiplyAdd(Vector512.Create(a[8]), b0, c8);
            c9 = Vector512.FusedMultiplyAdd(Vector512.Create(a[9]), b0, c9);
            c10 = Vector512.FusedMultiplyAdd(Vector512.Create(a[10]), b0, c10);
            c11 = Vector512.FusedMultiplyAdd(Vector512.Create(a[11]), b0, c11);
            a += 12;
            b += 32;
        }
        Vector512<float> al = Vector512.Create(alpha);
        StoreHalf512(c, al, c0, overwrite); c += ldc;
        StoreHalf512(c, al, c1, overwrite); c += ldc;
        StoreHalf512(c, al, c2, overwrite); c += ldc;
        StoreHalf512(c, al, c3, overwrite); c += ldc;
        StoreHalf512(c, al, c4, overwrite); c += ldc;
        StoreHalf512(c, al, c5, overwrite); c += ldc;
        StoreHalf512(c, al, c6, overwrite); c += ldc;
        StoreHalf512(c, al, c7, overwrite); c += ldc;
        StoreHalf512(c, al, c8, overwrite); c += ldc;
        StoreHalf512(c, al, c9, overwrite); c += ldc;
        StoreHalf512(c, al, c10, overwrite); c += ldc;
        StoreHalf512(c, al, c11, overwrite);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreHalf512(float* c, Vector512<float> alpha, Vector512<float> v, bool overwrite) =>
        Vector512.FusedMultiplyAdd(alpha, v, overwrite ? Vector512<float>.Zero : Vector512.Load(c)).Store(c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(float* c, Vector512<float> alpha, Vector512<float> v0, Vector512<float> v1, bool overwrite)
    {
        if (overwrite)
        {
            // fma(alpha, v, +0): the bits C = 0 followed by C += alpha v would give.
            Vector512.FusedMultiplyAdd(alpha, v0, Vector512<float>.Zero).Store(c);
            Vector512.FusedMultiplyAdd(alpha, v1, Vector512<float>.Zero).Store(c + 16);
            return;
        }
        Vector512.FusedMultiplyAdd(alpha, v0, Vector512.Load(c)).Store(c);
        Vector512.FusedMultiplyAdd(alpha, v1, Vector512.Load(c + 16)).Store(c + 16);
    }

    /// <summary>Vector256 kernel: 6 x 16 floats, 12 ymm accumulators (fits the 16 registers of AVX2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel256(int kc, float* a, float* b, float* c, nint ldc, float alpha, bool overwrite)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Vector256.Load(b), b1 = Vector256.Load(b + 8);
            Vector256<float> ai = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(ai, b0, c00); c01 = Vector256.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(ai, b0, c10); c11 = Vector256.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(ai, b0, c20); c21 = Vector256.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(ai, b0, c30); c31 = Vector256.FusedMultiplyAdd(ai, b1, c31);
            ai = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(ai, b0, c40); c41 = Vector256.FusedMultiplyAdd(ai, b1, c41);
            ai = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(ai, b0, c50); c51 = Vector256.FusedMultiplyAdd(ai, b1, c51);
            a += 6;
            b += 16;
        }
        Vector256<float> al = Vector256.Create(alpha);
        Store256(c, al, c00, c01, overwrite); c += ldc;
        Store256(c, al, c10, c11, overwrite); c += ldc;
        Store256(c, al, c20, c21, overwrite); c += ldc;
        Store256(c, al, c30, c31, overwrite); c += ldc;
        Store256(c, al, c40, c41, overwrite); c += ldc;
        Store256(c, al, c50, c51, overwrite);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(float* c, Vector256<float> alpha, Vector256<float> v0, Vector256<float> v1, bool overwrite)
    {
        if (overwrite)
        {
            // fma(alpha, v, +0): the bits C = 0 followed by C += alpha v would give.
            Vector256.FusedMultiplyAdd(alpha, v0, Vector256<float>.Zero).Store(c);
            Vector256.FusedMultiplyAdd(alpha, v1, Vector256<float>.Zero).Store(c + 8);
            return;
        }
        Vector256.FusedMultiplyAdd(alpha, v0, Vector256.Load(c)).Store(c);
        Vector256.FusedMultiplyAdd(alpha, v1, Vector256.Load(c + 8)).Store(c + 8);
    }

    /// <summary>Vector128 kernel: 6 x 8 floats, 12 xmm accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel128(int kc, float* a, float* b, float* c, nint ldc, float alpha, bool overwrite)
    {
        Vector128<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector128<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector128<float> b0 = Vector128.Load(b), b1 = Vector128.Load(b + 4);
            Vector128<float> ai = Vector128.Create(a[0]);
            c00 = Vector128.FusedMultiplyAdd(ai, b0, c00); c01 = Vector128.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector128.Create(a[1]);
            c10 = Vector128.FusedMultiplyAdd(ai, b0, c10); c11 = Vector128.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector128.Create(a[2]);
            c20 = Vector128.FusedMultiplyAdd(ai, b0, c20); c21 = Vector128.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector128.Create(a[3]);
            c30 = Vector128.FusedMultiplyAdd(ai, b0, c30); c31 = Vector128.FusedMultiplyAdd(ai, b1, c31);
            ai = Vector128.Create(a[4]);
            c40 = Vector128.FusedMultiplyAdd(ai, b0, c40); c41 = Vector128.FusedMultiplyAdd(ai, b1, c41);
            ai = Vector128.Create(a[5]);
            c50 = Vector128.FusedMultiplyAdd(ai, b0, c50); c51 = Vector128.FusedMultiplyAdd(ai, b1, c51);
            a += 6;
            b += 8;
        }
        Vector128<float> al = Vector128.Create(alpha);
        Store128(c, al, c00, c01, overwrite); c += ldc;
        Store128(c, al, c10, c11, overwrite); c += ldc;
        Store128(c, al, c20, c21, overwrite); c += ldc;
        Store128(c, al, c30, c31, overwrite); c += ldc;
        Store128(c, al, c40, c41, overwrite); c += ldc;
        Store128(c, al, c50, c51, overwrite);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store128(float* c, Vector128<float> alpha, Vector128<float> v0, Vector128<float> v1, bool overwrite)
    {
        if (overwrite)
        {
            // fma(alpha, v, +0): the bits C = 0 followed by C += alpha v would give.
            Vector128.FusedMultiplyAdd(alpha, v0, Vector128<float>.Zero).Store(c);
            Vector128.FusedMultiplyAdd(alpha, v1, Vector128<float>.Zero).Store(c + 4);
            return;
        }
        Vector128.FusedMultiplyAdd(alpha, v0, Vector128.Load(c)).Store(c);
        Vector128.FusedMultiplyAdd(alpha, v1, Vector128.Load(c + 4)).Store(c + 4);
    }

    /// <summary>Portable scalar kernel: 4 x 4 floats.</summary>
    public static void KernelScalar(int kc, float* a, float* b, float* c, nint ldc, float alpha, bool overwrite)
    {
        float* acc = stackalloc float[16];
        for (int i = 0; i < 16; i++) acc[i] = 0;
        for (int p = 0; p < kc; p++)
        {
            for (int i = 0; i < 4; i++)
            {
                float ai = a[i];
                for (int j = 0; j < 4; j++) acc[i * 4 + j] = MathF.FusedMultiplyAdd(ai, b[j], acc[i * 4 + j]);
            }
            a += 4;
            b += 4;
        }
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) c[i * ldc + j] = MathF.FusedMultiplyAdd(alpha, acc[i * 4 + j], overwrite ? 0f : c[i * ldc + j]);
    }
}
