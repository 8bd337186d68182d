-- bench/plpgsql_baseline.sql: the classic hand-written audit trail, for comparison.
--
-- What teams usually write before reaching for an extension: a generic AFTER ROW trigger
-- in PL/pgSQL that stores the changed columns as JSONB and links every event to the
-- previous one with SHA-256. One global chain, serialised by a transaction-level advisory
-- lock: the event's predecessor must be known when the row is written, so every audited
-- transaction holds the lock until it commits. Nothing here is tuned to lose.
--
-- Install into a database, then: SELECT bench_audit.track('pgbench_accounts', 'aid');
-- Verify with: SELECT * FROM bench_audit.verify();

CREATE SCHEMA bench_audit;

CREATE TABLE bench_audit.audit_log (
    id         bigserial   PRIMARY KEY,
    event_time timestamptz NOT NULL,
    actor      text        NOT NULL,
    action     text        NOT NULL,
    table_name text        NOT NULL,
    row_key    text,
    old_data   jsonb,
    new_data   jsonb,
    prev_hash  bytea,
    hash       bytea       NOT NULL
);
-- "Show me the history of this record": the same lookup audit_chain's
-- events_resource_idx (resource, key) serves.
CREATE INDEX audit_log_table_key_idx ON bench_audit.audit_log (table_name, row_key);

-- The bytes an event's hash covers, after the previous hash. Times in UTC with
-- microseconds, so that verification does not depend on the session's TimeZone.
CREATE FUNCTION bench_audit.event_text(id bigint, event_time timestamptz, actor text, action text,
                                       table_name text, row_key text, old_data jsonb, new_data jsonb)
    RETURNS bytea
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN convert_to(concat_ws('|', id,
                                to_char(event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
                                actor, action, table_name, row_key, old_data::text, new_data::text),
                      'UTF8');

CREATE FUNCTION bench_audit.log_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key_column text := TG_ARGV[0];
    tbl        text := quote_ident(TG_TABLE_SCHEMA) || '.' || quote_ident(TG_TABLE_NAME);
    old_j      jsonb;
    new_j      jsonb;
    row_key    text;
    prev       bytea;
    new_id     bigint;
    ts         timestamptz := clock_timestamp();
    who        text := coalesce(nullif(current_setting('bench_audit.actor', true), ''), session_user);
BEGIN
    IF TG_OP = 'INSERT' THEN
        new_j := to_jsonb(NEW);
        row_key := new_j ->> key_column;
    ELSIF TG_OP = 'DELETE' THEN
        old_j := to_jsonb(OLD);
        row_key := old_j ->> key_column;
    ELSE
        -- Changed columns only: keep the keys whose value differs.
        SELECT jsonb_object_agg(o.key, o.value), jsonb_object_agg(o.key, n.value)
          INTO old_j, new_j
          FROM jsonb_each(to_jsonb(OLD)) AS o
          JOIN jsonb_each(to_jsonb(NEW)) AS n ON n.key = o.key
         WHERE o.value IS DISTINCT FROM n.value;
        IF old_j IS NULL THEN
            RETURN NULL;  -- an UPDATE that changes nothing records nothing
        END IF;
        row_key := to_jsonb(OLD) ->> key_column;
    END IF;

    -- One chain: hold its lock until commit, then read its head.
    PERFORM pg_advisory_xact_lock(7415992);
    SELECT l.hash INTO prev FROM bench_audit.audit_log AS l ORDER BY l.id DESC LIMIT 1;
    new_id := nextval('bench_audit.audit_log_id_seq');

    INSERT INTO bench_audit.audit_log (id, event_time, actor, action, table_name, row_key,
                                       old_data, new_data, prev_hash, hash)
    VALUES (new_id, ts, who, TG_OP, tbl, row_key, old_j, new_j, prev,
            sha256(coalesce(prev, '\x'::bytea)
                   || bench_audit.event_text(new_id, ts, who, TG_OP, tbl, row_key, old_j, new_j)));
    RETURN NULL;
END
$$;

CREATE FUNCTION bench_audit.track(target regclass, key_column text) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    EXECUTE format('CREATE TRIGGER bench_audit_log_change AFTER INSERT OR UPDATE OR DELETE ON %s '
                   'FOR EACH ROW EXECUTE FUNCTION bench_audit.log_change(%L)', target, key_column);
END
$$;

-- Walks the log in id order, recomputing every link.
CREATE FUNCTION bench_audit.verify(OUT valid boolean, OUT events_checked bigint, OUT first_invalid_id bigint)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r    record;
    prev bytea;
BEGIN
    valid := true;
    events_checked := 0;
    FOR r IN SELECT * FROM bench_audit.audit_log ORDER BY id LOOP
        IF r.prev_hash IS DISTINCT FROM prev
           OR r.hash <> sha256(coalesce(prev, '\x'::bytea)
                               || bench_audit.event_text(r.id, r.event_time, r.actor, r.action, r.table_name,
                                                         r.row_key, r.old_data, r.new_data)) THEN
            valid := false;
            first_invalid_id := r.id;
            RETURN;
        END IF;
        prev := r.hash;
        events_checked := events_checked + 1;
    END LOOP;
END
$$;
