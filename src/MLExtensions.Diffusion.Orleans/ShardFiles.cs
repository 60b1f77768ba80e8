using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MLExtensions.Diffusion.IO;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using Parquet;
using Parquet.Schema;

namespace MLExtensions.Diffusion.Orleans;

/// <summary>
/// The shard files of a generation job: each shard is written atomically (a temporary file next to it, flushed, then
/// renamed over the target by <see cref="AtomicFile"/>), so a reader or a rerun sees no file or a whole one; a shard whose
/// complete file is already there is not written again, so a rerun (or a second start of a shard whose first silo died)
/// never duplicates or corrupts rows. The folder's <c>_job.json</c> records the job's stream settings, and a job with other
/// settings is refused in that folder.
/// </summary>
public static class ShardFiles
{
    /// <summary>The name of the job description file in the output folder.</summary>
    public const string JobFileName = "_job.json";

    /// <summary>The file of shard <paramref name="index"/>.</summary>
    /// <param name="request">The job.</param>
    /// <param name="index">The shard.</param>
    /// <returns>The path.</returns>
    public static string ShardPath(GenerationRequest request, int index)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Path.Combine(Path.GetFullPath(request.OutputFolder), string.Create(CultureInfo.InvariantCulture,
            $"part-{index:D6}.{(request.Format == ShardFormat.Parquet ? "parquet" : "csv")}"));
    }

    /// <summary>Creates the folder and writes <c>_job.json</c>, or checks that the one there describes the same stream.</summary>
    /// <param name="request">The job.</param>
    /// <exception cref="ArgumentException">The folder holds shards of another job (the message says which setting differs).</exception>
    public static void PrepareFolder(GenerationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        string path = Path.Combine(Path.GetFullPath(request.OutputFolder), JobFileName);
        string json = JsonSerializer.Serialize(new JobDescription(Path.GetFullPath(request.Model), request.Rows, request.Seed, request.ShardRows,
            request.Format.ToString(), request.Steps, request.Sampler?.ToString()), new JsonSerializerOptions { WriteIndented = true });
        if (File.Exists(path))
        {
            var existing = JsonSerializer.Deserialize<JobDescription>(File.ReadAllText(path));
            var mine = JsonSerializer.Deserialize<JobDescription>(json);
            if (existing != mine)
                throw new ArgumentException(
                    $"The folder '{request.OutputFolder}' holds shards of another job ({existing}); this job is {mine}. Use another folder, or delete it.", nameof(request));
            return;
        }
        AtomicFile.Write(path, s => s.Write(Encoding.UTF8.GetBytes(json)), createFolder: true);
    }

    /// <summary>Writes shard <paramref name="index"/> unless its complete file is there.</summary>
    /// <param name="request">The job.</param>
    /// <param name="index">The shard.</param>
    /// <param name="model">The model.</param>
    /// <param name="cancellationToken">Stops before writing.</param>
    /// <returns>The outcome (Written false when the file was kept).</returns>
    public static ShardOutcome WriteShard(GenerationRequest request, int index, DiffusionModel model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(model);
        var clock = Stopwatch.StartNew();
        var (start, count) = request.Shard(index);
        string path = ShardPath(request, index);
        string[] columns = ColumnNames(model);
        if (IsComplete(path, request.Format, count, columns))
            return new ShardOutcome { Index = index, Start = start, Count = count, Path = path, Written = false, DurationMilliseconds = clock.Elapsed.TotalMilliseconds };
        var values = Generate(model, request, start, count);
        cancellationToken.ThrowIfCancellationRequested();
        AtomicFile.Write(path, stream =>
        {
            if (request.Format == ShardFormat.Parquet) WriteParquetAsync(stream, start, count, columns, values).GetAwaiter().GetResult();
            else WriteCsv(stream, start, count, columns, values);
        }, createFolder: true);
        return new ShardOutcome { Index = index, Start = start, Count = count, Path = path, Written = true, DurationMilliseconds = clock.Elapsed.TotalMilliseconds };
    }

    /// <summary>Rows [start, start + count) of the stream (model, seed): the latents <see cref="LatentStream.Fill"/>(seed, i)
    /// through the model's C# engine, as <see cref="DiffusionModelParameters.Generate"/> maps them (all solvers are deterministic, so
    /// a row does not depend on the shard it falls in).</summary>
    /// <param name="model">The model.</param>
    /// <param name="request">The job (seed, steps, solver).</param>
    /// <param name="start">The first row.</param>
    /// <param name="count">Rows.</param>
    /// <returns>count x d floats, row-major, data units.</returns>
    public static float[] Generate(DiffusionModel model, GenerationRequest request, long start, int count)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(request);
        int d = model.Dimension;
        var latents = new float[count * d];
        for (int r = 0; r < count; r++) GenerateTransformer.StreamLatent(request.Seed, start + r, latents.AsSpan(r * d, d));
        var sampler = request.Sampler is { } k ? SamplingPlan.CreateSampler(k) : null;
        return model.GenerateFromNoise(latents, count, d, sampler, request.Steps, request.Seed);
    }

    /// <summary>The feature column names: those the CLI stored with the model, or f1..fd.</summary>
    /// <param name="model">The model.</param>
    /// <returns>The names.</returns>
    public static string[] ColumnNames(DiffusionModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.AdditionalEntries.TryGetValue("cli/columns.json", out var bytes))
        {
            try
            {
                var names = JsonSerializer.Deserialize<string[]>(bytes);
                if (names is not null && names.Length == model.Dimension) return names;
            }
            catch (JsonException)
            {
            }
        }
        return Enumerable.Range(1, model.Dimension).Select(i => $"f{i}").ToArray();
    }

    /// <summary>Reads a shard back: its row indexes and values (count x d, row-major).</summary>
    /// <param name="path">The file.</param>
    /// <returns>The rows.</returns>
    /// <exception cref="InvalidDataException">The file is not a shard.</exception>
    public static (long[] Rows, float[] Values, string[] Columns) ReadShard(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase) ? ReadParquetAsync(path).GetAwaiter().GetResult() : ReadCsv(path);
    }

    private static bool IsComplete(string path, ShardFormat format, int count, string[] columns)
    {
        if (!File.Exists(path)) return false;
        try
        {
            var (rows, values, names) = ReadShard(path);
            return rows.Length == count && values.Length == count * columns.Length && names.SequenceEqual(columns);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException or ParquetException or NotSupportedException or IndexOutOfRangeException)
        {
            return false;
        }
    }

    private static void WriteCsv(Stream stream, long start, int count, string[] columns, float[] values)
    {
        using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
        writer.Write("Row");
        foreach (var c in columns) writer.Write($",{c}");
        writer.Write('\n');
        int d = columns.Length;
        for (int r = 0; r < count; r++)
        {
            writer.Write((start + r).ToString(CultureInfo.InvariantCulture));
            for (int j = 0; j < d; j++)
            {
                writer.Write(',');
                writer.Write(values[r * d + j].ToString("R", CultureInfo.InvariantCulture));
            }
            writer.Write('\n');
        }
    }

    private static (long[], float[], string[]) ReadCsv(string path)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0 || !lines[0].StartsWith("Row", StringComparison.Ordinal)) throw new InvalidDataException($"'{path}' is not a shard.");
        var columns = lines[0].Split(',')[1..];
        int d = columns.Length;
        var rows = new long[lines.Length - 1];
        var values = new float[rows.Length * d];
        for (int r = 0; r < rows.Length; r++)
        {
            var cells = lines[r + 1].Split(',');
            if (cells.Length != d + 1) throw new InvalidDataException($"'{path}' line {r + 2} has {cells.Length} cells.");
            rows[r] = long.Parse(cells[0], CultureInfo.InvariantCulture);
            for (int j = 0; j < d; j++) values[r * d + j] = float.Parse(cells[j + 1], CultureInfo.InvariantCulture);
        }
        return (rows, values, columns);
    }

    private static async Task WriteParquetAsync(Stream stream, long start, int count, string[] columns, float[] values)
    {
        var rowField = new DataField<long>("Row");
        var fields = columns.Select(c => new DataField<float>(c)).ToArray();
        var schema = new ParquetSchema([rowField, .. fields]);
        await using var writer = await ParquetWriter.CreateAsync(schema, stream);
        using var group = writer.CreateRowGroup();
        var rows = new long[count];
        for (int r = 0; r < count; r++) rows[r] = start + r;
        await group.WriteAsync<long>(rowField, rows);
        int d = columns.Length;
        var column = new float[count];
        for (int j = 0; j < d; j++)
        {
            for (int r = 0; r < count; r++) column[r] = values[r * d + j];
            await group.WriteAsync<float>(fields[j], column);
        }
    }

    private static async Task<(long[], float[], string[])> ReadParquetAsync(string path)
    {
        await using var stream = File.OpenRead(path);
        await using var reader = await ParquetReader.CreateAsync(stream);
        var fields = reader.Schema.GetDataFields();
        if (fields.Length < 1 || fields[0].Name != "Row") throw new InvalidDataException($"'{path}' is not a shard.");
        var columns = fields[1..].Select(f => f.Name).ToArray();
        int d = columns.Length;
        var rows = new List<long>();
        var values = new List<float[]>();
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using var group = reader.OpenRowGroupReader(g);
            int n = checked((int)group.RowCount);
            var r = new long[n];
            await group.ReadAsync<long>(fields[0], r);
            rows.AddRange(r);
            var block = new float[n * d];
            var column = new float[n];
            for (int j = 0; j < d; j++)
            {
                await group.ReadAsync<float>(fields[j + 1], column);
                for (int i = 0; i < n; i++) block[i * d + j] = column[i];
            }
            values.Add(block);
        }
        return (rows.ToArray(), values.SelectMany(v => v).ToArray(), columns);
    }

    private sealed record JobDescription(string Model, long Rows, int Seed, int ShardRows, string Format, int? Steps, string? Sampler);
}
