using System;
using System.Text;
using Microsoft.CodeAnalysis.Text;

namespace Batpak.Sdk.Generators.Emitting;

/// <summary>
/// An indenting line writer for generated C# (after System.Text.Json's SourceWriter): four spaces per level,
/// <c>\n</c> line endings on every OS so the output and the baselines are byte-identical.
/// </summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _builder = new();

    public int Indentation { get; private set; }

    public void WriteLine(string text)
    {
        if (text.Length == 0)
        {
            _builder.Append('\n');
            return;
        }

        _builder.Append(' ', Indentation * 4).Append(text).Append('\n');
    }

    public void WriteLine() => _builder.Append('\n');

    /// <summary>Writes <paramref name="text"/> followed by <c>{</c> and indents.</summary>
    public void OpenBlock(string text)
    {
        WriteLine(text);
        WriteLine("{");
        Indentation++;
    }

    /// <summary>Unindents and writes <c>}</c> followed by <paramref name="suffix"/>.</summary>
    public void CloseBlock(string suffix = "")
    {
        if (Indentation == 0)
        {
            throw new InvalidOperationException("Unbalanced block.");
        }

        Indentation--;
        WriteLine("}" + suffix);
    }

    public SourceText ToSourceText()
    {
        if (Indentation != 0)
        {
            throw new InvalidOperationException("Unbalanced block.");
        }

        return SourceText.From(_builder.ToString(), Encoding.UTF8);
    }
}
