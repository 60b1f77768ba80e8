namespace MLExtensions.Diffusion.Cli;

/// <summary>The exit codes of <c>mldiffusion</c> (documented in the root command's help).</summary>
public static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Ok = 0;

    /// <summary>A user error: a missing or unreadable file, a model that does not fit the data, a bad setting.</summary>
    public const int UserError = 1;

    /// <summary>A usage error: an unknown command or option, a missing required option, a value that does not parse.</summary>
    public const int UsageError = 2;

    /// <summary>A data error: a missing or text column, an empty cell under --missing error, no rows left.</summary>
    public const int DataError = 3;

    /// <summary>Cancelled (Ctrl-C); no partial output file is left behind.</summary>
    public const int Cancelled = 130;
}

/// <summary>A user-facing error: its message is printed without a stack trace and the process exits with <see cref="ExitCode"/>.</summary>
public sealed class CliException(string message, int exitCode = ExitCodes.UserError) : Exception(message)
{
    /// <summary>The process exit code.</summary>
    public int ExitCode { get; } = exitCode;
}
