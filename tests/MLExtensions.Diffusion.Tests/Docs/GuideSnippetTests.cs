using System.Text.RegularExpressions;

namespace MLExtensions.Diffusion.Tests.Docs;

/// <summary>Every C# snippet of docs/guide.md and docs/getting-started.md compiles: each appears verbatim (up to whitespace;
/// a snippet may be split at blank lines, e.g. a class and the statements after it) in samples/GuideSnippets, which the
/// solution builds.</summary>
public class GuideSnippetTests
{
    private static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MLExtensions.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("MLExtensions.sln not found above the test's folder.");
    }

    private static string Collapse(string text) => Regex.Replace(text, @"\s+", " ").Trim();

    [Theory]
    [InlineData("docs/guide.md")]
    [InlineData("docs/getting-started.md")]
    public void EverySnippet_IsCompiledBySamplesGuideSnippets(string page)
    {
        string root = Root();
        string sources = Collapse(string.Concat(Directory.GetFiles(Path.Combine(root, "samples", "GuideSnippets"), "*.cs").Order().Select(File.ReadAllText)));
        var snippets = Regex.Matches(File.ReadAllText(Path.Combine(root, page)), @"```csharp\n(.*?)```", RegexOptions.Singleline);
        Assert.NotEmpty(snippets);
        foreach (Match snippet in snippets)
            foreach (string chunk in Regex.Split(snippet.Groups[1].Value, @"\n\s*\n").Where(c => c.Trim().Length > 0))
                Assert.True(sources.Contains(Collapse(chunk), StringComparison.Ordinal),
                    $"{page}: this snippet is not in samples/GuideSnippets (add it there so that it compiles):\n{chunk}");
    }
}
