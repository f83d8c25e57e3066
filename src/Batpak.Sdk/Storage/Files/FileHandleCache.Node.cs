using Microsoft.Win32.SafeHandles;

namespace Batpak.Storage;

internal sealed partial class FileHandleCache
{
    /// <summary>
    /// One cached segment: its read handle, its mapping when sealed, and the lease count that decides who closes it.
    /// <see cref="TryAcquire"/> is called lock-free by any reader; <see cref="TryClose"/> by the evictor, the disposer
    /// or the last returning lease; the list links and <see cref="Referenced"/>'s clearing only under the cache's lock.
    /// </summary>
    internal sealed class Node(int segmentId, SafeFileHandle handle, MappedView? map)
    {
        public readonly int SegmentId = segmentId;
        public readonly SafeFileHandle Handle = handle;
        public readonly MappedView? Map = map;
        public int Leases; // -1: closed
        public bool Evicted;
        public bool Referenced; // hit since the eviction scan last passed it (its second chance)
        public Node? Prev;
        public Node? Next;

        /// <summary>Takes a lease unless the node is closed.</summary>
        public bool TryAcquire()
        {
            int leases = Volatile.Read(ref Leases);
            while (leases >= 0)
            {
                int seen = Interlocked.CompareExchange(ref Leases, leases + 1, leases);
                if (seen == leases)
                {
                    return true;
                }

                leases = seen;
            }

            return false;
        }

        /// <summary>Marks an unleased node closed; true for the one caller that must then <see cref="Close"/> it.</summary>
        public bool TryClose() => Interlocked.CompareExchange(ref Leases, -1, 0) == 0;

        public void Close()
        {
            Map?.Dispose();
            Handle.Dispose();
        }
    }
}
