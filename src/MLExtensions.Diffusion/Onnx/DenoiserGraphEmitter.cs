using MLExtensions.Diffusion.Training;

namespace MLExtensions.Diffusion.Onnx;

/// <summary>
/// Writes the computation of a <see cref="NeuralDenoiser"/> (standardisation, preconditioning, the
/// <see cref="TimeConditionedMlp"/> and the map back to data units) into an <see cref="OnnxGraphBuilder"/>. The
/// weights become initializers once, in the constructor (small helper constants on first use); every <c>Denoise</c>
/// call adds nodes only (plus, at a known level, its 2F-float embedding row), so a sampler graph
/// that evaluates the network at every step stores the weights a single time.
/// </summary>
/// <remarks>
/// <para>The first layer's weight matrix [w, d + E] is split into its data columns W_x [w, d] and its embedding columns
/// W_e [w, E], so x W^T = x_in W_x^T + emb W_e^T: the embedding term then broadcasts from one row [1, E] (one noise level
/// for the batch, as in a sampler step, where ONNX Runtime folds it into a constant) or from one row per input row
/// [N, E] (per-row levels, as in the exported network).</para>
/// <para>The per-row preconditioning of <see cref="DenoiseRows"/> is the ONNX transcription of
/// <see cref="Preconditioning.For"/> (Karras et al., arXiv:2206.00364, Table 1); the known-level path of
/// <see cref="Denoise(string, double, double)"/> calls <see cref="Preconditioning.For"/> itself in double precision.</para>
/// </remarks>
internal sealed class DenoiserGraphEmitter
{
    private readonly OnnxGraphBuilder _g;
    private readonly NeuralDenoiser _denoiser;
    private readonly TimeConditionedMlp _network;
    private readonly string _inputWeights;
    private readonly string _embeddingWeights;
    private readonly string _inputBias;
    private readonly string _mean;
    private string? _frequencies;
    private string? _meanOverScale;
    private readonly LayerNodes[] _layers;
    private readonly (string Weights, string Bias)?[] _projections;

    public DenoiserGraphEmitter(OnnxGraphBuilder builder, NeuralDenoiser denoiser)
    {
        _g = builder;
        _denoiser = denoiser;
        _network = denoiser.Network;
        int d = _network.Dimension, e = _network.Embedding.OutputSize;
        var first = (Linear)_network.Layers[0];
        int w = first.OutputSize, inSize = first.InputSize;
        var wx = new float[w * d];
        var we = new float[w * e];
        ReadOnlySpan<float> weights = first.Weights;
        for (int o = 0; o < w; o++)
        {
            weights.Slice(o * inSize, d).CopyTo(wx.AsSpan(o * d, d));
            weights.Slice(o * inSize + d, e).CopyTo(we.AsSpan(o * e, e));
        }
        _inputWeights = builder.AddInitializer("layer0_weight_x", wx, w, d);
        _embeddingWeights = builder.AddInitializer("layer0_weight_embedding", we, w, e);
        _inputBias = builder.AddInitializer("layer0_bias", (ReadOnlySpan<float>)first.Bias, w);

        _layers = new LayerNodes[_network.Layers.Count];
        for (int i = 1; i < _layers.Length; i++)
        {
            string prefix = $"layer{i}";
            _layers[i] = _network.Layers[i] switch
            {
                Linear linear => new LayerNodes(AddLinear(prefix, linear), linear.Activation, null, null, null, null),
                ResidualBlock block => new LayerNodes(null, Activation.None,
                    block.Norm is { } norm ? builder.AddInitializer(prefix + "_norm_scale", (ReadOnlySpan<float>)norm.Parameters[..norm.InputSize], norm.InputSize) : null,
                    block.Norm is { } norm2 ? builder.AddInitializer(prefix + "_norm_bias", (ReadOnlySpan<float>)norm2.Parameters[norm2.InputSize..], norm2.InputSize) : null,
                    block.Norm?.Epsilon,
                    (AddLinear(prefix + "_first", block.First), AddLinear(prefix + "_second", block.Second))),
                var other => throw new NotSupportedException($"Layer type {other.GetType().Name} has no ONNX export."),
            };
        }
        _projections = new (string, string)?[_layers.Length];
        for (int i = 0; i < _layers.Length; i++)
            if (_network.Projections[i] is { } projection)
                _projections[i] = AddLinear($"layer{i}_embedding_projection", projection);

        _mean = builder.AddInitializer("standardizer_mean", denoiser.Standardizer.Mean, d);
    }

