using System.Globalization;
using MLExtensions.Diffusion.Training;

namespace MLExtensions.Diffusion.Onnx;

/// <summary>
/// Exports a <see cref="NeuralDenoiser"/> (standardisation, preconditioning and network) as one ONNX graph that computes
/// exactly what <see cref="NeuralDenoiser.Denoise"/> computes, with one noise level per row.
/// </summary>
/// <remarks>
/// <para>Graph signature (all float32, N symbolic):</para>
/// <list type="bullet">
/// <item><description>input <c>x</c> [N, d]: noisy rows in data units, x = m y + sigma eps;</description></item>
/// <item><description>input <c>m</c> [N, 1]: the signal scale of each row (&gt; 0);</description></item>
/// <item><description>input <c>sigma</c> [N, 1]: the noise scale of each row (&gt;= 0; rows with sigma = 0 return x / m);</description></item>
/// <item><description>output <c>x0</c> [N, d]: the denoised estimate x0hat = E[y | x] in data units;</description></item>
/// <item><description>optional output <c>network_output</c> [N, d]: the raw network output F in standardised units, with
/// x0hat = mean + scale (c_skip z + c_out F), z = (x / m - mean) / scale.</description></item>
/// </list>
/// <para>The graph computes in float32 and does not validate its inputs: m must be positive and finite, sigma finite and
/// non-negative (callers such as <see cref="OnnxDenoiser"/> check them). Against the double-precision pre- and
/// post-processing of <see cref="NeuralDenoiser"/> the results agree to about 1e-5 (the tests require 1e-4).</para>
/// <para>Per-row levels let one batch mix times, as a likelihood (probability-flow ODE) evaluation needs. The model's
/// <c>metadata_props</c> record the kind (<c>mlext.kind = denoiser</c>), dimension, parametrisation, sigma_data and the
/// standardiser. No Python or ONNX tooling is involved: the graph is written by <see cref="OnnxGraphBuilder"/>.</para>
/// </remarks>
public static class NetworkOnnxExporter
{
    /// <summary>Name of the noisy-rows input [N, d].</summary>
    public const string InputX = "x";

    /// <summary>Name of the per-row signal-scale input [N, 1].</summary>
    public const string InputM = "m";

    /// <summary>Name of the per-row noise-scale input [N, 1].</summary>
    public const string InputSigma = "sigma";

    /// <summary>Name of the denoised-estimate output [N, d].</summary>
    public const string OutputX0 = "x0";

    /// <summary>Name of the optional raw network output [N, d].</summary>
    public const string OutputNetwork = "network_output";

    /// <summary>The <c>mlext.kind</c> metadata value of an exported denoiser.</summary>
    public const string Kind = "denoiser";

    /// <summary>Name of the tangent input [N, d] of a Jacobian-vector-product graph.</summary>
    public const string InputTangent = "v";

    /// <summary>Name of the Jacobian-vector-product output [N, d].</summary>
    public const string OutputJacobianVectorProduct = "jv";

    /// <summary>The <c>mlext.kind</c> metadata value of an exported denoiser with Jacobian-vector products.</summary>
    public const string JacobianKind = "denoiser_jvp";

