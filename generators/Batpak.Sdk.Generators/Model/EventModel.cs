namespace Batpak.Sdk.Generators.Model;

/// <summary>
/// Everything the emitter needs for one event record. Immutable, structurally equal, no symbols: no ISymbol,
/// no SyntaxNode, no Location, so an edit elsewhere leaves it equal and its output cached.
/// </summary>
/// <param name="Namespace">The containing namespace, or <see langword="null"/> for the global namespace.</param>
/// <param name="TypeName">The simple type name.</param>
/// <param name="FullyQualifiedName">The <c>global::</c>-qualified name.</param>
/// <param name="HintName">The output file's hint name, <c>{Namespace}.{Type}.Batpak.g.cs</c>.</param>
/// <param name="IsValueType"><see langword="true"/> for a <c>record struct</c>.</param>
/// <param name="ContainingTypes">Enclosing types, outermost first.</param>
/// <param name="Kind">The raw kind value, <c>(Category &lt;&lt; 12) | Type</c>.</param>
/// <param name="Version">The declared schema version.</param>
/// <param name="Fields">The serialized members in key order.</param>
/// <param name="HasPrimaryConstructor"><see langword="true"/> when the record has a parameter list.</param>
/// <param name="Entity">The <c>[Entity]</c> member.</param>
/// <param name="Scope">The <c>[Scope]</c> member, if any.</param>
internal sealed record EventModel(
    string? Namespace,
    string TypeName,
    string FullyQualifiedName,
    string HintName,
    bool IsValueType,
    EquatableArray<ContainingTypeModel> ContainingTypes,
    ushort Kind,
    int Version,
    EquatableArray<FieldModel> Fields,
    bool HasPrimaryConstructor,
    CoordinatePartModel Entity,
    CoordinatePartModel? Scope);

/// <summary>An enclosing type declaration (<c>partial class Outer</c>). Immutable, structurally equal, no symbols.</summary>
/// <param name="Keyword">The declaration keyword(s): <c>class</c>, <c>struct</c>, <c>record</c>, <c>record struct</c>, <c>interface</c>.</param>
/// <param name="Name">The name with type parameters, for example <c>Outer&lt;T&gt;</c>.</param>
internal sealed record ContainingTypeModel(string Keyword, string Name);

/// <summary>One serialized member. Immutable, structurally equal, no symbols.</summary>
/// <param name="Name">The member name as it appears in C# (escaped with <c>@</c> when it is a keyword).</param>
/// <param name="TypeName">The declared type, <c>global::</c>-qualified, with nullable annotations.</param>
/// <param name="Shape">How the value is written and read.</param>
/// <param name="Key">The array index (declaration order).</param>
/// <param name="IsConstructorParameter"><see langword="true"/> for a primary-constructor parameter.</param>
/// <param name="DefaultValue">The C# expression a missing value takes (the parameter default or <c>default!</c>).</param>
/// <param name="IsRequired"><see langword="true"/> for a <c>required</c> property.</param>
internal sealed record FieldModel(
    string Name,
    string TypeName,
    TypeShape Shape,
    int Key,
    bool IsConstructorParameter,
    string DefaultValue,
    bool IsRequired);

/// <summary>The member and format behind the entity or the scope. Immutable, structurally equal, no symbols.</summary>
/// <param name="MemberName">The member (escaped).</param>
/// <param name="Format">The composite format; <c>{0}</c> is the member.</param>
/// <param name="IsString"><see langword="true"/> when the member is a <see cref="string"/>.</param>
internal sealed record CoordinatePartModel(string MemberName, string Format, bool IsString);

/// <summary>How a member type is written: one node per type, children for elements/keys/values.
/// Immutable, structurally equal, no symbols.</summary>
/// <param name="Kind">The wire form.</param>
/// <param name="TypeName">The type, <c>global::</c>-qualified, with nullable annotations.</param>
/// <param name="Arguments">Element, key/value, underlying or nullable-underlying shapes.</param>
internal sealed record TypeShape(ShapeKind Kind, string TypeName, EquatableArray<TypeShape> Arguments)
{
    public TypeShape(ShapeKind kind, string typeName)
        : this(kind, typeName, EquatableArray<TypeShape>.Empty)
    {
    }
}

/// <summary>The wire forms the generator knows.</summary>
internal enum ShapeKind
{
    Boolean,
    Char,
    SByte,
    Byte,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Int64,
    UInt64,
    Single,
    Double,
    Decimal,
    String,
    ByteArray,
    Guid,
    DateTime,
    DateTimeOffset,
    TimeSpan,

    /// <summary>Arguments[0] is the underlying integral shape.</summary>
    Enum,

    /// <summary><c>Nullable&lt;T&gt;</c>; Arguments[0] is T.</summary>
    Nullable,

    /// <summary><c>T[]</c>; Arguments[0] is T.</summary>
    Array,

    /// <summary><c>List&lt;T&gt;</c>.</summary>
    List,

    /// <summary><c>IReadOnlyList&lt;T&gt;</c>; read back as <c>T[]</c>.</summary>
    ReadOnlyList,

    /// <summary><c>Dictionary&lt;TKey, TValue&gt;</c>.</summary>
    Dictionary,

    /// <summary><c>IReadOnlyDictionary&lt;TKey, TValue&gt;</c>; read back as a <c>Dictionary</c>.</summary>
    ReadOnlyDictionary,

    /// <summary>Another Batpak event: its generated serializer.</summary>
    Event,

    /// <summary>A <c>[MessagePackObject]</c> or <c>[MessagePackFormatter]</c> type: MessagePack's resolver.</summary>
    MessagePack,
}

/// <summary>The result of parsing one <c>[BatpakEvent]</c> declaration. Immutable, structurally equal, no symbols.</summary>
/// <param name="Model">The model, or <see langword="null"/> when an error prevents emission.</param>
/// <param name="Claim">The kind the type claims, for the compilation-wide duplicate check.</param>
/// <param name="Diagnostics">Errors found while parsing.</param>
internal sealed record ParseResult(EventModel? Model, KindClaim? Claim, EquatableArray<DiagnosticInfo> Diagnostics)
{
    /// <summary>Nothing to emit, claim or report: a declaration the compiler already reports an error for.</summary>
    public static ParseResult Empty { get; } = new(null, null, EquatableArray<DiagnosticInfo>.Empty);
}

/// <summary>A type's claim on a kind, with where to report a duplicate. Immutable, structurally equal, no symbols.</summary>
internal sealed record KindClaim(string TypeName, ushort Kind, LocationInfo? Location);

/// <summary>The registry's input: the assembly name and every event type. Immutable, structurally equal, no symbols.</summary>
internal sealed record RegistryModel(string AssemblyName, EquatableArray<RegistryEntry> Entries);

/// <summary>One registry row. Immutable, structurally equal, no symbols.</summary>
internal sealed record RegistryEntry(string FullyQualifiedName, ushort Kind, int Version);
