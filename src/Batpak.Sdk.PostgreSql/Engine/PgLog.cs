// What the PostgreSQL engine tells the application's logs: the store opened, the writer lost its connection (and what
// that cost the callers), a commit whose outcome the writer had to ask the server for, and the listener losing and
// regaining the server. Source-generated LoggerMessage methods (each checks IsEnabled before formatting). Category
// "Batpak.PostgreSql". Used by PostgresEngine.Open.cs, PgWriter and CommitListener.
using Microsoft.Extensions.Logging;

namespace Batpak.PostgreSql.Engine;

/// <summary>The engine's log messages (event ids 100-199; the embedded engine uses 1-99).</summary>
internal static partial class PgLog
{
    /// <summary>The log category of the engine.</summary>
    public const string Category = "Batpak.PostgreSql";

    [LoggerMessage(EventId = 100, EventName = "PostgresStoreOpened", Level = LogLevel.Information,
        Message = "Opened the PostgreSQL store in schema \"{Schema}\" (schema version {Version}, store id {StoreId}, high-water mark {NextGlobal}).")]
    public static partial void Opened(ILogger logger, string schema, int version, int storeId, long nextGlobal);

    [LoggerMessage(EventId = 101, EventName = "PostgresWriterFailed", Level = LogLevel.Warning,
        Message = "The writer of schema \"{Schema}\" failed a group of {Events} event(s); its callers get the error and the next append opens a new connection.")]
    public static partial void WriterFailed(ILogger logger, string schema, int events, Exception error);

    [LoggerMessage(EventId = 102, EventName = "PostgresCommitInDoubt", Level = LogLevel.Warning,
        Message = "The connection of schema \"{Schema}\" broke during the commit of {Events} event(s); asked the server: {Outcome}.")]
    public static partial void CommitInDoubt(ILogger logger, string schema, int events, string outcome, Exception cause);

    [LoggerMessage(EventId = 103, EventName = "PostgresListenerLost", Level = LogLevel.Warning,
        Message = "The commit listener of schema \"{Schema}\" lost the server; other instances' commits are seen again after it reconnects (retrying every {Poll}).")]
    public static partial void ListenerLost(ILogger logger, string schema, TimeSpan poll, Exception error);

    [LoggerMessage(EventId = 104, EventName = "PostgresListenerListening", Level = LogLevel.Debug,
        Message = "The commit listener of schema \"{Schema}\" listens on channel {Channel}.")]
    public static partial void ListenerListening(ILogger logger, string schema, string channel);
}
