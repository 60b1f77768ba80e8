using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MLExtensions.Diffusion.Training;

/// <summary>
/// Single-precision general matrix multiply C = alpha op(A) op(B) + beta C on row-major spans, with packed panels,
/// cache blocking and a register-blocked SIMD micro-kernel (Vector512 where accelerated, else Vector256, Vector128
/// or scalar).
/// </summary>
/// <remarks>
/// <para>op(A) is m x k: A is stored m x k (row-major) or, when transposed, k x m. op(B) is k x n: B is stored k x n
/// or, when transposed, n x k. C is m x n. The three products of a dense layer (Y = X W^T, dX = dY W, dW = dY^T X) are
/// all one call with different transpose flags.</para>
/// <para>Work is split over rows (or columns) of C between threads; every element of C is summed in the same order
/// whatever the split, so results are bitwise identical for any thread count. When the rows are split, the threads
/// first pack the panels of B together and then share them. Packing buffers are allocated once per thread; a call
/// allocates nothing after the first on a thread.</para>
/// <para>With beta = 0 the first k block writes C without reading it. Products with at most four columns (A B^T) or
/// rows (A^T B), those of a d-wide output layer, skip the packed tiles: dot products or row updates on the calling
/// thread.</para>
/// </remarks>
public static unsafe class Gemm
{
    private const int KC = 256;
    private const int MC = 96;
    private const int NC = 512;
    private const long ParallelThreshold = 1L << 21;
    private const int SkinnySize = 4;

    [ThreadStatic] private static float[]? t_packA;
    [ThreadStatic] private static float[]? t_packB;

