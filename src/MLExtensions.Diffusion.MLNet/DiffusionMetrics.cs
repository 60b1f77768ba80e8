namespace MLExtensions.Diffusion.MLNet;

/// <summary>
/// Held-out quality and thermodynamic metrics of a <see cref="DiffusionModel"/>, in the style of ML.NET's
/// <c>RegressionMetrics</c>: made by <c>mlContext.Diffusion().Evaluate(model, heldOut)</c>
/// (<see cref="EvaluationCatalogExtensions.Evaluate"/>); immutable.
/// </summary>
/// <remarks>
/// Units: every distance and thermodynamic quantity is in the model's standardised units z = (y - mean) / std of
/// <see cref="DiffusionModelParameters.FeatureScaler"/> (the held-out rows and the generated rows are both mapped there), where
/// features are comparable; <see cref="MeanNll"/> alone is in data units, like the NLL column of
/// <see cref="LikelihoodTransformer"/>. Thermodynamic quantities follow the project SPEC section 2-3 (Ikeda, Uda,
/// Okanohara, Ito, arXiv:2407.04495).
/// </remarks>
public sealed class DiffusionMetrics
{
    internal DiffusionMetrics(int heldOutRows, int generatedRows, double slicedW2, double w2, int w2Rows, double mmd2, double meanNll,
        double kineticCost, double kineticCostStandardError, double totalEntropyProduction, double totalEntropyProductionStandardError,
        double endpointW2, double efficiency, int nfe)
    {
        HeldOutRows = heldOutRows;
        GeneratedRows = generatedRows;
        SlicedW2 = slicedW2;
        W2 = w2;
        W2Rows = w2Rows;
        Mmd2 = mmd2;
        MeanNll = meanNll;
        KineticCost = kineticCost;
        KineticCostStandardError = kineticCostStandardError;
        TotalEntropyProduction = totalEntropyProduction;
        TotalEntropyProductionStandardError = totalEntropyProductionStandardError;
        EndpointW2 = endpointW2;
        Efficiency = efficiency;
        Nfe = nfe;
    }

    /// <summary>Held-out rows read.</summary>
    public int HeldOutRows { get; }

    /// <summary>Rows generated for the sample metrics.</summary>
    public int GeneratedRows { get; }

    /// <summary>Sliced 2-Wasserstein distance between all generated and all held-out rows (standardised units; Monte Carlo
    /// over <see cref="EvaluationOptions.Projections"/> seeded directions). Lower is better.</summary>
    public double SlicedW2 { get; }

    /// <summary>Exact 2-Wasserstein distance (optimal assignment) between the first <see cref="W2Rows"/> generated and
    /// held-out rows (standardised units). It includes the sampling floor of two finite sets of that size. Lower is better.</summary>
    public double W2 { get; }

    /// <summary>Rows per side matched in <see cref="W2"/>: min(held-out, generated, <see cref="EvaluationOptions.MaxExactW2Rows"/>).</summary>
    public int W2Rows { get; }

    /// <summary>Unbiased squared maximum mean discrepancy between generated and held-out rows (standardised units; Gaussian
    /// kernel with the median-heuristic bandwidth); may be slightly negative. Lower is better.</summary>
    public double Mmd2 { get; }

    /// <summary>Mean negative log-likelihood of the held-out rows in nats per row, data units (the mean of the
    /// <see cref="LikelihoodTransformer"/> column); NaN when <see cref="EvaluationOptions.ComputeLikelihood"/> is false. Lower is better.</summary>
    public double MeanNll { get; }

    /// <summary>Kinetic cost c2 = integral_0^tau E|nu_t|^2 dt of the forward process with the model's velocity field
    /// nu_t = mdot x0hat + sigmadot epshat, Monte Carlo over held-out rows (standardised units).</summary>
    public double KineticCost { get; }

    /// <summary>Monte Carlo standard error of <see cref="KineticCost"/>.</summary>
    public double KineticCostStandardError { get; }

    /// <summary>Total entropy production S_tot = integral Sdot dt = integral c2-rate / T_t dt of the same process.</summary>
    public double TotalEntropyProduction { get; }

    /// <summary>Monte Carlo standard error of <see cref="TotalEntropyProduction"/>.</summary>
    public double TotalEntropyProductionStandardError { get; }

    /// <summary>The W2 distance between the held-out law q and the end marginal P_tau entering <see cref="Efficiency"/>:
    /// the Bures (Gelbrich) distance between N(mu, C) and N(m_tau mu, m_tau^2 C + sigma_tau^2 I) with (mu, C) the held-out
    /// rows' mean and covariance. By Gelbrich's bound it is a lower bound of the true W2(q, P_tau) (equal for Gaussian data).</summary>
    public double EndpointW2 { get; }

    /// <summary>Efficiency of the schedule, <see cref="EndpointW2"/>^2 / (tau <see cref="KineticCost"/>) (SPEC section 3), with
    /// tau the schedule's MaxTime: 1 for the optimal-transport schedule, lower for costlier paths. With the Gelbrich lower
    /// bound for W2 it underestimates the efficiency of the model's path rather than overestimating it.</summary>
    public double Efficiency { get; }

    /// <summary>Denoiser evaluations per generated row, as reported by the sampler (Heun with n steps down to sigma = 0:
    /// 2n - 1).</summary>
    public int Nfe { get; }

    /// <summary>A one-line summary.</summary>
    public override string ToString() =>
        $"SlicedW2 {SlicedW2:G4}, W2 {W2:G4} ({W2Rows} rows), MMD^2 {Mmd2:G4}, mean NLL {MeanNll:G6}, c2 {KineticCost:G4} +- {KineticCostStandardError:G2}, " +
        $"S_tot {TotalEntropyProduction:G4} +- {TotalEntropyProductionStandardError:G2}, efficiency {Efficiency:G4}, NFE {Nfe}";
}
