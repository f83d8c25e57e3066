namespace Batpak.Sdk.Generators.Tests.Runtime;

public class CoordinateTests
{
    [Fact]
    public void GetCoordinate_EntityAndScopeMembers_FormatsBoth()
    {
        Coordinate coordinate = BatpakEvents.GetCoordinate(new OrderPlaced("507", "acme", 1m), "default");

        Assert.Equal(new Coordinate("order:507", "tenant:acme"), coordinate);
    }

    [Fact]
    public void GetCoordinate_NoScopeMember_UsesDefaultScope()
    {
        Coordinate coordinate = BatpakEvents.GetCoordinate(new Point(3, 4), "tenant:main");

        Assert.Equal(new Coordinate("point:3", "tenant:main"), coordinate);
    }

    [Fact]
    public void GetCoordinate_FormatSpecifierAndEnumScope_FormatsInvariant()
    {
        Coordinate coordinate = BatpakEvents.GetCoordinate(new Formatted(42, Color.Blue), "unused");

        Assert.Equal(new Coordinate("account:000042", "region:Blue"), coordinate);
    }

    [Fact]
    public void GetCoordinate_NullEntityMember_ThrowsArgumentException()
    {
        var evt = new OrderPlaced(null!, "acme", 1m);

        ArgumentException error = Assert.Throws<ArgumentException>(() => BatpakEvents.GetCoordinate(evt, "default"));
        Assert.Contains("OrderId", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetCoordinate_NestedTypeAndParameterAttribute_UsesParameterFormat()
    {
        Coordinate coordinate = BatpakEvents.GetCoordinate(new Outer.InnerEvent("x"), "s");

        Assert.Equal(new Coordinate("inner:x", "s"), coordinate);
    }
}
