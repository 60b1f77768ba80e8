using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.Randomness;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>
/// The lazy view of <see cref="GenerateTransformer"/>: the input's columns plus the generated column(s). A cursor that asks
/// for a generated column opens a second cursor on the input that reads only the latent column, BatchSize rows ahead
/// (<see cref="ReadAheadBatchCursor"/>), generates that batch with its own <see cref="GenerateBatchRunner"/> when a row
/// of it is first read and serves it row by row while the first cursor supplies the pass-through columns; nothing
/// beyond one batch is held. The NLL column, when attached, is computed for the current batch the first time a row's
/// NLL is read.
/// </summary>
internal sealed class BatchGeneratedDataView : IDataView
{
    private readonly IDataView _input;
    private readonly GenerateTransformer _owner;
    private readonly GenerateLatentKind _kind;
    private readonly DataViewSchema.Column _latentColumn;
    private readonly int _streamSeed;
    private readonly int _inputCount;

    public BatchGeneratedDataView(IDataView input, GenerateTransformer owner, GenerateLatentKind kind, DataViewSchema.Column latentColumn, int streamSeed)
    {
        _input = input;
        _owner = owner;
        _kind = kind;
        _latentColumn = latentColumn;
        _streamSeed = streamSeed;
        _inputCount = input.Schema.Count;
        Schema = owner.OutputSchema(input.Schema);
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = columnsNeeded.ToArray();
        bool generate = needed.Any(c => c.Index >= _inputCount);
        var inner = _input.GetRowCursor(needed.Where(c => c.Index < _inputCount).Select(c => _input.Schema[c.Index]).ToArray());
        DataViewRowCursor? ahead = null;
        try
        {
            if (generate) ahead = _input.GetRowCursor([_latentColumn]);
            return new Cursor(this, inner, ahead);
        }
        catch
        {
            inner.Dispose();
            ahead?.Dispose();
            throw;
        }
    }

