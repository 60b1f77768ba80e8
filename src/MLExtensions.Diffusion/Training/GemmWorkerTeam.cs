namespace MLExtensions.Diffusion.Training;

/// <summary>
/// Dedicated worker threads that run blocks of a <see cref="GemmJob"/> beside the calling thread. Workers spin briefly
/// after each job (GEMMs of one training step follow each other closely) and then block, so dispatch costs well under
/// a microsecond when busy and no CPU when idle. One caller at a time: a concurrent caller runs single-threaded.
/// </summary>
internal static class GemmWorkerTeam
{
    private const int SpinIterations = 2000;
    private static readonly object s_gate = new();
    private static Worker[] s_workers = [];

    /// <summary>Runs the job split into <paramref name="parts"/> blocks; false when the team is busy (caller runs it alone).</summary>
    public static bool TryRun(in GemmJob job, int parts, bool splitRows, int units, int step)
    {
        if (!Monitor.TryEnter(s_gate)) return false;
        try
        {
            if (s_workers.Length < parts - 1)
            {
                var grown = new Worker[parts - 1];
                Array.Copy(s_workers, grown, s_workers.Length);
                for (int i = s_workers.Length; i < grown.Length; i++) grown[i] = new Worker(i);
                s_workers = grown;
            }
            int extent = splitRows ? job.M : job.N;
            for (int p = 1; p < parts; p++)
            {
                int lo = Math.Min(extent, (int)((long)units * p / parts) * step);
                int hi = Math.Min(extent, (int)((long)units * (p + 1) / parts) * step);
                if (splitRows) s_workers[p - 1].Post(job, lo, hi, 0, job.N);
                else s_workers[p - 1].Post(job, 0, job.M, lo, hi);
            }
            int hi0 = Math.Min(extent, (int)((long)units / parts) * step);
            Exception? first = null;
            try
            {
                if (splitRows) Gemm.Run(in job, 0, hi0, 0, job.N);
                else Gemm.Run(in job, 0, job.M, 0, hi0);
            }
            catch (Exception ex)
            {
                first = ex;
            }
            for (int p = 1; p < parts; p++) first ??= s_workers[p - 1].Join();
            if (first is not null) throw new InvalidOperationException("A GEMM block failed.", first);
            return true;
        }
        finally
        {
            Monitor.Exit(s_gate);
        }
    }

    private sealed class Worker
    {
        private readonly ManualResetEventSlim _wake = new(false, spinCount: 1);
        private GemmJob _job;
        private int _m0, _m1, _n0, _n1;
        private int _go;
        private int _done;
        private Exception? _error;

        public Worker(int index)
        {
            var thread = new Thread(Loop) { IsBackground = true, Name = $"GemmWorker{index}" };
            thread.Start();
        }

        public void Post(in GemmJob job, int m0, int m1, int n0, int n1)
        {
            _job = job;
            (_m0, _m1, _n0, _n1) = (m0, m1, n0, n1);
            _error = null;
            Volatile.Write(ref _done, 0);
            Volatile.Write(ref _go, 1);
            _wake.Set();
        }

        public Exception? Join()
        {
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
                Volatile.Write(ref _go, 0);
                try
                {
                    Gemm.Run(in _job, _m0, _m1, _n0, _n1);
                }
                catch (Exception ex)
                {
                    _error = ex;
                }
                Volatile.Write(ref _done, 1);
            }
        }
    }
}
