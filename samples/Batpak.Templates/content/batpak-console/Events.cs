using Batpak;

namespace BatpakConsole;

/// <summary>An account was opened. The generator makes it an IBatpakEvent: kind, serializer, coordinate.</summary>
[BatpakEvent(Category = 0x1, Type = 0x001)]
public sealed partial record AccountOpened(
    [property: Entity("account:{0}")] string AccountId,
    [property: Scope("bank:{0}")] string Bank,
    string Owner);

/// <summary>Money was paid into an account.</summary>
[BatpakEvent(Category = 0x1, Type = 0x002)]
public sealed partial record MoneyDeposited(
    [property: Entity("account:{0}")] string AccountId,
    [property: Scope("bank:{0}")] string Bank,
    decimal Amount);
