using Microsoft.CodeAnalysis;

namespace Batpak.Sdk.Generators;

/// <summary>Generates MessagePack formatters, coordinate builders and the kind registry for [BatpakEvent] records.</summary>
[Generator(LanguageNames.CSharp)]
public sealed class EventGenerator : IIncrementalGenerator
{
    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
    }
}
