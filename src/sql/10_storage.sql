-- src/sql/10_storage.sql: where events live.
--
-- audit_chain.events holds one row per event; the who/where of an event is interned in
-- audit_chain.contexts and its resource type in audit_chain.resources, which keeps an event
-- near 230 bytes. Users read audit_chain.audit_events (src/sql/40_views.sql), which joins
-- them back. The C code (src/pg/catalog.cpp) relies on the column order of these tables.
--
-- Events are written at commit, all events of a transaction with the same committed_at,
-- in committed_at order: a BRIN index serves time ranges, and partitioning by month on
-- committed_at can later be introduced by attaching this table as the first partition.

CREATE TABLE audit_chain.contexts (
    context_id        bigint NOT NULL PRIMARY KEY,
    actor_id          text   NOT NULL,
    actor_type        text   NOT NULL,
    session_user_name text   NOT NULL,
    current_user_name text   NOT NULL,
    client_addr       inet,
    application_name  text,
    user_agent        text,
    request_id        text,
    session_id        text,
    reason            text,
    privileged        boolean NOT NULL,
    -- Keys the attributes' commitments in the context hash; erasing an attribute deletes it
    -- and keeps, in erasure, the erased attribute's commitment and a key for every other.
    salt              bytea,
    erasure           jsonb
);
CREATE INDEX contexts_actor_id_idx ON audit_chain.contexts (actor_id);
COMMENT ON TABLE audit_chain.contexts IS 'who/where/why of events, shared by the events of a session while it does not change';

CREATE SEQUENCE audit_chain.context_id_seq AS bigint;

CREATE TABLE audit_chain.resources (
    resource_ref  integer NOT NULL PRIMARY KEY,
    resource_type text    NOT NULL
);
CREATE INDEX resources_resource_type_idx ON audit_chain.resources (resource_type);
COMMENT ON TABLE audit_chain.resources IS 'resource types (''schema.table'' or application-defined) referenced by events';

CREATE SEQUENCE audit_chain.resource_ref_seq AS integer;

CREATE TABLE audit_chain.events (
    seq          bigint      NOT NULL,
    commit_seq   bigint      NOT NULL,
    xid          xid8        NOT NULL,
    committed_at timestamptz NOT NULL,
    event_time   timestamptz NOT NULL,
    context_id   bigint      NOT NULL,
    event_id     uuid        NOT NULL,
    chain_id     integer     NOT NULL,
    resource_ref integer     NOT NULL,
    outcome      "char"      NOT NULL CHECK (outcome IN ('s', 'f', 'd')),
    action       text        NOT NULL,
    -- Compared bytewise: only equality matters, and every audited commit inserts it into
    -- events_resource_idx, where a locale's strcoll() would be most of the insertion's cost.
    resource_id  text        COLLATE "C",
    old_data     jsonb,
    new_data     jsonb,
    details      jsonb,
    salt         bytea,
    hash         bytea       NOT NULL,
    erasure      jsonb,
    CONSTRAINT events_pkey PRIMARY KEY (chain_id, seq)
);
CREATE INDEX events_resource_idx ON audit_chain.events (resource_ref, resource_id);
-- Time ranges (reports by event_time, time travel by committed_at) and a transaction's events
-- (revert; xid grows with commit order closely enough for BRIN). All three follow the order
-- events are written in, so one multi-column BRIN index serves a condition on any of them;
-- one index instead of three, because every audited commit pays a BRIN index's insertion
-- (the page range lookup) once per index, whatever its columns.
-- It summarizes new page ranges when autovacuum gets to them (autosummarize), not only at
-- the next VACUUM of the whole table: until a range is summarized, every scan of the index
-- must read it, and the newest events are the ones looked up most.
CREATE INDEX events_time_brin ON audit_chain.events
    USING brin (event_time, committed_at, ((xid::text)::bigint)) WITH (autosummarize = on);
-- Renames, to tell which events of a name belong to which table (time travel).
CREATE INDEX events_renamed_from_idx ON audit_chain.events ((details OPERATOR(pg_catalog.->>) 'renamed_from'))
    WHERE action OPERATOR(pg_catalog.=) 'ALTER TABLE' AND details OPERATOR(pg_catalog.?) 'renamed_from';
-- Rows whose key changed are found from their new key too (only such events are indexed).
CREATE INDEX events_new_resource_idx ON audit_chain.events
    (resource_ref, (details OPERATOR(pg_catalog.->>) 'new_resource_id'))
    WHERE details OPERATOR(pg_catalog.?) 'new_resource_id';
COMMENT ON TABLE audit_chain.events IS 'audit events, append-only; read them through audit_chain.audit_events';

-- Orders transactions by commit across chains (taken while committing, so a transaction
-- that waited for another's row lock always gets a larger number).
CREATE SEQUENCE audit_chain.commit_seq AS bigint;

-- Tables registered with audit_chain.track(). resource_type is the name their events are
-- recorded under now; columns is the column list the last schema-change event described
-- (attnum, name, type, and key: the column's position in the key that identifies rows, 0 if
-- none), so the next ALTER TABLE can be described as a difference; settings are capture
-- options.
CREATE TABLE audit_chain.tracked_tables (
    relid         regclass    NOT NULL PRIMARY KEY,
    resource_type text        NOT NULL,
    tracked_at    timestamptz NOT NULL,
    tracked_by    text        NOT NULL,
    baseline      boolean     NOT NULL,
    columns       jsonb       NOT NULL,
    settings      jsonb       NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE audit_chain.tracked_tables IS 'tables tracked with audit_chain.track()';

-- Verified positions recorded by audit_chain.checkpoint(), for incremental verification.
CREATE TABLE audit_chain.checkpoints (
    checkpoint_id  bigint      NOT NULL PRIMARY KEY,
    created_at     timestamptz NOT NULL,
    digest         jsonb       NOT NULL,
    events_checked bigint      NOT NULL
);
CREATE SEQUENCE audit_chain.checkpoints_checkpoint_id_seq AS bigint;
COMMENT ON TABLE audit_chain.checkpoints IS 'digests of verified history, written by audit_chain.checkpoint()';
