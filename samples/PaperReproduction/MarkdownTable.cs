using System.Globalization;
using System.Text;

namespace PaperReproduction;

/// <summary>A markdown table printed to the console and kept for the report.</summary>
internal sealed class MarkdownTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public void Add(params string[] cells) => _rows.Add(cells);

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append("| ").Append(string.Join(" | ", headers)).AppendLine(" |");
        sb.Append('|').Append(string.Concat(headers.Select(_ => " --- |"))).AppendLine();
        foreach (string[] row in _rows) sb.Append("| ").Append(string.Join(" | ", row)).AppendLine(" |");
        return sb.ToString();
    }

    /// <summary>Four significant digits, scientific when small or large.</summary>
    public static string F(double value)
    {
        if (double.IsNaN(value)) return "n/a";
        double a = Math.Abs(value);
        return a != 0 && (a < 1e-2 || a >= 1e4)
            ? value.ToString("0.000e+0", CultureInfo.InvariantCulture)
            : value.ToString("0.0000", CultureInfo.InvariantCulture);
    }
}
