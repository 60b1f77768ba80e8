// Reproduces the numerical experiments of Ikeda, Uda, Okanohara, Ito, "Speed-accuracy relations for diffusion models",
// arXiv:2407.04495 (Phys. Rev. X 15, 031031, 2025): (a) the 1-D two-component Gaussian mixture under cosine, cond-OT and
// OT paths with four start perturbations, exactly and with finite-step samplers; (b) the 2-D Swiss roll with the
// rotating force. Prints markdown tables and writes PNG figures. See docs/reproduction.md.
// Usage: dotnet run -c Release --project samples/PaperReproduction -- [--out docs/figures] [--quick]
using System.Diagnostics;
using PaperReproduction;

string outDir = Path.Combine("docs", "figures");
bool quick = false;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--quick") quick = true;
    else if (args[i] == "--out" && i + 1 < args.Length) outDir = args[++i];
    else { Console.Error.WriteLine($"Unknown option {args[i]}. Options: --out DIR, --quick."); return 2; }
}
Directory.CreateDirectory(outDir);
var clock = Stopwatch.StartNew();
Console.WriteLine($"# Paper reproduction{(quick ? " (quick mode: coarse quadrature, fewer samples)" : "")}");
Console.WriteLine();
OneDimensionalReport.Run(new OneDimensionalStudy(quick), outDir);
SwissRollReport.Run(new SwissRollStudy(quick), outDir);
Console.WriteLine($"Total time {clock.Elapsed.TotalSeconds:0.0} s; figures in {outDir}.");
return 0;
