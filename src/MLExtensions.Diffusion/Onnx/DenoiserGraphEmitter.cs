using MLExtensions.Diffusion.Training;

namespace MLExtensions.Diffusion.Onnx;

/// <summary>
/// Writes the computation of a <see cref="NeuralDenoiser"/> (standardisation, preconditioning, the
/// <see cref="TimeConditionedMlp"/> and the map back to data units) into an <see cref="OnnxGraphBuilder"/>. Each weight
/// becomes an initializer once, on first use, so a sampler graph that evaluates the network at every step stores the
/// weights a single time, and neither kind of graph carries initializers it does not read.
/// </summary>
/// <remarks>
/// <para>The first layer's weight matrix [w, d + E] is split into its data columns W_x [w, d] and its embedding columns
/// W_e [w, E], so x W^T = x_in W_x^T + emb W_e^T. With one level per row (<see cref="DenoiseRows"/>, the exported network)
/// the embedding term is a Gemm on [N, E]; at a known level (<see cref="Denoise(string, double, double)"/>, a sampler
/// step) it is folded into the layer's bias together with the standardisation and c_in (see there).</para>
/// <para>The per-row preconditioning of <see cref="DenoiseRows"/> is the ONNX transcription of
/// <see cref="Preconditioning.For"/> (Karras et al., arXiv:2206.00364, Table 1); the known-level path of
/// <see cref="Denoise(string, double, double)"/> calls <see cref="Preconditioning.For"/> itself in double precision.</para>
/// </remarks>
internal sealed class DenoiserGraphEmitter
{
    private readonly OnnxGraphBuilder _g;
    private readonly NeuralDenoiser _denoiser;
    private readonly TimeConditionedMlp _network;
    private readonly float[] _inputWeightValues;
    private readonly float[] _embeddingWeightValues;
    private readonly Dictionary<string, string> _initializers = new(StringComparer.Ordinal);
    private string? _frequencies;
    private int _levels;

    public DenoiserGraphEmitter(OnnxGraphBuilder builder, NeuralDenoiser denoiser)
    {
        _g = builder;
        _denoiser = denoiser;
        _network = denoiser.Network;
        var layers = _network.Layers;
        foreach (var layer in layers.Skip(1).SkipLast(1))
            if (layer is not (Linear or ResidualBlock))
                throw new NotSupportedException($"Layer type {layer.GetType().Name} has no ONNX export.");
        if (layers[0] is not Linear { Activation: Activation.SiLU } || layers[^1] is not Linear { Activation: Activation.None })
            throw new NotSupportedException("The ONNX export expects a SiLU input layer and a linear output layer (as TimeConditionedMlp builds them).");
        int d = _network.Dimension, e = _network.Embedding.OutputSize;
        var first = (Linear)layers[0];
        int w = first.OutputSize, inSize = first.InputSize;
        _inputWeightValues = new float[w * d];
        _embeddingWeightValues = new float[w * e];
        ReadOnlySpan<float> weights = first.Weights;
        for (int o = 0; o < w; o++)
        {
            weights.Slice(o * inSize, d).CopyTo(_inputWeightValues.AsSpan(o * d, d));
            weights.Slice(o * inSize + d, e).CopyTo(_embeddingWeightValues.AsSpan(o * e, e));
        }
    }

    private string InputWeights => Initializer("layer0_weight_x", _inputWeightValues, _inputWeightValues.Length / _network.Dimension, _network.Dimension);

    /// <summary>The initializer <paramref name="name"/>, added with <paramref name="values"/> on first use.</summary>
    private string Initializer(string name, ReadOnlySpan<float> values, params long[] dims)
    {
        if (!_initializers.TryGetValue(name, out string? added))
            _initializers[name] = added = _g.AddInitializer(name, values, dims);
        return added;
    }

    private string Weights(string name, Linear linear) => Initializer(name + "_weight", linear.Weights, linear.OutputSize, linear.InputSize);

