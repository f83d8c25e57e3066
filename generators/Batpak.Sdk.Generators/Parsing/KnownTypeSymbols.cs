using System.Runtime.CompilerServices;
using Batpak.Sdk.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Batpak.Sdk.Generators.Parsing;

/// <summary>
/// The Batpak, MessagePack and BCL types the parser recognises, looked up once per <see cref="Compilation"/> by
/// metadata name and compared by symbol (<see cref="SymbolEqualityComparer.Default"/>), never by name or display
/// string, so a lookalike in another namespace is not mistaken for the real type. Used only by the parse stage,
/// inside the pipeline's transform: an instance holds symbols and never reaches a cached model.
/// </summary>
internal sealed class KnownTypeSymbols
{
    // Keyed weakly by compilation: a new compilation (every edit) gets its own lookups, an old one is not kept alive.
    private static readonly ConditionalWeakTable<Compilation, KnownTypeSymbols> s_cache = new();

    private readonly INamedTypeSymbol? _eventAttribute;
    private readonly INamedTypeSymbol? _entityAttribute;
    private readonly INamedTypeSymbol? _scopeAttribute;
    private readonly INamedTypeSymbol? _eventInterface;
    private readonly INamedTypeSymbol? _messagePackObjectAttribute;
    private readonly INamedTypeSymbol? _messagePackFormatterAttribute;
    private readonly INamedTypeSymbol? _guid;
    private readonly INamedTypeSymbol? _dateTimeOffset;
    private readonly INamedTypeSymbol? _timeSpan;
    private readonly INamedTypeSymbol? _list;
    private readonly INamedTypeSymbol? _readOnlyList;
    private readonly INamedTypeSymbol? _dictionary;
    private readonly INamedTypeSymbol? _readOnlyDictionary;

    private KnownTypeSymbols(Compilation compilation)
    {
        _eventAttribute = compilation.GetTypeByMetadataName(KnownNames.EventAttribute);
        _entityAttribute = compilation.GetTypeByMetadataName(KnownNames.EntityAttribute);
        _scopeAttribute = compilation.GetTypeByMetadataName(KnownNames.ScopeAttribute);
        _eventInterface = compilation.GetTypeByMetadataName(KnownNames.EventInterface);
        _messagePackObjectAttribute = compilation.GetTypeByMetadataName(KnownNames.MessagePackObjectAttribute);
        _messagePackFormatterAttribute = compilation.GetTypeByMetadataName(KnownNames.MessagePackFormatterAttribute);
        _guid = compilation.GetTypeByMetadataName("System.Guid");
        _dateTimeOffset = compilation.GetTypeByMetadataName("System.DateTimeOffset");
        _timeSpan = compilation.GetTypeByMetadataName("System.TimeSpan");
        _list = compilation.GetTypeByMetadataName("System.Collections.Generic.List`1");
        _readOnlyList = compilation.GetTypeByMetadataName("System.Collections.Generic.IReadOnlyList`1");
        _dictionary = compilation.GetTypeByMetadataName("System.Collections.Generic.Dictionary`2");
        _readOnlyDictionary = compilation.GetTypeByMetadataName("System.Collections.Generic.IReadOnlyDictionary`2");
    }

    /// <summary>The symbols of <paramref name="compilation"/>, looked up on the first call for it.</summary>
    public static KnownTypeSymbols For(Compilation compilation) =>
        s_cache.GetValue(compilation, static c => new KnownTypeSymbols(c));

    /// <summary><c>Batpak.BatpakEventAttribute</c>.</summary>
    public bool IsEventAttribute(ITypeSymbol? type) => Is(type, _eventAttribute);

    /// <summary><c>Batpak.EntityAttribute</c>.</summary>
    public bool IsEntityAttribute(ITypeSymbol? type) => Is(type, _entityAttribute);

    /// <summary><c>Batpak.ScopeAttribute</c>.</summary>
    public bool IsScopeAttribute(ITypeSymbol? type) => Is(type, _scopeAttribute);

    /// <summary><c>Batpak.IBatpakEvent&lt;TSelf&gt;</c>, the unbound definition.</summary>
    public bool IsEventInterface(ITypeSymbol? definition) => Is(definition, _eventInterface);

    /// <summary><c>[MessagePackObject]</c> or <c>[MessagePackFormatter]</c>.</summary>
    public bool IsMessagePackAttribute(ITypeSymbol? type) =>
        Is(type, _messagePackObjectAttribute) || Is(type, _messagePackFormatterAttribute);

    /// <summary>The wire form of a non-special BCL type, by its (unbound) definition; <see langword="null"/> for any other.</summary>
    public ShapeKind? BclShape(INamedTypeSymbol definition) =>
        Is(definition, _guid) ? ShapeKind.Guid
        : Is(definition, _dateTimeOffset) ? ShapeKind.DateTimeOffset
        : Is(definition, _timeSpan) ? ShapeKind.TimeSpan
        : Is(definition, _list) ? ShapeKind.List
        : Is(definition, _readOnlyList) ? ShapeKind.ReadOnlyList
        : Is(definition, _dictionary) ? ShapeKind.Dictionary
        : Is(definition, _readOnlyDictionary) ? ShapeKind.ReadOnlyDictionary
        : null;

    // A type the compilation cannot resolve (absent, or ambiguous between references) matches nothing.
    private static bool Is(ITypeSymbol? candidate, INamedTypeSymbol? known) =>
        known is not null && SymbolEqualityComparer.Default.Equals(candidate, known);
}
