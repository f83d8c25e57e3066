-- Batpak.Sdk.PostgreSql schema, version 2: what lets Verify accept what only compaction may do (the counterpart of
-- the embedded engine's compaction record). __SCHEMA__ is replaced by the quoted schema name; idempotent.
-- Audit/CompactionProofs.cs computes the MACs; Audit/PgCompactionRunner.cs writes them; the verifiers check them.

-- A drop's proof: in a keyed store (BatpakOptions.ChainKey), HMAC-SHA256 under the chain key over the dropped
-- event's place and hash; NULL in an unkeyed store (as the embedded record carries no MAC there).
ALTER TABLE __SCHEMA__.dropped ADD COLUMN IF NOT EXISTS mac bytea NULL;

-- Every tombstone compaction made: an event row flagged Tombstone with no row here is not one compaction made.
CREATE TABLE IF NOT EXISTS __SCHEMA__.tombstones (
    global_seq     bigint PRIMARY KEY,
    mac            bytea NULL,                  -- as dropped.mac, over the tombstoned event's place and hash
    tombstoned_at  timestamptz NOT NULL DEFAULT now()
);