    private string Bias(string name, Linear linear) => Initializer(name + "_bias", linear.Bias, linear.OutputSize);

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
        if (!_initializers.TryGetValue("standardizer_mean", out string? mean))
            _initializers["standardizer_mean"] = mean = g.AddInitializer("standardizer_mean", _denoiser.Standardizer.Mean, _network.Dimension);
        string z = g.Div(g.Sub(g.Div(x, m), mean), g.Constant((float)scale));
        string embedding = Embedding(cNoise);
        string? zTangent = v is null ? null : g.Div(v, mScaled);
        var (f, fTangent) = Network(g.Mul(z, cIn), embedding, zTangent is null ? null : g.Mul(zTangent, cIn));
        string standardised = skip is null ? g.Mul(f, output) : g.Add(g.Mul(z, skip), g.Mul(f, output));
        string x0 = g.Add(g.Mul(standardised, g.Constant((float)scale)), mean);
        string clean = g.Div(x, m);
        string result = g.AddNode("Where", new[] { isClean, clean, x0 });
        if (v is null) return (result, f, null);
        string tangent = skip is null ? g.Mul(fTangent!, output) : g.Add(g.Mul(zTangent!, skip), g.Mul(fTangent!, output));
        string jv = g.Mul(tangent, g.Constant((float)scale));
        return (result, f, g.AddNode("Where", new[] { isClean, g.Div(v, m), jv }));
    }

    /// <summary>
    /// Denoises rows <paramref name="x"/> [N, d] at one known level (m &gt; 0, sigma &gt; 0). Everything that depends on the
    /// level only is folded, in double, into per-level constants, so the rows meet no per-column or embedding op: with
    /// a = c_in / (m scale), the first layer is <c>Gemm(x, W_x, alpha = a, bias = b_0 + W_e emb - c_in W_x mean / scale)</c>
    /// (standardisation, c_in and the embedding folded); each later plain layer with an embedding projection takes
    /// <c>b_i + W_i (P_i emb + p_i)</c> as its bias; and the output layer gives x0hat directly as
    /// <c>(c_skip / m) x + Gemm(h, W_out, alpha = scale c_out, bias = scale c_out b_out + (1 - c_skip) mean)</c>.
    /// The weight matrices stay shared by every level; a level adds one bias of width w (two with projections) and one of
    /// width d. Preconditioning comes from <see cref="Preconditioning.For"/>, the embedding from the network's own layer.
    /// </summary>
    /// <returns>x0hat [N, d] in data units.</returns>
    public string Denoise(string x, double m, double sigma)
    {
        var g = _g;
        int d = _network.Dimension;
        double scale = _denoiser.Standardizer.Scale[0];
        ReadOnlySpan<double> mean = _denoiser.Standardizer.Mean;
        var p = Preconditioning.For(_denoiser.Parametrisation, sigma / (m * scale), _denoiser.SigmaData);
        var embedding = new float[_network.Embedding.OutputSize];
        _network.Embedding.Forward(new[] { (float)p.Noise }, embedding, 1);
        string level = $"level{_levels++}";

        // First layer: (c_in z) W_x^T + b_0 + emb W_e^T with z = x / (m scale) - mean / scale.
        var first = (Linear)_network.Layers[0];
        int w = first.OutputSize, inSize = first.InputSize;
        ReadOnlySpan<float> weights = first.Weights;
        var bias0 = new double[w];
        for (int o = 0; o < w; o++)
        {
            var row = weights.Slice(o * inSize, inSize);
            double sum = first.Bias[o];
            for (int j = 0; j < d; j++) sum -= p.Input * row[j] * (mean[j] / scale);
            for (int k = 0; k < embedding.Length; k++) sum += (double)row[d + k] * embedding[k];
            bias0[o] = sum;
        }
        string pre = g.Gemm(x, InputWeights, g.AddInitializer(level + "_layer0_bias", bias0, w), transB: true, alpha: (float)(p.Input / (m * scale)));
        string h = Silu(pre, null).Value;
        h = HiddenLayers(h, null, i => FoldedProjection(i, embedding, level)).Output;

        // Output layer: x0hat = mean + scale (c_skip z + c_out F) = (c_skip / m) x + scale c_out (h W^T + b) + (1 - c_skip) mean.
        var output = (Linear)_network.Layers[^1];
        var biasOut = new double[d];
        for (int j = 0; j < d; j++) biasOut[j] = scale * p.Output * output.Bias[j] + (1 - p.Skip) * mean[j];
        string f = g.Gemm(h, Weights($"layer{_network.Layers.Count - 1}", output), g.AddInitializer(level + "_output_bias", biasOut, d), transB: true,
            alpha: (float)(scale * p.Output));
        return p.Skip == 0 ? f : g.Add(g.Mul(x, g.Constant((float)(p.Skip / m))), f);
    }

    /// <summary>
    /// For hidden layer <paramref name="i"/> with an embedding projection at a known level: a plain layer's bias with the
    /// projection folded in, b_i + W_i (P_i emb + p_i) (the layer then needs no Add); a residual block's constant row
    /// P_i emb + p_i [1, w], added to its input.
    /// </summary>
    private Folded FoldedProjection(int i, float[] embedding, string level)
    {
        var projection = _network.Projections[i]!;
        int w = projection.OutputSize, e = projection.InputSize;
        ReadOnlySpan<float> pw = projection.Weights;
        var shift = new double[w];
        for (int o = 0; o < w; o++)
        {
            double sum = projection.Bias[o];
            for (int k = 0; k < e; k++) sum += (double)pw[o * e + k] * embedding[k];
            shift[o] = sum;
        }
        if (_network.Layers[i] is not Linear linear) return new Folded(null, _g.AddInitializer($"{level}_layer{i}_embedding_shift", shift, 1, w));
        int inSize = linear.InputSize;
        ReadOnlySpan<float> lw = linear.Weights;
        var bias = new double[linear.OutputSize];
        for (int o = 0; o < bias.Length; o++)
        {
            double sum = linear.Bias[o];
            for (int k = 0; k < inSize; k++) sum += (double)lw[o * inSize + k] * shift[k];
            bias[o] = sum;
        }
        return new Folded(_g.AddInitializer($"{level}_layer{i}_bias", bias, bias.Length), null);
    }

    /// <summary>The Fourier features [sin(w c), cos(w c)] of c_noise [*, 1] as [*, 2F].</summary>
    private string Embedding(string cNoise)
    {
        _frequencies ??= _g.AddInitializer("embedding_frequencies", _network.Embedding.Frequencies, 1, _network.Embedding.Frequencies.Length);
        string angles = _g.Mul(cNoise, _frequencies);
        return _g.Concat(-1, _g.Sin(angles), _g.Cos(angles));
    }

    /// <summary>
    /// F(input, embedding) for input [N, d] and embedding [N, E] (per-row levels); with an input tangent [N, d] also the
    /// output tangent (dF/dinput) tangent (the embedding and its projections are constants).
    /// </summary>
    private (string Output, string? Tangent) Network(string input, string embedding, string? tangent)
    {
        var g = _g;
        var first = (Linear)_network.Layers[0];
        string embeddingWeights = Initializer("layer0_weight_embedding", _embeddingWeightValues, first.OutputSize, _network.Embedding.OutputSize);
        string pre = g.Add(g.Gemm(input, InputWeights, Bias("layer0", first), transB: true), g.Gemm(embedding, embeddingWeights, null, transB: true));
        var (h, dh) = Silu(pre, tangent is null ? null : g.Gemm(tangent, InputWeights, null, transB: true));
        (h, dh) = HiddenLayers(h, dh, i =>
        {
            var projection = _network.Projections[i]!;
            string name = $"layer{i}_embedding_projection";
            return new Folded(null, g.Gemm(embedding, Weights(name, projection), Bias(name, projection), transB: true));
        });
        var output = (Linear)_network.Layers[^1];
        string prefix = $"layer{_network.Layers.Count - 1}";
        string weights = Weights(prefix, output);
        return (g.Gemm(h, weights, Bias(prefix, output), transB: true), dh is null ? null : g.Gemm(dh, weights, null, transB: true));
    }

    /// <summary>
    /// The hidden layers 1 .. L-2 (plain SiLU layers or residual blocks) on h [N, w], with the tangent dh when given.
    /// <paramref name="projection"/> gives, for a layer with an embedding projection, either a replacement bias for a
    /// plain layer (the projection folded in) or a shift to add to the layer's input.
    /// </summary>
    private (string Output, string? Tangent) HiddenLayers(string h, string? dh, Func<int, Folded> projection)
    {
        var g = _g;
        for (int i = 1; i < _network.Layers.Count - 1; i++)
        {
            string prefix = $"layer{i}";
            string? foldedBias = null;
            if (_network.Projections[i] is not null)
            {
                var folded = projection(i);
                if (folded.Shift is { } shift) h = g.Add(h, shift);
                foldedBias = folded.Bias;
            }
            if (_network.Layers[i] is Linear linear)
            {
                string weights = Weights(prefix, linear);
                string z = g.Gemm(h, weights, foldedBias ?? Bias(prefix, linear), transB: true);
                string? dz = dh is null ? null : g.Gemm(dh, weights, null, transB: true);
                (h, dh) = linear.Activation == Activation.SiLU ? Silu(z, dz) : (z, dz);
            }
            else
            {
                var block = (ResidualBlock)_network.Layers[i];
                string firstWeights = Weights(prefix + "_first", block.First), secondWeights = Weights(prefix + "_second", block.Second);
                string normed = h;
                string? dNormed = dh;
                if (block.Norm is { } norm)
                {
                    string scale = Initializer(prefix + "_norm_scale", norm.Parameters[..norm.InputSize], norm.InputSize);
                    string bias = Initializer(prefix + "_norm_bias", norm.Parameters[norm.InputSize..], norm.InputSize);
                    normed = g.LayerNormalization(h, scale, bias, -1, norm.Epsilon);
                    if (dh is not null) dNormed = LayerNormTangent(h, dh, scale, norm.Epsilon);
                }
                var (hidden, dHidden) = Silu(g.Gemm(normed, firstWeights, Bias(prefix + "_first", block.First), transB: true),
                    dNormed is null ? null : g.Gemm(dNormed, firstWeights, null, transB: true));
                h = g.Add(h, g.Gemm(hidden, secondWeights, Bias(prefix + "_second", block.Second), transB: true));
                if (dh is not null) dh = g.Add(dh, g.Gemm(dHidden!, secondWeights, null, transB: true));
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

    /// <summary>A hidden layer's embedding projection at a level: a replacement bias (plain layer) or an input shift (residual block).</summary>
    private readonly record struct Folded(string? Bias, string? Shift);
}
