// The append rules applied to one group of commands while the writer holds the store's sequencer row: idempotency
// keys (repeat or conflict), CAS against the stored-or-pending last sequence, causes (depth and correlation), the
// hybrid clock, event ids and the chain hash. The same rules as the embedded engine's BatchStager, over the state
// the writer read under the lock. Used only by PgWriter, on its leader thread.
using System.Security.Cryptography;
using Batpak.Storage;

namespace Batpak.PostgreSql.Writer;

/// <summary>What the writer read under the sequencer lock for one group.</summary>
internal sealed class GroupSnapshot
{
    public long NextGlobal { get; set; }

    public long WallMilliseconds { get; set; }

    public uint Counter { get; set; }

    public long ChainFolded { get; set; }

    public EventHash ChainDigest { get; set; }

    /// <summary>Stored last sequence and hash of the group's entities that exist.</summary>
    public Dictionary<string, (long Sequence, EventHash Hash)> Entities { get; } = new(StringComparer.Ordinal);

    /// <summary>The <c>entity_id</c> of each of the group's entities that exists.</summary>
    public Dictionary<string, long> EntityIds { get; } = new(StringComparer.Ordinal);

    /// <summary>The <c>scope_id</c> of the group's scopes that exist and the writer did not know.</summary>
    public Dictionary<string, int> ScopeIds { get; } = new(StringComparer.Ordinal);

    /// <summary>Stored idempotency keys the group uses.</summary>
    public Dictionary<string, IdempotencyRecord> Keys { get; } = new(StringComparer.Ordinal);

    /// <summary>Depth and correlation of the stored causes the group names.</summary>
    public Dictionary<EventId, (uint Depth, EventId Correlation)> Causes { get; } = [];
}

/// <summary>One event staged for the group's insert.</summary>
internal struct StagedRow
{
    public FrameFormat.FrameFields Fields;
    public ReadOnlyMemory<byte> Payload;
    public ulong Fingerprint;
    public int Command; // index of the command in the group
}

/// <summary>Stages commands in order; a command that fails a check leaves nothing staged.</summary>
internal sealed class GroupStager(byte[]? chainKey, TimeProvider time, int maxEventBytes) : IDisposable
{
    private readonly IncrementalHash _sha = ChainHashing.Create(chainKey);
    private readonly EventIdGenerator _ids = new(time);
    private readonly Dictionary<string, (long Sequence, EventHash Hash, int Command)> _pendingEntities = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _pendingKeys = new(StringComparer.Ordinal); // key -> row index
    private readonly List<(string Entity, bool Had, (long, EventHash, int) Value)> _entityUndo = [];
    private readonly List<string> _keyUndo = [];
    private GroupSnapshot _snapshot = new();
    private HybridClock _clock;

    /// <summary>The staged rows of the group, in global order.</summary>
    public List<StagedRow> Rows { get; } = [];

    /// <summary>The global sequence the next staged event gets.</summary>
    public long NextGlobal { get; private set; }

    /// <summary>Wall milliseconds and counter of the last stamped event.</summary>
    public (long Wall, uint Counter) Clock { get; private set; }

    /// <summary>Entities the group creates (not stored before).</summary>
    public int NewEntities { get; private set; }

    /// <summary>Each entity the group appends to, with its last staged sequence and hash.</summary>
    public IReadOnlyDictionary<string, (long Sequence, EventHash Hash, int Command)> Entities => _pendingEntities;

    /// <summary>Starts a group over <paramref name="snapshot"/>.</summary>
    public void Begin(GroupSnapshot snapshot)
    {
        _snapshot = snapshot;
        Rows.Clear();
        _pendingEntities.Clear();
        _pendingKeys.Clear();
        NextGlobal = snapshot.NextGlobal;
        _clock = new HybridClock(snapshot.WallMilliseconds, snapshot.Counter);
        Clock = (snapshot.WallMilliseconds, snapshot.Counter);
        NewEntities = 0;
    }

    /// <summary>Stages every event of <paramref name="command"/> (index <paramref name="commandIndex"/>), or none, setting <see cref="PgCommand.Failure"/> on a failed check.</summary>
    public void Stage(PgCommand command, int commandIndex)
    {
        int rowMark = Rows.Count;
        long nextMark = NextGlobal;
        HybridClock clockMark = _clock;
        (long, uint) clockValueMark = Clock;
        int newEntitiesMark = NewEntities;
        _entityUndo.Clear();
        _keyUndo.Clear();
        try
        {
            for (int i = 0; i < command.Events.Length; i++)
            {
                command.Receipts[i] = StageOne(command, commandIndex, command.Events[i]);
            }
        }
        catch (Exception ex) when (ex is BatpakException or ArgumentException)
        {
            Rows.RemoveRange(rowMark, Rows.Count - rowMark);
            NextGlobal = nextMark;
            _clock = clockMark;
            Clock = clockValueMark;
            NewEntities = newEntitiesMark;
            for (int u = _entityUndo.Count - 1; u >= 0; u--)
            {
                (string entity, bool had, (long, EventHash, int) value) = _entityUndo[u];
                if (had)
                {
                    _pendingEntities[entity] = value;
                }
                else
                {
                    _pendingEntities.Remove(entity);
                }
            }

            foreach (string key in _keyUndo)
            {
                _pendingKeys.Remove(key);
            }

            command.Failure = ex;
        }
    }

