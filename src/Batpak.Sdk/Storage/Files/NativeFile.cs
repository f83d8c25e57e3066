using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Batpak.Storage;

/// <summary>
/// fsync, fdatasync and directory sync. .NET exposes only a full flush (<see cref="FileStream.Flush(bool)"/>), so
/// on Linux the data-only flush and the directory flush (which makes a new segment file's name durable) are
/// called directly. Stateless and thread-safe: the writer, recovery, compaction, format upgrades, the projection
/// cache and durable subscription cursors call it after they write or rename files.
/// </summary>
internal static partial class NativeFile
{
    public static void Sync(SafeFileHandle handle, SyncMode mode)
    {
        if (OperatingSystem.IsLinux())
        {
            bool added = false;
            handle.DangerousAddRef(ref added);
            try
            {
                int fd = (int)handle.DangerousGetHandle();
                int rc = mode == SyncMode.Data ? FDataSync(fd) : FSync(fd);
                if (rc != 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    throw new IOException($"{(mode == SyncMode.Data ? "fdatasync" : "fsync")} failed with errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)}).", errno);
                }
            }
            finally
            {
                if (added)
                {
                    handle.DangerousRelease();
                }
            }

            return;
        }

        using var stream = new FileStream(handle, FileAccess.ReadWrite, bufferSize: 0);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Makes the directory entry of a newly created or renamed file durable (Linux); a no-op elsewhere.</summary>
    public static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        int fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"Opening directory \"{directory}\" to fsync it failed with errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)}).", errno);
        }

        try
        {
            if (FSync(fd) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw new IOException($"fsync of directory \"{directory}\" failed with errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)}).", errno);
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int FDataSync(int fd);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FSync(int fd);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
