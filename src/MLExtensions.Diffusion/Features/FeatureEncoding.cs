using System.Text.Json;
using System.Text.Json.Serialization;
using MLExtensions.Diffusion.Numerics;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Features;

/// <summary>
/// The fitted per-feature maps between data units y and the unbounded units u the model's
/// <see cref="DiffusionModelParameters.FeatureScaler"/> standardises: for each feature a bound map (<see cref="FeatureTransformKind"/>,
/// from <see cref="ScoreMatchingOptions.FeatureBounds"/> or <see cref="ScoreMatchingOptions.InferBounds"/>), then under
/// <see cref="FeatureScaling.QuantileNormal"/> a quantile-normal map; on output the inverse maps, then rounding of integer
/// features and argmax decoding of categorical ranges. Fitted by <c>ScoreMatchingEstimator.Fit</c> before the
/// per-feature standardisation, saved in the model file (<c>feature-encoding.json</c>, format version 4), and applied by
/// every generating member of <see cref="DiffusionModelParameters"/> and <c>GenerateTransformer</c>, and (forwards, with its
/// log-Jacobian) by <c>LikelihoodTransformer</c>.
/// </summary>
/// <remarks>
/// <para>Bounds are inclusive. Values of the training rows at a bound (a spike, e.g. days without rain at 0) are encoded
/// as if they lay at the distance q e^-3 from the bound, q the 1 % quantile of the positive distances (u stays finite and
/// the spike sits apart from the rest), and generated values closer than q e^-1.5 to that bound are returned as the bound
/// itself, so the spike is reproduced as exact values (under 1 % of the positive training values lie that close). A bound no
/// training row reaches is never produced by the bound map: generated values lie strictly inside (rounding of an integer
/// feature may land on it).</para>
/// <para>Likelihood. p_y(y) = p_u(u) prod_j |du_j/dy_j|, so NLL in data units is the NLL in u units minus
/// <see cref="LogJacobian"/>. Integer and categorical features enter as the continuous values they were trained on (the
/// density of the relaxation), values at a bound as at the encoding floor.</para>
/// <para>The ONNX sampler graph (<see cref="DiffusionModelParameters.ExportSamplerOnnx(Samplers.ISampler?, int?)"/>) ends with the
/// per-feature de-standardisation; when <see cref="IsIdentity"/> is false, apply <see cref="Decode"/> to its output (the
/// library's <c>GenerateTransformer</c> does so on the C# side after each ONNX Runtime call).</para>
/// </remarks>
public sealed class FeatureEncoding
{
    private readonly Feature[] _features;
    private readonly CategoricalFeatureRange[] _categorical;

    private FeatureEncoding(Feature[] features, CategoricalFeatureRange[] categorical)
    {
        _features = features;
        _categorical = categorical;
        IsIdentity = categorical.Length == 0 && features.All(f => f.Kind == FeatureTransformKind.Identity && f.Quantile is null && !f.Integer);
    }

    /// <summary>Features per row, d.</summary>
    public int Dimension => _features.Length;

    /// <summary>Whether every map is the identity (nothing to encode or decode).</summary>
    public bool IsIdentity { get; }

    /// <summary>The bound map of feature <paramref name="feature"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="feature"/> is outside [0, d).</exception>
    public FeatureTransformKind TransformKind(int feature) => At(feature).Kind;

    /// <summary>The (declared or inferred) bounds of feature <paramref name="feature"/>; null where it has none.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="feature"/> is outside [0, d).</exception>
    public (double? Lower, double? Upper) Bounds(int feature)
    {
        var f = At(feature);
        return (f.Lower, f.Upper);
    }

    /// <summary>Whether feature <paramref name="feature"/> is rounded to an integer on output.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="feature"/> is outside [0, d).</exception>
    public bool IsInteger(int feature) => At(feature).Integer;

    /// <summary>Whether feature <paramref name="feature"/> goes through a quantile-normal map.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="feature"/> is outside [0, d).</exception>
    public bool IsQuantileNormal(int feature) => At(feature).Quantile is not null;

