using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Batpak.Storage;

/// <summary>
/// The single-writer guard of a data directory. Owned by the <see cref="EventStore"/> that opened the directory for
/// writing: it acquires the lock when it opens, calls <see cref="EnsureHeld"/> before it cuts, swaps, creates or
/// deletes files, and disposes the lock last on close (a read-only store holds none).
/// </summary>
/// <remarks>
/// <para>
/// <b>What is locked, and why.</b> On Linux, macOS and FreeBSD the lock is a kernel <c>flock(LOCK_EX | LOCK_NB)</c>
/// on a descriptor of the data directory itself (opened <c>O_RDONLY | O_CLOEXEC</c>), called straight from libc.
/// It used to be the <c>LOCK</c> file opened with <see cref="FileShare.None"/>, but .NET emulates that share mode with
/// an advisory lock that <c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING=1</c> switches off, and a file can be deleted or
/// renamed over while its holder runs (the <c>LOCK</c> file says "pid N", which people take for stale): the next
/// writer then locked a fresh file and got in beside the first. The directory is the one inode every writer of the
/// store has to go through and nobody replaces by deleting a file in it, and <c>flock</c> on it is neither emulated
/// nor switchable. The kernel drops it when the last descriptor closes, so a killed writer leaves no stale lock;
/// <c>O_CLOEXEC</c> keeps child processes from inheriting (and outliving the writer with) it. A lock on the
/// <c>LOCK</c> file plus an identity check would need that check before every file operation; here it only has to
/// catch the directory itself being renamed away and replaced, see <see cref="EnsureHeld"/>.
/// </para>
/// <para>
/// The <c>LOCK</c> file is still written (owner pid, for people) and held open with <see cref="FileShare.None"/>: that
/// is the lock on Windows, where the share mode is mandatory, and on Unix it also keeps out a writer of an earlier
/// version, which knows only that file. Where <c>flock</c> is not available the open fails rather than run unlocked.
/// </para>
/// <para>
/// <b>Identity.</b> Paths are resolved again for every segment the writer creates, so a writer whose directory was
/// renamed and replaced by another one would create files in someone else's store. On Linux the lock records the
/// locked directory's device and inode (<c>statx</c>); <see cref="EnsureHeld"/> compares them with what the path
/// names now, at acquire and before recovery cuts, a compaction swap, a new segment and a writer restart. Elsewhere
/// (or where <c>statx</c> is missing) that check is skipped; the lock itself still holds.
/// </para>
/// </remarks>
internal sealed partial class DirectoryLock : IDisposable
{
    public const string FileName = "LOCK";
    private const int LockExclusive = 2, LockNonBlocking = 4; // LOCK_EX, LOCK_NB: the same on Linux and the BSDs
    private const int EIntr = 4;

    private readonly string _directory;
    private readonly DescriptorHandle? _handle; // null on Windows
    private readonly FileIdentity? _identity; // null where statx is unavailable
    private readonly FileStream _stream;

    private DirectoryLock(string directory, DescriptorHandle? handle, FileIdentity? identity, FileStream stream)
    {
        _directory = directory;
        _handle = handle;
        _identity = identity;
        _stream = stream;
    }

    /// <summary>Locks <paramref name="directory"/> for this writer.</summary>
    /// <exception cref="StoreLockedException">Another writer, in this or another process, holds it; or the path was replaced while it was locked.</exception>
    /// <exception cref="IOException">The file system refuses <c>flock</c> (the store does not open without a working lock).</exception>
    public static DirectoryLock Acquire(string directory)
    {
        DescriptorHandle? handle = OperatingSystem.IsWindows() ? null : LockDirectory(directory);
        FileStream? stream = null;
        try
        {
            FileIdentity? identity = null;
            if (handle is not null && TryGetIdentity(handle, out FileIdentity locked))
            {
                identity = locked;
                CheckIdentity(directory, locked); // the path may have been swapped between open and flock
            }

            string path = Path.Combine(directory, FileName);
            try
            {
                stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1);
            }
            catch (IOException ex) when (ex is not FileNotFoundException and not DirectoryNotFoundException)
            {
                throw new StoreLockedException(directory, ex); // a writer of an earlier version, or Windows
            }

            stream.SetLength(0);
            stream.Write(Encoding.UTF8.GetBytes(
                $"pid {Environment.ProcessId}\nThis process holds the store's lock (on Unix an flock on the data directory itself): deleting this file does not release it.\n"));
            stream.Flush();
            return new DirectoryLock(directory, handle, identity, stream);
        }
        catch
        {
            stream?.Dispose();
            handle?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Throws unless the directory path still names the directory this lock holds (Linux; a no-op where the
    /// identity is unknown). Called before anything that creates, cuts or deletes files by path.
    /// </summary>
    /// <exception cref="StoreLockedException">The directory was removed, or renamed and replaced, after it was locked.</exception>
    public void EnsureHeld()
    {
        if (_identity is { } locked)
        {
            CheckIdentity(_directory, locked);
        }
    }

    public void Dispose()
    {
        _stream.Dispose();
        _handle?.Dispose(); // closing the last descriptor drops the flock
    }

    /// <summary>The device and inode of <paramref name="path"/> (following links): Linux only, else <see langword="false"/>.</summary>
    internal static bool TryGetIdentity(string path, out FileIdentity identity) =>
        Statx(AtCurrentDirectory, path, 0, out identity) == 0;

    private static DescriptorHandle LockDirectory(string directory)
    {
        int cloexec = OperatingSystem.IsLinux() || OperatingSystem.IsAndroid() ? 0x80000
            : OperatingSystem.IsFreeBSD() ? 0x100000
            : OperatingSystem.IsMacOS() || OperatingSystem.IsMacCatalyst() || OperatingSystem.IsIOS() || OperatingSystem.IsTvOS() ? 0x1000000
            : throw new PlatformNotSupportedException($"Batpak locks a data directory with flock on Linux, macOS, FreeBSD and Windows only; \"{directory}\" is on {RuntimeInformation.OSDescription}.");
        int fd = Open(directory, cloexec); // O_RDONLY (0) | O_CLOEXEC
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"Opening the data directory \"{directory}\" to lock it failed with errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)}).", errno);
        }

        var handle = new DescriptorHandle(fd);
        int wouldBlock = OperatingSystem.IsLinux() || OperatingSystem.IsAndroid() ? 11 : 35; // EWOULDBLOCK
        int rc;
        int error;
        long deadline = Environment.TickCount64 + ContendedRetryMilliseconds;
        while (true)
        {
            rc = FLock(fd, LockExclusive | LockNonBlocking);
            error = rc == 0 ? 0 : Marshal.GetLastPInvokeError();
            if (rc == 0 || (error != EIntr && (error != wouldBlock || Environment.TickCount64 >= deadline)))
            {
                break;
            }

            // A lock released a moment ago can still be held for a few milliseconds by a child process this
            // process is starting (between its fork and its exec it holds copies of every descriptor), so a
            // contended lock is retried briefly before it counts as another writer's.
            if (error == wouldBlock)
            {
                Thread.Sleep(5);
            }
        }

        if (rc == 0)
        {
            return handle;
        }

        handle.Dispose();
        if (error == wouldBlock)
        {
            throw new StoreLockedException(directory);
        }

        throw new IOException($"Locking the data directory \"{directory}\" (flock) failed with errno {error} ({Marshal.GetPInvokeErrorMessage(error)}); the store does not open without a working single-writer lock.", error);
    }

