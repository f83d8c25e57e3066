using LiteDB;

namespace Batpak.Bench.Engines;

/// <summary>
/// LiteDB 5 (direct connection, one <see cref="LiteDatabase"/>), BsonDocument API (no mapper): <c>_id</c> = global
/// sequence, a unique index on the 16-byte event id (<c>eid</c>) and indexes on entity, scope and kind.
/// W1 commits an explicit transaction per 1,000 inserts; W2 uses LiteDB's per-insert auto-transaction.
/// </summary>
internal sealed class LiteDbEngine : BenchEngine
{
    private const string Collection = "events";
    private LiteDatabase? _database;
    private ILiteCollection<BsonDocument>? _events;

    public override string Name => "LiteDB";

    public override string Key => "litedb";

    public override string Settings => "LiteDB 5.0.20, Connection=Direct, BsonDocument API, _id = global sequence, unique index on event id + indexes on entity, scope, kind; W1 one transaction per 1,000 inserts, W2 one auto-transaction per insert (LiteDB writes its log through an internal writer queue; it has no per-call fsync acknowledgement)";

    private ILiteCollection<BsonDocument> Events => _events ?? throw new InvalidOperationException("Store not open.");

    private void Open(string directory)
    {
        Directory.CreateDirectory(directory);
        _database = new LiteDatabase(new ConnectionString
        {
            Filename = Path.Combine(directory, "events.litedb"),
            Connection = ConnectionType.Direct,
        });
        _events = _database.GetCollection(Collection, BsonAutoId.Int64);
    }

    public override void CreateForAppend(string directory, int syncEvery)
    {
        Open(directory);
        Events.EnsureIndex("eid", "$.eid", unique: true);
        Events.EnsureIndex("entity", "$.entity");
        Events.EnsureIndex("scope", "$.scope");
        Events.EnsureIndex("kind", "$.kind");
    }

    public override void CreateForDurable(string directory) => CreateForAppend(directory, 1);

    private static BsonDocument ToDocument(Dataset data, int i) => new()
    {
        ["_id"] = (long)i + 1,
        ["eid"] = data.PeerIds[i],
        ["entity"] = data.Entities[data.EntityOf[i]],
        ["seq"] = data.SequenceOf[i],
        ["scope"] = data.ScopeOfEvent(i),
        ["kind"] = (int)Dataset.KindValues[data.KindOf[i]],
        ["ts"] = (long)i,
        ["payload"] = data.Payloads[i],
    };

    public override void AppendAll(Dataset data, int syncEvery)
    {
        var database = _database!;
        var batch = new List<BsonDocument>(syncEvery);
        int i = 0;
        while (i < data.Count)
        {
            batch.Clear();
            int end = Math.Min(data.Count, i + syncEvery);
            for (; i < end; i++)
            {
                batch.Add(ToDocument(data, i));
            }

            database.BeginTrans();
            Events.Insert(batch);
            database.Commit();
        }
    }

    public override long AppendDurable(Dataset data, int count, int concurrency)
    {
        var events = Events;
        return RunAppenders(count, concurrency, () => i => events.Insert(ToDocument(data, i)));
    }

    public override void OpenExisting(string directory) => Open(directory);

    public override long PointReads(Dataset data, int[] indexes)
    {
        var events = Events;
        long found = 0;
        foreach (int i in indexes)
        {
            var doc = events.FindOne(Query.EQ("eid", data.PeerIds[i]));
            if (doc is not null && doc["payload"].AsBinary.Length == data.PayloadLengths[i])
            {
                found++;
            }
        }

        return found;
    }

    private IEnumerable<BsonDocument> StreamOf(string entity)
    {
        var docs = Events.Find(Query.EQ("entity", entity)).ToList();
        bool ordered = true;
        for (int k = 1; k < docs.Count && ordered; k++)
        {
            ordered = docs[k - 1]["seq"].AsInt32 < docs[k]["seq"].AsInt32;
        }

        if (!ordered)
        {
            docs.Sort((x, y) => x["seq"].AsInt32.CompareTo(y["seq"].AsInt32));
        }

        return docs;
    }

    public override long ReadAllStreams(Dataset data)
    {
        long read = 0;
        foreach (string entity in data.Entities)
        {
            foreach (var doc in StreamOf(entity))
            {
                _ = doc["payload"].AsBinary;
                read++;
            }
        }

        return read;
    }

    public override long QueryScope(string scope) => Events.Find(Query.EQ("scope", scope)).Count(d => d["payload"].AsBinary is not null);

    public override long QueryKind(ushort kind) => Events.Find(Query.EQ("kind", (int)kind)).Count(d => d["payload"].AsBinary is not null);

    public override long FoldAll(Dataset data, long[] sums)
    {
        long read = 0;
        for (int e = 0; e < data.EntityCount; e++)
        {
            long sum = 0;
            foreach (var doc in StreamOf(data.Entities[e]))
            {
                sum += Dataset.ReadAmount(doc["payload"].AsBinary);
                read++;
            }

            sums[e] = sum;
        }

        return read;
    }

    public override long ReopenProbe(string directory, Dataset? data)
    {
        Open(directory);
        var max = Events.Max();
        return max.IsNull ? 0 : max.AsInt64;
    }

    public override void Close()
    {
        _database?.Dispose();
        _database = null;
        _events = null;
    }
}
