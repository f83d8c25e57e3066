using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Batpak.Storage;

// Readers' look-ups by id, entity and correlation: called from any thread, each under SyncRoot for the look-up only.
internal sealed partial class StoreIndex
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the read path: tiering would run it unoptimized through the first reads after open
    public bool TryGet(EventId id, out IndexEntry entry, [NotNullWhen(true)] out string? entity, [NotNullWhen(true)] out string? scope)
    {
        lock (_lock)
        {
            ThrowIfFreed();
            if (_byId.TryGet(id, out int position))
            {
                ref IndexEntry found = ref At(position);
                entry = found;
                entity = _entityByIndex[found.EntityIndex].Name;
                scope = _scopeNames[found.ScopeIndex];
                return true;
            }
        }

        entry = default;
        entity = scope = null;
        return false;
    }

    public long GetLastSequence(string entity)
    {
        lock (_lock)
        {
            return _entities.TryGetValue(entity, out EntityStream? stream) ? stream.LastSequence : -1;
        }
    }

    public (string Entity, string Scope) NamesOf(in IndexEntry entry)
    {
        lock (_lock)
        {
            return (_entityByIndex[entry.EntityIndex].Name, _scopeNames[entry.ScopeIndex]);
        }
    }

    /// <summary>The names of every entity, as of the call.</summary>
    public string[] EntityNames()
    {
        lock (_lock)
        {
            return [.. _entities.Keys];
        }
    }

    /// <summary>Positions of one correlation (root first when present), as of the call.</summary>
    public List<IndexEntry> CollectCorrelation(EventId correlationId)
    {
        lock (_lock)
        {
            ThrowIfFreed();
            var result = new List<IndexEntry>();
            if (_byId.TryGet(correlationId, out int rootPosition) && At(rootPosition).CorrelationId == correlationId)
            {
                result.Add(At(rootPosition));
            }

            if (_byCorrelation.TryGetValue(correlationId, out List<int>? positions))
            {
                foreach (int position in positions)
                {
                    if (!At(position).Deleted && (position != rootPosition || result.Count == 0))
                    {
                        result.Add(At(position));
                    }
                }
            }

            result.Sort(static (a, b) => a.GlobalSequence.CompareTo(b.GlobalSequence));
            return result;
        }
    }
}
