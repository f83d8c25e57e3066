using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;
using MessagePack;

namespace Batpak;

/// <summary>
/// A cache of projected states on local disk that survives restarts: one file per projection and entity,
/// <c>{Directory}/{projection}/{entity}.bpproj</c>, replaced atomically (temporary file, fsync, rename, fsync of the
/// folder), with an optional in-memory front so repeated reads do not touch the disk.
/// </summary>
/// <remarks>
/// <para>File layout (version 1): magic <c>BPJC</c>, CRC-32 (big-endian) of the body, then the MessagePack body
/// <c>[1, projectionName, schemaVersion, entity, watermark, lastEventId (16 bytes), refreshedAtUtcTicks, state (bin)]</c>,
/// the state written by the projection's own <see cref="IProjection{TSelf}.Serialize"/>.</para>
/// <para>A file of another schema version is deleted without its state being decoded; a damaged file (bad magic,
/// CRC mismatch, undecodable state) or one that belongs to another entity (a file-name collision) is a miss and is
/// deleted. File names are the entity with characters outside <c>[a-z0-9_-]</c> replaced, plus a 128-bit hash of
/// the exact entity, so any valid entity maps to a short, portable, case-insensitive-safe name.</para>
/// <para>Cost: a miss of the in-memory front reads one file; <see cref="Set{TState}"/> writes one and issues two fsyncs,
/// on the caller's thread. The folder may live inside the store's data directory (<see cref="ForStore"/>); the store
/// ignores it, and <see cref="IEventStore.Snapshot"/> does not copy it.</para>
/// </remarks>
public sealed class DiskProjectionCache : IProjectionCache
{
    /// <summary>The file extension of a cached state.</summary>
    public const string FileExtension = ".bpproj";

    private const int FormatVersion = 1;
    private const int PreambleSize = 8;
    private static ReadOnlySpan<byte> Magic => "BPJC"u8;

    private readonly InMemoryProjectionCache? _memory;

