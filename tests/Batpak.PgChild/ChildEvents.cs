// The event kinds a child and the multi-instance tests agree on (linked into tests/Batpak.Sdk.PostgreSql.Tests).
using Batpak;

namespace Batpak.PgChild;

/// <summary>The kinds and coordinates the multi-instance tests and their children agree on.</summary>
public static class ChildEvents
{
    /// <summary>What an appender child appends.</summary>
    public static readonly EventKind Appended = EventKind.Create(0x3, 0x001);

    /// <summary>The source events a reactor child reacts to (scope "src").</summary>
    public static readonly EventKind Source = EventKind.Create(0x3, 0x002);

    /// <summary>What a reactor child derives: one per source, on <c>echo:{source entity}</c>, payload = the source id's text.</summary>
    public static readonly EventKind Echo = EventKind.Create(0x3, 0x003);
}
