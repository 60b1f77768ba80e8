using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>
/// The output of <see cref="LikelihoodTransformer.Transform"/>: the input's columns plus a Single NLL column computed per
/// cursor, batch by batch, when a row of the batch is first read.
/// </summary>
/// <remarks>A cursor that needs the NLL column opens a second cursor on the input's feature column and reads it ahead one
/// batch at a time; both walk the input in the same (unshuffled) order, so batch rows line up with the main cursor's.</remarks>
internal sealed class LikelihoodDataView : IDataView
{
    private readonly IDataView _input;
    private readonly LikelihoodTransformer _transformer;
    private readonly string _inputColumn;
    private readonly int _batchSize;
    private readonly int _seed;

    public LikelihoodDataView(IDataView input, LikelihoodTransformer transformer, string inputColumn, string outputColumn, int batchSize, int seed)
    {
        _input = input;
        _transformer = transformer;
        _inputColumn = inputColumn;
        _batchSize = batchSize;
        _seed = seed;
        Schema = BuildSchema(input.Schema, outputColumn);
    }

    /// <summary>The input schema with the Single output column appended (last).</summary>
    public static DataViewSchema BuildSchema(DataViewSchema input, string outputColumn)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(input);
        builder.AddColumn(outputColumn, NumberDataViewType.Single);
        return builder.ToSchema();
    }

    private int OutputIndex => Schema.Count - 1;

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        ArgumentNullException.ThrowIfNull(columnsNeeded);
        var needed = columnsNeeded.ToArray();
        bool scored = needed.Any(c => c.Index == OutputIndex);
        var inner = _input.GetRowCursor(needed.Where(c => c.Index < OutputIndex).Select(c => _input.Schema[c.Index]).ToArray());
        DataViewRowCursor? features = null;
        if (scored) features = _input.GetRowCursor([_input.Schema[_inputColumn]]);
        return new Cursor(this, inner, features);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly LikelihoodDataView _parent;
        private readonly DataViewRowCursor _inner;
        private readonly DataViewRowCursor? _features;
        private readonly ValueGetter<VBuffer<float>>? _featureGetter;
        private readonly float[] _rows;
        private readonly double[] _nll;
        private VBuffer<float> _buffer;
        private long _batchStart;
        private int _batchCount;
        private long _batchIndex = -1;
        private bool _computed;
        private bool _featuresDone;

        public Cursor(LikelihoodDataView parent, DataViewRowCursor inner, DataViewRowCursor? features)
        {
            _parent = parent;
            _inner = inner;
            _features = features;
            int d = parent._transformer.Dimension;
            _rows = features is null ? [] : new float[parent._batchSize * d];
            _nll = features is null ? [] : new double[parent._batchSize];
            if (features is not null) _featureGetter = features.GetGetter<VBuffer<float>>(features.Schema[parent._inputColumn]);
        }

        public override DataViewSchema Schema => _parent.Schema;

        public override long Position => _inner.Position;

        public override long Batch => _inner.Batch;

        public override bool MoveNext() => _inner.MoveNext();

        public override ValueGetter<DataViewRowId> GetIdGetter() => _inner.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index == _parent.OutputIndex ? _features is not null : _inner.IsColumnActive(_inner.Schema[column.Index]);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index != _parent.OutputIndex) return _inner.GetGetter<TValue>(_inner.Schema[column.Index]);
            if (_features is null) throw new InvalidOperationException($"Column '{column.Name}' was not requested when the cursor was created.");
            if (typeof(TValue) != typeof(float))
                throw new InvalidOperationException($"Column '{column.Name}' holds Single, not {typeof(TValue).Name}.");
            ValueGetter<float> getter = (ref float value) =>
            {
                long position = _inner.Position;
                if (position < 0) throw new InvalidOperationException("The cursor is not on a row.");
                value = (float)Value(position);
            };
            return (ValueGetter<TValue>)(object)getter;
        }

        /// <summary>The NLL of the row at <paramref name="position"/>: reads ahead to its batch and computes that batch once.</summary>
        private double Value(long position)
        {
            while (position >= _batchStart + _batchCount)
            {
                if (_featuresDone) throw new InvalidOperationException("The input has fewer rows in the feature column than the cursor: it changed between passes.");
                ReadBatch();
            }
            if (!_computed)
            {
                int d = _parent._transformer.Dimension;
                int seed = LikelihoodTransformer.BatchSeed(_parent._seed, _batchIndex);
                _parent._transformer.ScoreCore(_rows.AsSpan(0, _batchCount * d), _nll.AsSpan(0, _batchCount), seed);
                _computed = true;
            }
            return _nll[position - _batchStart];
        }

        /// <summary>Reads the next batch of feature rows, checking sizes and finiteness.</summary>
        private void ReadBatch()
        {
            int d = _parent._transformer.Dimension;
            string column = _parent._inputColumn;
            _batchStart += _batchCount;
            _batchCount = 0;
            _batchIndex++;
            _computed = false;
            while (_batchCount < _parent._batchSize)
            {
                if (!_features!.MoveNext())
                {
                    _featuresDone = true;
                    break;
                }
                _featureGetter!(ref _buffer);
                long row = _features.Position;
                var target = _rows.AsSpan(_batchCount * d, d);
                int bad = FeatureColumnReader.CopyRow(_buffer, target, row, column, "input");
                if (bad >= 0)
                    throw new ArgumentException(
                        $"Row {row} of column '{column}' holds {FeatureColumnReader.DescribeNonFinite(target[bad])} at slot {bad}; " +
                        "the likelihood needs finite rows (filter them first, e.g. with mlContext.Data.FilterRowsByMissingValues).", "input");
                _batchCount++;
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
                _features?.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