    /// <summary>Creates a cache in <paramref name="directory"/> (created when missing).</summary>
    /// <param name="directory">The folder that holds one sub-folder per projection.</param>
    /// <param name="memoryCapacity">Entries also kept in memory (LRU) in front of the files; 0 reads the file every time.</param>
    public DiskProjectionCache(string directory, int memoryCapacity = 1024)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentOutOfRangeException.ThrowIfNegative(memoryCapacity);
        Directory = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(Directory);
        _memory = memoryCapacity > 0 ? new InMemoryProjectionCache(memoryCapacity) : null;
    }

    /// <summary>The folder holding the cached states.</summary>
    public string Directory { get; }

    /// <summary>A cache in <c>{store.DataDirectory}/projections</c>.</summary>
    /// <param name="store">The store whose data directory hosts the cache.</param>
    /// <param name="memoryCapacity">See the constructor.</param>
    public static DiskProjectionCache ForStore(EventStore store, int memoryCapacity = 1024)
    {
        ArgumentNullException.ThrowIfNull(store);
        return new DiskProjectionCache(Path.Combine(store.DataDirectory, "projections"), memoryCapacity);
    }

    /// <summary>The file that holds the state of <typeparamref name="TState"/> for <paramref name="entity"/>.</summary>
    public string GetPath<TState>(string entity)
        where TState : IProjection<TState>
    {
        ArgumentNullException.ThrowIfNull(entity);
        return Path.Combine(Directory, SafeName(TState.ProjectionName), SafeName(entity) + FileExtension);
    }

    /// <inheritdoc />
    public bool TryGet<TState>(string entity, [NotNullWhen(true)] out CachedProjection<TState>? cached)
        where TState : IProjection<TState>
    {
        if (_memory is not null && _memory.TryGet(entity, out cached))
        {
            return true;
        }

        string path = GetPath<TState>(entity);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            cached = null;
            return false;
        }

        cached = Decode<TState>(bytes, entity);
        if (cached is null)
        {
            TryDelete(path);
            return false;
        }

        _memory?.Set(entity, cached);
        return true;
    }

    /// <inheritdoc />
    public void Set<TState>(string entity, CachedProjection<TState> cached)
        where TState : IProjection<TState>
    {
        ArgumentNullException.ThrowIfNull(cached);
        string path = GetPath<TState>(entity);
        byte[] bytes = Encode(entity, cached);
        string folder = Path.GetDirectoryName(path)!;
        System.IO.Directory.CreateDirectory(folder);

        // A unique temporary name: two threads folding the same entity must not write into one file.
        string temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }

        Storage.NativeFile.SyncDirectory(folder);
        _memory?.Set(entity, cached);
    }

    /// <inheritdoc />
    public void Remove<TState>(string entity)
        where TState : IProjection<TState>
    {
        _memory?.Remove<TState>(entity);
        TryDelete(GetPath<TState>(entity));
    }

    private static byte[] Encode<TState>(string entity, CachedProjection<TState> cached)
        where TState : IProjection<TState>
    {
        var state = new ArrayBufferWriter<byte>(256);
        var stateWriter = new MessagePackWriter(state);
        TState.Serialize(ref stateWriter, cached.State);
        stateWriter.Flush();

        var output = new ArrayBufferWriter<byte>(state.WrittenCount + 256);
        output.Write(Magic);
        output.GetSpan(4)[..4].Clear(); // the CRC slot, patched once the body is written
        output.Advance(4);

        var writer = new MessagePackWriter(output);
        writer.WriteArrayHeader(8);
        writer.Write(FormatVersion);
        writer.Write(TState.ProjectionName);
        writer.Write(cached.SchemaVersion);
        writer.Write(entity);
        writer.Write(cached.Watermark);
        byte[] id = new byte[16];
        cached.LastEventId.WriteBytes(id);
        writer.Write(id);
        writer.Write(cached.RefreshedAt.UtcTicks);
        writer.Write(state.WrittenSpan);
        writer.Flush();

        byte[] bytes = output.WrittenSpan.ToArray();
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), Crc32.HashToUInt32(bytes.AsSpan(PreambleSize)));
        return bytes;
    }

    /// <summary>Decodes a file, or returns <see langword="null"/> when it is damaged, foreign or of another schema version.</summary>
    private static CachedProjection<TState>? Decode<TState>(byte[] bytes, string entity)
        where TState : IProjection<TState>
    {
        if (bytes.Length < PreambleSize || !bytes.AsSpan(0, 4).SequenceEqual(Magic)
            || BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(4)) != Crc32.HashToUInt32(bytes.AsSpan(PreambleSize)))
        {
            return null;
        }

        try
        {
            var reader = new MessagePackReader(bytes.AsMemory(PreambleSize));
            if (reader.ReadArrayHeader() < 8 || reader.ReadInt32() != FormatVersion)
            {
                return null;
            }

            string? projection = reader.ReadString();
            int schemaVersion = reader.ReadInt32();
            string? storedEntity = reader.ReadString();
            if (!string.Equals(projection, TState.ProjectionName, StringComparison.Ordinal)
                || !string.Equals(storedEntity, entity, StringComparison.Ordinal)
                || schemaVersion != TState.SchemaVersion)
            {
                return null; // another projection or entity behind a colliding name, or a schema the state type no longer reads
            }

            long watermark = reader.ReadInt64();
            ReadOnlySequence<byte> id = reader.ReadBytes() ?? throw new MessagePackSerializationException("nil event id");
            if (id.Length != 16)
            {
                return null;
            }

            Span<byte> idBytes = stackalloc byte[16];
            id.CopyTo(idBytes);
            long ticks = reader.ReadInt64();
            ReadOnlySequence<byte> stateBytes = reader.ReadBytes() ?? throw new MessagePackSerializationException("nil state");
            var stateReader = new MessagePackReader(stateBytes);
            TState state = TState.Deserialize(ref stateReader);
            return new CachedProjection<TState>(state, watermark, EventId.FromBytes(idBytes), schemaVersion, new DateTimeOffset(ticks, TimeSpan.Zero));
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or OverflowException or ArgumentException or FormatException or InvalidOperationException)
        {
            return null; // a state the projection cannot read back is a miss, never an error: the entity is refolded
        }
    }

    /// <summary>A short, portable file name for any string: the readable part of it plus a hash of all of it.</summary>
    private static string SafeName(string name)
    {
        const int ReadableChars = 48;
        var builder = new StringBuilder(ReadableChars + 33);
        foreach (char c in name.AsSpan(0, Math.Min(name.Length, ReadableChars)))
        {
            builder.Append(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_' ? c : '_');
        }

        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(name), hash);
        builder.Append('-').Append(Convert.ToHexStringLower(hash[..16]));
        return builder.ToString();
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
