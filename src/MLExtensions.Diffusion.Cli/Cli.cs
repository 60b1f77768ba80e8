using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Training;
using Spectre.Console;

namespace MLExtensions.Diffusion.Cli;

/// <summary>Where a command writes, and the hook tests use to observe progress.</summary>
public sealed class CliContext
{
    /// <summary>Standard output.</summary>
    public TextWriter Out { get; init; } = Console.Out;

    /// <summary>Standard error.</summary>
    public TextWriter Error { get; init; } = Console.Error;

    /// <summary>Called after each progress report (training step report, sample batch, search trial).</summary>
    public Action<string>? ProgressReported { get; init; }

    /// <summary>True when progress bars may be drawn: the real console, not redirected.</summary>
    public bool Interactive => ReferenceEquals(Out, Console.Out) && !Console.IsOutputRedirected;
}

/// <summary>The <c>mldiffusion</c> command line.</summary>
public static partial class CliApp
{
    internal static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>Exit codes, as printed in the root help.</summary>
    public const string ExitCodeHelp =
        "Exit codes: 0 ok; 1 user error (missing file, model/data mismatch, bad setting); 2 usage error (unknown command " +
        "or option, missing required option, value that does not parse); 3 data error (unknown or text column, empty cell " +
        "under --missing error, no rows); 130 cancelled (Ctrl-C; no partial output file is left).";

    /// <summary>Runs the command line and returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, CliContext? context = null, CancellationToken cancellationToken = default)
    {
        context ??= new CliContext();
        var root = CreateRoot(context);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) context.Error.WriteLine($"error: {e.Message}");
            context.Error.WriteLine("Run 'mldiffusion --help' or 'mldiffusion <command> --help' for usage.");
            return ExitCodes.UsageError;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { Output = context.Out, Error = context.Error }, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            context.Error.WriteLine("Cancelled; no output was written.");
            return ExitCodes.Cancelled;
        }
    }

    /// <summary>Runs a command body, mapping user mistakes to messages and exit codes.</summary>
    internal static Func<ParseResult, CancellationToken, Task<int>> Guard(CliContext context, Func<ParseResult, CancellationToken, int> body) =>
        (parse, ct) =>
        {
            try
            {
                return Task.FromResult(body(parse, ct));
            }
            catch (CliException e)
            {
                context.Error.WriteLine($"error: {e.Message}");
                return Task.FromResult(e.ExitCode);
            }
            catch (OperationCanceledException)
            {
                context.Error.WriteLine("Cancelled; no output was written.");
                return Task.FromResult(ExitCodes.Cancelled);
            }
            catch (Exception e) when (e is ArgumentException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException
                                          or UnauthorizedAccessException or InvalidOperationException or NotSupportedException or IOException)
            {
                context.Error.WriteLine($"error: {e.Message}");
                return Task.FromResult(ExitCodes.UserError);
            }
        };

    /// <summary>Writes a file atomically (the library's AtomicFile: a temporary file in the same folder, flushed, then moved
    /// over the target); a missing output folder is a user error.</summary>
    internal static void WriteAtomic(string path, Action<Stream> write)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(dir)) throw new CliException($"The output folder '{dir}' does not exist.");
        MLExtensions.Diffusion.IO.AtomicFile.Write(path, write);
    }

    internal static void WriteTextAtomic(string path, string text) => WriteAtomic(path, stream => stream.Write(System.Text.Encoding.UTF8.GetBytes(text)));

    internal static DiffusionModel LoadModel(MLContext ml, string path)
    {
        if (!File.Exists(path)) throw new CliException($"The model file '{path}' does not exist.");
        return ml.Diffusion().LoadModel(path);
    }

    /// <summary>The column names the CLI stored with the model at training, or f1..fd.</summary>
    internal static string[] ColumnNames(DiffusionModel model)
    {
        if (model.AdditionalEntries.TryGetValue(Commands.ColumnsEntry, out var bytes))
        {
            var names = JsonSerializer.Deserialize<string[]>(bytes);
            if (names is not null && names.Length == model.Dimension) return names;
        }
        return Enumerable.Range(1, model.Dimension).Select(i => $"f{i}").ToArray();
    }

    internal static IDataView ToDataView(MLContext ml, float[] values, int d)
    {
        var rows = Enumerable.Range(0, values.Length / d).Select(r => new FeatureRow { Features = values.AsSpan(r * d, d).ToArray() }).ToList();
        var schema = SchemaDefinition.Create(typeof(FeatureRow));
        schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, d);
        return ml.Data.LoadFromEnumerable(rows, schema);
    }

    internal static FeatureTable ReadForModel(string path, string[]? columns, MissingMode missing, DiffusionModel model)
    {
        var names = ColumnNames(model);
        bool stored = model.AdditionalEntries.ContainsKey(Commands.ColumnsEntry);
        var table = TableReader.Read(path, columns is { Length: > 0 } ? columns : stored ? names : null, missing);
        if (table.Columns.Length != model.Dimension)
            throw new CliException(
                $"The model has {model.Dimension} features but {table.Columns.Length} columns were selected from '{path}' " +
                $"({string.Join(", ", table.Columns)}); choose {model.Dimension} with --columns.", ExitCodes.DataError);
        return table;
    }

    internal static string Csv(string[] header, float[] values)
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine(string.Join(",", header.Select(Quote)));
        int d = header.Length;
        for (int r = 0; r < values.Length / d; r++)
            sb.AppendLine(string.Join(",", Enumerable.Range(0, d).Select(j => values[r * d + j].ToString("R", C))));
        return sb.ToString();
    }

    internal static string Quote(string s) => s.Contains(',') || s.Contains('"') ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;

    internal static string Json(object value) => JsonSerializer.Serialize(value, new JsonSerializerOptions
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    });

    /// <summary>Runs <paramref name="work"/> with a Spectre progress bar when interactive, else plainly.</summary>
    internal static T WithProgress<T>(CliContext context, bool json, string title, Func<Action<double, string>, T> work)
    {
        if (json || !context.Interactive)
            return work((_, msg) => context.ProgressReported?.Invoke(msg));
        T result = default!;
        AnsiConsole.Progress().AutoClear(false).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(title, maxValue: 1.0);
                result = work((fraction, msg) =>
                {
                    task.Value = Math.Clamp(fraction, 0, 1);
                    if (msg.Length > 0) task.Description = $"{title}: {Markup.Escape(msg)}";
                    context.ProgressReported?.Invoke(msg);
                });
                task.Value = 1.0;
            });
        return result;
    }
}

/// <summary>One row of features for ML.NET.</summary>
internal sealed class FeatureRow
{
    public float[] Features { get; set; } = [];
}

/// <summary>Reports synchronously (Progress&lt;T&gt; would post to the thread pool).</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
