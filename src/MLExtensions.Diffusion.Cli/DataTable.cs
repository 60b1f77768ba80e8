using System.Globalization;
using System.Text;
using Parquet;
using Parquet.Schema;

namespace MLExtensions.Diffusion.Cli;

/// <summary>How empty cells (missing values) are treated.</summary>
public enum MissingMode
{
    /// <summary>An empty cell in a selected column is a data error naming its row and column.</summary>
    Error,

    /// <summary>Rows with an empty cell in a selected column are dropped.</summary>
    Drop,
}

/// <summary>A table of selected numeric feature columns, row-major; missing cells are NaN until handled.</summary>
public sealed class FeatureTable
{
    /// <summary>Creates a table.</summary>
    public FeatureTable(string[] columns, float[] values, int droppedRows)
    {
        Columns = columns;
        Values = values;
        DroppedRows = droppedRows;
    }

    /// <summary>The selected column names, in order.</summary>
    public string[] Columns { get; }

    /// <summary>Row-major values, <see cref="Columns"/>.Length per row.</summary>
    public float[] Values { get; }

    /// <summary>Rows dropped for missing values.</summary>
    public int DroppedRows { get; }

    /// <summary>The number of rows.</summary>
    public int Rows => Columns.Length == 0 ? 0 : Values.Length / Columns.Length;
}

/// <summary>Reads CSV and Parquet files into a <see cref="FeatureTable"/>.</summary>
public static class TableReader
{
    private sealed class RawColumn(string name)
    {
        public string Name { get; } = name;
        public List<double> Numbers { get; } = [];
        public string? FirstText { get; set; }
        public int FirstTextRow { get; set; }
    }

