using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>A view of <c>count</c> rows with one <see cref="long"/> column holding the row index 0, 1, ..., count - 1;
/// it stores nothing.</summary>
internal sealed class RowIndexDataView : IDataView
{
    private readonly long _count;

    public RowIndexDataView(long count, string column)
    {
        _count = count;
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(column, NumberDataViewType.Int64);
        Schema = builder.ToSchema();
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _count;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new Cursor(this);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [new Cursor(this)];

    private sealed class Cursor(RowIndexDataView parent) : DataViewRowCursor
    {
        private long _position = -1;
        private bool _done;

        public override DataViewSchema Schema => parent.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override bool MoveNext()
        {
            if (_done) return false;
            if (_position + 1 >= parent._count)
            {
                _done = true;
                _position = -1;
                return false;
            }
            _position++;
            return true;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)_position, 0);

        public override bool IsColumnActive(DataViewSchema.Column column) => column.Index == 0;

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index != 0 || typeof(TValue) != typeof(long))
                throw new InvalidOperationException($"Column '{column.Name}' holds Int64; asked for {typeof(TValue).Name}.");
            ValueGetter<long> getter = (ref long value) => value = _position;
            return (ValueGetter<TValue>)(object)getter;
        }

        /// <summary>As ML.NET's own cursors: a disposed cursor has no row and MoveNext returns false.</summary>
        protected override void Dispose(bool disposing)
        {
            _done = true;
            _position = -1;
            base.Dispose(disposing);
        }
    }
}