    /// <summary>The categorical ranges, decoded by argmax.</summary>
    public IReadOnlyList<CategoricalFeatureRange> CategoricalFeatures => _categorical;

    /// <summary>Maps rows in data units to u units (before the per-feature standardisation).</summary>
    /// <param name="rows">rows x d values, row-major, finite.</param>
    /// <param name="destination">rows x d destination.</param>
    /// <exception cref="ArgumentException">The lengths differ or are not a multiple of d.</exception>
    public void Encode(ReadOnlySpan<float> rows, Span<double> destination)
    {
        CheckLengths(rows.Length, destination.Length, nameof(rows));
        int d = Dimension;
        for (int i = 0; i < rows.Length; i++) destination[i] = _features[i % d].Encode(rows[i]);
    }

    /// <summary>Maps rows in u units (after de-standardisation) to data units, in place: inverse maps, bounds, integer
    /// rounding, argmax decoding of categorical ranges.</summary>
    /// <param name="rows">rows x d values, row-major.</param>
    /// <exception cref="ArgumentException">The length is not a multiple of d.</exception>
    public void Decode(Span<float> rows)
    {
        int d = Dimension;
        if (rows.Length % d != 0) throw new ArgumentException($"The length {rows.Length} is not a multiple of the dimension {d}.", nameof(rows));
        if (IsIdentity) return;
        for (int i = 0; i < rows.Length; i++) rows[i] = _features[i % d].Decode(rows[i]);
        foreach (var range in _categorical)
            for (int r = 0; r < rows.Length; r += d)
            {
                var slots = rows.Slice(r + range.Start, range.Count);
                int best = 0;
                for (int k = 1; k < slots.Length; k++) if (slots[k] > slots[best] || float.IsNaN(slots[best])) best = k;
                slots.Clear();
                slots[best] = 1;
            }
    }

    /// <summary>sum_j ln |du_j/dy_j| at one row in data units: the NLL in data units is the NLL in u units minus this.</summary>
    /// <param name="row">d values.</param>
    /// <exception cref="ArgumentException">The row does not have d values.</exception>
    public double LogJacobian(ReadOnlySpan<float> row)
    {
        if (row.Length != Dimension) throw new ArgumentException($"The row has {row.Length} values, the dimension is {Dimension}.", nameof(row));
        double sum = 0;
        for (int j = 0; j < row.Length; j++) sum += _features[j].LogDerivative(row[j]);
        return sum;
    }

    /// <summary><see cref="Encode"/> in place, through float.</summary>
    internal void EncodeInPlace(Span<float> rows)
    {
        if (IsIdentity) return;
        int d = Dimension;
        for (int i = 0; i < rows.Length; i++) rows[i] = (float)_features[i % d].Encode(rows[i]);
    }

    /// <summary>The identity encoding of d features (models without feature transforms, and files before version 4).</summary>
    internal static FeatureEncoding Identity(int dimension) =>
        new(Enumerable.Range(0, dimension).Select(_ => new Feature()).ToArray(), []);

