using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>
/// A cursor over an input view plus columns computed batch by batch, the one home of that structure for the generate
/// and likelihood views. The main cursor walks the input and serves its columns; when computed values are wanted, a
/// second cursor on the input reads up to <c>capacity</c> rows ahead into the subclass's buffers
/// (<see cref="ReadRow"/>), the subclass computes that batch the first time a row of it is read
/// (<see cref="ComputeBatch"/>), and getters read the current row's slot (<see cref="CurrentSlot"/>). Both cursors walk
/// the input in its (unshuffled) order, so batch rows line up with the main cursor's rows; nothing beyond one batch
/// is held. Batches that no getter reaches are read past but not computed.
/// </summary>
internal abstract class ReadAheadBatchCursor : DataViewRowCursor
{
    private readonly DataViewRowCursor _inner;
    private readonly DataViewRowCursor? _ahead;
    private readonly int _capacity;
    private long _position = -1;
    private long _batchStart;
    private int _batchRows;
    private long _batchIndex = -1;
    private bool _computed;
    private bool _done;
    private bool _disposed;

    /// <param name="inner">The cursor on the input's needed columns (owned).</param>
    /// <param name="ahead">The cursor on the input's source column of the computed values, or null when none is wanted (owned).</param>
    /// <param name="capacity">Rows per batch.</param>
    protected ReadAheadBatchCursor(DataViewRowCursor inner, DataViewRowCursor? ahead, int capacity)
    {
        _inner = inner;
        _ahead = ahead;
        _capacity = capacity;
    }

    /// <summary>The cursor on the input's needed columns.</summary>
    protected DataViewRowCursor Inner => _inner;

    /// <summary>Whether this cursor computes values (a computed column was requested).</summary>
    protected bool Computes => _ahead is not null;

    /// <summary>Rows in the current batch.</summary>
    protected int BatchRows => _batchRows;

    /// <summary>Index of the current batch (0, 1, ...).</summary>
    protected long BatchIndex => _batchIndex;

    public override long Position => _position;

    public override long Batch => 0;

    public override bool MoveNext()
    {
        if (_done) return false;
        if (!_inner.MoveNext())
        {
            _done = true;
            _position = -1;
            return false;
        }
        _position++;
        return true;
    }

    public override ValueGetter<DataViewRowId> GetIdGetter() => _inner.GetIdGetter();

    /// <summary>Reads the ahead cursor's current row (input row <paramref name="row"/>) into slot <paramref name="slot"/> of
    /// the batch buffers, checking it (exceptions name the row and column).</summary>
    protected abstract void ReadRow(DataViewRowCursor ahead, long row, int slot);

    /// <summary>Computes the values of the first <paramref name="rows"/> slots (batch <paramref name="batchIndex"/>).</summary>
    protected abstract void ComputeBatch(int rows, long batchIndex);

    /// <summary>The current row's slot in the current batch, reading ahead and computing the batch first when needed.</summary>
    /// <exception cref="ObjectDisposedException">The cursor was disposed.</exception>
    /// <exception cref="InvalidOperationException">The cursor is not on a row, or the input has fewer rows on the ahead
    /// cursor than on the main one (it changed between the two passes).</exception>
    protected int CurrentSlot()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_position < 0) throw new InvalidOperationException("The cursor is not on a row.");
        while (_position >= _batchStart + _batchRows) ReadBatch();
        if (!_computed)
        {
            ComputeBatch(_batchRows, _batchIndex);
            _computed = true;
        }
        return (int)(_position - _batchStart);
    }

    private void ReadBatch()
    {
        _batchStart += _batchRows;
        _batchRows = 0;
        _batchIndex++;
        _computed = false;
        while (_batchRows < _capacity && _ahead!.MoveNext())
        {
            ReadRow(_ahead, _batchStart + _batchRows, _batchRows);
            _batchRows++;
        }
        if (_batchRows == 0)
            throw new InvalidOperationException("The input has fewer rows on its second pass than on its first: it changed while being read.");
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // As ML.NET's own cursors: a disposed cursor has no row and MoveNext returns false.
            _disposed = _done = true;
            _position = -1;
            _inner.Dispose();
            _ahead?.Dispose();
        }
        base.Dispose(disposing);
    }
}
