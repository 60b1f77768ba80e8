namespace MLExtensions.Diffusion.Training;

/// <summary>
/// Dedicated worker threads that help the calling thread through the blocks of a <see cref="GemmJob"/> or of a
/// <see cref="RowJob"/> (the elementwise work between a network's GEMMs).
/// </summary>
/// <remarks>
/// <para>The job is cut into more blocks than threads; the caller and the workers claim blocks with an atomic counter,
/// so a worker the OS has descheduled (the machine is shared) delays nobody: the caller does the rest, and revokes
/// posts that no worker has taken yet. Each block covers whole elements of C summed in a fixed order, so the result
/// does not depend on which thread ran which block.</para>
/// <para>Workers spin for about 0.1 ms after each job and then block: on a shared machine a thread that spins long loses
/// its scheduling priority and then answers the next post late, while a woken sleeper is scheduled promptly.
/// When the rows of C are split, the threads first pack the panels of B together, once, and share them. One caller at a time: a concurrent caller runs its job single-threaded.</para>
/// </remarks>
internal static unsafe class GemmWorkerTeam
{
    private const int SpinIterations = 100;
    private static readonly object s_gate = new();
    private static Worker[] s_workers = [];
    private static GemmJob s_job;
    private static RowJob? s_rowJob;
    private static int s_rowCount;
    private static bool s_splitRows;
    private static int s_step;
    private static int s_units;
    private static int s_blockCount;
    private static int s_packTasks;
    private static Counters s_counters;
    private const int CounterSpacing = 32;
    private static int[] s_rangeNext = [];
    private static int[] s_rangeEnd = [];
    private static int s_ranges;

    /// <summary>
    /// Cuts the blocks into one contiguous range per thread (0 is the caller, p + 1 worker p): a thread runs its own
    /// range first, in order, then helps with the others'. The same thread thus tends to get the same rows in every
    /// call (and in the row jobs between them), so they stay in its cache, while the blocks of a late or descheduled
    /// thread are still taken by the others.
    /// </summary>
    private static void SetRanges(int ranges, int blocks)
    {
        for (int r = 0; r < ranges; r++)
        {
            Volatile.Write(ref s_rangeNext[(r + 1) * CounterSpacing], (int)((long)r * blocks / ranges));
            s_rangeEnd[r] = (int)((long)(r + 1) * blocks / ranges);
        }
        s_ranges = ranges;
    }

    /// <summary>Claims the next block of range <paramref name="range"/>, or returns -1 when it has none left.</summary>
    private static int Claim(int range)
    {
        int block = Interlocked.Increment(ref s_rangeNext[(range + 1) * CounterSpacing]) - 1;
        return block < s_rangeEnd[range] ? block : -1;
    }
    private static float[] s_packedB = [];
    private static float* s_packedBPointer;

    /// <summary>
    /// Runs the job with up to <paramref name="threads"/> threads in blocks of at most <paramref name="maxUnitsPerBlock"/>
    /// units of <paramref name="step"/> rows (or columns); false when the team is busy (the caller then runs it alone).
    /// </summary>
    public static bool TryRun(in GemmJob job, int threads, bool splitRows, int step, int maxUnitsPerBlock)
    {
        if (!Monitor.TryEnter(s_gate)) return false;
        try
        {
            EnsureWorkers(threads);
            int extent = splitRows ? job.M : job.N;
            int units = (extent + step - 1) / step;
            // A multiple of the thread count of near-equal blocks (in units), at least three per thread so that a
            // thread that starts late (a worker waking up) still gets its share; threads running at the same speed
            // finish together. The split does not change any element's summation order.
            int perThread = Math.Max(3, (units + threads * maxUnitsPerBlock - 1) / (threads * maxUnitsPerBlock));
            int blocks = Math.Min(units, threads * perThread);
            s_job = job;
            s_splitRows = splitRows;
            s_step = step;
            s_units = units;
            s_blockCount = blocks;
            s_packedBPointer = null;
            s_packTasks = 0;
            long length = Gemm.PackedBLength(job);
            if (splitRows && job.K > 0 && length <= Array.MaxLength)
            {
                if (s_packedB.Length < length) s_packedB = GC.AllocateArray<float>((int)length, pinned: true);
                fixed (float* p = s_packedB) s_packedBPointer = p;
                s_packTasks = Gemm.PackBTaskCount(job);
            }
            Volatile.Write(ref s_counters.PackNext, 0);
            Volatile.Write(ref s_counters.PackDone, 0);
            int helpers = Math.Min(threads - 1, blocks - 1);
            SetRanges(helpers + 1, blocks);
            for (int p = 0; p < helpers; p++) s_workers[p].Post();
            Exception? first = Participate(0);
            for (int p = 0; p < helpers; p++) first ??= s_workers[p].RevokeOrJoin();
            if (first is not null) throw new InvalidOperationException("A GEMM block failed.", first);
            return true;
        }
        finally
        {
            Monitor.Exit(s_gate);
        }
    }

