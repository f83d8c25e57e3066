// The event hash of an unkeyed store, written from docs/FORMAT.md ("Hash chain") alone, as an attacker with SQL
// access and no key would: it lets the tests rewrite an event with a hash that recomputes. Independent of the SDK's
// FrameFormat on purpose (a test that it matches the documented input is a side effect). Used by HeadAndAnchorTests.
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Batpak.PostgreSql.Tests.Audit;

internal static class AttackerHash
{
    /// <summary>
    /// Replaces event <paramref name="globalSequence"/>'s payload with <paramref name="payload"/>, recomputes its
    /// hash as FORMAT.md defines it, and fixes the entity's last hash (the event must be its entity's last).
    /// </summary>
    public static void Rewrite(AuditStore audit, long globalSequence, byte[] payload)
    {
        using var connection = new NpgsqlConnection(PgServer.ConnectionString);
        connection.Open();
        string s = $"\"{audit.Schema}\"";
        byte[] hash;
        long entityId;
        using (var read = new NpgsqlCommand(
            $"SELECT e.prev_hash, e.event_id, e.correlation_id, e.causation_id, e.global_seq, e.ts_us, e.entity_seq, e.depth, e.kind, e.flags, e.hlc_wall_ms, e.hlc_counter, n.name, c.name, e.idem_key, e.bypass_reason, e.entity_id FROM {s}.events e JOIN {s}.entities n ON n.entity_id = e.entity_id JOIN {s}.scopes c ON c.scope_id = e.scope_id WHERE e.global_seq = $1",
            connection))
        {
            read.Parameters.Add(new NpgsqlParameter<long> { TypedValue = globalSequence });
            using NpgsqlDataReader r = read.ExecuteReader();
            Assert.True(r.Read());
            Guid id = r.GetGuid(1);
            var input = new List<byte>();
            input.AddRange(r.GetFieldValue<byte[]>(0));
            input.AddRange(Uuid(id));
            input.AddRange(Uuid(r.IsDBNull(2) ? id : r.GetGuid(2)));
            input.AddRange(r.IsDBNull(3) ? new byte[16] : Uuid(r.GetGuid(3)));
            input.AddRange(I64(r.GetInt64(4)));
            input.AddRange(I64(r.GetInt64(5)));
            input.AddRange(I64(r.GetInt64(6)));
            input.AddRange(I32(r.GetInt32(7)));
            input.AddRange(U16(r.GetInt32(8)));
            input.AddRange(U16(r.GetInt32(9) & ~16));
            input.AddRange(I64(r.GetInt64(10)));
            input.AddRange(I32(r.GetInt32(11)));
            input.AddRange(Text(r.GetString(12)));
            input.AddRange(Text(r.GetString(13)));
            input.AddRange(r.IsDBNull(14) ? I32(-1) : Text(r.GetString(14)));
            input.AddRange(r.IsDBNull(15) ? I32(-1) : Text(r.GetString(15)));
            input.AddRange(I32(payload.Length));
            input.AddRange(payload);
            hash = SHA256.HashData(input.ToArray());
            entityId = r.GetInt64(16);
        }

        using var write = new NpgsqlCommand($"UPDATE {s}.events SET payload = $1, hash = $2 WHERE global_seq = $3", connection);
        write.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = payload });
        write.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = hash });
        write.Parameters.Add(new NpgsqlParameter<long> { TypedValue = globalSequence });
        Assert.Equal(1, write.ExecuteNonQuery());
        using var entity = new NpgsqlCommand($"UPDATE {s}.entities SET last_hash = $1 WHERE entity_id = $2", connection);
        entity.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = hash });
        entity.Parameters.Add(new NpgsqlParameter<long> { TypedValue = entityId });
        Assert.Equal(1, entity.ExecuteNonQuery());
    }

    private static byte[] Uuid(Guid id) => id.ToByteArray(bigEndian: true);

    private static byte[] I64(long value)
    {
        byte[] bytes = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] I32(int value)
    {
        byte[] bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] U16(int value)
    {
        byte[] bytes = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)value);
        return bytes;
    }

    private static byte[] Text(string value) => [.. I32(Encoding.UTF8.GetByteCount(value)), .. Encoding.UTF8.GetBytes(value)];
}