    /// <summary>Reads <paramref name="path"/> (CSV, or Parquet by the .parquet extension) and selects feature columns.</summary>
    /// <param name="path">The file.</param>
    /// <param name="columns">Column names to select in order; null or empty for every numeric column.</param>
    /// <param name="missing">How empty cells are handled.</param>
    public static FeatureTable Read(string path, IReadOnlyList<string>? columns, MissingMode missing)
    {
        if (!File.Exists(path))
            throw new CliException($"The data file '{path}' does not exist.", ExitCodes.UserError);
        var raw = path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase) ? ReadParquet(path) : ReadCsv(path);
        return Select(path, raw, columns, missing);
    }

    private static FeatureTable Select(string path, List<RawColumn> raw, IReadOnlyList<string>? columns, MissingMode missing)
    {
        List<RawColumn> selected;
        if (columns is { Count: > 0 })
        {
            selected = [];
            foreach (var name in columns)
            {
                var column = raw.FirstOrDefault(c => c.Name == name)
                    ?? raw.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase))
                    ?? throw new CliException(
                        $"Column '{name}' is not in '{path}'. Its columns are: {string.Join(", ", raw.Select(c => c.Name))}.", ExitCodes.DataError);
                if (column.FirstText is not null)
                    throw new CliException(
                        $"Column '{column.Name}' in '{path}' is text (row {column.FirstTextRow} holds '{column.FirstText}'), not numeric; " +
                        "a diffusion model needs numeric features. Leave it out of --columns (or one-hot encode it first).", ExitCodes.DataError);
                selected.Add(column);
            }
        }
        else
        {
            selected = raw.Where(c => c.FirstText is null).ToList();
            if (selected.Count == 0)
                throw new CliException($"'{path}' has no numeric column.", ExitCodes.DataError);
        }

        int rows = selected[0].Numbers.Count, d = selected.Count;
        var values = new List<float>(rows * d);
        int dropped = 0;
        for (int r = 0; r < rows; r++)
        {
            int missingAt = -1;
            for (int j = 0; j < d && missingAt < 0; j++)
                if (double.IsNaN(selected[j].Numbers[r])) missingAt = j;
            if (missingAt >= 0)
            {
                if (missing == MissingMode.Error)
                    throw new CliException(
                        $"Row {r + 1} of '{path}' has no value in column '{selected[missingAt].Name}' (an empty cell is a missing value). " +
                        "Fill it, or pass --missing drop to drop rows with missing values.", ExitCodes.DataError);
                dropped++;
                continue;
            }
            for (int j = 0; j < d; j++) values.Add((float)selected[j].Numbers[r]);
        }
        if (values.Count == 0)
            throw new CliException($"No rows left in '{path}'" + (dropped > 0 ? $" ({dropped} dropped for missing values)." : "."), ExitCodes.DataError);
        return new FeatureTable(selected.Select(c => c.Name).ToArray(), values.ToArray(), dropped);
    }

    private static List<RawColumn> ReadCsv(string path)
    {
        List<string[]> records;
        try
        {
            records = ParseCsv(File.ReadAllText(path));
        }
        catch (IOException e)
        {
            throw new CliException($"Cannot read '{path}': {e.Message}", ExitCodes.UserError);
        }
        if (records.Count == 0)
            throw new CliException($"'{path}' is empty: a CSV file needs a header row.", ExitCodes.DataError);
        var header = records[0];
        var columns = header.Select((h, i) => new RawColumn(h.Trim().Length > 0 ? h.Trim() : $"column{i + 1}")).ToList();
        for (int r = 1; r < records.Count; r++)
        {
            var cells = records[r];
            if (cells.Length == 1 && cells[0].Length == 0) continue;   // blank line
            if (cells.Length != columns.Count)
                throw new CliException(
                    $"Line {r + 1} of '{path}' has {cells.Length} cells but the header has {columns.Count}.", ExitCodes.DataError);
            for (int j = 0; j < cells.Length; j++)
            {
                string cell = cells[j].Trim();
                var column = columns[j];
                if (cell.Length == 0) { column.Numbers.Add(double.NaN); continue; }
                if (double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && !double.IsNaN(v))
                    column.Numbers.Add(v);
                else
                {
                    column.Numbers.Add(double.NaN);
                    if (column.FirstText is null) { column.FirstText = cell; column.FirstTextRow = column.Numbers.Count; }
                }
            }
        }
        return columns;
    }

    /// <summary>RFC 4180 fields: commas, double quotes, doubled quotes inside quotes, CRLF or LF line ends.</summary>
    internal static List<string[]> ParseCsv(string text)
    {
        var records = new List<string[]>();
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false, any = false;
        for (int i = 0; i < text.Length; i++)
        {
            char ch = text[i];
            any = true;
            if (quoted)
            {
                if (ch == '"')
                {
                    if (i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                    else quoted = false;
                }
                else field.Append(ch);
            }
            else if (ch == '"') quoted = true;
            else if (ch == ',') { fields.Add(field.ToString()); field.Clear(); }
            else if (ch == '\r') { }
            else if (ch == '\n')
            {
                fields.Add(field.ToString()); field.Clear();
                records.Add(fields.ToArray()); fields.Clear();
                any = false;
            }
            else field.Append(ch);
        }
        if (any) { fields.Add(field.ToString()); records.Add(fields.ToArray()); }
        return records;
    }

    private static List<RawColumn> ReadParquet(string path)
    {
        try
        {
            return ReadParquetAsync(path).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not CliException and (IOException or InvalidDataException or NotSupportedException or Parquet.ParquetException))
        {
            throw new CliException($"Cannot read the Parquet file '{path}': {e.Message}", ExitCodes.DataError);
        }
    }

    private static async Task<List<RawColumn>> ReadParquetAsync(string path)
    {
        using var stream = File.OpenRead(path);
        var result = await Parquet.Serialization.ParquetSerializer.DeserializeUntypedAsync(stream);
        DataField[] fields = result.Schema.GetDataFields();
        var columns = fields.Select(f => new RawColumn(f.Name)).ToList();
        foreach (var row in result.Data)
        {
            for (int j = 0; j < fields.Length; j++)
            {
                var column = columns[j];
                object? value = row.TryGetValue(fields[j].Name, out var v) ? v : null;
                switch (value)
                {
                    case null: column.Numbers.Add(double.NaN); break;
                    case string s when s.Length == 0: column.Numbers.Add(double.NaN); break;
                    case string s:
                        column.Numbers.Add(double.NaN);
                        if (column.FirstText is null) { column.FirstText = s; column.FirstTextRow = column.Numbers.Count; }
                        break;
                    case bool b: column.Numbers.Add(b ? 1 : 0); break;
                    case IConvertible c when value is not DateTime:
                        column.Numbers.Add(c.ToDouble(CultureInfo.InvariantCulture)); break;
                    default:
                        column.Numbers.Add(double.NaN);
                        if (column.FirstText is null) { column.FirstText = value.ToString(); column.FirstTextRow = column.Numbers.Count; }
                        break;
                }
            }
        }
        return columns;
    }
}
