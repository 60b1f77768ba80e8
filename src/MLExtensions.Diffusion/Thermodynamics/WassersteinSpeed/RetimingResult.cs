namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// A schedule re-timed to constant speed and the cost integral integral v^2 dt before and after
/// (see <see cref="ScheduleRetiming.ConstantSpeed"/>).
/// </summary>
/// <param name="Schedule">The re-timed schedule.</param>
/// <param name="PathLength">L = integral v dt over the base schedule's [0, MaxTime] (unchanged by re-timing).</param>
/// <param name="DurationBefore">The base schedule's MaxTime.</param>
/// <param name="CostBefore">integral_0^MaxTime v(t)^2 dt along the base schedule; at least L^2 / DurationBefore (Cauchy-Schwarz).</param>
/// <param name="DurationAfter">tau' of the re-timed schedule.</param>
/// <param name="CostAfter">L^2 / tau': the cost of moving at constant speed, the minimum over all time parametrisations of
/// the same path with that duration.</param>
public sealed record RetimingResult(
    RetimedSchedule Schedule,
    double PathLength,
    double DurationBefore,
    double CostBefore,
    double DurationAfter,
    double CostAfter);
