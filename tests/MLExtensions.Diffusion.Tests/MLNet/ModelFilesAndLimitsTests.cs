using Microsoft.ML;
using MLExtensions.Diffusion.MLNet;

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
