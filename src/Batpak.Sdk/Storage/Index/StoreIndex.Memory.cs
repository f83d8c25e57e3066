using System.Runtime.CompilerServices;

namespace Batpak.Storage;

// What the index holds in process memory (GetStats().IndexMemoryBytes): the arrays and native chunks exactly, the
// per-item objects (entity streams, names, idempotency records, correlation lists, dropped events) by a fixed estimate
// per item. Readers call it from any thread; it takes SyncRoot.
internal sealed partial class StoreIndex
{
    // Per-item estimates of managed objects on a 64-bit runtime: a dictionary entry (hash, next, key, value) is about
    // 24 bytes plus its value; an object header and method table 16; a string 22 plus 2 per character.
    private const int DictionaryEntryBytes = 24;
    private const int EntityStreamBytes = 16 + 8 + 4 + 8 + 8 + 32 + 8 + 8 + 32 + 8 + 16; // fields of EntityStream, its PositionList object
    private const int IdempotencyValueBytes = 16 + 8 + 8 + 8 + 12 + 32 + 8 + 2 + 8; // IdempotencyRecord: receipt, entity, kind, fingerprint
    private const int DroppedEventBytes = 16 + 8 + 8 + 16 + 8 + 2 + 32 + 8 + 8 + 8; // a DroppedEvent record and its list slots

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

            bytes += (long)_dropped.Count * DroppedEventBytes * 2; // each is in the global list and its entity's list
            bytes += (long)_tombstones.Count * 16;
            return bytes;
        }
    }

    private static long StringBytes(string s) => 22 + (2L * s.Length);
}
