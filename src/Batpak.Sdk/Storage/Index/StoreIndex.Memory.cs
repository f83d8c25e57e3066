using System.Runtime.CompilerServices;

namespace Batpak.Storage;

// What the index holds in process memory (GetStats().IndexMemoryBytes): the arrays and native chunks exactly, the
// per-item objects (entity streams, names, idempotency records, correlation lists, dropped events) by a fixed estimate
// per item. Readers call it from any thread; it takes SyncRoot.
internal sealed partial class StoreIndex
{
    // Per-item estimates of managed objects on a 64-bit runtime (an object's header and method table are 16 bytes, a
    // reference 8, a string 22 plus 2 per character): a dictionary entry (hash, next, key, value) 24 plus its value;
    // an EntityStream with its PositionList object 150; an IdempotencyRecord (receipt, entity, kind, fingerprint) 110;
    // a DroppedEvent record 120, plus its slots in the global and the entity list.
    private const int DictionaryEntryBytes = 24;
    private const int EntityStreamBytes = 150;
    private const int IdempotencyValueBytes = 110;
    private const int DroppedEventBytes = 120 + 16;

    /// <summary>Bytes of process memory the index holds, as of the call (0 once disposed).</summary>
    public long MemoryBytes()
    {
        lock (_lock)
        {
            if (_freed)
            {
                return 0;
            }

            long bytes = (long)_entries.Capacity * Unsafe.SizeOf<IndexEntry>() + _byId.Bytes;
            foreach (EntityStream stream in _entityByIndex)
            {
                bytes += stream.Positions.CapacityBytes + EntityStreamBytes + DictionaryEntryBytes + StringBytes(stream.Name);
            }

            foreach (PositionList list in _scopePositions)
            {
                bytes += list.CapacityBytes;
            }

            foreach (PositionList list in _byKind.Values)
            {
                bytes += list.CapacityBytes + DictionaryEntryBytes;
            }

            foreach ((string key, _) in _idempotency)
            {
                bytes += DictionaryEntryBytes + IdempotencyValueBytes + StringBytes(key);
            }

            foreach (List<int> correlated in _byCorrelation.Values)
            {
                bytes += DictionaryEntryBytes + 16 + 40 + (long)correlated.Capacity * sizeof(int);
            }

            bytes += (long)_dropped.Count * DroppedEventBytes;
            bytes += (long)_tombstones.Count * 16;
            return bytes;
        }
    }

    private static long StringBytes(string s) => 22 + (2L * s.Length);
}
