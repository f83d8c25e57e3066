using Microsoft.Win32.SafeHandles;

namespace Batpak.Storage;

// A reader's hold on one cached handle, returned exactly once: any thread that rented it may read through it and
// dispose it; a second dispose (of the lease or of a copy of it) is a detected no-op.
internal sealed partial class FileHandleCache
{
    /// <summary>One reader's hold on a handle; dispose it when the read is done.</summary>
    /// <remarks>
    /// A lease is a struct, so it can be copied; every copy shares one <see cref="LeaseTicket"/>, and only the first
    /// <see cref="Dispose"/> of any of them returns the lease (see <see cref="Release"/>). Disposing
    /// <c>default(Lease)</c> does nothing.
    /// </remarks>
    public readonly struct Lease : IDisposable
    {
        private readonly Node _node;
        private readonly LeaseTicket? _ticket;
        private readonly long _stamp;

        /// <summary>Wraps a lease already taken on <paramref name="node"/> (its count includes this lease).</summary>
        internal Lease(Node node)
        {
            _node = node;
            _ticket = LeaseTicket.Take();
            _stamp = _ticket.Stamp;
        }

        public SafeFileHandle Handle => _node.Handle;

        /// <summary>
        /// Gets the <paramref name="length"/> bytes at <paramref name="offset"/> straight from the mapping of a sealed
        /// segment, without a copy. False when the segment is not mapped (the active segment, an empty file, a
        /// refused mapping) or the range is not wholly inside the mapping; read with <see cref="ReadExactly"/> then.
        /// </summary>
        /// <remarks>
        /// The span is valid only while this lease is held: use it, or copy what is needed out of it, before the
        /// lease is disposed. A leased node is never closed (invariant LeasedHandleOutlivesEviction), so the mapping
        /// stays in place until then, even when the segment is evicted meanwhile.
        /// </remarks>
        public bool TryGetMapped(long offset, int length, out ReadOnlySpan<byte> frame)
        {
            if (_node.Map is { } map)
            {
                return map.TryGetSpan(offset, length, out frame);
            }

            frame = default;
            return false;
        }

        /// <summary>Hints the CPU to load the mapped bytes [<paramref name="offset"/>, +<paramref name="length"/>) (no effect when unmapped).</summary>
        public void Prefetch(long offset, int length) => _node.Map?.Prefetch(offset, length);

        /// <summary>Reads exactly <paramref name="destination"/>'s length at <paramref name="offset"/>: from the mapping of a sealed segment, else with positional reads.</summary>
        public void ReadExactly(Span<byte> destination, long offset, int segmentId)
        {
            if (TryGetMapped(offset, destination.Length, out ReadOnlySpan<byte> mapped))
            {
                mapped.CopyTo(destination);
                return;
            }

            SegmentScanner.ReadExactly(_node.Handle, destination, offset, segmentId);
        }

        /// <summary>Returns the lease; see <see cref="Release"/>.</summary>
        public void Dispose() => Release();

        /// <summary>
        /// Returns the lease to its node: true for the one call, on this lease or on any copy of it, that returned
        /// it; false, doing nothing, for every later call and for <c>default(Lease)</c>. So a copy disposed twice can
        /// never take a second count off the node (which would let the node close under another reader's lease).
        /// </summary>
        internal bool Release()
        {
            if (_ticket is null || !_ticket.TryRedeem(_stamp))
            {
                return false;
            }

            Return(_node);
            return true;
        }
    }

    /// <summary>
    /// The right to return one lease, shared by every copy of its <see cref="Lease"/>: the first copy to redeem it
    /// moves the stamp on and returns the lease; a later copy finds the stamp moved and does nothing.
    /// </summary>
    /// <remarks>
    /// A redeemed ticket becomes the redeeming thread's spare and serves that thread's next lease, so a thread that
    /// holds one lease at a time (a point read, a read session moving from segment to segment) allocates nothing; a
    /// thread that holds several at once allocates a ticket for each one beyond its spare. The stamp only counts up
    /// (2^63 leases per ticket), so copies of a lease the ticket served before never match the lease it serves now. A
    /// ticket is taken (and its stamp read) only by the thread whose spare it was; redeeming is one compare-and-swap,
    /// safe from any thread.
    /// </remarks>
    private sealed class LeaseTicket
    {
#pragma warning disable IDE1006 // t_ marks a [ThreadStatic] (runtime convention); .editorconfig cannot tell thread statics apart
        [ThreadStatic]
        private static LeaseTicket? t_spare;
#pragma warning restore IDE1006
        private long _stamp;

        /// <summary>The stamp of the lease this ticket serves now (read by the thread that took the ticket).</summary>
        public long Stamp => _stamp;

        public static LeaseTicket Take()
        {
            LeaseTicket? spare = t_spare;
            if (spare is null)
            {
                return new LeaseTicket();
            }

            t_spare = null;
            return spare;
        }

        /// <summary>True for the one caller that moved the stamp from <paramref name="stamp"/> on; it must then return the lease.</summary>
        public bool TryRedeem(long stamp)
        {
            if (Interlocked.CompareExchange(ref _stamp, stamp + 1, stamp) != stamp)
            {
                return false;
            }

            t_spare ??= this;
            return true;
        }
    }
}
