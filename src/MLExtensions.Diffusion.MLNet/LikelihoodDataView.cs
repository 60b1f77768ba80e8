using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>
/// The output of <see cref="LikelihoodTransformer.Transform"/>: the input's columns plus a Single NLL column computed per
/// cursor, batch by batch, when a row of the batch is first read.
/// </summary>
/// <remarks>A cursor that needs the NLL column opens a second cursor on the input's feature column and reads it ahead one
/// batch at a time (<see cref="ReadAheadBatchCursor"/>).</remarks>
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
        // Never allocate for more rows than the input has (the batches, and so the probe seeds, are the same).
        long? rows = input.GetRowCount();
        _batchSize = rows is { } known && known > 0 && known < batchSize ? (int)known : batchSize;
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

    private sealed class Cursor : ReadAheadBatchCursor
    {
        private readonly LikelihoodDataView _parent;
        private readonly ValueGetter<VBuffer<float>>? _featureGetter;
        private readonly float[] _rows;
        private readonly double[] _nll;
        private VBuffer<float> _buffer;

        public Cursor(LikelihoodDataView parent, DataViewRowCursor inner, DataViewRowCursor? features)
            : base(inner, features, parent._batchSize)
        {
            _parent = parent;
            int d = parent._transformer.Dimension;
            _rows = features is null ? [] : new float[parent._batchSize * d];
            _nll = features is null ? [] : new double[parent._batchSize];
            if (features is not null) _featureGetter = features.GetGetter<VBuffer<float>>(features.Schema[parent._inputColumn]);
        }

        public override DataViewSchema Schema => _parent.Schema;

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index == _parent.OutputIndex ? Computes : Inner.IsColumnActive(Inner.Schema[column.Index]);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index != _parent.OutputIndex) return Inner.GetGetter<TValue>(Inner.Schema[column.Index]);
            if (!Computes) throw new InvalidOperationException($"Column '{column.Name}' was not requested when the cursor was created.");
            if (typeof(TValue) != typeof(float))
                throw new InvalidOperationException($"Column '{column.Name}' holds Single, not {typeof(TValue).Name}.");
            ValueGetter<float> getter = (ref float value) => value = (float)_nll[CurrentSlot()];
            return (ValueGetter<TValue>)(object)getter;
        }

        /// <summary>Reads one feature row, checking its size and finiteness.</summary>
        protected override void ReadRow(DataViewRowCursor ahead, long row, int slot)
        {
            int d = _parent._transformer.Dimension;
            string column = _parent._inputColumn;
            _featureGetter!(ref _buffer);
            var target = _rows.AsSpan(slot * d, d);
            int bad = FeatureColumnReader.CopyRow(_buffer, target, row, column, "input");
            if (bad >= 0)
                throw new ArgumentException(
                    $"Row {row} of column '{column}' holds {FeatureColumnReader.DescribeNonFinite(target[bad])} at slot {bad}; " +
                    "the likelihood needs finite rows (filter them first, e.g. with mlContext.Data.FilterRowsByMissingValues).", "input");
        }

        protected override void ComputeBatch(int rows, long batchIndex)
        {
            int d = _parent._transformer.Dimension;
            _parent._transformer.ScoreCore(_rows.AsSpan(0, rows * d), _nll.AsSpan(0, rows), LikelihoodTransformer.BatchSeed(_parent._seed, batchIndex));
        }
    }
}
