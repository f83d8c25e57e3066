using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;

namespace Batpak;

/// <summary>
/// The process-wide list of event registries. Every assembly with <see cref="BatpakEventAttribute"/> records
/// registers its generated registry here from a module initializer, so the store can read any stored kind back as
/// a typed event without reflection.
/// </summary>
/// <remarks>
/// A module initializer runs when its assembly is first used (any of its types is touched). An application that
/// reads events of an assembly it has not touched yet can register that assembly's generated
/// <c>BatpakEventRegistry.Instance</c> explicitly; registering the same registry twice is harmless.
/// Two assemblies claiming one kind for different types make that kind ambiguous: looking it up through
/// <see cref="Combined"/> throws <see cref="InvalidOperationException"/> naming both types.
/// Registration takes a lock and rebuilds an immutable snapshot; lookups are lock-free.
/// </remarks>
public static class BatpakEventRegistries
{
    private static readonly Lock s_gate = new();
    private static Snapshot s_snapshot = Snapshot.Empty;

    /// <summary>Every registered registry, in registration order.</summary>
    public static IReadOnlyList<IEventTypeRegistry> Registries => Volatile.Read(ref s_snapshot).Registries;

    /// <summary>A live view over every registered registry; sees later registrations.</summary>
    public static IEventTypeRegistry Combined { get; } = new CombinedRegistry();

    /// <summary>Adds <paramref name="registry"/>; does nothing if it is already registered.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="registry"/> is null.</exception>
    public static void Register(IEventTypeRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        lock (s_gate)
        {
            Snapshot current = s_snapshot;
            if (current.Registries.Contains(registry))
            {
                return;
            }

            Volatile.Write(ref s_snapshot, Snapshot.Create([.. current.Registries, registry]));
        }
    }

    /// <summary>An immutable view: the registries, their merged (first claim wins) lookup, and the ambiguous kinds.</summary>
    private sealed class Snapshot
    {
        public static readonly Snapshot Empty = Create([]);

        private Snapshot(IEventTypeRegistry[] registries, EventTypeRegistry merged, FrozenDictionary<ushort, string> ambiguous)
        {
            Registries = registries;
            Merged = merged;
            Ambiguous = ambiguous;
        }

        public IEventTypeRegistry[] Registries { get; }

        public EventTypeRegistry Merged { get; }

        public FrozenDictionary<ushort, string> Ambiguous { get; }

        public static Snapshot Create(IEventTypeRegistry[] registries)
        {
            var byKind = new Dictionary<ushort, EventTypeInfo>();
            var ambiguous = new Dictionary<ushort, string>();
            foreach (IEventTypeRegistry registry in registries)
            {
                foreach (EventTypeInfo info in registry.Types)
                {
                    if (!byKind.TryAdd(info.Kind.Value, info) && byKind[info.Kind.Value].Type != info.Type)
                    {
                        ambiguous[info.Kind.Value] =
                            $"Event kind {info.Kind} is claimed by {byKind[info.Kind.Value].Type.AssemblyQualifiedName} and {info.Type.AssemblyQualifiedName}; give one of them another kind.";
                    }
                }
            }

            return new Snapshot(registries, new EventTypeRegistry(byKind.Values), ambiguous.ToFrozenDictionary());
        }
    }

    /// <summary>Resolves every lookup against the current snapshot; an ambiguous kind throws instead of guessing.</summary>
    private sealed class CombinedRegistry : IEventTypeRegistry
    {
        public IReadOnlyCollection<EventTypeInfo> Types => Volatile.Read(ref s_snapshot).Merged.Types;

        public bool TryGetInfo(EventKind kind, [NotNullWhen(true)] out EventTypeInfo? info) => For(kind).TryGetInfo(kind, out info);

        public bool TryGetType(EventKind kind, [NotNullWhen(true)] out Type? type) => For(kind).TryGetType(kind, out type);

        public bool TryDeserialize(EventKind kind, ReadOnlyMemory<byte> payload, [NotNullWhen(true)] out object? value) =>
            For(kind).TryDeserialize(kind, payload, out value);

        private static EventTypeRegistry For(EventKind kind)
        {
            Snapshot snapshot = Volatile.Read(ref s_snapshot);
            if (snapshot.Ambiguous.TryGetValue(kind.Value, out string? message))
            {
                throw new InvalidOperationException(message);
            }

            return snapshot.Merged;
        }
    }
}
