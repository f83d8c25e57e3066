using Batpak;

namespace PolicyGates;

/// <summary>Money moved from one account to another.</summary>
[BatpakEvent(Category = 0x3, Type = 0x001)]
public sealed partial record MoneyTransferred(
    [property: Entity("account:{0}")] string From,
    [property: Scope("bank:{0}")] string Bank,
    string To,
    decimal Amount);

/// <summary>What the transfer gates judge: who asks, how much, and the sender's balance.</summary>
public sealed record TransferContext(string User, decimal Amount, decimal Balance, bool AccountFrozen);