    /// <summary>
    /// Denoises rows with per-row levels: <paramref name="x"/> [N, d], <paramref name="m"/> and <paramref name="sigma"/>
    /// [N, 1] (m &gt; 0, sigma &gt;= 0; rows with sigma = 0 return x / m, as <see cref="NeuralDenoiser"/> does).
    /// </summary>
    /// <returns>x0hat [N, d] in data units and the raw network output F [N, d].</returns>
    public (string X0, string NetworkOutput) DenoiseRows(string x, string m, string sigma)
    {
        var (x0, f, _) = EmitRows(x, m, sigma, null);
        return (x0, f);
    }

    /// <summary>
    /// As <see cref="DenoiseRows(string, string, string)"/>, plus forward-mode tangents: for tangents <paramref name="v"/> [N, d]
    /// (one per row) also J v [N, d], J = d x0hat / dx. The tangent ops are emitted beside the forward ops they
    /// differentiate (same nodes for the forward values): z' = v / (m scale), the network input tangent c_in z', Gemm
    /// tangents t W^T, SiLU' = s (1 + z (1 - s)), the layer-norm tangent r (t - mean(t) - xhat mean(xhat t)) gamma, and
    /// J v = scale (c_skip z' + c_out F'); the embedding is constant in x. Rows with sigma = 0 return v / m.
    /// </summary>
    /// <returns>x0hat, F and J v (all [N, d]).</returns>
    public (string X0, string NetworkOutput, string JacobianVectorProduct) DenoiseRowsWithTangent(string x, string m, string sigma, string v)
    {
        var (x0, f, jv) = EmitRows(x, m, sigma, v);
        return (x0, f, jv!);
    }

    private (string X0, string NetworkOutput, string? JacobianVectorProduct) EmitRows(string x, string m, string sigma, string? v)
    {
        var g = _g;
        double scale = _denoiser.Standardizer.Scale[0], sigmaData = _denoiser.SigmaData;
        string zero = g.Constant(0f), one = g.Constant(1f);
        string isClean = g.AddNode("Equal", new[] { sigma, zero });
        // VE level in standardised units, s = sigma / (m scale); rows with sigma = 0 use s = 1 (their result is replaced below).
        string mScaled = g.Mul(m, g.Constant((float)scale));
        string s = g.AddNode("Where", new[] { isClean, one, g.Div(sigma, mScaled) });
        string s2 = g.Mul(s, s);
        string cIn = g.Div(one, g.Sqrt(g.Add(s2, g.Constant((float)(sigmaData * sigmaData)))));
        string cNoise = g.Mul(g.Log(s), g.Constant(0.25f));
        (string? skip, string output) = _denoiser.Parametrisation switch
        {
            Parametrisation.Epsilon => ((string?)one, g.Mul(s, g.Constant(-1f))),
            Parametrisation.Data => (null, one),
            Parametrisation.Velocity => (g.Div(one, g.Add(one, s2)), g.Div(g.Mul(s, g.Constant(-1f)), g.Sqrt(g.Add(one, s2)))),
            Parametrisation.FlowVelocity => (g.Div(one, g.Add(one, s)), g.Div(g.Mul(s, g.Constant(-1f)), g.Add(one, s))),
            Parametrisation.Edm => (g.Mul(g.Mul(cIn, cIn), g.Constant((float)(sigmaData * sigmaData))), g.Mul(g.Mul(s, cIn), g.Constant((float)sigmaData))),
            var p => throw new NotSupportedException($"Parametrisation {p} has no ONNX export."),
        };
        string z = g.Div(g.Sub(g.Div(x, m), _mean), g.Constant((float)scale));
        string embedding = Embedding(cNoise);
        string? zTangent = v is null ? null : g.Div(v, mScaled);
        var (f, fTangent) = Network(g.Mul(z, cIn), embedding, zTangent is null ? null : g.Mul(zTangent, cIn));
        string standardised = skip is null ? g.Mul(f, output) : g.Add(g.Mul(z, skip), g.Mul(f, output));
        string x0 = g.Add(g.Mul(standardised, g.Constant((float)scale)), _mean);
        string clean = g.Div(x, m);
        string result = g.AddNode("Where", new[] { isClean, clean, x0 });
        if (v is null) return (result, f, null);
        string tangent = skip is null ? g.Mul(fTangent!, output) : g.Add(g.Mul(zTangent!, skip), g.Mul(fTangent!, output));
        string jv = g.Mul(tangent, g.Constant((float)scale));
        return (result, f, g.AddNode("Where", new[] { isClean, g.Div(v, m), jv }));
    }

