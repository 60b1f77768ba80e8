using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>
/// <see cref="GenerateTransformer.GetRowToRowMapper"/>: each input row's seed or latent generates its row alone (a batch
/// of one through the transformer's engine); the path-thermodynamics columns are per row, and the NLL column, when
/// attached, scores the row alone with the probe seed <see cref="LikelihoodTransformOptions.Seed"/>.
/// </summary>
internal sealed class GenerateRowMapper(GenerateTransformer owner, GenerateLatentKind kind, DataViewSchema inputSchema, DataViewSchema outputSchema, DataViewSchema.Column source)
    : PerRowMapper(inputSchema, outputSchema, source)
{
    protected override MappedRow CreateRow(DataViewRow input, bool computes) => new Row(this, owner, kind, input, computes);

    private sealed class Row : MappedRow
    {
        private readonly GenerateTransformer _owner;
        private readonly Func<long, int, Span<float>, bool>? _readLatent;
        private readonly double[]? _action, _entropy, _nll;
        private GenerateBatchRunner? _runner;
        private bool _nllComputed;

        public Row(GenerateRowMapper parent, GenerateTransformer owner, GenerateLatentKind kind, DataViewRow input, bool computes) : base(parent, input, computes)
        {
            _owner = owner;
            if (!computes) return;
            _readLatent = BatchGeneratedDataView.LatentReader(kind, input.Schema[parent.Source.Index], input, owner.Dimension);
            var options = owner.Options;
            if (options.AttachPathThermodynamics)
            {
                _action = new double[1];
                _entropy = new double[1];
            }
            if (options.AttachNll) _nll = new double[1];
        }

        protected override ValueGetter<TValue> GetComputedGetter<TValue>(DataViewSchema.Column column)
        {
            int count = Parent.InputCount, d = _owner.Dimension;
            if (column.Index == count)
            {
                if (typeof(TValue) != typeof(VBuffer<float>))
                    throw new InvalidOperationException($"Column '{column.Name}' holds VBuffer<Single>, not {typeof(TValue).Name}.");
                ValueGetter<VBuffer<float>> vector = (ref VBuffer<float> value) =>
                {
                    EnsureComputed();
                    var editor = VBufferEditor.Create(ref value, d);
                    _runner!.Samples.AsSpan(0, d).CopyTo(editor.Values);
                    value = editor.Commit();
                };
                return (ValueGetter<TValue>)(object)vector;
            }
            if (typeof(TValue) != typeof(float))
                throw new InvalidOperationException($"Column '{column.Name}' holds Single, not {typeof(TValue).Name}.");
            if (_nll is not null && column.Index == Parent.OutputSchema.Count - 1)
            {
                ValueGetter<float> nll = (ref float value) =>
                {
                    EnsureComputed();
                    if (!_nllComputed)
                    {
                        _owner.ScoreNll(_runner!.Samples.AsSpan(0, d), _nll, 0);
                        _nllComputed = true;
                    }
                    value = (float)_nll[0];
                };
                return (ValueGetter<TValue>)(object)nll;
            }
            bool action = column.Index == count + 1;
            ValueGetter<float> scalar = (ref float value) =>
            {
                EnsureComputed();
                value = (float)(action ? _action! : _entropy!)[0];
            };
            return (ValueGetter<TValue>)(object)scalar;
        }

        /// <exception cref="ObjectDisposedException">The transformer was disposed.</exception>
        protected override void Compute()
        {
            _owner.ThrowIfDisposed();
            _runner ??= GenerateBatchRunner.Create(_owner, 1);
            int d = _owner.Dimension;
            if (!_readLatent!(Input.Position, 0, _runner.Latents.AsSpan(0, d)))
                throw new ArgumentException($"Row {Input.Position} of column '{Parent.InputSchema[Parent.Source.Index].Name}' holds a non-finite latent value.", "input");
            _runner.Run(1, _action, _entropy);
            _nllComputed = false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _runner?.Dispose();
            base.Dispose(disposing);
        }
    }
}
