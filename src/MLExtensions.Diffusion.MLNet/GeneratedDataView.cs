using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>
/// An <see cref="IDataView"/> of an optional input view plus one appended column of d floats per row, whose values are
/// computed once, on the first cursor, by a supplied function (rows x d, row-major, aligned with the input's rows).
/// </summary>
internal sealed class GeneratedDataView : IDataView
{
    private readonly IDataView? _input;
    private readonly Lazy<float[]> _values;
    private readonly long? _rows;

    /// <summary>A view of <paramref name="input"/> (or of nothing) with column <paramref name="column"/> appended.</summary>
    public GeneratedDataView(IDataView? input, string column, int dimension, long? rows, Func<float[]> values)
    {
        _input = input;
        Dimension = dimension;
        _rows = rows;
        _values = new Lazy<float[]>(values, LazyThreadSafetyMode.ExecutionAndPublication);
        var builder = new DataViewSchema.Builder();
        if (input is not null) builder.AddColumns(input.Schema);
        builder.AddColumn(column, new VectorDataViewType(NumberDataViewType.Single, dimension));
        Schema = builder.ToSchema();
    }

    /// <summary>Values per row of the appended column.</summary>
    public int Dimension { get; }

    /// <summary>The index of the appended column.</summary>
    public int GeneratedIndex => Schema.Count - 1;

    /// <inheritdoc />
    public bool CanShuffle => false;

    /// <inheritdoc />
    public DataViewSchema Schema { get; }

    /// <inheritdoc />
    public long? GetRowCount() => _rows;

    /// <inheritdoc />
    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = columnsNeeded.ToArray();
        bool generated = needed.Any(c => c.Index == GeneratedIndex);
        DataViewRowCursor? inner = null;
        if (_input is not null)
            inner = _input.GetRowCursor(needed.Where(c => c.Index < GeneratedIndex).Select(c => _input.Schema[c.Index]).ToArray());
        return new Cursor(this, inner, generated ? _values.Value : null);
    }

    /// <inheritdoc />
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor(GeneratedDataView parent, DataViewRowCursor? inner, float[]? values) : DataViewRowCursor
    {
        private long _position = -1;
        private bool _done;

        public override DataViewSchema Schema => parent.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override bool MoveNext()
        {
            if (_done) return false;
            bool more = inner is not null ? inner.MoveNext() : _position + 1 < (parent._rows ?? 0);
            if (!more)
            {
                _done = true;
                _position = -1;
                return false;
            }
            _position++;
            return true;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter()
        {
            if (inner is not null) return inner.GetIdGetter();
            return (ref DataViewRowId id) => id = new DataViewRowId((ulong)_position, 0);
        }

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index == parent.GeneratedIndex ? values is not null : inner is not null && inner.IsColumnActive(inner.Schema[column.Index]);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index != parent.GeneratedIndex)
            {
                if (inner is null) throw new ArgumentOutOfRangeException(nameof(column), $"Column '{column.Name}' is not in this view.");
                return inner.GetGetter<TValue>(inner.Schema[column.Index]);
            }
            if (values is null) throw new InvalidOperationException($"Column '{column.Name}' was not requested when the cursor was created.");
            if (typeof(TValue) != typeof(VBuffer<float>))
                throw new InvalidOperationException($"Column '{column.Name}' holds VBuffer<Single>, not {typeof(TValue).Name}.");
            int d = parent.Dimension;
            ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> value) =>
            {
                if (_position < 0) throw new InvalidOperationException("The cursor is not on a row.");
                long start = _position * d;
                if (start + d > values.Length) throw new InvalidOperationException($"The input has more rows than the {values.Length / d} generated ones: it changed between passes.");
                var editor = VBufferEditor.Create(ref value, d);
                values.AsSpan((int)start, d).CopyTo(editor.Values);
                value = editor.Commit();
            };
            return (ValueGetter<TValue>)(object)getter;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner?.Dispose();
            _done = true;
            _position = -1;
            base.Dispose(disposing);
        }
    }
}
