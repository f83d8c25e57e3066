// The error of a raw append of a gated kind: what the store throws when BatpakOptions.GatedKinds names the kind and
// the append did not come through a Pipeline.
namespace Batpak;

/// <summary>
/// An append of a kind listed in <see cref="BatpakOptions.GatedKinds"/> did not come through a
/// <see cref="Pipeline{TContext}"/> (<c>Commit</c> of a receipt, or an audited <c>Bypass</c>). Nothing was appended.
/// </summary>
public sealed class GateRequiredException : BatpakException
{
    /// <summary>Creates the exception for a raw append of <paramref name="kind"/> at <paramref name="coordinate"/>.</summary>
    public GateRequiredException(EventKind kind, Coordinate coordinate)
        : base($"Event kind {kind} is gated (BatpakOptions.GatedKinds), so it is appended only through a Pipeline: Commit a receipt its gates issued, or Bypass with a recorded reason. A raw Append, AppendAsync, AppendBatch or AppendReaction of it is refused (entity \"{coordinate.Entity}\", scope \"{coordinate.Scope}\"); nothing was appended.")
    {
        Kind = kind;
        Coordinate = coordinate;
    }

    /// <summary>Creates the exception.</summary>
    public GateRequiredException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public GateRequiredException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public GateRequiredException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The gated kind that was appended raw.</summary>
    public EventKind Kind { get; }

    /// <summary>Where it was to be appended (<c>default</c> for the message-only constructors).</summary>
    public Coordinate Coordinate { get; }
}
