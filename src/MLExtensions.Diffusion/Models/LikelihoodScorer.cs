using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Likelihood;

namespace MLExtensions.Diffusion.Models;

/// <summary>
/// The negative log-likelihood of rows in data units under a trained model, without ML.NET: the rows are encoded
/// (<see cref="DiffusionModelParameters.FeatureEncoding"/>) and standardised (<see cref="DiffusionModelParameters.FeatureScaler"/>),
/// the probability-flow ODE gives -ln p_z in standardised units (the compiled engine, <see cref="CompiledLikelihood"/>, when
/// it supports the network, else <see cref="ProbabilityFlowLikelihood"/>), and the change of variables brings it back:
/// NLL_y = NLL_z + sum_j ln std_j - ln |du/dy|. The ML.NET transformer <c>LikelihoodTransformer</c> scores through this class.
/// </summary>
/// <remarks>Thread-safe: calls share no mutable state (the compiled engine takes a pooled workspace per chunk).</remarks>
public sealed class LikelihoodScorer
{
    private readonly double[] _mean, _scale;
    private readonly CompiledLikelihood? _compiled;
    private readonly IDenoiserJacobian _denoiser;
    private readonly CompiledLikelihoodOptions _options;

    /// <summary>Prepares the scorer.</summary>
    /// <param name="model">The trained model.</param>
    /// <param name="options">Integrator, steps, divergence estimator (null: defaults, Heun with 64 steps, exact divergence).</param>
    /// <param name="compiled">Whether to use the compiled engine when it supports the network (default true); false, or a
    /// network it does not support, integrates with <see cref="ProbabilityFlowLikelihood"/> on the same grid.</param>
    /// <param name="denoiser">The Jacobian-vector products to integrate with instead of the model's network (e.g. an ONNX
    /// Runtime one); null for <see cref="DiffusionModelParameters.Denoiser"/>. Given, it disables the compiled engine.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentException">An option is invalid for the model's schedule or dimension (the message names it).</exception>
    public LikelihoodScorer(DiffusionModelParameters model, CompiledLikelihoodOptions? options = null, bool compiled = true, IDenoiserJacobian? denoiser = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _options = options ?? new CompiledLikelihoodOptions();
        _options.Validate(model.Schedule, model.Dimension);
        ToLikelihoodOptions(0).Validate(model.Schedule, model.Dimension);
        Model = model;
        _mean = model.FeatureScaler.Mean.ToArray();
        _scale = model.FeatureScaler.Scale.ToArray();
        double correction = 0;
        foreach (double s in _scale) correction += Math.Log(s);
        LogScaleCorrection = correction;
        _denoiser = denoiser ?? model.Denoiser;
        if (compiled && denoiser is null && CompiledLikelihood.Supports(model.Denoiser, model.Schedule, out _))
            _compiled = new CompiledLikelihood(model.Denoiser, model.Schedule, _options);
    }

    /// <summary>The model whose likelihood is computed.</summary>
    public DiffusionModelParameters Model { get; }

    /// <summary>Features per row, d.</summary>
    public int Dimension => Model.Dimension;

    /// <summary>Whether the compiled engine scores (false: <see cref="ProbabilityFlowLikelihood"/>).</summary>
    public bool IsCompiled => _compiled is not null;

    /// <summary>sum_j ln std_j of the model's feature scaler: NLL in data units minus NLL in standardised units.</summary>
    public double LogScaleCorrection { get; }

    /// <summary>The negative log-likelihood of <paramref name="rowCount"/> rows of width <paramref name="width"/> (which must be d).</summary>
    /// <param name="rows">rowCount x width values in data units, row-major; finite.</param>
    /// <param name="rowCount">Rows, at least 1.</param>
    /// <param name="width">Values per row; must equal <see cref="Dimension"/>.</param>
    /// <param name="seed">Seed of the Hutchinson probes (ignored by the exact divergence).</param>
    /// <returns>-ln p(y) per row, in nats, data units.</returns>
    /// <exception cref="ArgumentException"><paramref name="width"/> is not d, the length is not rowCount x width, or a value
    /// is not finite (the message names the row and slot).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rowCount"/> is not positive.</exception>
    public double[] Score(ReadOnlySpan<float> rows, int rowCount, int width, int seed = 0)
    {
        int d = Dimension;
        RowShape.Check(rows.Length, rowCount, width, d, nameof(rows), nameof(rowCount), nameof(width));
        for (int i = 0; i < rows.Length; i++)
            if (!float.IsFinite(rows[i]))
                throw new ArgumentException($"Row {i / d} holds a non-finite value ({rows[i]}) at slot {i % d}.", nameof(rows));
        var nll = new double[rows.Length / d];
        ScoreFinite(rows, nll, seed);
        return nll;
    }

    /// <summary>Scores rows already checked to be finite and of width d; writes NLL in data units.</summary>
    internal void ScoreFinite(ReadOnlySpan<float> rows, Span<double> nll, int seed)
    {
        int d = Dimension;
        var z = new double[rows.Length];
        var encoding = Model.FeatureEncoding;
        if (encoding.IsIdentity)
            for (int i = 0; i < z.Length; i++) z[i] = (rows[i] - _mean[i % d]) / _scale[i % d];
        else
        {
            encoding.Encode(rows, z);
            for (int i = 0; i < z.Length; i++) z[i] = (z[i] - _mean[i % d]) / _scale[i % d];
        }
        if (_compiled is not null) _compiled.Compute(z, nll, default, default, seed);
        else ProbabilityFlowLikelihood.Compute(_denoiser, Model.Schedule, z, nll, ToLikelihoodOptions(seed));
        for (int r = 0; r < nll.Length; r++) nll[r] = -nll[r] + LogScaleCorrection;
        // Feature transforms: p_y(y) = p_u(u) |du/dy|, so NLL_y = NLL_u - ln |du/dy|.
        if (!encoding.IsIdentity)
            for (int r = 0; r < nll.Length; r++) nll[r] -= encoding.LogJacobian(rows.Slice(r * d, d));
    }

    /// <summary>The grid engine's settings for one call (unit-variance default prior: the diffusion runs in standardised units).</summary>
    private LikelihoodOptions ToLikelihoodOptions(int seed) => new()
    {
        Steps = _options.Steps,
        Integrator = _options.Integrator,
        TMin = _options.TMin,
        Divergence = _options.Divergence,
        HutchinsonProbes = _options.HutchinsonProbes,
        Seed = seed,
        Prior = _options.Prior,
        DataVariance = _options.DataVariance,
    };
}
