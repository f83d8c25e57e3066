using Batpak.Sdk.Generators.Model;

namespace Batpak.Sdk.Generators.Emitting;

/// <summary>Writes the statements that serialize or deserialize one value of a <see cref="TypeShape"/>, recursively.</summary>
internal static class ShapeEmitter
{
    private const string Helpers = EventEmitter.Helpers;

    public static void Write(SourceWriter w, TypeShape shape, string expression, NameSource names)
    {
        switch (shape.Kind)
        {
            case ShapeKind.Boolean:
            case ShapeKind.Char:
            case ShapeKind.SByte:
            case ShapeKind.Byte:
            case ShapeKind.Int16:
            case ShapeKind.UInt16:
            case ShapeKind.Int32:
            case ShapeKind.UInt32:
            case ShapeKind.Int64:
            case ShapeKind.UInt64:
            case ShapeKind.Single:
            case ShapeKind.Double:
            case ShapeKind.String:
            case ShapeKind.ByteArray:
                w.WriteLine("writer.Write(" + expression + ");");
                break;
            case ShapeKind.Decimal:
            case ShapeKind.Guid:
            case ShapeKind.DateTime:
            case ShapeKind.DateTimeOffset:
            case ShapeKind.TimeSpan:
                w.WriteLine(Helpers + ".Write" + shape.Kind + "(ref writer, " + expression + ");");
                break;
            case ShapeKind.Enum:
                w.WriteLine("writer.Write((" + shape.Arguments[0].TypeName + ")" + expression + ");");
                break;
            case ShapeKind.Nullable:
                {
                    string value = names.Next("v");
                    w.OpenBlock("if (" + expression + " is { } " + value + ")");
                    Write(w, shape.Arguments[0], value, names);
                    w.CloseBlock();
                    w.OpenBlock("else");
                    w.WriteLine("writer.WriteNil();");
                    w.CloseBlock();
                    break;
                }

            case ShapeKind.Array:
            case ShapeKind.List:
            case ShapeKind.ReadOnlyList:
                {
                    string list = names.Next("list");
                    string index = names.Next("i");
                    string count = shape.Kind == ShapeKind.Array ? ".Length" : ".Count";
                    w.OpenBlock("if (" + expression + " is not { } " + list + ")");
                    w.WriteLine("writer.WriteNil();");
                    w.CloseBlock();
                    w.OpenBlock("else");
                    w.WriteLine("writer.WriteArrayHeader(" + list + count + ");");
                    w.OpenBlock("for (int " + index + " = 0; " + index + " < " + list + count + "; " + index + "++)");
                    Write(w, shape.Arguments[0], list + "[" + index + "]", names);
                    w.CloseBlock();
                    w.CloseBlock();
                    break;
                }

            case ShapeKind.Dictionary:
            case ShapeKind.ReadOnlyDictionary:
                {
                    string map = names.Next("map");
                    string entry = names.Next("entry");
                    w.OpenBlock("if (" + expression + " is not { } " + map + ")");
                    w.WriteLine("writer.WriteNil();");
                    w.CloseBlock();
                    w.OpenBlock("else");
                    w.WriteLine("writer.WriteMapHeader(" + map + ".Count);");
                    w.OpenBlock("foreach (var " + entry + " in " + map + ")");
                    Write(w, shape.Arguments[0], entry + ".Key", names);
                    Write(w, shape.Arguments[1], entry + ".Value", names);
                    w.CloseBlock();
                    w.CloseBlock();
                    break;
                }

            case ShapeKind.Event:
                w.WriteLine(Helpers + ".WriteNested<" + NonNullable(shape.TypeName) + ">(ref writer, " + expression + ");");
                break;
            case ShapeKind.MessagePack:
                w.WriteLine(Helpers + ".SerializeWithResolver<" + shape.TypeName + ">(ref writer, " + expression + ", options);");
                break;
        }
    }

