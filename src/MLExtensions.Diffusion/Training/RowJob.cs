namespace MLExtensions.Diffusion.Training;

/// <summary>
/// Elementwise or row-wise work over the rows of a batch, cut into blocks of a fixed number of rows that
/// <see cref="GemmWorkerTeam.RunRows"/> hands to the calling thread and the GEMM workers. The blocks never depend on
/// the thread count, so a job that reduces per block gives the same bits for any number of threads.
/// </summary>
internal abstract class RowJob
{
    /// <summary>Processes rows [<paramref name="start"/>, <paramref name="end"/>); <paramref name="start"/> is a multiple of the block size.</summary>
    public abstract void Run(int start, int end);
}
