namespace Batpak;

/// <summary>
/// The store's files were written with a chain key (<see cref="BatpakOptions.ChainKey"/>) other than the one given:
/// a keyed store opened without its key or with another key, or an unkeyed store opened with a key. Nothing was
/// changed on disk.
/// </summary>
public sealed class ChainKeyMismatchException : BatpakException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="directory">The data directory.</param>
    /// <param name="segmentId">The segment whose header disagrees with the key given.</param>
    /// <param name="storeIsKeyed">Whether that segment was written with a key.</param>
    /// <param name="keyGiven">Whether a key was given.</param>
    public ChainKeyMismatchException(string directory, int segmentId, bool storeIsKeyed, bool keyGiven)
        : base(Describe(directory, segmentId, storeIsKeyed, keyGiven))
    {
        DataDirectory = directory;
        SegmentId = segmentId;
        StoreIsKeyed = storeIsKeyed;
    }

    /// <summary>Creates the exception.</summary>
    public ChainKeyMismatchException()
    {
        DataDirectory = string.Empty;
    }

    /// <summary>Creates the exception.</summary>
    public ChainKeyMismatchException(string message)
        : base(message)
    {
        DataDirectory = string.Empty;
    }

    /// <summary>Creates the exception.</summary>
    public ChainKeyMismatchException(string message, Exception innerException)
        : base(message, innerException)
    {
        DataDirectory = string.Empty;
    }

    /// <summary>The data directory.</summary>
    public string DataDirectory { get; }

    /// <summary>The segment whose header disagrees with the key given.</summary>
    public int SegmentId { get; }

    /// <summary>Whether the store was written with a chain key.</summary>
    public bool StoreIsKeyed { get; }

    private static string Describe(string directory, int segmentId, bool storeIsKeyed, bool keyGiven) =>
        (storeIsKeyed, keyGiven) switch
        {
            (true, false) => $"The store in \"{directory}\" is keyed (segment {segmentId:D6} was written with a chain key); open it with its BatpakOptions.ChainKey.",
            (true, true) => $"The store in \"{directory}\" was written with another chain key (segment {segmentId:D6}); BatpakOptions.ChainKey is not its key.",
            _ => $"The store in \"{directory}\" is not keyed (segment {segmentId:D6} has plain SHA-256 chains); open it without BatpakOptions.ChainKey.",
        };
}
