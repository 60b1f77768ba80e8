namespace MLExtensions.Diffusion.MLNet;

/// <summary>Where <see cref="GenerateTransformer"/> takes a row's latent from (detected from the input column's type).</summary>
internal enum GenerateLatentKind
{
    /// <summary>An <see cref="int"/> seed s: d draws from <c>new Random(s)</c>.</summary>
    Int32Seed,

    /// <summary>A <see cref="long"/> seed s: d draws from <c>new Random(unchecked((int)(s ^ (s &gt;&gt; 32))))</c>.</summary>
    Int64Seed,

    /// <summary>A <see cref="uint"/> seed s: d draws from <c>new Random(unchecked((int)s))</c>.</summary>
    UInt32Seed,

    /// <summary>A known-size vector of d floats holding the latent itself.</summary>
    Vector,

    /// <summary>A row index i of a stream with a seed: d draws from <see cref="CounterRandom"/> reset to
    /// <see cref="CounterRandom.RowKey"/>(seed, i).</summary>
    Counter,
}
