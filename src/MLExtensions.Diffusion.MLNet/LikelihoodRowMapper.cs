using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>
/// <see cref="LikelihoodTransformer.GetRowToRowMapper"/>: the NLL of each row scored alone, with the Hutchinson probe seed
/// <see cref="LikelihoodTransformOptions.Seed"/> for every row (<see cref="LikelihoodTransformer.Score(ReadOnlySpan{float}, int)"/> of the row with
/// that seed), so a record always gets the same score.
/// </summary>
internal sealed class LikelihoodRowMapper(LikelihoodTransformer owner, DataViewSchema inputSchema, DataViewSchema outputSchema, DataViewSchema.Column source)
    : PerRowMapper(inputSchema, outputSchema, source)
{
    protected override MappedRow CreateRow(DataViewRow input, bool computes) => new Row(this, owner, input, computes);

    private sealed class Row : MappedRow
    {
        private readonly LikelihoodTransformer _owner;
        private readonly ValueGetter<VBuffer<float>>? _features;
        private readonly float[] _row;
        private readonly double[] _nll = new double[1];
        private VBuffer<float> _buffer;

        public Row(LikelihoodRowMapper parent, LikelihoodTransformer owner, DataViewRow input, bool computes) : base(parent, input, computes)
        {
            _owner = owner;
            _row = new float[owner.Dimension];
            if (computes) _features = input.GetGetter<VBuffer<float>>(input.Schema[parent.Source.Index]);
        }

        protected override ValueGetter<TValue> GetComputedGetter<TValue>(DataViewSchema.Column column)
        {
            if (typeof(TValue) != typeof(float))
                throw new InvalidOperationException($"Column '{column.Name}' holds Single, not {typeof(TValue).Name}.");
            ValueGetter<float> getter = (ref float value) =>
            {
                EnsureComputed();
                value = (float)_nll[0];
            };
            return (ValueGetter<TValue>)(object)getter;
        }

        protected override void Compute()
        {
            string column = Parent.InputSchema[Parent.Source.Index].Name;
            _features!(ref _buffer);
            int bad = FeatureColumnReader.CopyRow(_buffer, _row, Input.Position, column, "input");
            if (bad >= 0)
                throw new ArgumentException(
                    $"Row {Input.Position} of column '{column}' holds {FeatureColumnReader.DescribeNonFinite(_row[bad])} at slot {bad}; " +
                    "the likelihood needs finite rows.", "input");
            _owner.ScoreRow(_row, _nll);
        }
    }
}
