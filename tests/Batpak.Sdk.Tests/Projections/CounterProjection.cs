using MessagePack;

namespace Batpak.Tests.Projections;

[BatpakEvent(Category = 0xA, Type = 0x001)]
public sealed partial record CounterIncremented([property: Entity("counter:{0}")] string CounterId, int By);

[BatpakEvent(Category = 0xA, Type = 0x002)]
public sealed partial record CounterReset([property: Entity("counter:{0}")] string CounterId);

/// <summary>
/// The test projection: a running total. <see cref="ApplyCalls"/> counts the Apply calls that produced this state in
/// this process; it is not serialized, so a state read from the disk cache starts at 0.
/// </summary>
public sealed record CounterState(long Total, int Events) : IProjection<CounterState>
{
    public int ApplyCalls { get; init; }

    public static CounterState Initial => new(0, 0);

    public static int SchemaVersion => 1;

    public static string ProjectionName => "counter";

    public CounterState Apply(TypedEvent e) => e.Event switch
    {
        CounterIncremented i => this with { Total = Total + i.By, Events = Events + 1, ApplyCalls = ApplyCalls + 1 },
        CounterReset => this with { Total = 0, Events = Events + 1, ApplyCalls = ApplyCalls + 1 },
        _ => this with { Events = Events + 1, ApplyCalls = ApplyCalls + 1 },
    };

    public static void Serialize(ref MessagePackWriter writer, CounterState value)
    {
        writer.WriteArrayHeader(2);
        writer.Write(value.Total);
        writer.Write(value.Events);
    }

    public static CounterState Deserialize(ref MessagePackReader reader)
    {
        int count = reader.ReadArrayHeader();
        if (count != 2)
        {
            throw new MessagePackSerializationException($"CounterState v1 has 2 fields, got {count}");
        }

        return new CounterState(reader.ReadInt64(), reader.ReadInt32());
    }
}

/// <summary>The same projection name after a schema change: three fields, and it refuses the old layout.</summary>
public sealed record CounterStateV2(long Total, int Events, long Max) : IProjection<CounterStateV2>
{
    public int ApplyCalls { get; init; }

    public static CounterStateV2 Initial => new(0, 0, 0);

    public static int SchemaVersion => 2;

    public static string ProjectionName => "counter";

    public CounterStateV2 Apply(TypedEvent e) => e.Event switch
    {
        CounterIncremented i => this with { Total = Total + i.By, Events = Events + 1, Max = Math.Max(Max, i.By), ApplyCalls = ApplyCalls + 1 },
        CounterReset => this with { Total = 0, Events = Events + 1, ApplyCalls = ApplyCalls + 1 },
        _ => this with { Events = Events + 1, ApplyCalls = ApplyCalls + 1 },
    };

    public static void Serialize(ref MessagePackWriter writer, CounterStateV2 value)
    {
        writer.WriteArrayHeader(3);
        writer.Write(value.Total);
        writer.Write(value.Events);
        writer.Write(value.Max);
    }

    public static CounterStateV2 Deserialize(ref MessagePackReader reader)
    {
        int count = reader.ReadArrayHeader();
        Assert.Equal(3, count); // a v1 state must never reach this reader
        return new CounterStateV2(reader.ReadInt64(), reader.ReadInt32(), reader.ReadInt64());
    }
}