    public static void Read(SourceWriter w, TypeShape shape, string target, NameSource names)
    {
        switch (shape.Kind)
        {
            case ShapeKind.Boolean:
            case ShapeKind.Char:
            case ShapeKind.SByte:
            case ShapeKind.Byte:
            case ShapeKind.Int16:
            case ShapeKind.UInt16:
            case ShapeKind.Int32:
            case ShapeKind.UInt32:
            case ShapeKind.Int64:
            case ShapeKind.UInt64:
            case ShapeKind.Single:
            case ShapeKind.Double:
                w.WriteLine(target + " = reader.Read" + shape.Kind + "();");
                break;
            case ShapeKind.String:
                w.WriteLine(target + " = reader.ReadString()!;");
                break;
            case ShapeKind.ByteArray:
                w.WriteLine(target + " = " + Helpers + ".ReadByteArray(ref reader)!;");
                break;
            case ShapeKind.Decimal:
            case ShapeKind.Guid:
            case ShapeKind.DateTime:
            case ShapeKind.DateTimeOffset:
            case ShapeKind.TimeSpan:
                w.WriteLine(target + " = " + Helpers + ".Read" + shape.Kind + "(ref reader);");
                break;
            case ShapeKind.Enum:
                w.WriteLine(target + " = (" + NonNullable(shape.TypeName) + ")reader.Read" + shape.Arguments[0].Kind + "();");
                break;
            case ShapeKind.Nullable:
                w.OpenBlock("if (reader.TryReadNil())");
                w.WriteLine(target + " = null;");
                w.CloseBlock();
                w.OpenBlock("else");
                Read(w, shape.Arguments[0], target, names);
                w.CloseBlock();
                break;
            case ShapeKind.Array:
            case ShapeKind.ReadOnlyList:
            case ShapeKind.List:
                {
                    string count = names.Next("n");
                    string items = names.Next("items");
                    string index = names.Next("i");
                    string element = shape.Arguments[0].TypeName;
                    w.OpenBlock("if (reader.TryReadNil())");
                    w.WriteLine(target + " = null!;");
                    w.CloseBlock();
                    w.OpenBlock("else");
                    w.WriteLine("int " + count + " = " + Helpers + ".ReadArrayHeader(ref reader);");
                    if (shape.Kind == ShapeKind.List)
                    {
                        string item = names.Next("item");
                        w.WriteLine("var " + items + " = new global::System.Collections.Generic.List<" + element + ">(" + count + ");");
                        w.OpenBlock("for (int " + index + " = 0; " + index + " < " + count + "; " + index + "++)");
                        w.WriteLine(element + " " + item + " = default!;");
                        Read(w, shape.Arguments[0], item, names);
                        w.WriteLine(items + ".Add(" + item + ");");
                        w.CloseBlock();
                    }
                    else
                    {
                        w.WriteLine("var " + items + " = " + Helpers + ".NewArray<" + element + ">(" + count + ");");
                        w.OpenBlock("for (int " + index + " = 0; " + index + " < " + count + "; " + index + "++)");
                        Read(w, shape.Arguments[0], items + "[" + index + "]", names);
                        w.CloseBlock();
                    }

                    w.WriteLine(target + " = " + items + ";");
                    w.CloseBlock();
                    break;
                }

            case ShapeKind.Dictionary:
            case ShapeKind.ReadOnlyDictionary:
                {
                    string count = names.Next("n");
                    string map = names.Next("map");
                    string index = names.Next("i");
                    string key = names.Next("key");
                    string value = names.Next("value");
                    string keyType = shape.Arguments[0].TypeName;
                    string valueType = shape.Arguments[1].TypeName;
                    w.OpenBlock("if (reader.TryReadNil())");
                    w.WriteLine(target + " = null!;");
                    w.CloseBlock();
                    w.OpenBlock("else");
                    w.WriteLine("int " + count + " = " + Helpers + ".ReadMapHeader(ref reader);");
                    w.WriteLine("var " + map + " = new global::System.Collections.Generic.Dictionary<" + keyType + ", " + valueType + ">(" + count + ");");
                    w.OpenBlock("for (int " + index + " = 0; " + index + " < " + count + "; " + index + "++)");
                    w.WriteLine(keyType + " " + key + " = default!;");
                    Read(w, shape.Arguments[0], key, names);
                    w.WriteLine(valueType + " " + value + " = default!;");
                    Read(w, shape.Arguments[1], value, names);
                    w.WriteLine(Helpers + ".AddEntry(" + map + ", " + key + ", " + value + ");");
                    w.CloseBlock();
                    w.WriteLine(target + " = " + map + ";");
                    w.CloseBlock();
                    break;
                }

            case ShapeKind.Event:
                w.WriteLine(target + " = " + Helpers + ".ReadNested<" + NonNullable(shape.TypeName) + ">(ref reader)!;");
                break;
            case ShapeKind.MessagePack:
                w.WriteLine(target + " = " + Helpers + ".DeserializeWithResolver<" + shape.TypeName + ">(ref reader, options)!;");
                break;
        }
    }

    private static string NonNullable(string typeName) => typeName.EndsWith("?", System.StringComparison.Ordinal)
        ? typeName.Substring(0, typeName.Length - 1)
        : typeName;
}