    /// <summary>
    /// Denoises rows <paramref name="x"/> [N, d] at one known level (m &gt; 0, sigma &gt; 0), with the preconditioning
    /// coefficients computed here in double by <see cref="Preconditioning.For"/> and baked in as constants.
    /// </summary>
    /// <returns>x0hat [N, d] in data units.</returns>
    public string Denoise(string x, double m, double sigma)
    {
        var g = _g;
        double scale = _denoiser.Standardizer.Scale[0];
        var p = Preconditioning.For(_denoiser.Parametrisation, sigma / (m * scale), _denoiser.SigmaData);
        // z = (x / m - mean) / scale = x / (m scale) - mean / scale.
        if (_meanOverScale is null)
        {
            var meanOverScale = new double[_network.Dimension];
            for (int j = 0; j < meanOverScale.Length; j++) meanOverScale[j] = _denoiser.Standardizer.Mean[j] / scale;
            _meanOverScale = g.AddInitializer("standardizer_mean_over_scale", meanOverScale, meanOverScale.Length);
        }
        string z = g.Sub(g.Mul(x, g.Constant((float)(1 / (m * scale)))), _meanOverScale);
        // The embedding of the single level, computed by the network's own embedding layer (bit-identical to the C# path).
        var embedding = new float[_network.Embedding.OutputSize];
        _network.Embedding.Forward(new[] { (float)p.Noise }, embedding, 1);
        string emb = g.AddInitializer("embedding", embedding, 1, embedding.Length);
        string f = Network(g.Mul(z, g.Constant((float)p.Input)), emb, null).Output;
        string fTerm = g.Mul(f, g.Constant((float)(scale * p.Output)));
        string standardised = p.Skip == 0 ? fTerm : g.Add(g.Mul(z, g.Constant((float)(scale * p.Skip))), fTerm);
        return g.Add(standardised, _mean);
    }

    /// <summary>The Fourier features [sin(w c), cos(w c)] of c_noise [*, 1] as [*, 2F].</summary>
    private string Embedding(string cNoise)
    {
        _frequencies ??= _g.AddInitializer("embedding_frequencies", _network.Embedding.Frequencies, 1, _network.Embedding.Frequencies.Length);
        string angles = _g.Mul(cNoise, _frequencies);
        return _g.Concat(-1, _g.Sin(angles), _g.Cos(angles));
    }

