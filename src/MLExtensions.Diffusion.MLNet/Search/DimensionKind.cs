namespace MLExtensions.Diffusion.Search;

/// <summary>What values a <see cref="SearchDimension"/> takes.</summary>
public enum DimensionKind
{
    /// <summary>A real number in [Min, Max], optionally on a log scale.</summary>
    Continuous,

    /// <summary>An integer in [Min, Max], optionally on a log scale; the unit-cube feature is rounded to the nearest integer.</summary>
    Integer,

    /// <summary>One of a finite list of JSON values; the unit interval is cut into one equal bucket per choice.</summary>
    Choice,
}
