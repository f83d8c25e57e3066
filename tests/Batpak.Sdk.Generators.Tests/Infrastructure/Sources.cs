namespace Batpak.Sdk.Generators.Tests.Infrastructure;

/// <summary>Consumer sources the driver tests compile; public types carry XML docs because the harness checks them.</summary>
internal static class Sources
{
    public const string DesignContract = """
        using Batpak;

        namespace Shop;

        /// <summary>An order was placed.</summary>
        [BatpakEvent(Category = 0x1, Type = 0x001)]
        public sealed partial record OrderPlaced([property: Entity("order:{0}")] string OrderId,
                                                  [property: Scope("tenant:{0}")] string Tenant,
                                                  decimal Total);
        """;

    public const string EverySupportedType = """
        using System;
        using System.Collections.Generic;
        using Batpak;
        using MessagePack;

        namespace Shop.Types;

        /// <summary>A color.</summary>
        public enum Color : short
        {
            /// <summary>Red.</summary>
            Red = -1,
        }

        /// <summary>A MessagePack-annotated payload.</summary>
        [MessagePackObject]
        public sealed class Address
        {
            /// <summary>The street.</summary>
            [Key(0)]
            public string Street { get; set; } = "";
        }

        /// <summary>A nested event.</summary>
        [BatpakEvent(Category = 0x2, Type = 0x001)]
        public readonly partial record struct Point([Entity("point:{0}")] int X, int Y);

        /// <summary>Every supported member type.</summary>
        [BatpakEvent(Category = 0x2, Type = 0x002, Version = 4)]
        public sealed partial record Everything(
            [property: Entity("everything:{0:D6}")] long Id,
            bool A, char B, sbyte C, byte D, short E, ushort F, int G, uint H, long I, ulong J, float K, double L, decimal M,
            string N, string? O, byte[] P, Guid Q, DateTime R, DateTimeOffset S, TimeSpan T, Color U, int? V, Color? W,
            int[] X, List<string?> Y, IReadOnlyList<Guid> Z, Dictionary<string, int[]> AA, IReadOnlyDictionary<int, List<Point>> AB,
            Point AC, Point? AD, Address AE, Address? AF, int[][] AG,
            int Defaulted = -5, string Named = "x\"y", decimal Money = 1.25m, Color Tint = Color.Red, double Ratio = 0.5, ulong Big = 18446744073709551615);
        """;

    public const string Shapes = """
        using Batpak;

        namespace Shop.Nested;

        /// <summary>Holds events.</summary>
        public static partial class Outer
        {
            /// <summary>Holds events, one level deeper.</summary>
            public partial class Middle
            {
                /// <summary>A record without a parameter list.</summary>
                [BatpakEvent(Category = 0xE, Type = 0xFFF)]
                public partial record BodyOnly
                {
                    /// <summary>The entity.</summary>
                    [Entity("body:{0}")]
                    public required string Id { get; init; }

                    /// <summary>The scope.</summary>
                    [Scope("{0}")]
                    public string Tenant { get; init; } = "main";

                    /// <summary>Not serialized: no setter.</summary>
                    public int Computed => Id.Length;

                    /// <summary>Serialized after the others.</summary>
                    public int Count { get; set; }
                }
            }
        }
        """;

    public const string GlobalNamespace = """
        using Batpak;

        /// <summary>An event in the global namespace with keyword member names.</summary>
        [BatpakEvent(Category = 0xF, Type = 0x0)]
        public partial record struct Ticked([Entity("tick:{0}")] string @class, int @event);
        """;
}
