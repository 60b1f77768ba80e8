using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Tests.Onnx;

namespace MLExtensions.Diffusion.Tests.MLNet;

/// <summary>
/// Lifetimes of the generate cursors (issue 10, item 15): a cursor that needs a new batch after its
/// <see cref="GenerateTransformer"/> was disposed throws <see cref="ObjectDisposedException"/> instead of handing the
/// released ONNX session to ONNX Runtime, and a disposed cursor's MoveNext returns false.
/// </summary>
public class TransformerLifetimeTests
{
    private readonly MLContext _context = new(seed: 1);

    private sealed class SeedRow
    {
        public int Seed { get; set; }
    }

    private IDataView Seeds(int rows) => _context.Data.LoadFromEnumerable(Enumerable.Range(1, rows).Select(s => new SeedRow { Seed = s }).ToList());

    private static GenerateOptions Options(GenerateEngine engine) => new()
    {
        InputColumnName = "Seed",
        Engine = engine,
        Steps = 3,
        BatchSize = 1,
        SessionSettings = OrtTestRunner.Settings,
    };

    [Theory]
    [MemberData(nameof(Engines))]
    public void ReadingANewBatchAfterTheTransformerWasDisposedThrowsObjectDisposed(GenerateEngine engine)
    {
        var generator = new GenerateTransformer(PenguinsTestData.Model, Options(engine));
        var view = generator.Transform(Seeds(3));
        var column = view.Schema[GenerateOptions.DefaultOutputColumnName];
        using var cursor = view.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> value = default;
        Assert.True(cursor.MoveNext());
        getter(ref value);
        Assert.Equal(4, value.Length);

        generator.Dispose();
        Assert.True(cursor.MoveNext());
        var error = Assert.Throws<ObjectDisposedException>(() => getter(ref value));
        Assert.Contains(nameof(GenerateTransformer), error.ObjectName);
        Assert.Throws<ObjectDisposedException>(() => generator.Transform(Seeds(1)));
        Assert.Throws<ObjectDisposedException>(() => view.GetRowCursor([column]));
    }

    public static TheoryData<GenerateEngine> Engines => new() { GenerateEngine.CSharp, GenerateEngine.OnnxGraph, GenerateEngine.OnnxHostLoop };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ADisposedGenerateCursorStopsAndItsGettersThrow(bool stream)
    {
        using var generator = new GenerateTransformer(PenguinsTestData.Model, Options(GenerateEngine.CSharp));
        var view = stream ? generator.GenerateRows(4, seed: 3) : generator.Transform(Seeds(4));
        var column = view.Schema[GenerateOptions.DefaultOutputColumnName];
        var cursor = view.GetRowCursor(view.Schema);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> value = default;
        Assert.True(cursor.MoveNext());
        getter(ref value);

        cursor.Dispose();
        Assert.False(cursor.MoveNext());
        Assert.Equal(-1, cursor.Position);
        Assert.Throws<ObjectDisposedException>(() => getter(ref value));
    }

    [Fact]
    public void ADisposedLikelihoodCursorStops()
    {
        using var nll = new LikelihoodTransformer(PenguinsTestData.Model, new LikelihoodTransformOptions { InputColumnName = "Features", BatchSize = 1 });
        var rows = PenguinsTestData.View(_context, PenguinsTestData.HeldOut.AsSpan(0, 12).ToArray());
        var view = nll.Transform(rows);
        var cursor = view.GetRowCursor(view.Schema);
        Assert.True(cursor.MoveNext());
        cursor.Dispose();
        Assert.False(cursor.MoveNext());
    }
}
