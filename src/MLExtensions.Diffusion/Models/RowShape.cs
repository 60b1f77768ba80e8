using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Models;

/// <summary>Checks of row-major buffers whose shape the caller states (rows x width) against a model's width d.</summary>
internal static class RowShape
{
    /// <summary>Throws unless <paramref name="rows"/> &gt;= 1, <paramref name="width"/> = <paramref name="dimension"/> and
    /// <paramref name="length"/> = rows x width; the messages name the expected and the actual width.</summary>
    public static void Check(int length, int rows, int width, int dimension, string bufferName, string rowsName, string widthName)
    {
        if (rows < 1) throw new ArgumentOutOfRangeException(rowsName, rows, $"'{rowsName}' must be at least 1.");
        if (width != dimension)
            throw new ArgumentException(
                $"'{bufferName}' is declared with rows of width {width}, but the model's rows have width d = {dimension} (expected width {dimension}, actual {width}).", widthName);
        if ((long)rows * width != length)
            throw new ArgumentException(
                $"'{bufferName}' holds {length} values, not {rows} rows x {width} = {(long)rows * width}" +
                (length % rows == 0 ? $" (its rows would have width {length / rows}, expected {width})." : "."), bufferName);
    }
}
