using MLExtensions.Diffusion.Denoisers;

namespace MLExtensions.Diffusion.Training;

/// <summary>
/// An <see cref="IDenoiser"/> backed by a trained <see cref="TimeConditionedMlp"/>: rows are standardised, mapped to VE
/// units (x / m, sigma / m), preconditioned (<see cref="Preconditioning"/>), evaluated in float, and mapped back:
/// x0hat = mean + scale (c_skip z + c_out F(c_in z, c_noise)).
/// </summary>
/// <remarks>Calls are serialised by a lock (the network's workspace is shared). At sigma = 0 it returns x / m.
/// <see cref="JacobianVectorProduct"/> differentiates the same computation in forward mode through the network.</remarks>
public sealed class NeuralDenoiser : IDenoiserJacobian
{
    private readonly object _gate = new();
    private float[] _input = [];
    private float[] _output = [];
    private float[] _noise = [];
    private double[] _scaled = [];
    private float[] _tangent = [];
    private float[] _tangentOutput = [];

    /// <summary>Wraps a network trained in the standardised space of <paramref name="standardizer"/>.</summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">Dimensions differ or the standardiser is not isotropic.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sigmaData"/> is not finite and positive.</exception>
    public NeuralDenoiser(TimeConditionedMlp network, Standardizer standardizer, Parametrisation parametrisation, double sigmaData)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(standardizer);
        if (standardizer.Dimension != network.Dimension) throw new ArgumentException("The standardiser and network dimensions differ.", nameof(standardizer));
        if (!standardizer.IsIsotropic) throw new ArgumentException("The standardiser must be isotropic so that one noise level serves all features.", nameof(standardizer));
        if (!double.IsFinite(sigmaData) || sigmaData <= 0) throw new ArgumentOutOfRangeException(nameof(sigmaData), sigmaData, "sigma_data must be finite and positive.");
        Network = network;
        Standardizer = standardizer;
        Parametrisation = parametrisation;
        SigmaData = sigmaData;
    }

    /// <summary>The network (with the weights in use).</summary>
    public TimeConditionedMlp Network { get; }

    /// <summary>The data standardisation learned at fit time.</summary>
    public Standardizer Standardizer { get; }

    /// <summary>What the network predicts.</summary>
    public Parametrisation Parametrisation { get; }

    /// <summary>sigma_data of the preconditioning, in standardised units.</summary>
    public double SigmaData { get; }

    /// <inheritdoc />
    public int Dimension => Network.Dimension;

    /// <inheritdoc />
    public void Denoise(ReadOnlySpan<double> x, double m, double sigma, Span<double> x0)
    {
        int rows = DenoiserArguments.Check(Dimension, x, m, sigma, x0);
        int d = Dimension, n = x.Length;
        if (sigma == 0)
        {
            for (int i = 0; i < n; i++) x0[i] = x[i] / m;
            return;
        }
        ReadOnlySpan<double> mean = Standardizer.Mean;
        double scale = Standardizer.Scale[0];
        var p = Preconditioning.For(Parametrisation, sigma / (m * scale), SigmaData);
        lock (_gate)
        {
            if (_input.Length < n)
            {
                _input = new float[n];
                _output = new float[n];
                _scaled = new double[n];
            }
            if (_noise.Length < rows) _noise = new float[rows];
            for (int i = 0; i < n; i++)
            {
                double zi = (x[i] / m - mean[i % d]) / scale;
                _scaled[i] = zi;
                _input[i] = (float)(p.Input * zi);
            }
            _noise.AsSpan(0, rows).Fill((float)p.Noise);
            Network.Forward(_input.AsSpan(0, n), _noise.AsSpan(0, rows), _output.AsSpan(0, n));
            for (int i = 0; i < n; i++)
                x0[i] = mean[i % d] + scale * (p.Skip * _scaled[i] + p.Output * _output[i]);
        }
    }

    /// <summary>
    /// x0hat and J v by forward-mode differentiation: with z = (x / m - mean) / scale and u = c_in z,
    /// J v = c_skip v / m + scale c_out (dF/du) (c_in v / (m scale)); the noise embedding is constant in x.
    /// The network runs in float, so J v carries float rounding (relative error about 1e-6).
    /// </summary>
    /// <inheritdoc />
    public void JacobianVectorProduct(ReadOnlySpan<double> x, double m, double sigma, ReadOnlySpan<double> v, Span<double> x0, Span<double> jv)
    {
        int rows = DenoiserArguments.CheckJacobian(Dimension, x, m, sigma, v, x0, jv);
        int d = Dimension, n = x.Length;
        if (sigma == 0)
        {
            for (int i = 0; i < n; i++)
            {
                x0[i] = x[i] / m;
                jv[i] = v[i] / m;
            }
            return;
        }
        ReadOnlySpan<double> mean = Standardizer.Mean;
        double scale = Standardizer.Scale[0];
        var p = Preconditioning.For(Parametrisation, sigma / (m * scale), SigmaData);
        double tangentScale = p.Input / (m * scale);
        lock (_gate)
        {
            if (_input.Length < n)
            {
                _input = new float[n];
                _output = new float[n];
                _scaled = new double[n];
            }
            if (_tangent.Length < n)
            {
                _tangent = new float[n];
                _tangentOutput = new float[n];
            }
            if (_noise.Length < rows) _noise = new float[rows];
            for (int i = 0; i < n; i++)
            {
                double zi = (x[i] / m - mean[i % d]) / scale;
                _scaled[i] = zi;
                _input[i] = (float)(p.Input * zi);
                _tangent[i] = (float)(tangentScale * v[i]);
            }
            _noise.AsSpan(0, rows).Fill((float)p.Noise);
            Network.JacobianVectorProduct(_input.AsSpan(0, n), _noise.AsSpan(0, rows), _tangent.AsSpan(0, n), _output.AsSpan(0, n), _tangentOutput.AsSpan(0, n));
            for (int i = 0; i < n; i++)
            {
                x0[i] = mean[i % d] + scale * (p.Skip * _scaled[i] + p.Output * _output[i]);
                jv[i] = p.Skip * v[i] / m + scale * p.Output * _tangentOutput[i];
            }
        }
    }
}
