using Batpak.Storage;

namespace Batpak.Tests.Faults;

/// <summary>Recovery checks every entity and scope name it indexes, also when it has seen the entity before.</summary>
public class RecoveredNamesTests
{
    private static FrameFormat.FrameFields Frame(long global, long entitySequence, string entity, string scope)
    {
        EventId id = EventIdGenerator.Pack(1_767_225_600_000 + global, (ulong)global);
        return new FrameFormat.FrameFields
        {
            GlobalSequence = global,
            EventId = id,
            CorrelationId = id,
            TimestampMicroseconds = (1_767_225_600_000 + global) * 1000,
            WallMilliseconds = 1_767_225_600_000 + global,
            EntitySequence = entitySequence,
            Kind = TestEvents.Created.Value,
            Entity = entity,
            Scope = scope,
        };
    }

    /// <summary>Writes a sealed segment 1 holding <paramref name="frames"/> and an empty active segment 2.</summary>
    private static void WriteStore(string directory, params FrameFormat.FrameFields[] frames)
    {
        using (var sealedSegment = new PooledBufferWriter(1024))
        {
            FrameFormat.WriteSegmentHeader(sealedSegment, segmentId: 1, createdMicroseconds: 1_767_225_600_000_000);
            foreach (FrameFormat.FrameFields frame in frames)
            {
                FrameFormat.WriteFrame(sealedSegment, frame, [1, 2, 3]);
            }

            File.WriteAllBytes(Path.Combine(directory, FrameFormat.SegmentFileName(1)), sealedSegment.WrittenSpan.ToArray());
        }

        using var active = new PooledBufferWriter(64);
        FrameFormat.WriteSegmentHeader(active, segmentId: 2, createdMicroseconds: 1_767_225_700_000_000);
        File.WriteAllBytes(Path.Combine(directory, FrameFormat.SegmentFileName(2)), active.WrittenSpan.ToArray());
    }

    [Fact]
    public void Open_WellFormedCraftedSegments_IndexesThem()
    {
        using var dir = new TempDirectory();
        WriteStore(dir.Path, Frame(0, 0, "acct:a", "bank"), Frame(1, 1, "acct:a", "bank"), Frame(2, 0, "acct:b", "bank"));
        using EventStore store = TestEvents.Open(dir.Path);
        Assert.Equal(3, store.GetStats().EventCount);
        Assert.Equal(2, store.Stream("acct:a").Count());
    }

    [Theory]
    [InlineData("acct:\u0001b", "bank")] // a new entity with a control character
    [InlineData("acct:a", "ba\u0002nk")] // a known entity in a new scope with a control character
    [InlineData("acct:b", "")] // an empty scope
    public void Open_FrameWithAnInvalidName_AfterValidOnes_ThrowsCorruptSegment(string entity, string scope)
    {
        using var dir = new TempDirectory();
        WriteStore(dir.Path, Frame(0, 0, "acct:a", "bank"), Frame(1, 1, "acct:a", "bank"), Frame(2, entity == "acct:a" ? 2 : 0, entity, scope));
        var error = Assert.Throws<CorruptSegmentException>(() => TestEvents.Open(dir.Path).Dispose());
        Assert.Contains("invalid coordinate", error.Message);
    }
}