    /// <summary>How long a contended lock is retried before <see cref="StoreLockedException"/>.</summary>
    private const int ContendedRetryMilliseconds = 250;

    private static void CheckIdentity(string directory, FileIdentity locked)
    {
        int errno = Statx(AtCurrentDirectory, directory, 0, out FileIdentity now);
        if (errno == 0 && now == locked)
        {
            return;
        }

        string what = errno == 0
            ? $"now names another directory (device {now.Device}, inode {now.Inode}; the locked one is device {locked.Device}, inode {locked.Inode})"
            : $"cannot be looked up (errno {errno}, {Marshal.GetPInvokeErrorMessage(errno)})";
        throw new StoreLockedException(directory, $"The data directory \"{directory}\" {what}: it was removed, or renamed and replaced, while this store held its lock. The store stops writing by path so it cannot write into another store; dispose it and open the directory again.");
    }

    private static bool TryGetIdentity(DescriptorHandle handle, out FileIdentity identity)
    {
        bool added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            return Statx((int)handle.DangerousGetHandle(), string.Empty, AtEmptyPath, out identity) == 0;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    private const int AtCurrentDirectory = -100; // AT_FDCWD
    private const int AtEmptyPath = 0x1000; // AT_EMPTY_PATH: stat the descriptor itself
    private const uint StatxIno = 0x100; // STATX_INO

    /// <summary>
    /// <c>statx</c>: one layout on every Linux architecture (unlike <c>struct stat</c>), and a real libc symbol
    /// (glibc 2.28+, musl 1.2.5+). Returns 0, an errno, or -1 when the call is unavailable (not Linux, no symbol,
    /// ENOSYS or a seccomp filter): the identity check is then skipped.
    /// </summary>
    private static unsafe int Statx(int directoryFd, string path, int flags, out FileIdentity identity)
    {
        identity = default;
        if (!OperatingSystem.IsLinux())
        {
            return -1;
        }

        byte* buffer = stackalloc byte[256]; // struct statx
        int rc;
        try
        {
            rc = StatxNative(directoryFd, path, flags, StatxIno, buffer);
        }
        catch (EntryPointNotFoundException)
        {
            return -1;
        }

        if (rc != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            return errno is 38 or 1 ? -1 : errno; // ENOSYS, EPERM (seccomp): unavailable
        }

        if ((*(uint*)buffer & StatxIno) == 0)
        {
            return -1;
        }

        // stx_ino at 32; stx_dev_major and stx_dev_minor at 136 and 140.
        identity = new FileIdentity(((ulong)*(uint*)(buffer + 136) << 32) | *(uint*)(buffer + 140), *(ulong*)(buffer + 32));
        return 0;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int FLock(int fd, int operation);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int StatxNative(int directoryFd, string path, int flags, uint mask, byte* buffer);

    /// <summary>A device and inode number: what a path resolves to.</summary>
    internal readonly record struct FileIdentity(ulong Device, ulong Inode);

    /// <summary>Owns the directory descriptor; closing it (also from the finalizer) releases the flock.</summary>
    private sealed class DescriptorHandle : SafeHandleMinusOneIsInvalid
    {
        public DescriptorHandle(int fd)
            : base(ownsHandle: true) => SetHandle(fd);

        protected override bool ReleaseHandle() => DirectoryLock.Close((int)handle) == 0;
    }
}
