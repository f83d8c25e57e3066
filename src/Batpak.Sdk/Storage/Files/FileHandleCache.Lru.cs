namespace Batpak.Storage;

/// <summary>
/// The cache's recency list: an intrusive doubly-linked list of the cached nodes, most recent at the head, and the
/// second-chance choice of a victim. Every member is called under <c>_lock</c>, by renting and eviction.
/// </summary>
internal sealed partial class FileHandleCache
{
    /// <summary>The least recently used node without a second chance left (never <paramref name="added"/>).</summary>
    private Node PickVictim(Node added)
    {
        Node victim = _tail!;
        while (victim.Referenced || victim == added)
        {
            if (victim != added)
            {
                victim.Referenced = false; // its second chance is used up
            }

            MoveToHead(victim);
            victim = _tail!;
        }

        return victim;
    }

    private void RemoveLocked(Node node)
    {
        _nodes.Remove(node.SegmentId);
        Unlink(node);
        Publish(node.SegmentId, null);
        Volatile.Write(ref node.Evicted, true); // before any attempt to close: see Return
    }

    private void MoveToHead(Node node)
    {
        if (_head == node)
        {
            return;
        }

        Unlink(node);
        AddHead(node);
    }

    private void AddHead(Node node)
    {
        node.Prev = null;
        node.Next = _head;
        if (_head is not null)
        {
            _head.Prev = node;
        }

        _head = node;
        _tail ??= node;
    }

    private void Unlink(Node node)
    {
        if (node.Prev is not null)
        {
            node.Prev.Next = node.Next;
        }
        else if (_head == node)
        {
            _head = node.Next;
        }

        if (node.Next is not null)
        {
            node.Next.Prev = node.Prev;
        }
        else if (_tail == node)
        {
            _tail = node.Prev;
        }

        node.Prev = node.Next = null;
    }
}
