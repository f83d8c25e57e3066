// The typed failures of the PostgreSQL engine: a schema that does not match the library, a server that cannot be
// reached at open, and an append whose connection broke. Thrown by the engine; callers catch them by type.
namespace Batpak.PostgreSql;

/// <summary>The store's schema is missing, incomplete (with <see cref="PostgresSchemaMode.VerifyOnly"/>) or newer than this library.</summary>
public sealed class PostgresSchemaException : BatpakException
{
    /// <summary>Creates the exception for <paramref name="schema"/>.</summary>
    public PostgresSchemaException(string schema, string message)
        : base(message)
    {
        Schema = schema;
    }

    /// <summary>Creates the exception.</summary>
    public PostgresSchemaException()
        : this(string.Empty, "The store's schema does not match this library.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public PostgresSchemaException(string message)
        : this(string.Empty, message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public PostgresSchemaException(string message, Exception innerException)
        : base(message, innerException)
    {
        Schema = string.Empty;
    }

    /// <summary>The schema that was checked.</summary>
    public string Schema { get; }
}

/// <summary>
/// The PostgreSQL server could not be reached, or the connection broke. At open it names host, port and schema; on an
/// append it means nothing of that append was stored (when the outcome is unknown,
/// <see cref="AppendOutcomeUnknownException"/> is thrown instead).
/// </summary>
public sealed class StoreConnectionException : BatpakException
{
    /// <summary>Creates the exception.</summary>
    public StoreConnectionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public StoreConnectionException()
        : base("The PostgreSQL connection failed.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public StoreConnectionException(string message)
        : base(message)
    {
    }
}

/// <summary>
/// The connection broke while an append's commit was in flight and the server could not be asked afterwards: the
/// append is either fully stored or not at all. <see cref="EventIds"/> are the ids to look up once the server is back.
/// </summary>
public sealed class AppendOutcomeUnknownException : BatpakException
{
    /// <summary>Creates the exception.</summary>
    public AppendOutcomeUnknownException(IReadOnlyList<EventId> eventIds, Exception innerException)
        : base($"The connection broke during the commit of {eventIds.Count} event(s) and the server could not be asked afterwards; look up event {(eventIds.Count > 0 ? eventIds[0] : EventId.Empty)} later: either all of them are stored or none.", innerException)
    {
        EventIds = eventIds;
    }

    /// <summary>Creates the exception.</summary>
    public AppendOutcomeUnknownException()
        : base("The append's outcome is unknown.")
    {
        EventIds = [];
    }

    /// <summary>Creates the exception.</summary>
    public AppendOutcomeUnknownException(string message)
        : base(message)
    {
        EventIds = [];
    }

    /// <summary>Creates the exception.</summary>
    public AppendOutcomeUnknownException(string message, Exception innerException)
        : base(message, innerException)
    {
        EventIds = [];
    }

    /// <summary>The ids of the events whose commit is in doubt.</summary>
    public IReadOnlyList<EventId> EventIds { get; }
}
