using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>
/// ML.NET's public row-to-row mapping for a transformer that appends columns computed from one input column, one row at a
/// time: the face of <see cref="LikelihoodTransformer"/> and <see cref="GenerateTransformer"/> that
/// <c>mlContext.Model.CreatePredictionEngine</c> (and a <see cref="TransformerChain{TLastTransformer}"/> of row-to-row
/// mappers) uses. The output schema is the input schema plus the appended columns; input columns pass through, and the
/// appended ones are computed once per input row (keyed by the input row's <see cref="DataViewRow.Position"/>) the first
/// time a getter asks for one.
/// </summary>
internal abstract class PerRowMapper : IRowToRowMapper
{
    protected PerRowMapper(DataViewSchema inputSchema, DataViewSchema outputSchema, DataViewSchema.Column source)
    {
        InputSchema = inputSchema;
        OutputSchema = outputSchema;
        Source = source;
    }

    public DataViewSchema InputSchema { get; }

    public DataViewSchema OutputSchema { get; }

    /// <summary>The input column the appended columns are computed from.</summary>
    internal DataViewSchema.Column Source { get; }

    internal int InputCount => InputSchema.Count;

    /// <summary>The input columns needed: the source when an appended column is wanted, and every wanted input column.</summary>
    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
    {
        ArgumentNullException.ThrowIfNull(dependingColumns);
        var needed = new SortedSet<int>();
        foreach (var column in dependingColumns)
        {
            if (column.Index >= InputCount) needed.Add(Source.Index);
            else needed.Add(column.Index);
        }
        return needed.Select(i => InputSchema[i]).ToArray();
    }

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(activeColumns);
        if (input.Schema.Count != InputCount || input.Schema[Source.Index].Name != Source.Name)
            throw new ArgumentException("The row's schema is not the schema this mapper was made for.", nameof(input));
        bool computes = activeColumns.Any(c => c.Index >= InputCount);
        return CreateRow(input, computes);
    }

    /// <summary>The mapped row over <paramref name="input"/>; <paramref name="computes"/>: whether appended columns are active.</summary>
    protected abstract MappedRow CreateRow(DataViewRow input, bool computes);

    /// <summary>A row of the input with the appended columns; <see cref="Compute"/> fills them for the current input row.</summary>
    protected abstract class MappedRow : DataViewRow
    {
        private long _computedPosition = -1;
        private bool _computed;
        private bool _disposed;

        protected MappedRow(PerRowMapper parent, DataViewRow input, bool computes)
        {
            Parent = parent;
            Input = input;
            Computes = computes;
        }

        protected PerRowMapper Parent { get; }

        protected DataViewRow Input { get; }

        protected bool Computes { get; }

        public override long Position => Input.Position;

        public override long Batch => Input.Batch;

        public override DataViewSchema Schema => Parent.OutputSchema;

        public override ValueGetter<DataViewRowId> GetIdGetter() => Input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index >= Parent.InputCount ? Computes : Input.IsColumnActive(Input.Schema[column.Index]);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index < Parent.InputCount) return Input.GetGetter<TValue>(Input.Schema[column.Index]);
            if (!Computes) throw new InvalidOperationException($"Column '{column.Name}' was not requested when the row was created.");
            return GetComputedGetter<TValue>(column);
        }

        /// <summary>The getter of appended column <paramref name="column"/>; it calls <see cref="EnsureComputed"/> first.</summary>
        protected abstract ValueGetter<TValue> GetComputedGetter<TValue>(DataViewSchema.Column column);

        /// <summary>Computes the appended values of the current input row unless already done for its position.</summary>
        /// <exception cref="ObjectDisposedException">The row (or its transformer) was disposed.</exception>
        protected void EnsureComputed()
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            long position = Input.Position;
            if (_computed && position == _computedPosition && position >= 0) return;
            Compute();
            _computed = true;
            _computedPosition = position;
        }

        /// <summary>Reads the source column of the current input row and computes the appended values.</summary>
        protected abstract void Compute();

        protected override void Dispose(bool disposing)
        {
            _disposed = true;
            base.Dispose(disposing);
        }
    }
}
