using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Batpak.Sdk.Generators.Model;

/// <summary>
/// A source location as plain data (a <see cref="Location"/> holds the syntax tree). Immutable, structurally
/// equal, no symbols.
/// </summary>
internal sealed record LocationInfo(string FilePath, TextSpan TextSpan, LinePositionSpan LineSpan)
{
    public Location ToLocation() => Location.Create(FilePath, TextSpan, LineSpan);

    public static LocationInfo? From(Location? location) =>
        location is null || location.SourceTree is null
            ? null
            : new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);
}
