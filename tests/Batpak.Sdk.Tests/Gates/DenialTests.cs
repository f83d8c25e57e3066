namespace Batpak.Tests;

public class DenialTests
{
    [Fact]
    public void Ctor_WithContext_ExposesGateCodeMessageAndEveryPair()
    {
        var denial = new Denial("max-total", "TOTAL_TOO_HIGH", "The order total exceeds the limit.",
            new Dictionary<string, string> { ["limit"] = "100", ["total"] = "250" });

        Assert.Equal("max-total", denial.Gate);
        Assert.Equal("TOTAL_TOO_HIGH", denial.Code);
        Assert.Equal("The order total exceeds the limit.", denial.Message);
        Assert.Equal(2, denial.Context.Count);
        Assert.Equal("100", denial.Context["limit"]);
        Assert.Equal("250", denial.Context["total"]);
    }

    [Fact]
    public void Ctor_CallerMutatesSourceDictionary_DenialUnchanged()
    {
        var source = new Dictionary<string, string> { ["limit"] = "100" };
        var denial = new Denial("g", "C", "m", source);

        source["limit"] = "999";
        source["extra"] = "x";

        Assert.Equal("100", denial.Context["limit"]);
        Assert.Single(denial.Context);
        Assert.False(denial.Context is IDictionary<string, string> { IsReadOnly: false });
    }

    [Fact]
    public void Ctor_NoContext_ContextIsEmpty()
    {
        var denial = new Denial("g", "C", "m");

        Assert.Empty(denial.Context);
    }

    [Theory]
    [InlineData("", "C", "m")]
    [InlineData("g", " ", "m")]
    [InlineData("g", "C", "")]
    public void Ctor_BlankPart_Throws(string gate, string code, string message) =>
        Assert.ThrowsAny<ArgumentException>(() => new Denial(gate, code, message));

    [Fact]
    public void Ctor_DuplicateOrBlankContextKey_Throws()
    {
        KeyValuePair<string, string>[] duplicate = [new("k", "1"), new("k", "2")];
        KeyValuePair<string, string>[] blank = [new(" ", "1")];

        Assert.Contains("\"k\" appears twice", Assert.Throws<ArgumentException>(() => new Denial("g", "C", "m", duplicate)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new Denial("g", "C", "m", blank));
    }

    [Fact]
    public void ToString_WithContext_ListsGateCodeMessageAndKeysInOrdinalOrder()
    {
        var denial = new Denial("max-total", "TOTAL_TOO_HIGH", "Too much.",
            new Dictionary<string, string> { ["total"] = "250", ["limit"] = "100" });

        Assert.Equal("gate \"max-total\" denied TOTAL_TOO_HIGH: Too much. {limit=100, total=250}", denial.ToString());
    }

    [Fact]
    public void ToString_NoContext_OmitsBraces() =>
        Assert.Equal("gate \"g\" denied C: m", new Denial("g", "C", "m").ToString());
}