    /// <summary>A function that writes the latent of <paramref name="row"/>'s current row from its seed or latent column
    /// <paramref name="column"/> (as the cursors do); false if it is not finite.</summary>
    internal static Func<long, int, Span<float>, bool> LatentReader(GenerateLatentKind kind, DataViewSchema.Column column, DataViewRow row, int d) =>
        Cursor.LatentReader(kind, column, 0, row, d);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : ReadAheadBatchCursor
    {
        private readonly BatchGeneratedDataView _parent;
        private readonly GenerateBatchRunner? _runner;
        private readonly double[]? _action;
        private readonly double[]? _entropy;
        private readonly double[]? _nll;
        private readonly Func<long, int, Span<float>, bool>? _readLatent;
        private long _nllBatch = -1;

        public Cursor(BatchGeneratedDataView parent, DataViewRowCursor inner, DataViewRowCursor? ahead)
            : base(inner, ahead, Capacity(parent))
        {
            _parent = parent;
            if (ahead is null) return;
            var owner = parent._owner;
            int batch = Capacity(parent);
            _runner = GenerateBatchRunner.Create(owner, batch);
            if (owner.Options.AttachPathThermodynamics)
            {
                _action = new double[batch];
                _entropy = new double[batch];
            }
            if (owner.Options.AttachNll) _nll = new double[batch];
            _readLatent = LatentReader(parent._kind, parent._latentColumn, parent._streamSeed, ahead, owner.Dimension);
        }

        /// <summary>BatchSize, or the input's row count when it is known and smaller.</summary>
        private static int Capacity(BatchGeneratedDataView parent)
        {
            int batch = parent._owner.Options.BatchSize;
            long? rows = parent._input.GetRowCount();
            return rows is { } known && known > 0 && known < batch ? (int)known : batch;
        }

        public override DataViewSchema Schema => _parent.Schema;

        protected override void ReadRow(DataViewRowCursor ahead, long row, int slot)
        {
            int d = _parent._owner.Dimension;
            if (!_readLatent!(row, slot, _runner!.Latents.AsSpan(slot * d, d)))
                throw new ArgumentException($"Row {row} of column '{_parent._latentColumn.Name}' holds a non-finite latent value.", "input");
        }

        /// <exception cref="ObjectDisposedException">The transformer was disposed (its session must not be used).</exception>
        protected override void ComputeBatch(int rows, long batchIndex)
        {
            _parent._owner.ThrowIfDisposed();
            _runner!.Run(rows, _action, _entropy);
        }

        /// <summary>A function that writes the latent of the ahead row's current row; false if it is not finite.</summary>
        internal static Func<long, int, Span<float>, bool> LatentReader(GenerateLatentKind kind, DataViewSchema.Column column, int streamSeed, DataViewRow ahead, int d)
        {
            var scratch = new double[d];
            switch (kind)
            {
                case GenerateLatentKind.Vector:
                {
                    var getter = ahead.GetGetter<VBuffer<float>>(column);
                    VBuffer<float> buffer = default;
                    return (row, _, latent) =>
                    {
                        getter(ref buffer);
                        return FeatureColumnReader.CopyRow(buffer, latent, row, column.Name, "input") < 0;
                    };
                }
                case GenerateLatentKind.Counter:
                {
                    var getter = ahead.GetGetter<long>(column);
                    var random = new CounterRandom();
                    int seed = streamSeed;
                    long index = 0;
                    return (_, _, latent) =>
                    {
                        getter(ref index);
                        random.Reset(CounterRandom.RowKey(seed, index));
                        return Draw(random, scratch, latent);
                    };
                }
                case GenerateLatentKind.Int64Seed:
                {
                    var getter = ahead.GetGetter<long>(column);
                    long s = 0;
                    return (_, _, latent) =>
                    {
                        getter(ref s);
                        return Draw(new Random(unchecked((int)(s ^ (s >> 32)))), scratch, latent);
                    };
                }
                case GenerateLatentKind.UInt32Seed:
                {
                    var getter = ahead.GetGetter<uint>(column);
                    uint s = 0;
                    return (_, _, latent) =>
                    {
                        getter(ref s);
                        return Draw(new Random(unchecked((int)s)), scratch, latent);
                    };
                }
                default:
                {
                    var getter = ahead.GetGetter<int>(column);
                    int s = 0;
                    return (_, _, latent) =>
                    {
                        getter(ref s);
                        return Draw(new Random(s), scratch, latent);
                    };
                }
            }
        }

        private static bool Draw(Random random, double[] scratch, Span<float> latent)
        {
            StandardNormal.Fill(random, scratch);
            for (int j = 0; j < latent.Length; j++) latent[j] = (float)scratch[j];
            return true;
        }

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index >= _parent._inputCount ? Computes : Inner.IsColumnActive(Inner.Schema[column.Index]);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            int count = _parent._inputCount;
            if (column.Index < count) return Inner.GetGetter<TValue>(Inner.Schema[column.Index]);
            if (_runner is null) throw new InvalidOperationException($"Column '{column.Name}' was not requested when the cursor was created.");
            int d = _parent._owner.Dimension;
            if (column.Index == count)
            {
                if (typeof(TValue) != typeof(VBuffer<float>))
                    throw new InvalidOperationException($"Column '{column.Name}' holds VBuffer<Single>, not {typeof(TValue).Name}.");
                ValueGetter<VBuffer<float>> vector = (ref VBuffer<float> value) =>
                {
                    int offset = CurrentSlot();
                    var editor = VBufferEditor.Create(ref value, d);
                    _runner.Samples.AsSpan(offset * d, d).CopyTo(editor.Values);
                    value = editor.Commit();
                };
                return (ValueGetter<TValue>)(object)vector;
            }
            if (typeof(TValue) != typeof(float))
                throw new InvalidOperationException($"Column '{column.Name}' holds Single, not {typeof(TValue).Name}.");
            if (_nll is not null && column.Index == _parent.Schema.Count - 1)
            {
                ValueGetter<float> nll = (ref float value) =>
                {
                    int offset = CurrentSlot();
                    if (_nllBatch != BatchIndex)
                    {
                        _parent._owner.ScoreNll(_runner.Samples.AsSpan(0, BatchRows * d), _nll.AsSpan(0, BatchRows), BatchIndex);
                        _nllBatch = BatchIndex;
                    }
                    value = (float)_nll[offset];
                };
                return (ValueGetter<TValue>)(object)nll;
            }
            var source = column.Index == count + 1 ? _action! : _entropy!;
            ValueGetter<float> scalar = (ref float value) => value = (float)source[CurrentSlot()];
            return (ValueGetter<TValue>)(object)scalar;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _runner?.Dispose();
            base.Dispose(disposing);
        }
    }
}
