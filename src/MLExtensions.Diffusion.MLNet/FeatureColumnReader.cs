using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>Checks and reads a known-size float vector column of an <see cref="IDataView"/> into row-major floats.</summary>
internal static class FeatureColumnReader
{
    /// <summary>
    /// Checks, at schema-shape level, that <paramref name="column"/> exists in <paramref name="inputSchema"/> and is a
    /// known-size vector of Single; the one home of that check for every estimator's GetOutputSchema.
    /// </summary>
    /// <exception cref="ArgumentException">The column is missing or of another kind (ParamName "inputSchema").</exception>
    public static void CheckShape(SchemaShape inputSchema, string column)
    {
        var found = inputSchema.Where(c => c.Name == column).ToArray();
        if (found.Length == 0)
            throw new ArgumentException($"The input has no column '{column}'; its columns are {string.Join(", ", inputSchema.Select(c => $"'{c.Name}'"))}.", nameof(inputSchema));
        var col = found[^1];
        if (col.Kind != SchemaShape.Column.VectorKind.Vector || col.ItemType != NumberDataViewType.Single || col.IsKey)
            throw new ArgumentException($"Column '{column}' must be a known-size vector of Single, but it is a {col.Kind} of {col.ItemType}{(col.IsKey ? " (key)" : "")}.", nameof(inputSchema));
    }

    /// <summary>The column's size d, after checking that it exists and is a known-size vector of Single.</summary>
    /// <exception cref="ArgumentException">The column is missing or of another type (the message names it).</exception>
    public static int RequireVectorColumn(DataViewSchema schema, string column, string paramName)
    {
        var col = schema.GetColumnOrNull(column)
            ?? throw new ArgumentException($"The input has no column '{column}'; its columns are {Describe(schema)}.", paramName);
        if (col.Type is not VectorDataViewType vector || vector.ItemType != NumberDataViewType.Single || !vector.IsKnownSize)
            throw new ArgumentException(
                $"Column '{column}' must be a known-size vector of Single (e.g. made with mlContext.Transforms.Concatenate, " +
                $"or [VectorType(d)] on a float[] member), but its type is {col.Type}.", paramName);
        return vector.Size;
    }

    /// <summary>Reads every row of the column.</summary>
    /// <param name="input">The data.</param>
    /// <param name="column">A column checked by <see cref="RequireVectorColumn"/>.</param>
    /// <param name="dimension">Its size d.</param>
    /// <param name="dropNonFinite">Whether rows with NaN or infinite values are skipped instead of rejected.</param>
    /// <param name="dropped">Rows skipped.</param>
    /// <param name="cancellationToken">Checked every 1024 rows.</param>
    /// <returns>rows x d floats (exact length).</returns>
    /// <exception cref="ArgumentException">A row holds a non-finite value and <paramref name="dropNonFinite"/> is false (the message names the row and column).</exception>
    /// <exception cref="OperationCanceledException">Cancellation was requested.</exception>
    public static float[] Read(IDataView input, string column, int dimension, bool dropNonFinite, out int dropped, CancellationToken cancellationToken)
    {
        var col = input.Schema[column];
        long? known = input.GetRowCount();
        var data = new float[checked((int)Math.Min((known ?? 1024) * dimension, Array.MaxLength))];
        int length = 0;
        dropped = 0;
        VBuffer<float> buffer = default;
        using var cursor = input.GetRowCursor([col]);
        var getter = cursor.GetGetter<VBuffer<float>>(col);
        while (cursor.MoveNext())
        {
            if ((cursor.Position & 1023) == 0) cancellationToken.ThrowIfCancellationRequested();
            getter(ref buffer);
            if (length + dimension > data.Length) Array.Resize(ref data, checked(Math.Max(2 * data.Length, length + dimension)));
            var row = data.AsSpan(length, dimension);
            int bad = CopyRow(buffer, row, cursor.Position, column, nameof(input));
            if (bad >= 0)
            {
                if (!dropNonFinite)
                    throw new ArgumentException(
                        $"Row {cursor.Position} of column '{column}' holds {DescribeNonFinite(row[bad])} at slot {bad}. " +
                        $"Clean the data or set {nameof(ScoreMatchingOptions.MissingValueHandling)} = {nameof(MissingValueHandling.DropRows)}.", nameof(input));
                dropped++;
                continue;
            }
            length += dimension;
        }
        Array.Resize(ref data, length);
        return data;
    }

    /// <summary>
    /// Writes one row of a vector column into <paramref name="row"/> (dense; a sparse buffer's missing slots are 0) and
    /// returns the first slot holding NaN or an infinity, or -1: the one home of that read for the trainer, the
    /// likelihood and the generator, each of which then treats a non-finite row its own way.
    /// </summary>
    /// <exception cref="ArgumentException">The buffer's length is not the row's (the message names the row and column;
    /// ParamName <paramref name="paramName"/>).</exception>
    public static int CopyRow(in VBuffer<float> buffer, Span<float> row, long rowIndex, string column, string paramName)
    {
        if (buffer.Length != row.Length)
            throw new ArgumentException($"Row {rowIndex} of column '{column}' has {buffer.Length} values, expected {row.Length}.", paramName);
        row.Clear();
        var values = buffer.GetValues();
        if (buffer.IsDense) values.CopyTo(row);
        else
        {
            var indices = buffer.GetIndices();
            for (int k = 0; k < indices.Length; k++) row[indices[k]] = values[k];
        }
        for (int i = 0; i < row.Length; i++) if (!float.IsFinite(row[i])) return i;
        return -1;
    }

    /// <summary>"a missing value (NaN)" or "an infinite value", for error messages about <paramref name="value"/>.</summary>
    public static string DescribeNonFinite(float value) => float.IsNaN(value) ? "a missing value (NaN)" : "an infinite value";

    private static string Describe(DataViewSchema schema) =>
        schema.Count == 0 ? "(none)" : string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => $"'{c.Name}' ({c.Type})"));
}
