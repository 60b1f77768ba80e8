namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// The entropy production rate of a forward process at one time t and its parts (SPEC section 2), from exact quadrature
/// (standard errors 0, <paramref name="Samples"/> 0) or Monte Carlo (standard errors over the samples).
/// </summary>
/// <param name="Time">The time t.</param>
/// <param name="Temperature">The bath temperature T_t.</param>
/// <param name="KineticEnergy">The kinetic energy T_t Sdot(t) = integral |nu_t|^2 P_t dx (the kinetic cost rate).</param>
/// <param name="KineticEnergyStandardError">Standard error of <paramref name="KineticEnergy"/>.</param>
/// <param name="Rate">The entropy production rate Sdot(t) = KineticEnergy / T_t (+infinity where T_t = 0 and the kinetic energy is positive).</param>
/// <param name="RateStandardError">Standard error of <paramref name="Rate"/>.</param>
/// <param name="SystemRate">The system part Sdot_sys = -integral nu . grad ln P  P dx = d/dt of the Shannon entropy of P_t.</param>
/// <param name="SystemRateStandardError">Standard error of <paramref name="SystemRate"/>.</param>
/// <param name="BathRate">The bath part Sdot_bath = integral f . nu P dx / T_t; Rate = SystemRate + BathRate.</param>
/// <param name="BathRateStandardError">Standard error of <paramref name="BathRate"/>.</param>
/// <param name="Samples">Monte Carlo sample count, or 0 for exact quadrature.</param>
public sealed record EntropyProductionRate(
    double Time,
    double Temperature,
    double KineticEnergy,
    double KineticEnergyStandardError,
    double Rate,
    double RateStandardError,
    double SystemRate,
    double SystemRateStandardError,
    double BathRate,
    double BathRateStandardError,
    int Samples);
