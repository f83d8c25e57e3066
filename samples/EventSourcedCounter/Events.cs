using Batpak;

namespace EventSourcedCounter;

/// <summary>A counter went up.</summary>
[BatpakEvent(Category = 0x1, Type = 0x001)]
public sealed partial record CounterIncremented([property: Entity("counter:{0}")] string CounterId, int By);

/// <summary>A counter went down.</summary>
[BatpakEvent(Category = 0x1, Type = 0x002)]
public sealed partial record CounterDecremented([property: Entity("counter:{0}")] string CounterId, int By);

/// <summary>A counter went back to zero.</summary>
[BatpakEvent(Category = 0x1, Type = 0x003)]
public sealed partial record CounterReset([property: Entity("counter:{0}")] string CounterId);
