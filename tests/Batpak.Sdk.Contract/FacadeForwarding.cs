using System.Reflection;

namespace Batpak.Contract;

/// <summary>
/// A rule for a public store facade over StoreCore. <see cref="IEventStore"/> has internal members with a default
/// body (where an event sits, the gate check, the cursor lease). A facade that does not implement one gets the
/// default silently: a PostgreSQL facade without the lease forwarder let every instance lead its reactor. Each engine's
/// test project checks its facade with <see cref="AssertImplementsEveryDefaultMember"/>.
/// </summary>
public static class FacadeForwarding
{
    /// <summary>The members of <see cref="IEventStore"/> that have a default body.</summary>
    public static IReadOnlyList<MethodInfo> DefaultMembers() =>
        [.. typeof(IEventStore).GetMethods(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic).Where(static m => !m.IsAbstract)];

    /// <summary>Fails unless <paramref name="facade"/> implements every member of <see cref="DefaultMembers"/> itself.</summary>
    public static void AssertImplementsEveryDefaultMember(Type facade)
    {
        ArgumentNullException.ThrowIfNull(facade);
        IReadOnlyList<MethodInfo> defaults = DefaultMembers();
        Assert.NotEmpty(defaults);
        InterfaceMapping map = facade.GetInterfaceMap(typeof(IEventStore));
        foreach (MethodInfo member in defaults)
        {
            MethodInfo target = map.TargetMethods[Array.IndexOf(map.InterfaceMethods, member)];
            Assert.True(target.DeclaringType == facade, $"{facade.Name} does not implement IEventStore.{member.Name}: it would get the interface's default body ({target.DeclaringType?.Name}) instead of forwarding to the store's core.");
        }
    }
}