    /// <summary>
    /// F(input, embedding) for input [N, d] and embedding [N, E] or [1, E]; with an input tangent [N, d] also the output
    /// tangent (dF/dinput) tangent (the embedding and its projections are constants).
    /// </summary>
    private (string Output, string? Tangent) Network(string input, string embedding, string? tangent)
    {
        var g = _g;
        string pre = g.Add(g.Gemm(input, _inputWeights, _inputBias, transB: true), g.Gemm(embedding, _embeddingWeights, null, transB: true));
        var (h, dh) = Silu(pre, tangent is null ? null : g.Gemm(tangent, _inputWeights, null, transB: true));
        for (int i = 1; i < _layers.Length; i++)
        {
            if (_projections[i] is { } projection)
                h = g.Add(h, g.Gemm(embedding, projection.Weights, projection.Bias, transB: true));
            var layer = _layers[i];
            if (layer.Linear is { } linear)
            {
                string z = g.Gemm(h, linear.Weights, linear.Bias, transB: true);
                string? dz = dh is null ? null : g.Gemm(dh, linear.Weights, null, transB: true);
                (h, dh) = layer.Activation == Activation.SiLU ? Silu(z, dz) : (z, dz);
            }
            else
            {
                var (first, second) = layer.Branch!.Value;
                string normed = layer.NormScale is null ? h : g.LayerNormalization(h, layer.NormScale, layer.NormBias, -1, layer.NormEpsilon!.Value);
                string? dNormed = dh is null || layer.NormScale is null ? dh : LayerNormTangent(h, dh, layer.NormScale, layer.NormEpsilon!.Value);
                var (hidden, dHidden) = Silu(g.Gemm(normed, first.Weights, first.Bias, transB: true),
                    dNormed is null ? null : g.Gemm(dNormed, first.Weights, null, transB: true));
                h = g.Add(h, g.Gemm(hidden, second.Weights, second.Bias, transB: true));
                if (dh is not null) dh = g.Add(dh, g.Gemm(dHidden!, second.Weights, null, transB: true));
            }
        }
        return (h, dh);
    }

    /// <summary>silu(z) = z sigmoid(z) (the nodes of <see cref="OnnxGraphBuilder.Silu"/>) and, given dz, its tangent s (1 + z (1 - s)) dz.</summary>
    private (string Value, string? Tangent) Silu(string z, string? dz)
    {
        var g = _g;
        string s = g.Sigmoid(z);
        string value = g.Mul(z, s);
        if (dz is null) return (value, null);
        string one = g.Constant(1f);
        string slope = g.Mul(s, g.Add(one, g.Mul(z, g.Sub(one, s))));
        return (value, g.Mul(dz, slope));
    }

    /// <summary>
    /// The tangent of LayerNormalization over the last axis at x for tangent t: with xhat = (x - mean) r,
    /// r = (var + epsilon)^(-1/2), it is gamma r (t - mean(t) - xhat mean(xhat t)) (the bias is constant).
    /// </summary>
    private string LayerNormTangent(string x, string t, string gamma, float epsilon)
    {
        var g = _g;
        ReadOnlySpan<long> last = [-1];
        string centred = g.Sub(x, g.ReduceMean(x, last));
        string r = g.Div(g.Constant(1f), g.Sqrt(g.Add(g.ReduceMean(g.Mul(centred, centred), last), g.Constant(epsilon))));
        string xhat = g.Mul(centred, r);
        string inner = g.Sub(g.Sub(t, g.ReduceMean(t, last)), g.Mul(xhat, g.ReduceMean(g.Mul(xhat, t), last)));
        return g.Mul(g.Mul(inner, r), gamma);
    }

    private (string Weights, string Bias) AddLinear(string prefix, Linear linear) =>
        (_g.AddInitializer(prefix + "_weight", (ReadOnlySpan<float>)linear.Weights, linear.OutputSize, linear.InputSize),
         _g.AddInitializer(prefix + "_bias", (ReadOnlySpan<float>)linear.Bias, linear.OutputSize));

    /// <summary>The initializer names of one hidden or output layer: a plain linear layer, or a residual block.</summary>
    private readonly record struct LayerNodes(
        (string Weights, string Bias)? Linear,
        Activation Activation,
        string? NormScale,
        string? NormBias,
        float? NormEpsilon,
        ((string Weights, string Bias) First, (string Weights, string Bias) Second)? Branch);
}