    private AppendReceipt StageOne(PgCommand command, int commandIndex, in EventData e)
    {
        AppendOptions options = e.Options ?? AppendOptions.Default;
        string entity = e.Coordinate.Entity;
        string? key = options.IdempotencyKey;
        ulong fingerprint = 0;
        if (key is not null)
        {
            fingerprint = IdempotencyFingerprint.Compute(entity, e.Kind.Value, e.Payload.Span);
            if (_pendingKeys.TryGetValue(key, out int first))
            {
                StagedRow row = Rows[first];
                var pending = new IdempotencyRecord(ReceiptOf(row.Fields), row.Fields.Entity, row.Fields.Kind, row.Fingerprint);
                if (pending.Check(key, entity, e.Kind.Value, fingerprint) is { } conflict)
                {
                    command.FailureAwaitsGroup |= row.Command != commandIndex;
                    throw conflict;
                }

                return pending.Receipt;
            }

            if (_snapshot.Keys.TryGetValue(key, out IdempotencyRecord stored))
            {
                return stored.Check(key, entity, e.Kind.Value, fingerprint) is { } conflict ? throw conflict : stored.Receipt;
            }
        }

        bool pendingEntity = _pendingEntities.TryGetValue(entity, out (long Sequence, EventHash Hash, int Command) last);
        bool storedEntity = false;
        if (!pendingEntity)
        {
            storedEntity = _snapshot.Entities.TryGetValue(entity, out (long Sequence, EventHash Hash) s);
            last = storedEntity ? (s.Sequence, s.Hash, -1) : (AppendOptions.NoStream, EventHash.Zero, -1);
        }

        if (options.ExpectedSequence is long expected && expected != last.Sequence)
        {
            command.FailureAwaitsGroup |= pendingEntity && last.Command != commandIndex;
            throw new SequenceMismatchException(entity, expected, last.Sequence);
        }

        uint depth = 0;
        EventId? correlation = options.CorrelationId;
        EventId causation = options.CausationId ?? EventId.Empty;
        if (!causation.IsEmpty)
        {
            if (!_snapshot.Causes.TryGetValue(causation, out (uint Depth, EventId Correlation) cause))
            {
                throw new EventNotFoundException(causation);
            }

            depth = cause.Depth + 1;
            correlation ??= cause.Correlation;
        }

        // A batch is bounded by the frame estimate, as in the embedded engine (StoreCore already bounded each payload).
        long frameEstimate = command.IsBatch ? BatchStager.EstimateFrameBytes(e) : 0;
        if (frameEstimate > maxEventBytes)
        {
            throw new EventTooLargeException(frameEstimate, maxEventBytes);
        }

        EventId id = _ids.Next();
        DateTimeOffset now = time.GetUtcNow();
        _clock.Peek(now.ToUnixTimeMilliseconds(), out long wall, out uint counter);
        var fields = new FrameFormat.FrameFields
        {
            GlobalSequence = NextGlobal,
            EventId = id,
            CorrelationId = correlation ?? id,
            CausationId = causation,
            TimestampMicroseconds = (now - DateTimeOffset.UnixEpoch).Ticks / 10,
            WallMilliseconds = wall,
            Counter = counter,
            Depth = depth,
            EntitySequence = last.Sequence + 1,
            Kind = e.Kind.Value,
            Flags = (ushort)options.Flags,
            PrevHash = last.Hash,
            Entity = entity,
            Scope = e.Coordinate.Scope,
            IdempotencyKey = key,
            BypassReason = options.BypassReason,
        };
        fields.Hash = FrameFormat.ComputeHash(_sha, fields, e.Payload.Span);

        NextGlobal++;
        _clock.Advance(wall, counter);
        Clock = (wall, counter);
        _entityUndo.Add((entity, pendingEntity, last));
        _pendingEntities[entity] = (fields.EntitySequence, fields.Hash, commandIndex);
        if (!pendingEntity && !storedEntity)
        {
            NewEntities++;
        }

        if (key is not null)
        {
            _pendingKeys[key] = Rows.Count;
            _keyUndo.Add(key);
        }

        Rows.Add(new StagedRow { Fields = fields, Payload = e.Payload, Fingerprint = fingerprint, Command = commandIndex });
        return ReceiptOf(fields);
    }

    private static AppendReceipt ReceiptOf(in FrameFormat.FrameFields fields) =>
        new(fields.EventId, fields.GlobalSequence, fields.EntitySequence, default, fields.Hash);

    public void Dispose() => _sha.Dispose();
}
