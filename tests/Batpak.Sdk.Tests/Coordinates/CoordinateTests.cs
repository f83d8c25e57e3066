namespace Batpak.Tests.Coordinates;

public class CoordinateTests
{
    [Fact]
    public void Constructor_ValidParts_KeepsThem()
    {
        var c = new Coordinate("order:507", "tenant:acme");
        Assert.Equal("order:507", c.Entity);
        Assert.Equal("tenant:acme", c.Scope);
        Assert.True(c.IsValid);
        Assert.Equal("tenant:acme/order:507", c.ToString());
    }

    [Theory]
    [InlineData("", "it is empty")]
    [InlineData("a\u0001b", "control character U+0001 at index 1")]
    [InlineData("tab\there", "control character U+0009")]
    public void Constructor_BadEntity_ThrowsNamingTheParameterAndTheReason(string entity, string reason)
    {
        var ex = Assert.Throws<ArgumentException>(() => new Coordinate(entity, "scope"));
        Assert.Equal("entity", ex.ParamName);
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_NullOrTooLong_Throws()
    {
        Assert.Equal("scope", Assert.Throws<ArgumentException>(() => new Coordinate("e", null!)).ParamName);
        var ex = Assert.Throws<ArgumentException>(() => new Coordinate(new string('x', Coordinate.MaxLength + 1), "s"));
        Assert.Contains("257 characters long; the limit is 256", ex.Message, StringComparison.Ordinal);
        Assert.Equal(Coordinate.MaxLength, new Coordinate(new string('x', Coordinate.MaxLength), "s").Entity.Length);
    }

    [Fact]
    public void Constructor_LoneSurrogate_Throws()
    {
        string lone = "lone" + (char)0xD800;
        Assert.Contains("lone surrogate at index 4", Assert.Throws<ArgumentException>(() => new Coordinate(lone, "s")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_SurrogatePair_IsAccepted()
    {
        Assert.Equal("emoji:😀", new Coordinate("emoji:😀", "s").Entity);
    }

    [Fact]
    public void TryCreate_ReportsValidity_WithoutThrowing()
    {
        Assert.True(Coordinate.TryCreate("a", "b", out Coordinate ok));
        Assert.Equal(new Coordinate("a", "b"), ok);
        Assert.False(Coordinate.TryCreate("a", "", out Coordinate bad));
        Assert.False(bad.IsValid);
        Assert.False(Coordinate.TryCreate(null, "b", out _));
    }

    [Fact]
    public void Default_IsInvalid()
    {
        Assert.False(default(Coordinate).IsValid);
        Assert.Equal("(invalid coordinate)", default(Coordinate).ToString());
    }
}

public class RegionTests
{
    private static readonly Coordinate s_order = new("order:1", "tenant:a");

    [Fact]
    public void All_MatchesAnyCoordinateKindGlobalSequenceAndTimestamp()
    {
        Coordinate[] coordinates = [s_order, new("x", "y"), new(new string('e', Coordinate.MaxLength), "\u00e9")];
        EventKind[] kinds = [EventKind.Create(0x1, 0x001), EventKind.Create(0xF, 0xFFF), EventKind.FromValue(0x0001)];
        foreach (Coordinate coordinate in coordinates)
        {
            foreach (EventKind kind in kinds)
            {
                Assert.True(Region.All.Matches(coordinate, kind, 0, long.MinValue));
                Assert.True(Region.All.Matches(coordinate, kind, long.MaxValue, long.MaxValue));
                Assert.True(Region.All.Matches(coordinate, kind, 12345, 0));
            }
        }
    }

    [Fact]
    public void Filters_CombineWithAnd()
    {
        Region region = Region.ForEntityPrefix("order:").WithScope("tenant:a").WithKinds(KindFilter.Category(0x2)).WithGlobalSequence(10, 20);
        Assert.True(region.Matches(s_order, EventKind.Create(2, 7), 15, 0));
        Assert.False(region.Matches(s_order, EventKind.Create(1, 7), 15, 0));
        Assert.False(region.Matches(s_order, EventKind.Create(2, 7), 21, 0));
        Assert.False(region.Matches(new Coordinate("order:1", "tenant:b"), EventKind.Create(2, 7), 15, 0));
        Assert.False(region.Matches(new Coordinate("invoice:1", "tenant:a"), EventKind.Create(2, 7), 15, 0));
    }

    [Fact]
    public void WithEntity_ReplacesPrefix_AndValidates()
    {
        Region region = Region.ForEntityPrefix("order:").WithEntity("order:1");
        Assert.Null(region.EntityPrefix);
        Assert.Equal("order:1", region.Entity);
        Assert.Throws<ArgumentException>(() => Region.ForEntity(""));
        Assert.Throws<ArgumentOutOfRangeException>(() => Region.All.WithGlobalSequence(5, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => KindFilter.Category(0x10));
    }

    [Fact]
    public void WithTimestamps_KeepsTheRangeInclusiveAtBothEnds_InMicroseconds()
    {
        var from = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Region region = Region.All.WithTimestamps(from, from.AddSeconds(1));
        long fromUs = 1767225600000000;
        Assert.True(region.Matches(s_order, EventKind.Create(1, 1), 0, fromUs));
        Assert.True(region.Matches(s_order, EventKind.Create(1, 1), 0, fromUs + 1_000_000));
        Assert.False(region.Matches(s_order, EventKind.Create(1, 1), 0, fromUs - 1));
        Assert.False(region.Matches(s_order, EventKind.Create(1, 1), 0, fromUs + 1_000_001));
    }
}
