-- Batpak.Sdk.PostgreSql schema, version 1: one PostgreSQL schema holds one store. __SCHEMA__ is replaced by the
-- quoted schema name. Every statement is idempotent (IF NOT EXISTS / ON CONFLICT), so a rerun changes nothing.
-- docs/POSTGRESQL.md describes each table and which read path uses each index.

CREATE TABLE IF NOT EXISTS __SCHEMA__.schema_version (
    version     int PRIMARY KEY,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    description text NOT NULL
);

-- The sequencer: exactly one row, locked FOR UPDATE by every append transaction from its first statement to its
-- commit, so global numbers are dense, final before commit and in commit order (no gap problem).
CREATE TABLE IF NOT EXISTS __SCHEMA__.store (
    id             int PRIMARY KEY CHECK (id = 1),
    next_global    bigint NOT NULL,             -- the high-water mark: every event below it is committed
    hlc_wall_ms    bigint NOT NULL,             -- the hybrid clock of the last stamped event
    hlc_counter    int NOT NULL,
    event_count    bigint NOT NULL,             -- live events (drops decrement it)
    entity_count   bigint NOT NULL,
    chain_folded   bigint NOT NULL,             -- hashes folded into complete global-chain blocks (a multiple of 1,024)
    chain_digest   bytea NOT NULL,              -- B[k], the digest of the complete blocks (32 zero bytes at first)
    key_check      bigint NOT NULL,             -- 0, or 64 bits of HMAC(key, label) as in the segment header
    store_id       int NOT NULL,                -- advisory-lock namespace and NOTIFY channel suffix
    format_version int NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 20);

INSERT INTO __SCHEMA__.store (id, next_global, hlc_wall_ms, hlc_counter, event_count, entity_count, chain_folded,
                              chain_digest, key_check, store_id, format_version)
VALUES (1, 0, 0, 0, 0, 0, 0, decode(repeat('00', 32), 'hex'), 0, (floor(random() * 2147483646) + 1)::int, 2)
ON CONFLICT (id) DO NOTHING;

-- Entities: CAS, prev-hash, GetLastSequence, Region.Entity / EntityPrefix resolution (the C collation makes the
-- unique index serve byte-wise prefix ranges).
CREATE TABLE IF NOT EXISTS __SCHEMA__.entities (
    entity_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name      text COLLATE "C" NOT NULL UNIQUE,
    last_seq  bigint NOT NULL,
    last_hash bytea NOT NULL
);

-- The scope dictionary: ids are never reused, so a process caches it for good.
CREATE TABLE IF NOT EXISTS __SCHEMA__.scopes (
    scope_id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name     text COLLATE "C" NOT NULL UNIQUE
);

-- The log. global_seq is assigned under the sequencer lock; entity_seq runs from 0 per entity. correlation_id is
-- NULL when it equals the event's own id (a root), as in the frame.
CREATE TABLE IF NOT EXISTS __SCHEMA__.events (
    global_seq     bigint PRIMARY KEY,
    event_id       uuid NOT NULL UNIQUE,
    entity_id      bigint NOT NULL,
    entity_seq     bigint NOT NULL,
    scope_id       int NOT NULL,
    kind           int NOT NULL,
    flags          int NOT NULL,
    ts_us          bigint NOT NULL,             -- Unix microseconds, exactly the hashed value
    hlc_wall_ms    bigint NOT NULL,
    hlc_counter    int NOT NULL,
    depth          int NOT NULL,
    correlation_id uuid NULL,
    causation_id   uuid NULL,
    prev_hash      bytea NOT NULL,
    hash           bytea NOT NULL,
    idem_key       text NULL,
    bypass_reason  text NULL,
    payload        bytea NOT NULL,
    UNIQUE (entity_id, entity_seq)
);
ALTER TABLE __SCHEMA__.events ALTER COLUMN payload SET STORAGE EXTERNAL;
CREATE INDEX IF NOT EXISTS events_scope_idx ON __SCHEMA__.events (scope_id, global_seq);
CREATE INDEX IF NOT EXISTS events_kind_idx ON __SCHEMA__.events (kind, global_seq);
CREATE INDEX IF NOT EXISTS events_category_idx ON __SCHEMA__.events ((kind >> 12), global_seq);
CREATE INDEX IF NOT EXISTS events_correlation_idx ON __SCHEMA__.events (correlation_id, global_seq) WHERE correlation_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_ts_brin ON __SCHEMA__.events USING brin (ts_us);
CREATE INDEX IF NOT EXISTS events_bypassed_idx ON __SCHEMA__.events (global_seq) WHERE (flags & 8) <> 0; -- EventFlags.Bypassed

-- Idempotency keys: repeats return the original receipt, a different payload/entity/kind conflicts. Outlives a
-- retention drop of the event it names.
CREATE TABLE IF NOT EXISTS __SCHEMA__.idempotency (
    key         text COLLATE "C" PRIMARY KEY,
    fingerprint bigint NOT NULL,                -- IdempotencyFingerprint bits
    entity_id   bigint NOT NULL,
    kind        int NOT NULL,
    event_id    uuid NOT NULL,
    global_seq  bigint NOT NULL,
    entity_seq  bigint NOT NULL,
    hash        bytea NOT NULL
);

-- What a retention drop leaves of an event: its place in the entity chain and the global chain, with its hash.
CREATE TABLE IF NOT EXISTS __SCHEMA__.dropped (
    global_seq bigint PRIMARY KEY,
    event_id   uuid NOT NULL UNIQUE,
    entity_id  bigint NOT NULL,
    entity_seq bigint NOT NULL,
    kind       int NOT NULL,
    hash       bytea NOT NULL,
    dropped_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS dropped_entity_idx ON __SCHEMA__.dropped (entity_id, entity_seq);

-- Named cursors (ReadCheckpoint / WriteCheckpoint).
CREATE TABLE IF NOT EXISTS __SCHEMA__.cursors (
    name       text COLLATE "C" PRIMARY KEY,
    position   bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Reactor single-instance leases: lock_id is the second key of pg_advisory_lock(store_id, lock_id).
CREATE TABLE IF NOT EXISTS __SCHEMA__.leases (
    name        text COLLATE "C" PRIMARY KEY,
    lock_id     int GENERATED ALWAYS AS IDENTITY,
    epoch       bigint NOT NULL DEFAULT 0,
    holder      text NULL,
    acquired_at timestamptz NULL
);

-- Projection states kept between runs (a projection cache in a table).
CREATE TABLE IF NOT EXISTS __SCHEMA__.projection_cache (
    projection     text COLLATE "C" NOT NULL,
    entity         text COLLATE "C" NOT NULL,
    schema_version int NOT NULL,
    watermark      bigint NOT NULL,
    last_event_id  uuid NULL,
    refreshed_at   timestamptz NOT NULL DEFAULT now(),
    state          bytea NOT NULL,
    PRIMARY KEY (projection, entity)
);

-- An audit of retention runs.
CREATE TABLE IF NOT EXISTS __SCHEMA__.compactions (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    mode       text NOT NULL,
    dropped    bigint NOT NULL,
    tombstoned bigint NOT NULL
);
