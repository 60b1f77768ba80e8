namespace MLExtensions.Diffusion.Transport;

/// <summary>
/// Exact solver of the linear assignment problem min over permutations pi of sum_i C[i, pi(i)], which is discrete
/// optimal transport between two equal-size point sets with uniform weights.
/// </summary>
/// <remarks>
/// Shortest augmenting paths with dual potentials (Jonker and Volgenant, Computing 38:325, 1987): an initial column
/// reduction v_j = min_i C[i, j] assigns some rows greedily, then every free row is matched by a Dijkstra search on
/// reduced costs C[i, j] - u_i - v_j >= 0 followed by a potential update and an augmentation along the path found.
/// Worst case O(n^3) time, O(n) memory besides the dense n x n cost matrix.
/// </remarks>
public static class AssignmentSolver
{
    /// <summary>Solves the assignment problem for a dense row-major n x n cost matrix.</summary>
    /// <param name="cost">Row-major costs C[i, j] = cost[i * size + j]; finite.</param>
    /// <param name="size">The number n of rows and columns (positive).</param>
    /// <returns>The optimal permutation and its cost.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="cost"/> does not have length size*size or holds a
    /// non-finite value.</exception>
    public static AssignmentResult Solve(ReadOnlySpan<double> cost, int size)
    {
        PointSetArguments.RequireDimension(size, nameof(size));
        if ((long)size * size != cost.Length)
            throw new ArgumentException($"The argument '{nameof(cost)}' has length {cost.Length}; expected {(long)size * size} (a {size}x{size} matrix).", nameof(cost));
        PointSetArguments.RequireFinite(cost, nameof(cost));
        return SolveValidated(cost, size);
    }

    /// <summary>
    /// Optimal matching between two equal-size point sets for the squared Euclidean cost |x_i - y_j|^2.
    /// </summary>
    /// <param name="source">Row-major source points, n rows of <paramref name="dimension"/> values.</param>
    /// <param name="target">Row-major target points, n rows of <paramref name="dimension"/> values.</param>
    /// <param name="dimension">The dimension d (positive).</param>
    /// <returns>Source row i is matched to target row <c>Assignment[i]</c>; <see cref="AssignmentResult.Cost"/> is the
    /// sum of squared distances and <see cref="AssignmentResult.MeanCost"/> is W2^2 of the two empirical measures.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is not positive.</exception>
    /// <exception cref="ArgumentException">A point set is empty, holds a non-finite value or has a length that is not a
    /// multiple of the dimension, or <paramref name="target"/> has a different number of points than
    /// <paramref name="source"/>.</exception>
    public static AssignmentResult SolveSquaredEuclidean(ReadOnlySpan<double> source, ReadOnlySpan<double> target, int dimension)
    {
        int n = PointSetArguments.RequirePointSet(source, dimension, nameof(source));
        int m = PointSetArguments.RequirePointSet(target, dimension, nameof(target));
        if (n != m)
            throw new ArgumentException($"The argument '{nameof(target)}' has {m} points; expected {n}, as many as '{nameof(source)}'.", nameof(target));
        var cost = SquaredEuclideanCost(source, target, dimension);
        return SolveValidated(cost, n);
    }