    /// <summary>Fits the encoding to training rows under <paramref name="options"/> (checks the declarations against d and the rows).</summary>
    /// <exception cref="ArgumentException">A declaration names a feature outside [0, d), overlaps another, or the rows break it
    /// (a value outside a declared bound, a categorical slot that is not 0 or 1); the parameter name is the option's.</exception>
    internal static FeatureEncoding Fit(ReadOnlySpan<float> data, int d, ScoreMatchingOptions options)
    {
        int rows = data.Length / d;
        var role = new string?[d];
        var categorical = options.CategoricalFeatures ?? [];
        foreach (var range in categorical)
        {
            if (range.Start < 0 || range.Count < 2 || range.Start + (long)range.Count > d)
                throw new ArgumentException($"The categorical range {range} does not fit the {d} features (Start >= 0, Count >= 2, Start + Count <= {d}).", nameof(ScoreMatchingOptions.CategoricalFeatures));
            for (int j = range.Start; j < range.Start + range.Count; j++)
            {
                if (role[j] is not null) throw new ArgumentException($"Feature {j} is in two categorical ranges.", nameof(ScoreMatchingOptions.CategoricalFeatures));
                role[j] = "categorical";
                for (int r = 0; r < rows; r++)
                {
                    float v = data[r * d + j];
                    if (v != 0 && v != 1)
                        throw new ArgumentException($"Row {r} holds {v} in feature {j} of the categorical range {range}; a one-hot code holds only 0 and 1.", nameof(ScoreMatchingOptions.CategoricalFeatures));
                }
            }
        }
        var features = new Feature[d];
        for (int j = 0; j < d; j++) features[j] = new Feature();
        var column = new double[rows];

        var declared = new bool[d];
        foreach (var bound in options.FeatureBounds ?? [])
        {
            string name = nameof(ScoreMatchingOptions.FeatureBounds);
            if (bound is null) throw new ArgumentException("An entry is null.", name);
            int j = bound.Feature;
            if (j < 0 || j >= d) throw new ArgumentException($"The bound {bound} names feature {j}, but the rows have {d} features.", name);
            if (declared[j]) throw new ArgumentException($"Feature {j} has two bounds.", name);
            if (role[j] is not null) throw new ArgumentException($"Feature {j} is {role[j]} and cannot also be bounded.", name);
            declared[j] = true;
            CopyColumn(data, d, j, column);
            for (int r = 0; r < rows; r++)
                if (column[r] < bound.Lower || column[r] > bound.Upper)
                    throw new ArgumentException($"Row {r} holds {column[r]} in feature {j}, outside its declared bounds [{bound.Lower?.ToString() ?? "-inf"}, {bound.Upper?.ToString() ?? "inf"}].", name);
            features[j] = Feature.FitBounds(column, bound.Lower, bound.Upper, options.LowerBoundTransform);
        }
        var integer = new bool[d];
        foreach (int j in options.IntegerFeatures ?? [])
        {
            string name = nameof(ScoreMatchingOptions.IntegerFeatures);
            if (j < 0 || j >= d) throw new ArgumentException($"Integer feature {j} is outside the {d} features.", name);
            if (role[j] is not null) throw new ArgumentException($"Feature {j} is {role[j]} and cannot also be an integer feature.", name);
            if (integer[j]) throw new ArgumentException($"Feature {j} is listed twice.", name);
            integer[j] = true;
        }
        for (int j = 0; j < d; j++)
        {
            if (role[j] is not null) continue;
            CopyColumn(data, d, j, column);
            if (options.InferBounds && !declared[j] && rows > 0)
            {
                int zeros = column.Count(v => v == 0);
                if (column.Min() >= 0 && zeros >= Math.Max(2, InferredSpikeFraction * rows))
                    features[j] = Feature.FitBounds(column, 0, null, options.LowerBoundTransform);
            }
            if (options.InferIntegerFeatures && column.All(v => v == Math.Round(v))) integer[j] = true;
            features[j].Integer = integer[j];
            if (options.FeatureScaling == FeatureScaling.QuantileNormal)
            {
                for (int r = 0; r < rows; r++) column[r] = features[j].BoundForward(column[r]);
                features[j].Quantile = QuantileNormalMap.Fit(column);
            }
        }
        return new FeatureEncoding(features, categorical.ToArray());
    }

    /// <summary>The share of a non-negative feature's training rows that must be exactly 0 for
    /// <see cref="ScoreMatchingOptions.InferBounds"/> to give it the lower bound 0: 5 % (and at least 2 rows).</summary>
    public const double InferredSpikeFraction = 0.05;

    /// <summary>The encoding as JSON (the model file's <c>feature-encoding.json</c>).</summary>
    internal string ToJson() => JsonSerializer.Serialize(new Document(
        _features.Select(f => new FeatureDocument(f.Kind, f.Lower, f.Upper, f.Scale, f.FloorLow, f.FloorHigh, f.SnapLow, f.SnapHigh, f.Integer,
            f.Quantile?.Values.ToArray(), f.Quantile?.Scores.ToArray())).ToArray(), _categorical), JsonOptions);

