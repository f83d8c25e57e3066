// Owns the small-tmpfs fixture of the disk-full tests: mounting a size-limited tmpfs (root on Linux), resizing it,
// filling it to the last byte with a filler file, and unmounting. Tests skip (Skip.IfNot) when it cannot be mounted.
using System.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace Batpak.Tests.Faults;

internal sealed class Tmpfs : IDisposable
{
    private Tmpfs(string path) => Path = path;

    /// <summary>The mount point.</summary>
    public string Path { get; }

    /// <summary>Mounts a tmpfs of <paramref name="size"/> (mount's syntax: 256k, 4m) at <paramref name="path"/>; null with the reason when that is not possible here.</summary>
    public static Tmpfs? TryMount(string path, string size, out string why)
    {
        Directory.CreateDirectory(path);
        if (!OperatingSystem.IsLinux())
        {
            why = "tmpfs needs Linux";
            return null;
        }

        return Run(out why, "mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", path) ? new Tmpfs(path) : null;
    }

    /// <summary>Changes the size of the mounted file system.</summary>
    public void Resize(string size)
    {
        Assert.True(Run(out string why, "mount", "-o", "remount,size=" + size, Path), why);
    }

    /// <summary>Appends to <paramref name="fillerPath"/> until the file system has no byte left; returns the filler's length.</summary>
    public static long Fill(string fillerPath)
    {
        byte[] chunk = new byte[64 * 1024];
        using SafeFileHandle filler = File.OpenHandle(fillerPath, FileMode.OpenOrCreate, FileAccess.Write);
        long offset = RandomAccess.GetLength(filler);
        for (int size = chunk.Length; size >= 1;)
        {
            try
            {
                RandomAccess.Write(filler, chunk.AsSpan(0, size), offset);
                offset += size;
            }
            catch (IOException)
            {
                offset = RandomAccess.GetLength(filler); // ENOSPC: keep what fitted, try a smaller piece
                size /= 2;
            }
        }

        return offset;
    }

    public void Dispose()
    {
        if (!Run(out _, "umount", Path))
        {
            Run(out _, "umount", "-l", Path);
        }
    }

    private static bool Run(out string error, string file, params string[] arguments)
    {
        try
        {
            var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (string a in arguments)
            {
                start.ArgumentList.Add(a);
            }

            using Process process = Process.Start(start)!;
            error = process.StandardError.ReadToEnd();
            if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                process.Kill();
                error = $"{file} did not finish within 30 s";
                return false;
            }

            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            error = ex.Message;
            return false;
        }
    }
}