    /// <summary>Dense row-major matrix of squared Euclidean distances between the rows of two validated point sets.</summary>
    internal static double[] SquaredEuclideanCost(ReadOnlySpan<double> source, ReadOnlySpan<double> target, int dimension)
    {
        int n = source.Length / dimension, m = target.Length / dimension;
        var cost = new double[(long)n * m];
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<double> x = source.Slice(i * dimension, dimension);
            Span<double> row = cost.AsSpan(i * m, m);
            for (int j = 0; j < m; j++)
            {
                ReadOnlySpan<double> y = target.Slice(j * dimension, dimension);
                double s = 0;
                for (int k = 0; k < dimension; k++)
                {
                    double diff = x[k] - y[k];
                    s += diff * diff;
                }
                row[j] = s;
            }
        }
        return cost;
    }

    private static AssignmentResult SolveValidated(ReadOnlySpan<double> cost, int n)
    {
        var rowCol = new int[n];
        var colRow = new int[n];
        var v = new double[n];
        Array.Fill(rowCol, -1);
        Array.Fill(colRow, -1);

        // Column reduction: v_j = min_i C[i, j]; a row that is the minimiser of a column takes it if still free.
        var argMin = new int[n];
        cost.Slice(0, n).CopyTo(v);
        for (int i = 1; i < n; i++)
        {
            ReadOnlySpan<double> row = cost.Slice(i * n, n);
            for (int j = 0; j < n; j++)
            {
                if (row[j] < v[j])
                {
                    v[j] = row[j];
                    argMin[j] = i;
                }
            }
        }
        for (int j = 0; j < n; j++)
        {
            int i = argMin[j];
            if (rowCol[i] < 0)
            {
                rowCol[i] = j;
                colRow[j] = i;
            }
        }

        var dist = new double[n];
        var pred = new int[n];
        var columns = new int[n];
        for (int free = 0; free < n; free++)
        {
            if (rowCol[free] >= 0) continue;
            Augment(cost, n, free, rowCol, colRow, v, dist, pred, columns);
        }

        double total = 0;
        for (int i = 0; i < n; i++) total += cost[i * n + rowCol[i]];
        return new AssignmentResult(rowCol, total);
    }

    /// <summary>Dijkstra search for a shortest augmenting path from a free row, then potential update and augmentation.</summary>
    private static void Augment(ReadOnlySpan<double> cost, int n, int freeRow,
        int[] rowCol, int[] colRow, double[] v, double[] dist, int[] pred, int[] columns)
    {
        // columns[0..done) are scanned (their distance is final); columns[done..n) are still to do.
        ReadOnlySpan<double> rootRow = cost.Slice(freeRow * n, n);
        double best = double.PositiveInfinity;
        int bestPos = -1;
        for (int j = 0; j < n; j++)
        {
            columns[j] = j;
            double dj = rootRow[j] - v[j];
            dist[j] = dj;
            pred[j] = freeRow;
            if (dj < best || (dj == best && colRow[j] < 0))
            {
                best = dj;
                bestPos = j;
            }
        }

        int done = 0;
        int sink;
        while (true)
        {
            // Move the closest to-do column to the scanned part.
            int jMin = columns[bestPos];
            columns[bestPos] = columns[done];
            columns[done] = jMin;
            done++;
            if (colRow[jMin] < 0)
            {
                sink = jMin;
                break;
            }

            // Relax the edges of the row matched to jMin; its dual is u_i = C[i, jMin] - v[jMin].
            int i = colRow[jMin];
            ReadOnlySpan<double> row = cost.Slice(i * n, n);
            double offset = dist[jMin] - (row[jMin] - v[jMin]);
            best = double.PositiveInfinity;
            bestPos = -1;
            for (int k = done; k < n; k++)
            {
                int j = columns[k];
                double candidate = offset + row[j] - v[j];
                double dj = dist[j];
                if (candidate < dj)
                {
                    dj = candidate;
                    dist[j] = candidate;
                    pred[j] = i;
                }
                if (dj < best || (dj == best && colRow[j] < 0))
                {
                    best = dj;
                    bestPos = k;
                }
            }
        }

        // Potential update on the scanned columns keeps reduced costs non-negative and the new matching tight.
        double dSink = dist[sink];
        for (int k = 0; k < done; k++)
        {
            int j = columns[k];
            v[j] += dist[j] - dSink;
        }

        // Augment along the predecessor chain.
        int col = sink;
        while (true)
        {
            int r = pred[col];
            colRow[col] = r;
            int previous = rowCol[r];
            rowCol[r] = col;
            if (r == freeRow) break;
            col = previous;
        }
    }
}