    /// <summary>Reads <see cref="ToJson"/>'s text.</summary>
    /// <exception cref="InvalidDataException">The text is not a valid encoding of <paramref name="dimension"/> features.</exception>
    internal static FeatureEncoding FromJson(string json, int dimension)
    {
        Document? doc;
        try
        {
            doc = JsonSerializer.Deserialize<Document>(json, JsonOptions);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The feature encoding is not valid JSON: {e.Message}", e);
        }
        if (doc?.Features is null || doc.Features.Length != dimension)
            throw new InvalidDataException($"The feature encoding does not describe {dimension} features.");
        var features = new Feature[dimension];
        for (int j = 0; j < dimension; j++)
        {
            var f = doc.Features[j] ?? throw new InvalidDataException($"Feature {j} of the encoding is null.");
            if (!Enum.IsDefined(f.Kind) || !(f.Scale > 0) || !double.IsFinite(f.Scale) || f.FloorLow < 0 || f.FloorHigh < 0 || f.SnapLow < 0 || f.SnapHigh < 0)
                throw new InvalidDataException($"Feature {j} of the encoding has invalid parameters.");
            bool needsLow = f.Kind is FeatureTransformKind.LowerSoftplus or FeatureTransformKind.LowerLog or FeatureTransformKind.Logit;
            bool needsHigh = f.Kind is FeatureTransformKind.UpperSoftplus or FeatureTransformKind.Logit;
            if (needsLow != f.Lower.HasValue || needsHigh != f.Upper.HasValue)
                throw new InvalidDataException($"Feature {j} of the encoding has bounds that do not match its kind {f.Kind}.");
            QuantileNormalMap? quantile = null;
            if (f.QuantileValues is not null || f.QuantileScores is not null)
            {
                try
                {
                    quantile = new QuantileNormalMap(f.QuantileValues ?? [], f.QuantileScores ?? []);
                }
                catch (ArgumentException e)
                {
                    throw new InvalidDataException($"Feature {j} of the encoding has invalid quantile knots: {e.Message}", e);
                }
            }
            features[j] = new Feature
            {
                Kind = f.Kind, Lower = f.Lower, Upper = f.Upper, Scale = f.Scale, FloorLow = f.FloorLow, FloorHigh = f.FloorHigh,
                SnapLow = f.SnapLow, SnapHigh = f.SnapHigh, Integer = f.Integer, Quantile = quantile,
            };
        }
        var categorical = doc.Categorical ?? [];
        foreach (var range in categorical)
            if (range is null || range.Start < 0 || range.Count < 2 || range.Start + (long)range.Count > dimension)
                throw new InvalidDataException($"The encoding's categorical range {range} does not fit {dimension} features.");
        return new FeatureEncoding(features, categorical);
    }

    private static void CopyColumn(ReadOnlySpan<float> data, int d, int j, double[] column)
    {
        for (int r = 0; r < column.Length; r++) column[r] = data[r * d + j];
    }

    private Feature At(int feature)
    {
        if (feature < 0 || feature >= Dimension) throw new ArgumentOutOfRangeException(nameof(feature), feature, $"The feature must lie in [0, {Dimension}).");
        return _features[feature];
    }

