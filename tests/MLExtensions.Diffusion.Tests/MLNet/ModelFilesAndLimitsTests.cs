using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Tests.MLNet;

/// <summary>Leftover temporary files of killed saves, and limits checked up front (issue 10, items 16 and 17).</summary>
public class ModelFilesAndLimitsTests(DiffusionModelFixture fixture) : IClassFixture<DiffusionModelFixture>
{
    private DiffusionModel Model => fixture.Model;

    [Fact]
    public void Save_DeletesStaleTemporaryFilesOfTheSameTarget_AndNothingElse()
    {
        string folder = Directory.CreateTempSubdirectory("mlx-stale-").FullName;
        try
        {
            string Touch(string name, TimeSpan age)
            {
                string file = Path.Combine(folder, name);
                File.WriteAllBytes(file, [1, 2, 3]);
                File.SetLastWriteTimeUtc(file, DateTime.UtcNow - age);
                return file;
            }
            var old = TimeSpan.FromHours(1);
            string stale = Touch($".model.zip.{Guid.NewGuid():N}.tmp", old);
            string staleToo = Touch($".model.zip.{Guid.NewGuid():N}.tmp", DiffusionModelArchive.StaleTemporaryFileAge + TimeSpan.FromMinutes(1));
            string fresh = Touch($".model.zip.{Guid.NewGuid():N}.tmp", TimeSpan.Zero);
            string otherTarget = Touch($".other.zip.{Guid.NewGuid():N}.tmp", old);
            string notAGuid = Touch(".model.zip.notaguid.tmp", old);
            string upperHex = Touch($".model.zip.{Guid.NewGuid():N}.tmp".ToUpperInvariant().Replace(".MODEL.ZIP.", ".model.zip.", StringComparison.Ordinal).Replace(".TMP", ".tmp", StringComparison.Ordinal), old);
            string prefixTarget = Touch($".model.zip.zip.{Guid.NewGuid():N}.tmp", old);
            string userFile = Touch("notes.tmp", old);

            Model.Save(Path.Combine(folder, "model.zip"));

            Assert.False(File.Exists(stale));
            Assert.False(File.Exists(staleToo));
            Assert.All([fresh, otherTarget, notAGuid, upperHex, prefixTarget, userFile], f => Assert.True(File.Exists(f), f));
            Assert.True(File.Exists(Path.Combine(folder, "model.zip")));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

public class BatchAndCountLimitTests(DiffusionModelFixture fixture) : IClassFixture<DiffusionModelFixture>
{
    private DiffusionModel Model => fixture.Model;

    [Theory]
    [InlineData(1 << 29)]
    [InlineData(int.MaxValue)]
    public void HugeBatchSizes_AreRejectedUpFront_NamingTheOptionAndTheLimit(int batch)
    {
        var training = new ScoreMatchingOptions { BatchSize = batch };
        var e = Assert.Throws<ArgumentOutOfRangeException>(training.Validate);
        Assert.Equal("BatchSize", e.ParamName);
        Assert.Contains($"{ScoreMatchingOptions.MaximumBatchSize}", e.Message, StringComparison.Ordinal);

        var generate = Assert.Throws<ArgumentOutOfRangeException>(() => new GenerateTransformer(Model, new GenerateOptions { BatchSize = batch }));
        Assert.Equal("BatchSize", generate.ParamName);
        Assert.Contains($"{GenerateOptions.MaximumBatchSize}", generate.Message, StringComparison.Ordinal);

        var nll = Assert.Throws<ArgumentOutOfRangeException>(() => new LikelihoodTransformer(Model, new LikelihoodTransformOptions { BatchSize = batch }));
        Assert.Equal("BatchSize", nll.ParamName);
        Assert.Contains($"{LikelihoodTransformOptions.MaximumBatchSize}", nll.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheTrainingEngine_RejectsHugeBatchSizesUpFront()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new MLExtensions.Diffusion.Training.ScoreModelTrainer(new MLExtensions.Diffusion.Training.TrainingOptions { BatchSize = 1 << 29 }));
        Assert.Equal("BatchSize", e.ParamName);
        var trainer = new MLExtensions.Diffusion.Training.ScoreModelTrainer(new MLExtensions.Diffusion.Training.TrainingOptions { BatchSize = MLExtensions.Diffusion.Training.TrainingOptions.MaximumBatchSize, Network = new MLExtensions.Diffusion.Training.MlpOptions { Width = 4096 } });
        var wide = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Fit(new float[40], 2));
        Assert.Equal("BatchSize", wide.ParamName);
    }

    [Fact]
    public void TrainingBatchTimesTheWidestLayer_BeyondOneArray_IsRejectedNamingBatchSize()
    {
        var context = new MLContext(seed: 1);
        var options = MLNetTestData.TinyOptions(10);
        options.BatchSize = ScoreMatchingOptions.MaximumBatchSize;
        options.Width = 4096;
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            context.Diffusion().Trainers.ScoreMatching(options).Fit(MLNetTestData.View(context, MLNetTestData.Mixture(20, seed: 1))));
        Assert.Equal("BatchSize", e.ParamName);
        Assert.Contains("largest array", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GenerateOfIntMaxValue_IsRejectedUpFront_NamingCountAndTheLimit()
    {
        foreach (var call in new Action[] { () => Model.Generate(int.MaxValue, 1), () => Model.GenerateDataView(int.MaxValue, 1) })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(call);
            Assert.Equal("count", e.ParamName);
            Assert.Contains($"at most {Model.MaximumGenerateCount} rows", e.Message, StringComparison.Ordinal);
        }
        Assert.Equal(Array.MaxLength / Model.Dimension, Model.MaximumGenerateCount);
    }

    [Fact]
    public void LikelihoodCursor_AllocatesForTheInputsRowsNotTheBatchSize()
    {
        var context = new MLContext(seed: 1);
        var data = MLNetTestData.View(context, MLNetTestData.Mixture(12, seed: 3));
        using var small = new LikelihoodTransformer(Model, new LikelihoodTransformOptions { Steps = 4 });
        using var huge = new LikelihoodTransformer(Model, new LikelihoodTransformOptions { Steps = 4, BatchSize = LikelihoodTransformOptions.MaximumBatchSize });
        long before = GC.GetAllocatedBytesForCurrentThread();
        var scores = huge.Transform(data).GetColumn<float>("NLL").ToArray();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // BatchSize 2^24 rows x 2 floats + 2^24 doubles would be 256 MB; 12 rows need a few KB beyond the engine's work.
        Assert.True(allocated < 64L << 20, $"{allocated} bytes allocated for 12 rows");
        Assert.Equal(small.Transform(data).GetColumn<float>("NLL").ToArray(), scores);
    }
}
