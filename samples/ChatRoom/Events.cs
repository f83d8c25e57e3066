using Batpak;

namespace ChatRoom;

/// <summary>Someone posted a message in a room.</summary>
[BatpakEvent(Category = 0x2, Type = 0x001)]
public sealed partial record MessagePosted([property: Entity("room:{0}")] string Room, string Author, string Text);

/// <summary>The room's bot answered a message (appended as a reaction: its causation is the message).</summary>
[BatpakEvent(Category = 0x2, Type = 0x002)]
public sealed partial record BotReplied([property: Entity("room:{0}")] string Room, string Text);