    /// <summary>The number of threads used when a call does not say: the processor count.</summary>
    public static int DefaultThreads { get; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Computes C = alpha op(A) op(B) + beta C.</summary>
    /// <param name="transposeA">Whether A is stored k x m (op(A) = A^T) rather than m x k.</param>
    /// <param name="transposeB">Whether B is stored n x k (op(B) = B^T) rather than k x n.</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="k">Columns of op(A), rows of op(B).</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">A, row-major, length m k.</param>
    /// <param name="b">B, row-major, length k n.</param>
    /// <param name="beta">Scale of the old C; when 0 the old contents are ignored (NaNs included).</param>
    /// <param name="c">C, row-major m x n, length m n; must not overlap A or B.</param>
    /// <param name="threads">Threads to use (at most); 0 means <see cref="DefaultThreads"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size or <paramref name="threads"/> is negative.</exception>
    /// <exception cref="ArgumentException">A span length does not match its shape, or alpha/beta is not finite.</exception>
    public static void Multiply(bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, float beta, Span<float> c, int threads = 0)
        => Multiply(transposeA, transposeB, m, n, k, alpha, a, b, beta, c, threads, GemmKernelKind.Auto);

    internal static void Multiply(bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, float beta, Span<float> c, int threads, GemmKernelKind kind)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        if (a.Length != (long)m * k) throw new ArgumentException($"A has length {a.Length}, expected m k = {(long)m * k}.", nameof(a));
        if (b.Length != (long)k * n) throw new ArgumentException($"B has length {b.Length}, expected k n = {(long)k * n}.", nameof(b));
        if (c.Length != (long)m * n) throw new ArgumentException($"C has length {c.Length}, expected m n = {(long)m * n}.", nameof(c));
        if (!float.IsFinite(alpha)) throw new ArgumentException("alpha must be finite.", nameof(alpha));
        if (!float.IsFinite(beta)) throw new ArgumentException("beta must be finite.", nameof(beta));
        if (m == 0 || n == 0) return;
        if (kind == GemmKernelKind.Auto) kind = BestKernel;
        if (threads == 0) threads = DefaultThreads;

        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            if (kind == GemmKernelKind.Vector512 && k > 0 && alpha != 0f)
            {
                // A layer with a few outputs (the d-wide output layer): packing 12 x 32 tiles would waste most of
                // the work, so its two products with a tiny side run as dot products or row updates.
                if (n <= SkinnySize && !transposeA && transposeB) { SkinnyDots(m, n, k, alpha, pa, pb, beta, pc); return; }
                if (m <= SkinnySize && transposeA && !transposeB) { SkinnyRows(m, n, k, alpha, pa, pb, beta, pc); return; }
            }
            var job = new GemmJob(kind, transposeA, transposeB, m, n, k, alpha, beta, pa, pb, pc);
            long work = (long)m * n * Math.Max(k, 1);
            int mr = MicroRows(kind), nr = MicroColumns(kind);
            bool splitRows = m >= 2 * mr * threads || m >= n;
            if (work < ParallelThreshold || threads == 1 || !GemmWorkerTeam.TryRun(in job, threads, splitRows, splitRows ? mr : nr, splitRows ? MC / mr : NC / nr))
                Run(in job, 0, m, 0, n);
        }
    }

    /// <summary>The fastest kernel this machine accelerates.</summary>
    internal static GemmKernelKind BestKernel =>
        Vector512.IsHardwareAccelerated ? GemmKernelKind.Vector512
        : Vector256.IsHardwareAccelerated ? GemmKernelKind.Vector256
        : Vector128.IsHardwareAccelerated ? GemmKernelKind.Vector128
        : GemmKernelKind.Scalar;

    internal static int MicroRows(GemmKernelKind kind) => kind switch
    {
        GemmKernelKind.Vector512 => 12,
        GemmKernelKind.Vector256 => 6,
        GemmKernelKind.Vector128 => 6,
        _ => 4,
    };

    internal static int MicroColumns(GemmKernelKind kind) => kind switch
    {
        GemmKernelKind.Vector512 => 32,
        GemmKernelKind.Vector256 => 16,
        GemmKernelKind.Vector128 => 8,
        _ => 4,
    };

    /// <summary>Computes the block C[m0:m1, n0:n1] of a job on the calling thread.</summary>
    internal static void Run(in GemmJob job, int m0, int m1, int n0, int n1) => Run(in job, m0, m1, n0, n1, null);

    /// <summary>
    /// Computes the block C[m0:m1, n0:n1]; with <paramref name="packedB"/> (packed by <see cref="PackBTask"/>, only when
    /// n0 = 0) the B panels are read from there instead of being packed again.
    /// </summary>
    internal static void Run(in GemmJob job, int m0, int m1, int n0, int n1, float* packedB)
    {
        if (m1 <= m0 || n1 <= n0) return;
        int n = job.N, k = job.K;
        float* c = job.C;
        // With beta = 0 the first k block overwrites C (fma(alpha, acc, +0), the bits a cleared C would give) instead
        // of clearing it first; other betas scale C once here.
        bool overwrite = job.Beta == 0f && k > 0 && job.Alpha != 0f;
        if (job.Beta != 1f && !overwrite)
        {
            for (int i = m0; i < m1; i++)
            {
                var row = new Span<float>(c + (long)i * n + n0, n1 - n0);
                if (job.Beta == 0f) row.Clear();
                else for (int j = 0; j < row.Length; j++) row[j] *= job.Beta;
            }
        }
        if (k == 0 || job.Alpha == 0f) return;

        int mr = MicroRows(job.Kind), nr = MicroColumns(job.Kind);
        var packA = t_packA ??= GC.AllocateArray<float>(MC * KC, pinned: true);
        var packB = t_packB ??= GC.AllocateArray<float>(NC * KC, pinned: true);
        float* pa = (float*)Unsafe.AsPointer(ref packA[0]);
        float* pb = (float*)Unsafe.AsPointer(ref packB[0]);
        float* tile = stackalloc float[12 * 32];

        for (int jc = n0; jc < n1; jc += NC)
        {
            int nc = Math.Min(NC, n1 - jc);
            for (int pc = 0; pc < k; pc += KC)
            {
                int kc = Math.Min(KC, k - pc);
                bool store = overwrite && pc == 0;
                if (packedB == null) PackB(in job, pb, pc, kc, jc, nc, nr);
                else pb = packedB + PackedBOffset(jc, pc, k);
                for (int ic = m0; ic < m1; ic += MC)
                {
                    int mc = Math.Min(MC, m1 - ic);
                    PackA(in job, pa, ic, mc, pc, kc, mr);
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int nrr = Math.Min(nr, nc - jr);
                        float* bPanel = pb + (long)jr * kc;
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            int mrr = Math.Min(mr, mc - ir);
                            float* aPanel = pa + (long)ir * kc;
                            float* cTile = c + (long)(ic + ir) * n + jc + jr;
                            if (mrr == mr && nrr == nr)
                            {
                                CallKernel(job.Kind, kc, aPanel, bPanel, cTile, n, job.Alpha, store);
                            }
                            else
                            {
                                if (job.Kind == GemmKernelKind.Vector512 && nrr <= 16 && mrr == mr)
                                    GemmMicroKernel.Kernel512Half(kc, aPanel, bPanel, tile, nr, job.Alpha, true);
                                else
                                    CallKernel(job.Kind, kc, aPanel, bPanel, tile, nr, job.Alpha, true);
                                if (store)
                                {
                                    for (int i = 0; i < mrr; i++)
                                        for (int j = 0; j < nrr; j++) cTile[(long)i * n + j] = 0f + tile[i * nr + j];
                                }
                                else
                                {
                                    for (int i = 0; i < mrr; i++)
                                        for (int j = 0; j < nrr; j++) cTile[(long)i * n + j] += tile[i * nr + j];
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>Floats needed for all the packed B panels of a job (<see cref="PackBTask"/>).</summary>
    internal static long PackedBLength(in GemmJob job) => (long)((job.N + NC - 1) / NC) * ((job.K + KC - 1) / KC) * KC * NC;

    private static long PackedBOffset(int jc, int pc, int k) => ((long)(jc / NC) * ((k + KC - 1) / KC) + pc / KC) * KC * NC;

    /// <summary>
    /// The number of B-packing tasks of a job (<see cref="PackBTask"/>): one per panel of NR columns in every
    /// (NC, KC) block of B, so that threads splitting the rows of C can pack the shared panels together.
    /// </summary>
    internal static int PackBTaskCount(in GemmJob job) =>
        (job.N + NC - 1) / NC * ((job.K + KC - 1) / KC) * PanelsPerBlock(in job);

    /// <summary>Panels of NR columns in a (full) NC block of B: fewer than NC / NR when B has fewer columns.</summary>
    private static int PanelsPerBlock(in GemmJob job)
    {
        int nr = MicroColumns(job.Kind);
        return (Math.Min(NC, job.N) + nr - 1) / nr;
    }

    /// <summary>Packs the B panel of task <paramref name="task"/> into its place in <paramref name="dst"/> (laid out as
    /// <see cref="PackedBOffset"/> says); a task past the last column packs nothing.</summary>
    internal static void PackBTask(in GemmJob job, float* dst, int task)
    {
        int nr = MicroColumns(job.Kind), panels = PanelsPerBlock(in job), pcBlocks = (job.K + KC - 1) / KC;
        int jr = task % panels * nr, block = task / panels;
        int jc = block / pcBlocks * NC, pc = block % pcBlocks * KC;
        if (jc + jr >= job.N) return;
        int kc = Math.Min(KC, job.K - pc);
        PackB(in job, dst + PackedBOffset(jc, pc, job.K) + (long)jr * kc, pc, kc, jc + jr, Math.Min(nr, job.N - jc - jr), nr);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CallKernel(GemmKernelKind kind, int kc, float* a, float* b, float* c, nint ldc, float alpha, bool overwrite)
    {
        switch (kind)
        {
            case GemmKernelKind.Vector512: GemmMicroKernel.Kernel512(kc, a, b, c, ldc, alpha, overwrite); break;
            case GemmKernelKind.Vector256: GemmMicroKernel.Kernel256(kc, a, b, c, ldc, alpha, overwrite); break;
            case GemmKernelKind.Vector128: GemmMicroKernel.Kernel128(kc, a, b, c, ldc, alpha, overwrite); break;
            default: GemmMicroKernel.KernelScalar(kc, a, b, c, ldc, alpha, overwrite); break;
        }
    }

    /// <summary>Packs op(A)[ic:ic+mc, pc:pc+kc] into panels of mr rows: panel-major, then k, then row; zero padded.</summary>
    private static void PackA(in GemmJob job, float* dst, int ic, int mc, int pc, int kc, int mr)
    {
        int m = job.M, k = job.K;
        float* a = job.A;
        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            float* panel = dst + (long)ir * kc;
            if (job.TransposeA)
            {
                // A stored k x m: a column of op(A) is contiguous.
                for (int p = 0; p < kc; p++)
                {
                    float* src = a + (long)(pc + p) * m + ic + ir;
                    float* d = panel + (long)p * mr;
                    if (rows == 12 && mr == 12)
                    {
                        Vector256.Load(src).Store(d);
                        Vector128.Load(src + 8).Store(d + 8);
                    }
                    else if (rows == mr)
                    {
                        new ReadOnlySpan<float>(src, mr).CopyTo(new Span<float>(d, mr));
                    }
                    else
                    {
                        int i = 0;
                        for (; i < rows; i++) d[i] = src[i];
                        for (; i < mr; i++) d[i] = 0f;
                    }
                }
            }
            else
            {
                Transpose(a + (long)(ic + ir) * k + pc, k, rows, kc, panel, mr);
                for (int i = rows; i < mr; i++)
                    for (int p = 0; p < kc; p++) panel[(long)p * mr + i] = 0f;
            }
        }
    }

    /// <summary>Packs op(B)[pc:pc+kc, jc:jc+nc] into panels of nr columns: panel-major, then k, then column; zero padded.</summary>
    private static void PackB(in GemmJob job, float* dst, int pc, int kc, int jc, int nc, int nr)
    {
        int n = job.N, k = job.K;
        float* b = job.B;
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            float* panel = dst + (long)jr * kc;
            if (!job.TransposeB)
            {
                for (int p = 0; p < kc; p++)
                {
                    float* src = b + (long)(pc + p) * n + jc + jr;
                    float* d = panel + (long)p * nr;
                    if (cols == 32 && nr == 32)
                    {
                        Vector512.Load(src).Store(d);
                        Vector512.Load(src + 16).Store(d + 16);
                    }
                    else if (cols == nr)
                    {
                        new ReadOnlySpan<float>(src, nr).CopyTo(new Span<float>(d, nr));
                    }
                    else
                    {
                        int j = 0;
                        for (; j < cols; j++) d[j] = src[j];
                        for (; j < nr; j++) d[j] = 0f;
                    }
                }
            }
            else
            {
                // B stored n x k: a column of op(B) is contiguous.
                Transpose(b + (long)(jc + jr) * k + pc, k, cols, kc, panel, nr);
                for (int j = cols; j < nr; j++)
                    for (int p = 0; p < kc; p++) panel[(long)p * nr + j] = 0f;
            }
        }
    }

    /// <summary>
    /// Writes dst[p w + i] = src[i ld + p] for i &lt; rows, p &lt; kc: rows of the source become the columns of a
    /// panel of width w. In 4 x 4 blocks with SSE shuffles where supported (four loads, eight shuffles and four stores
    /// for 16 values), else element by element; either way a plain copy, so the result is the same.
    /// </summary>
    private static void Transpose(float* src, long ld, int rows, int kc, float* dst, int w)
    {
        int i = 0;
        if (Sse.IsSupported)
        {
            for (; i + 4 <= rows; i += 4)
            {
                float* s0 = src + i * ld, s1 = s0 + ld, s2 = s1 + ld, s3 = s2 + ld;
                float* d = dst + i;
                int p = 0;
                for (; p + 4 <= kc; p += 4)
                {
                    Vector128<float> r0 = Sse.LoadVector128(s0 + p), r1 = Sse.LoadVector128(s1 + p);
                    Vector128<float> r2 = Sse.LoadVector128(s2 + p), r3 = Sse.LoadVector128(s3 + p);
                    Vector128<float> t0 = Sse.UnpackLow(r0, r1), t1 = Sse.UnpackLow(r2, r3);
                    Vector128<float> t2 = Sse.UnpackHigh(r0, r1), t3 = Sse.UnpackHigh(r2, r3);
                    float* q = d + (long)p * w;
                    Sse.Store(q, Sse.MoveLowToHigh(t0, t1));
                    Sse.Store(q + w, Sse.MoveHighToLow(t1, t0));
                    Sse.Store(q + 2 * w, Sse.MoveLowToHigh(t2, t3));
                    Sse.Store(q + 3 * w, Sse.MoveHighToLow(t3, t2));
                }
                for (; p < kc; p++)
                {
                    float* q = d + (long)p * w;
                    q[0] = s0[p];
                    q[1] = s1[p];
                    q[2] = s2[p];
                    q[3] = s3[p];
                }
            }
        }
        for (; i < rows; i++)
        {
            float* s = src + i * ld;
            for (int p = 0; p < kc; p++) dst[(long)p * w + i] = s[p];
        }
    }

    /// <summary>
    /// C = alpha A B^T + beta C for n &lt;= <see cref="SkinnySize"/> (A stored m x k, B stored n x k): one dot product
    /// per element, 16 lanes at a time, the lanes summed in a fixed order, then the tail of k. On the calling thread.
    /// </summary>
    private static void SkinnyDots(int m, int n, int k, float alpha, float* a, float* b, float beta, float* c)
    {
        for (int i = 0; i < m; i++)
        {
            float* ai = a + (long)i * k;
            for (int j = 0; j < n; j++)
            {
                float* bj = b + (long)j * k;
                Vector512<float> acc0 = default, acc1 = default;
                int p = 0;
                for (; p + 32 <= k; p += 32)
                {
                    acc0 = Vector512.FusedMultiplyAdd(Vector512.Load(ai + p), Vector512.Load(bj + p), acc0);
                    acc1 = Vector512.FusedMultiplyAdd(Vector512.Load(ai + p + 16), Vector512.Load(bj + p + 16), acc1);
                }
                for (; p + 16 <= k; p += 16) acc0 = Vector512.FusedMultiplyAdd(Vector512.Load(ai + p), Vector512.Load(bj + p), acc0);
                float sum = Vector512.Sum(acc0 + acc1);
                for (; p < k; p++) sum = MathF.FusedMultiplyAdd(ai[p], bj[p], sum);
                float* cij = c + (long)i * n + j;
                *cij = beta == 0f ? alpha * sum : MathF.FusedMultiplyAdd(alpha, sum, beta * *cij);
            }
        }
    }

    /// <summary>
    /// C = alpha A^T B + beta C for m &lt;= <see cref="SkinnySize"/> (A stored k x m, B stored k x n): each row of C
    /// accumulates alpha-free row updates a[p, i] B[p, :] over p in order, 64 columns in registers at a time, then
    /// C = alpha acc + beta C. On the calling thread.
    /// </summary>
    private static void SkinnyRows(int m, int n, int k, float alpha, float* a, float* b, float beta, float* c)
    {
        var al = Vector512.Create(alpha);
        var be = Vector512.Create(beta);
        for (int i = 0; i < m; i++)
        {
            float* ci = c + (long)i * n;
            int j = 0;
            for (; j + 64 <= n; j += 64)
            {
                Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
                float* bp = b + j;
                for (int p = 0; p < k; p++, bp += n)
                {
                    var ap = Vector512.Create(a[(long)p * m + i]);
                    acc0 = Vector512.FusedMultiplyAdd(ap, Vector512.Load(bp), acc0);
                    acc1 = Vector512.FusedMultiplyAdd(ap, Vector512.Load(bp + 16), acc1);
                    acc2 = Vector512.FusedMultiplyAdd(ap, Vector512.Load(bp + 32), acc2);
                    acc3 = Vector512.FusedMultiplyAdd(ap, Vector512.Load(bp + 48), acc3);
                }
                StoreRow(ci + j, al, be, beta, acc0);
                StoreRow(ci + j + 16, al, be, beta, acc1);
                StoreRow(ci + j + 32, al, be, beta, acc2);
                StoreRow(ci + j + 48, al, be, beta, acc3);
            }
            for (; j + 16 <= n; j += 16)
            {
                Vector512<float> acc = default;
                float* bp = b + j;
                for (int p = 0; p < k; p++, bp += n) acc = Vector512.FusedMultiplyAdd(Vector512.Create(a[(long)p * m + i]), Vector512.Load(bp), acc);
                StoreRow(ci + j, al, be, beta, acc);
            }
            for (; j < n; j++)
            {
                float acc = 0f;
                for (int p = 0; p < k; p++) acc = MathF.FusedMultiplyAdd(a[(long)p * m + i], b[(long)p * n + j], acc);
                ci[j] = beta == 0f ? alpha * acc : MathF.FusedMultiplyAdd(alpha, acc, beta * ci[j]);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* c, Vector512<float> alpha, Vector512<float> betaVector, float beta, Vector512<float> acc)
    {
        if (beta == 0f) (alpha * acc).Store(c);
        else Vector512.FusedMultiplyAdd(alpha, acc, betaVector * Vector512.Load(c)).Store(c);
    }
}