    /// <summary>Builds the graph of <paramref name="denoiser"/>.</summary>
    /// <param name="denoiser">The denoiser; its current weights are copied into the model.</param>
    /// <param name="includeNetworkOutput">Also expose the raw network output <see cref="OutputNetwork"/>.</param>
    /// <returns>The model (save it with <see cref="OnnxModel.Save"/>).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="denoiser"/> is null.</exception>
    /// <exception cref="ArgumentException">A weight is not finite.</exception>
    public static OnnxModel Export(NeuralDenoiser denoiser, bool includeNetworkOutput = false)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        int d = denoiser.Dimension;
        var g = new OnnxGraphBuilder("mlext_denoiser");
        string x = g.AddInput(InputX, OnnxElementType.Float, "N", d);
        string m = g.AddInput(InputM, OnnxElementType.Float, "N", 1);
        string sigma = g.AddInput(InputSigma, OnnxElementType.Float, "N", 1);
        var emitter = new DenoiserGraphEmitter(g, denoiser);
        var (x0, f) = emitter.DenoiseRows(x, m, sigma);
        g.AddOutput(x0, OutputX0, OnnxElementType.Float, "N", d);
        if (includeNetworkOutput)
            g.AddOutput(f, OutputNetwork, OnnxElementType.Float, "N", d);
        AddDenoiserMetadata(g, denoiser);
        g.SetMetadata("mlext.kind", Kind);
        return g.Build();
    }

    /// <summary>
    /// Builds the graph of <paramref name="denoiser"/> with forward-mode Jacobian-vector products: inputs <c>x</c> [N, d],
    /// <c>m</c> [N, 1], <c>sigma</c> [N, 1] and <c>v</c> [N, d] (one tangent per row); outputs <c>x0</c> [N, d] (as
    /// <see cref="Export"/>) and <c>jv</c> [N, d] = (d x0hat / dx) v. The tangent nodes sit beside the forward nodes they
    /// differentiate (see <see cref="DenoiserGraphEmitter.DenoiseRowsWithTangent"/>). Float32, like <see cref="Export"/>;
    /// run it with <see cref="OnnxJacobianDenoiser"/>.
    /// </summary>
    /// <param name="denoiser">The denoiser; its current weights are copied into the model.</param>
    /// <returns>The model.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="denoiser"/> is null.</exception>
    /// <exception cref="ArgumentException">A weight is not finite.</exception>
    public static OnnxModel ExportJacobianVectorProduct(NeuralDenoiser denoiser)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        int d = denoiser.Dimension;
        var g = new OnnxGraphBuilder("mlext_denoiser_jvp");
        string x = g.AddInput(InputX, OnnxElementType.Float, "N", d);
        string m = g.AddInput(InputM, OnnxElementType.Float, "N", 1);
        string sigma = g.AddInput(InputSigma, OnnxElementType.Float, "N", 1);
        string v = g.AddInput(InputTangent, OnnxElementType.Float, "N", d);
        var emitter = new DenoiserGraphEmitter(g, denoiser);
        var (x0, _, jv) = emitter.DenoiseRowsWithTangent(x, m, sigma, v);
        g.AddOutput(x0, OutputX0, OnnxElementType.Float, "N", d);
        g.AddOutput(jv, OutputJacobianVectorProduct, OnnxElementType.Float, "N", d);
        AddDenoiserMetadata(g, denoiser);
        g.SetMetadata("mlext.kind", JacobianKind);
        return g.Build();
    }

    /// <summary>Writes the metadata that describe the denoiser inside a graph (shared with the sampler graphs).</summary>
    internal static void AddDenoiserMetadata(OnnxGraphBuilder g, NeuralDenoiser denoiser)
    {
        var c = CultureInfo.InvariantCulture;
        var o = denoiser.Network.Options;
        g.SetMetadata("mlext.dimension", denoiser.Dimension.ToString(c));
        g.SetMetadata("mlext.parametrisation", denoiser.Parametrisation.ToString());
        g.SetMetadata("mlext.sigma_data", denoiser.SigmaData.ToString("R", c));
        g.SetMetadata("mlext.standardizer.mean", string.Join(",", denoiser.Standardizer.Mean.ToArray().Select(v => v.ToString("R", c))));
        g.SetMetadata("mlext.standardizer.scale", denoiser.Standardizer.Scale[0].ToString("R", c));
        g.SetMetadata("mlext.network", $"width={o.Width};depth={o.Depth};residual={o.Residual};layer_norm={o.LayerNorm};frequencies={o.EmbeddingFrequencies};conditioning={o.TimeConditioning}");
    }
}
