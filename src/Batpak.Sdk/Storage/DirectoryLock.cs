using System.Text;

namespace Batpak.Storage;

/// <summary>
/// The single-writer guard: an exclusively opened <c>LOCK</c> file in the data directory. On Unix .NET maps
/// <see cref="FileShare.None"/> to an advisory <c>flock(LOCK_EX | LOCK_NB)</c>, which the kernel releases when
/// the process dies, so a crashed writer never leaves a stale lock behind.
/// </summary>
internal sealed class DirectoryLock : IDisposable
{
    public const string FileName = "LOCK";
    private readonly FileStream _stream;

    private DirectoryLock(FileStream stream) => _stream = stream;

    public static DirectoryLock Acquire(string directory)
    {
        string path = Path.Combine(directory, FileName);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1);
        }
        catch (IOException ex) when (ex is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new StoreLockedException(directory, ex);
        }

        try
        {
            stream.SetLength(0);
            byte[] owner = Encoding.UTF8.GetBytes($"pid {Environment.ProcessId}\n");
            stream.Write(owner);
            stream.Flush();
        }
        catch
        {
            stream.Dispose();
            throw;
        }

        return new DirectoryLock(stream);
    }

    public void Dispose() => _stream.Dispose();
}