    private void CheckLengths(int source, int destination, string name)
    {
        if (source % Dimension != 0) throw new ArgumentException($"The length {source} is not a multiple of the dimension {Dimension}.", name);
        if (destination != source) throw new ArgumentException("The destination must have the source's length.", nameof(destination));
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    private sealed record Document(FeatureDocument[] Features, CategoricalFeatureRange[] Categorical);

    private sealed record FeatureDocument(FeatureTransformKind Kind, double? Lower, double? Upper, double Scale, double FloorLow, double FloorHigh,
        double SnapLow, double SnapHigh, bool Integer, double[]? QuantileValues, double[]? QuantileScores);

    /// <summary>One feature's maps.</summary>
    private sealed class Feature
    {
        public FeatureTransformKind Kind { get; set; }
        public double? Lower { get; set; }
        public double? Upper { get; set; }
        public double Scale { get; set; } = 1;
        public double FloorLow { get; set; }
        public double FloorHigh { get; set; }
        public double SnapLow { get; set; }
        public double SnapHigh { get; set; }
        public bool Integer { get; set; }
        public QuantileNormalMap? Quantile { get; set; }

        public static Feature FitBounds(double[] column, double? lower, double? upper, LowerBoundTransform lowerTransform)
        {
            var f = new Feature { Lower = lower, Upper = upper };
            f.Kind = (lower, upper) switch
            {
                (not null, not null) => FeatureTransformKind.Logit,
                (not null, null) => lowerTransform == LowerBoundTransform.Log ? FeatureTransformKind.LowerLog : FeatureTransformKind.LowerSoftplus,
                (null, not null) => FeatureTransformKind.UpperSoftplus,
                _ => FeatureTransformKind.Identity,
            };
            var low = new List<double>();
            var high = new List<double>();
            bool atLow = false, atHigh = false;
            foreach (double v in column)
            {
                if (lower is { } lo) { double a = v - lo; if (a > 0) low.Add(a); else atLow = true; }
                if (upper is { } hi) { double b = hi - v; if (b > 0) high.Add(b); else atHigh = true; }
            }
            double width = lower is { } l && upper is { } h ? h - l : double.PositiveInfinity;
            (f.FloorLow, f.SnapLow) = FloorAndSnap(low, atLow, width);
            (f.FloorHigh, f.SnapHigh) = FloorAndSnap(high, atHigh, width);
            if (f.Kind is FeatureTransformKind.LowerSoftplus or FeatureTransformKind.UpperSoftplus)
            {
                // s: the spread of the distances from the bound, so that the map is log-like below s and linear above.
                double sum = 0, sum2 = 0;
                foreach (double v in column)
                {
                    double a = f.Kind == FeatureTransformKind.LowerSoftplus ? Math.Max(v - lower!.Value, f.FloorLow) : Math.Max(upper!.Value - v, f.FloorHigh);
                    sum += a;
                    sum2 += a * a;
                }
                double mean = sum / Math.Max(1, column.Length), sd = Math.Sqrt(Math.Max(0, sum2 / Math.Max(1, column.Length) - mean * mean));
                f.Scale = sd > 0 ? sd : mean > 0 ? mean : 1;
            }
            return f;
        }

        /// <summary>Where values at a bound are encoded and below which generated values return to it. Without values at
        /// the bound: half the smallest positive distance m. With them (a spike): q e^-3 and q e^-1.5, q the 1 % quantile of
        /// the positive distances; the maps are log-like near a bound, so the spike sits 3 s (in u) below the bulk's low
        /// tail, and generated values from the spike's blur within 1.5 s of it return to the bound, while under 1 % of
        /// the positive training values lie below the snap distance.</summary>
        private static (double Floor, double Snap) FloorAndSnap(List<double> positive, bool atBound, double width)
        {
            if (positive.Count == 0) return (Math.Min(0.5, width / 4), atBound ? Math.Min(0.75, width / 3) : 0);
            positive.Sort();
            if (!atBound) return (Math.Min(positive[0] / 2, width / 4), 0);
            double q = positive[(int)(0.01 * positive.Count)];
            return (Math.Min(q * Math.Exp(-3), width / 4), Math.Min(q * Math.Exp(-1.5), width / 3));
        }

        /// <summary>The bound map alone, y to u1.</summary>
        public double BoundForward(double y)
        {
            switch (Kind)
            {
                case FeatureTransformKind.LowerSoftplus:
                    return Scale * SoftplusInverse(Math.Max(y - Lower!.Value, FloorLow) / Scale);
                case FeatureTransformKind.LowerLog:
                    return Math.Log(Math.Max(y - Lower!.Value, FloorLow));
                case FeatureTransformKind.UpperSoftplus:
                    return Scale * SoftplusInverse(Math.Max(Upper!.Value - y, FloorHigh) / Scale);
                case FeatureTransformKind.Logit:
                {
                    double lo = Lower!.Value, hi = Upper!.Value, w = hi - lo;
                    double t = Math.Clamp(y, lo + FloorLow, hi - FloorHigh);
                    return Math.Log(t - lo) - Math.Log(hi - t);
                }
                default:
                    return y;
            }
        }

        public double Encode(double y)
        {
            double u = BoundForward(y);
            return Quantile?.Forward(u) ?? u;
        }

        /// <summary>ln |du/dy| at y.</summary>
        public double LogDerivative(double y)
        {
            double u1 = BoundForward(y), log = 0;
            switch (Kind)
            {
                case FeatureTransformKind.LowerSoftplus:
                case FeatureTransformKind.UpperSoftplus:
                    log = Softplus(-u1 / Scale);
                    break;
                case FeatureTransformKind.LowerLog:
                    log = -u1;
                    break;
                case FeatureTransformKind.Logit:
                {
                    // y = lo + w sigmoid(u): dy/du = w s (1 - s); ln du/dy = -ln w + softplus(-u) + softplus(u)
                    double w = Upper!.Value - Lower!.Value;
                    log = -Math.Log(w) + Softplus(-u1) + Softplus(u1);
                    break;
                }
            }
            if (Quantile is not null) log += Quantile.LogDerivative(u1);
            return log;
        }

        public float Decode(float value)
        {
            double u = Quantile?.Inverse(value) ?? value;
            double y = Kind switch
            {
                FeatureTransformKind.LowerSoftplus => Lower!.Value + Scale * Softplus(u / Scale),
                FeatureTransformKind.LowerLog => Lower!.Value + Math.Exp(u),
                FeatureTransformKind.UpperSoftplus => Upper!.Value - Scale * Softplus(u / Scale),
                FeatureTransformKind.Logit => Lower!.Value + (Upper!.Value - Lower.Value) * Sigmoid(u),
                _ => u,
            };
            if (Lower is { } lo && SnapLow > 0 && y - lo < SnapLow) y = lo;
            if (Upper is { } hi && SnapHigh > 0 && hi - y < SnapHigh) y = hi;
            if (Integer)
            {
                y = Math.Round(y, MidpointRounding.AwayFromZero);
                if (Lower is { } l && y < l) y = Math.Ceiling(l);
                if (Upper is { } h && y > h) y = Math.Floor(h);
                return (float)y;
            }
            return Inside((float)y);
        }

        /// <summary>Keeps a float inside the bounds: on a bound only where the training rows reached it, else strictly inside.</summary>
        private float Inside(float y)
        {
            if (Lower is { } lo && (y < lo || SnapLow == 0 && y <= lo))
            {
                // the float nearest lo, then up by ulps: at most a few steps
                y = (float)lo;
                if (SnapLow > 0) { while (y < lo) y = MathF.BitIncrement(y); }
                else while (y <= lo) y = MathF.BitIncrement(y);
            }
            if (Upper is { } hi && (y > hi || SnapHigh == 0 && y >= hi))
            {
                y = (float)hi;
                if (SnapHigh > 0) { while (y > hi) y = MathF.BitDecrement(y); }
                else while (y >= hi) y = MathF.BitDecrement(y);
            }
            return y;
        }
    }

    private static double Softplus(double x) => Math.Max(x, 0) + ElementaryFunctions.Log1P(Math.Exp(-Math.Abs(x)));

    /// <summary>ln(e^a - 1) for a &gt; 0.</summary>
    private static double SoftplusInverse(double a) => a > 20 ? a + ElementaryFunctions.Log1P(-Math.Exp(-a)) : Math.Log(ElementaryFunctions.ExpM1(a));

    private static double Sigmoid(double u) => u >= 0 ? 1 / (1 + Math.Exp(-u)) : Math.Exp(u) / (1 + Math.Exp(u));
}