    /// <summary>
    /// Runs <paramref name="job"/> over rows [0, <paramref name="rows"/>) in blocks of <paramref name="blockRows"/> rows,
    /// with up to <paramref name="threads"/> threads; on the calling thread alone, block by block in order, when one
    /// thread is asked for, the work is a single block, or the team is busy. The blocks are the same either way.
    /// </summary>
    public static void RunRows(RowJob job, int rows, int blockRows, int threads)
    {
        int blocks = (rows + blockRows - 1) / blockRows;
        if (threads <= 1 || blocks <= 1 || !Monitor.TryEnter(s_gate))
        {
            for (int start = 0; start < rows; start += blockRows) job.Run(start, Math.Min(rows, start + blockRows));
            return;
        }
        try
        {
            EnsureWorkers(threads);
            s_rowJob = job;
            s_rowCount = rows;
            s_step = blockRows;
            s_units = blocks;
            s_blockCount = blocks;
            s_packTasks = 0;
            int helpers = Math.Min(threads - 1, blocks - 1);
            SetRanges(helpers + 1, blocks);
            for (int p = 0; p < helpers; p++) s_workers[p].Post();
            Exception? first = Participate(0);
            for (int p = 0; p < helpers; p++) first ??= s_workers[p].RevokeOrJoin();
            if (first is not null) throw new InvalidOperationException("A row block failed.", first);
        }
        finally
        {
            s_rowJob = null;
            Monitor.Exit(s_gate);
        }
    }

    private static void EnsureWorkers(int threads)
    {
        if (s_rangeNext.Length < (threads + 1) * CounterSpacing) s_rangeNext = new int[(threads + 1) * CounterSpacing];
        if (s_rangeEnd.Length < threads) s_rangeEnd = new int[threads];
        if (s_workers.Length >= threads - 1) return;
        var grown = new Worker[threads - 1];
        Array.Copy(s_workers, grown, s_workers.Length);
        for (int i = s_workers.Length; i < grown.Length; i++) grown[i] = new Worker(i);
        s_workers = grown;
    }

    /// <summary>
    /// Claims and runs blocks until none is left; returns the first failure. A GEMM that shares packed B first packs
    /// its panels (claimed the same way) and waits until every claimed panel is done: a thread that claims a panel
    /// always finishes it, so the wait ends.
    /// </summary>
    private static Exception? Participate(int self)
    {
        Exception? error = null;
        // Local copies: the shared counters below are written by every thread, and the job's fields are read in the
        // GEMM's loops, so they should not share a cache line that keeps moving between cores.
        GemmJob job = s_job;
        float* packedB = s_packedBPointer;
        int packTasks = s_packTasks, blockCount = s_blockCount, units = s_units, step = s_step;
        RowJob? rowJob = s_rowJob;
        bool splitRows = s_splitRows;
        if (packTasks > 0)
        {
            while (true)
            {
                int task = Interlocked.Increment(ref s_counters.PackNext) - 1;
                if (task >= packTasks) break;
                try
                {
                    Gemm.PackBTask(in job, packedB, task);
                }
                catch (Exception ex)
                {
                    error ??= ex;
                }
                finally
                {
                    Interlocked.Increment(ref s_counters.PackDone);
                }
            }
            var spin = new SpinWait();
            while (Volatile.Read(ref s_counters.PackDone) < packTasks) spin.SpinOnce(sleep1Threshold: -1);
        }
        int ranges = s_ranges;
        for (int r = 0; r < ranges; r++)
        {
            while (true)
            {
                int block = Claim((self + r) % ranges);
                if (block < 0) break;
                // Block b covers units [b units / blocks, (b + 1) units / blocks) of s_step rows (or columns) each.
                int lo = (int)((long)block * units / blockCount) * step;
                int hi = (int)((long)(block + 1) * units / blockCount) * step;
                try
                {
                    if (rowJob is not null) rowJob.Run(lo, Math.Min(s_rowCount, hi));
                    else if (splitRows) Gemm.Run(in job, lo, Math.Min(job.M, hi), 0, job.N, packedB);
                    else Gemm.Run(in job, 0, job.M, lo, Math.Min(job.N, hi));
                }
                catch (Exception ex)
                {
                    error ??= ex;
                }
            }
        }
        return error;
    }

    private sealed class Worker
    {
        private readonly ManualResetEventSlim _wake = new(false, spinCount: 1);
        private int _go;
        private int _done;
        private Exception? _error;

        private readonly int _index;

        public Worker(int index)
        {
            _index = index;
            var thread = new Thread(Loop) { IsBackground = true, Name = $"GemmWorker{index}" };
            thread.Start();
        }

        public void Post()
        {
            _error = null;
            Volatile.Write(ref _done, 0);
            Volatile.Write(ref _go, 1);
            _wake.Set();
        }

        /// <summary>Withdraws the post if the worker has not taken it; otherwise waits until it has finished.</summary>
        public Exception? RevokeOrJoin()
        {
            if (Interlocked.CompareExchange(ref _go, 0, 1) == 1) return null;
            var spin = new SpinWait();
            while (Volatile.Read(ref _done) == 0) spin.SpinOnce(sleep1Threshold: -1);
            return _error;
        }

        private void Loop()
        {
            while (true)
            {
                while (Volatile.Read(ref _go) == 0)
                {
                    for (int i = 0; i < SpinIterations && Volatile.Read(ref _go) == 0; i++) Thread.SpinWait(20);
                    if (Volatile.Read(ref _go) != 0) break;
                    _wake.Wait();
                    _wake.Reset();
                }
                if (Interlocked.CompareExchange(ref _go, 0, 1) != 1) continue;
                _error = Participate(_index + 1);
                Volatile.Write(ref _done, 1);
            }
        }
    }

    /// <summary>The counters every thread increments, each on a cache line of its own (64-byte lines; 128 bytes apart
    /// also keeps adjacent-line prefetching from pairing them), away from the fields that are only read.</summary>
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Explicit, Size = 512)]
    private struct Counters
    {
        [System.Runtime.InteropServices.FieldOffset(256)] public int PackNext;
        [System.Runtime.InteropServices.FieldOffset(384)] public int PackDone;
    }
}
