-- src/sql/70_revert.sql: undoing one transaction's changes.
--
-- revert() produces the statements that undo a transaction's row changes, newest first,
-- and with apply => true runs them (as the caller, so they are checked and audited like any
-- change). revert_plan() makes every check and builds the statements; revert() (C,
-- src/pg/revert.cpp) runs them. It refuses, in this order, what it cannot do at all (other
-- events than row changes, tables without primary key, values the trail does not hold:
-- 0A000), then what a later change got in the way of (40001); and each statement only
-- changes a row that still holds what the transaction left there, so nothing is overwritten
-- that the trail does not know about.
--
-- A change and its undoing cancel out: each planned statement comes with the event it must
-- produce (the inverse of the event it undoes), and while revert() applies the statement
-- capture records {"reverts": "<xid>"} on that event, and only on that one. Nothing else can
-- produce the marker: it is backend-local state of revert()'s C code, not a setting. A later
-- transaction that was reverted (by a revert that was not itself reverted, and whose marked
-- events are exactly the inverse of that transaction's) is set aside together with its
-- revert when looking for conflicts. That lets a revert be reverted, and an earlier
-- transaction be reverted after the later ones were.

CREATE FUNCTION audit_chain.revert_plan(transaction_id xid8)
    RETURNS TABLE (statement text, target regclass, table_name text, row_key text, undo_action text,
                   undo_new_key text, undo_old_data jsonb, undo_new_data jsonb)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    tx_xid bigint;
    tx_commit_seq bigint;
    ev record;
    later record;
    rv record;
    tbl regclass;
    key_cols text[];
    key_json jsonb;
    current_id text;
    row_keys text[];
    touched_refs integer[];
    touched_ids text[];
    -- Later events set aside: 'xid' for all events of a transaction that was reverted,
    -- 'xid/target' for the events of transaction xid that revert transaction target.
    cancelled text[] := '{}';
    target_commit_seq bigint;
    mirrored boolean;
    cols text[];
    set_cols text[];
    overriding text;
    stmt text;
BEGIN
    IF transaction_id IS NULL THEN
        RAISE EXCEPTION 'transaction_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    tx_xid := (transaction_id::text)::bigint;
    SELECT min(e.commit_seq) INTO tx_commit_seq FROM audit_chain.events e
     WHERE ((e.xid::text)::bigint) OPERATOR(pg_catalog.=) tx_xid;
    IF tx_commit_seq IS NULL THEN
        RAISE EXCEPTION 'no audited transaction %', transaction_id USING ERRCODE = 'P0002';
    END IF;

    -- What cannot be undone whatever happened since: checked for every event first, so that
    -- it is reported rather than a conflict with a later change.
    FOR ev IN
        SELECT e.seq, e.action, e.resource_id, e.old_data, e.new_data, e.details, r.resource_type, e.resource_ref
          FROM audit_chain.events e JOIN audit_chain.resources r ON r.resource_ref OPERATOR(pg_catalog.=) e.resource_ref
         WHERE ((e.xid::text)::bigint) OPERATOR(pg_catalog.=) tx_xid AND e.commit_seq OPERATOR(pg_catalog.=) tx_commit_seq
         ORDER BY e.seq DESC
    LOOP
        IF ev.action NOT IN ('INSERT', 'UPDATE', 'DELETE') THEN
            RAISE EXCEPTION 'cannot revert transaction %: it contains a % event of %', transaction_id, ev.action, ev.resource_type
                USING ERRCODE = '0A000', HINT = 'Only transactions made of INSERT, UPDATE and DELETE can be reverted.';
        END IF;
    END LOOP;
    FOR ev IN
        SELECT e.seq, e.action, e.resource_id, e.old_data, e.new_data, e.details, r.resource_type, e.resource_ref
          FROM audit_chain.events e JOIN audit_chain.resources r ON r.resource_ref OPERATOR(pg_catalog.=) e.resource_ref
         WHERE ((e.xid::text)::bigint) OPERATOR(pg_catalog.=) tx_xid AND e.commit_seq OPERATOR(pg_catalog.=) tx_commit_seq
         ORDER BY e.seq DESC
    LOOP
        tbl := pg_catalog.to_regclass(ev.resource_type);
        IF tbl IS NULL THEN
            RAISE EXCEPTION 'cannot revert transaction %: table % no longer exists under that name', transaction_id, ev.resource_type
                USING ERRCODE = '55000';
        END IF;
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_index i
                        WHERE i.indrelid OPERATOR(pg_catalog.=) tbl AND i.indisprimary) THEN
            RAISE EXCEPTION 'cannot revert changes of %: it has no primary key', ev.resource_type USING ERRCODE = '0A000';
        END IF;
        current_id := COALESCE(ev.details OPERATOR(pg_catalog.->>) 'new_resource_id', ev.resource_id);

        -- Values the trail does not hold (redacted, hashed or erased, the key included) can
        -- neither be put back nor compared with what the row holds now.
        IF '[ERASED]' IN (ev.resource_id, current_id) OR EXISTS (
               SELECT FROM pg_catalog.jsonb_each(COALESCE(ev.old_data, '{}')) AS o
                WHERE pg_catalog.jsonb_typeof(o.value) OPERATOR(pg_catalog.=) 'string'
                  AND (o.value OPERATOR(pg_catalog.#>>) '{}' OPERATOR(pg_catalog.=) ANY (ARRAY['[REDACTED]', '[ERASED]'])
                       OR pg_catalog.starts_with(o.value OPERATOR(pg_catalog.#>>) '{}', 'hmac-sha256:'))
               UNION ALL
               SELECT FROM pg_catalog.jsonb_each(COALESCE(ev.new_data, '{}')) AS n
                WHERE pg_catalog.jsonb_typeof(n.value) OPERATOR(pg_catalog.=) 'string'
                  AND (n.value OPERATOR(pg_catalog.#>>) '{}' OPERATOR(pg_catalog.=) ANY (ARRAY['[REDACTED]', '[ERASED]'])
                       OR pg_catalog.starts_with(n.value OPERATOR(pg_catalog.#>>) '{}', 'hmac-sha256:'))) THEN
            IF ev.action OPERATOR(pg_catalog.=) 'INSERT' THEN
                RAISE EXCEPTION 'cannot revert transaction %: the audit trail does not hold the inserted values of row % of %',
                    transaction_id, current_id, ev.resource_type
                    USING ERRCODE = '0A000',
                          DETAIL = 'Some of its values were redacted, hashed or erased, so whether the row still holds them is not known.';
            END IF;
            RAISE EXCEPTION 'cannot revert transaction %: the audit trail does not hold the old values of row % of %',
                transaction_id, current_id, ev.resource_type
                USING ERRCODE = '0A000', DETAIL = 'Some of its values were redacted, hashed or erased.';
        END IF;
        -- Columns excluded from capture are not in a deleted row's event. (Columns added since
        -- are missing too, but that is a later change of the table: checked below.)
        IF ev.action OPERATOR(pg_catalog.=) 'DELETE' AND EXISTS (
               SELECT FROM audit_chain.tracked_tables t
                CROSS JOIN LATERAL pg_catalog.jsonb_array_elements_text(
                    COALESCE(t.settings OPERATOR(pg_catalog.->) 'exclude', '[]')) AS x(name)
                 JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) t.relid
                  AND a.attname OPERATOR(pg_catalog.=) x.name AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
                WHERE t.relid OPERATOR(pg_catalog.=) tbl AND a.attgenerated OPERATOR(pg_catalog.=) ''
                  AND NOT ev.old_data OPERATOR(pg_catalog.?) x.name) THEN
            RAISE EXCEPTION 'cannot revert transaction %: the audit trail does not hold every column of deleted row % of %',
                transaction_id, current_id, ev.resource_type
                USING ERRCODE = '0A000', DETAIL = 'Columns excluded from capture, or added since, cannot be restored.';
        END IF;
    END LOOP;

    -- Pairs of a later transaction and its revert, newest revert first: a revert that was
    -- itself reverted (set aside already) does not undo its target. Only transactions that
    -- touched the same rows can matter: a revert touches exactly the rows of its target.
    SELECT pg_catalog.array_agg(k.ref), pg_catalog.array_agg(k.id) INTO touched_refs, touched_ids
      FROM (SELECT DISTINCT e.resource_ref AS ref, i.id
              FROM audit_chain.events e
             CROSS JOIN LATERAL (VALUES (e.resource_id), (e.details OPERATOR(pg_catalog.->>) 'new_resource_id')) AS i(id)
             WHERE ((e.xid::text)::bigint) OPERATOR(pg_catalog.=) tx_xid AND e.commit_seq OPERATOR(pg_catalog.=) tx_commit_seq
               AND i.id IS NOT NULL) k;
    FOR rv IN
        SELECT DISTINCT e.commit_seq, e.xid, e.details OPERATOR(pg_catalog.->>) 'reverts' AS reverted
          FROM ROWS FROM (pg_catalog.unnest(touched_refs), pg_catalog.unnest(touched_ids)) AS k(ref, id)
          JOIN audit_chain.events e ON e.resource_ref OPERATOR(pg_catalog.=) k.ref
           AND (e.resource_id OPERATOR(pg_catalog.=) k.id
                OR (e.details OPERATOR(pg_catalog.?) 'new_resource_id'
                    AND e.details OPERATOR(pg_catalog.->>) 'new_resource_id' OPERATOR(pg_catalog.=) k.id))
         WHERE e.commit_seq OPERATOR(pg_catalog.>) tx_commit_seq AND e.details OPERATOR(pg_catalog.?) 'reverts'
           AND e.action IN ('INSERT', 'UPDATE', 'DELETE')
         ORDER BY e.commit_seq DESC
    LOOP
        CONTINUE WHEN rv.xid::text OPERATOR(pg_catalog.=) ANY (cancelled)
                   OR rv.reverted OPERATOR(pg_catalog.=) ANY (cancelled)
                   OR rv.reverted OPERATOR(pg_catalog.!~) '^[1-9][0-9]{0,17}$';
        SELECT min(e.commit_seq) INTO target_commit_seq FROM audit_chain.events e
         WHERE ((e.xid::text)::bigint) OPERATOR(pg_catalog.=) rv.reverted::bigint;
        -- A revert of this transaction or of an earlier one is a later change like any other.
        CONTINUE WHEN target_commit_seq IS NULL OR target_commit_seq OPERATOR(pg_catalog.<=) tx_commit_seq;
        -- The marked events must undo the target's events one by one, newest first.
        WITH t AS (
            SELECT pg_catalog.row_number() OVER (ORDER BY e.seq DESC) AS n, e.*
              FROM audit_chain.events e
             WHERE ((e.xid::text)::bigint) OPERATOR(pg_catalog.=) rv.reverted::bigint
               AND e.commit_seq OPERATOR(pg_catalog.=) target_commit_seq),
        r AS (
            SELECT pg_catalog.row_number() OVER (ORDER BY e.seq) AS n, e.*
              FROM audit_chain.events e
             WHERE ((e.xid::text)::bigint) OPERATOR(pg_catalog.=) ((rv.xid::text)::bigint)
               AND e.commit_seq OPERATOR(pg_catalog.=) rv.commit_seq
               AND e.details OPERATOR(pg_catalog.->>) 'reverts' OPERATOR(pg_catalog.=) rv.reverted
               AND e.action IN ('INSERT', 'UPDATE', 'DELETE'))
        SELECT NOT EXISTS (
            SELECT FROM t FULL JOIN r ON r.n OPERATOR(pg_catalog.=) t.n
             WHERE t.n IS NULL OR r.n IS NULL
                OR r.resource_ref OPERATOR(pg_catalog.<>) t.resource_ref
                OR t.action NOT IN ('INSERT', 'UPDATE', 'DELETE')
                OR r.action OPERATOR(pg_catalog.<>) CASE t.action WHEN 'INSERT' THEN 'DELETE'
                                                                  WHEN 'DELETE' THEN 'INSERT' ELSE 'UPDATE' END
                OR r.resource_id IS DISTINCT FROM COALESCE(t.details OPERATOR(pg_catalog.->>) 'new_resource_id', t.resource_id)
                OR COALESCE(r.details OPERATOR(pg_catalog.->>) 'new_resource_id', r.resource_id) IS DISTINCT FROM t.resource_id
                OR r.old_data IS DISTINCT FROM t.new_data
                OR r.new_data IS DISTINCT FROM t.old_data)
          INTO mirrored;
        IF mirrored THEN
            cancelled := cancelled OPERATOR(pg_catalog.||) ARRAY[rv.reverted, rv.xid::text OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) rv.reverted];
        END IF;
    END LOOP;

    -- Refuse if anything later changed one of the rows (under the key it had before or after
    -- the transaction: putting a row back on a key that another row took since would fail or
    -- overwrite it), or the table as a whole; then, for a deleted row, if the trail misses
    -- one of its columns.
    FOR ev IN
        SELECT e.seq, e.action, e.resource_id, e.old_data, e.new_data, e.details, r.resource_type, e.resource_ref
          FROM audit_chain.events e JOIN audit_chain.resources r ON r.resource_ref OPERATOR(pg_catalog.=) e.resource_ref
         WHERE ((e.xid::text)::bigint) OPERATOR(pg_catalog.=) tx_xid AND e.commit_seq OPERATOR(pg_catalog.=) tx_commit_seq
         ORDER BY e.seq DESC
    LOOP
        tbl := pg_catalog.to_regclass(ev.resource_type);
        current_id := COALESCE(ev.details OPERATOR(pg_catalog.->>) 'new_resource_id', ev.resource_id);
        row_keys := ARRAY[ev.resource_id, current_id];
        SELECT e.commit_seq, e.action, e.xid, e.committed_at,
               CASE WHEN e.resource_id OPERATOR(pg_catalog.=) ANY (row_keys) THEN e.resource_id
                    WHEN e.details OPERATOR(pg_catalog.->>) 'new_resource_id' OPERATOR(pg_catalog.=) ANY (row_keys)
                    THEN e.details OPERATOR(pg_catalog.->>) 'new_resource_id'
                    ELSE current_id END AS row_id
          INTO later
          FROM audit_chain.events e
         WHERE e.resource_ref OPERATOR(pg_catalog.=) ev.resource_ref
           AND e.commit_seq OPERATOR(pg_catalog.>) tx_commit_seq
           AND (e.resource_id OPERATOR(pg_catalog.=) ANY (row_keys) OR e.resource_id IS NULL
                OR (e.details OPERATOR(pg_catalog.?) 'new_resource_id'
                    AND e.details OPERATOR(pg_catalog.->>) 'new_resource_id' OPERATOR(pg_catalog.=) ANY (row_keys)))
           -- Changes of rows, and of the table as a whole (its rows or its structure, or
           -- capture of them); not application events, policy changes or trigger renames.
           AND (e.action IN ('INSERT', 'UPDATE', 'DELETE')
                OR (e.resource_id IS NULL
                    AND e.action IN ('TRUNCATE', 'ALTER TABLE', 'TRACK', 'UNTRACK', 'DROP TABLE',
                                     'DISABLE TRIGGER', 'ENABLE TRIGGER', 'DROP TRIGGER')))
           AND NOT e.xid::text OPERATOR(pg_catalog.=) ANY (cancelled)
           AND NOT (e.xid::text OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||)
                    COALESCE(e.details OPERATOR(pg_catalog.->>) 'reverts', '')) OPERATOR(pg_catalog.=) ANY (cancelled)
         ORDER BY e.commit_seq LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'cannot revert transaction %: row % of % was changed later', transaction_id, later.row_id, ev.resource_type
                USING ERRCODE = '40001',
                      DETAIL = pg_catalog.format('Transaction %s made a %s at %s.', later.xid, later.action, later.committed_at),
                      HINT = 'Revert the later transactions first, newest first.';
        END IF;

        IF ev.action OPERATOR(pg_catalog.=) 'DELETE' AND EXISTS (
               SELECT FROM pg_catalog.pg_attribute a
                WHERE a.attrelid OPERATOR(pg_catalog.=) tbl AND a.attnum OPERATOR(pg_catalog.>) 0
                  AND NOT a.attisdropped AND a.attgenerated OPERATOR(pg_catalog.=) ''
                  AND NOT ev.old_data OPERATOR(pg_catalog.?) a.attname::text) THEN
            RAISE EXCEPTION 'cannot revert transaction %: the audit trail does not hold every column of deleted row % of %',
                transaction_id, current_id, ev.resource_type
                USING ERRCODE = '0A000', DETAIL = 'Columns excluded from capture, or added since, cannot be restored.';
        END IF;
    END LOOP;

    -- The statements, newest event first, each with the event it must produce when applied:
    -- the inverse of the event it undoes.
    FOR ev IN
        SELECT e.seq, e.action, e.resource_id, e.old_data, e.new_data, e.details, r.resource_type, e.resource_ref
          FROM audit_chain.events e JOIN audit_chain.resources r ON r.resource_ref OPERATOR(pg_catalog.=) e.resource_ref
         WHERE ((e.xid::text)::bigint) OPERATOR(pg_catalog.=) tx_xid AND e.commit_seq OPERATOR(pg_catalog.=) tx_commit_seq
         ORDER BY e.seq DESC
    LOOP
        tbl := pg_catalog.to_regclass(ev.resource_type);
        SELECT pg_catalog.array_agg(a.attname::text ORDER BY k.ord) INTO key_cols
          FROM pg_catalog.pg_index i
          CROSS JOIN LATERAL pg_catalog.unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid AND a.attnum OPERATOR(pg_catalog.=) k.attnum
         WHERE i.indrelid OPERATOR(pg_catalog.=) tbl AND i.indisprimary;
        -- The key the row has after the transaction (an UPDATE may have changed it).
        current_id := COALESCE(ev.details OPERATOR(pg_catalog.->>) 'new_resource_id', ev.resource_id);
        IF pg_catalog.array_length(key_cols, 1) OPERATOR(pg_catalog.=) 1 THEN
            key_json := pg_catalog.jsonb_build_object(key_cols[1], current_id);
        ELSE
            SELECT pg_catalog.jsonb_object_agg(k.col, v.val) INTO key_json
              FROM pg_catalog.unnest(key_cols) WITH ORDINALITY AS k(col, ord)
              JOIN pg_catalog.jsonb_array_elements(current_id::jsonb) WITH ORDINALITY AS v(val, ord) USING (ord);
        END IF;
        IF ev.action OPERATOR(pg_catalog.=) 'INSERT' THEN
            -- Deleted only if it still holds what was inserted, compared on the table's
            -- columns (generated ones included) as recorded; a marker standing for a value
            -- (refused above) is never compared with the value.
            SELECT pg_catalog.array_agg(d.key ORDER BY d.ord) INTO cols
              FROM pg_catalog.jsonb_each(ev.new_data) WITH ORDINALITY AS d(key, value, ord)
              JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) tbl
               AND a.attname OPERATOR(pg_catalog.=) d.key AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
             WHERE NOT (pg_catalog.jsonb_typeof(d.value) OPERATOR(pg_catalog.=) 'string'
                        AND (d.value OPERATOR(pg_catalog.#>>) '{}' OPERATOR(pg_catalog.=) ANY (ARRAY['[REDACTED]', '[ERASED]'])
                             OR pg_catalog.starts_with(d.value OPERATOR(pg_catalog.#>>) '{}', 'hmac-sha256:')));
            stmt := pg_catalog.format(
                'DELETE FROM %s AS t USING pg_catalog.jsonb_populate_record(NULL::%s, %L) AS n WHERE (%s) = (%s) AND (%s) IS NOT DISTINCT FROM (%s)',
                tbl, tbl, ev.new_data,
                (SELECT pg_catalog.string_agg(pg_catalog.format('t.%I', c), ', ') FROM pg_catalog.unnest(key_cols) c),
                (SELECT pg_catalog.string_agg(pg_catalog.format('n.%I', c), ', ') FROM pg_catalog.unnest(key_cols) c),
                (SELECT pg_catalog.string_agg(pg_catalog.format('t.%I', c), ', ') FROM pg_catalog.unnest(cols) c),
                (SELECT pg_catalog.string_agg(pg_catalog.format('n.%I', c), ', ') FROM pg_catalog.unnest(cols) c));
        ELSIF ev.action OPERATOR(pg_catalog.=) 'DELETE' THEN
            -- Generated columns are computed again; an identity column GENERATED ALWAYS gets
            -- its recorded value back only with OVERRIDING SYSTEM VALUE.
            SELECT pg_catalog.array_agg(d.key ORDER BY d.ord),
                   CASE WHEN pg_catalog.bool_or(a.attidentity OPERATOR(pg_catalog.=) 'a') THEN ' OVERRIDING SYSTEM VALUE' ELSE '' END
              INTO cols, overriding
              FROM pg_catalog.jsonb_object_keys(ev.old_data) WITH ORDINALITY AS d(key, ord)
              JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) tbl
               AND a.attname OPERATOR(pg_catalog.=) d.key AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
             WHERE a.attgenerated OPERATOR(pg_catalog.=) '';
            stmt := pg_catalog.format('INSERT INTO %s (%s)%s SELECT %s FROM pg_catalog.jsonb_populate_record(NULL::%s, %L) AS o',
                tbl,
                (SELECT pg_catalog.string_agg(pg_catalog.format('%I', c), ', ') FROM pg_catalog.unnest(cols) c),
                overriding,
                (SELECT pg_catalog.string_agg(pg_catalog.format('o.%I', c), ', ') FROM pg_catalog.unnest(cols) c),
                tbl, ev.old_data);
        ELSE
            -- Set back every recorded column but generated ones (computed again from the
            -- others); compare all of them with what the transaction left.
            SELECT pg_catalog.array_agg(k) INTO cols FROM pg_catalog.jsonb_object_keys(ev.old_data) AS k;
            SELECT pg_catalog.array_agg(d.key ORDER BY d.ord) INTO set_cols
              FROM pg_catalog.jsonb_object_keys(ev.old_data) WITH ORDINALITY AS d(key, ord)
              JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) tbl
               AND a.attname OPERATOR(pg_catalog.=) d.key AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
             WHERE a.attgenerated OPERATOR(pg_catalog.=) '';
            stmt := pg_catalog.format(
                'UPDATE %s AS t SET (%s) = (SELECT %s FROM pg_catalog.jsonb_populate_record(NULL::%s, %L) AS o) '
                'FROM pg_catalog.jsonb_populate_record(NULL::%s, %L) AS n '
                'WHERE (%s) = (SELECT %s FROM pg_catalog.jsonb_populate_record(NULL::%s, %L) AS k) AND (%s) IS NOT DISTINCT FROM (%s)',
                tbl,
                (SELECT pg_catalog.string_agg(pg_catalog.format('%I', c), ', ') FROM pg_catalog.unnest(set_cols) c),
                (SELECT pg_catalog.string_agg(pg_catalog.format('o.%I', c), ', ') FROM pg_catalog.unnest(set_cols) c),
                tbl, ev.old_data, tbl, ev.new_data,
                (SELECT pg_catalog.string_agg(pg_catalog.format('t.%I', c), ', ') FROM pg_catalog.unnest(key_cols) c),
                (SELECT pg_catalog.string_agg(pg_catalog.format('k.%I', c), ', ') FROM pg_catalog.unnest(key_cols) c),
                tbl, key_json,
                (SELECT pg_catalog.string_agg(pg_catalog.format('t.%I', c), ', ') FROM pg_catalog.unnest(cols) c),
                (SELECT pg_catalog.string_agg(pg_catalog.format('n.%I', c), ', ') FROM pg_catalog.unnest(cols) c));
        END IF;

        statement := stmt;
        target := tbl;
        table_name := ev.resource_type;
        row_key := current_id;
        undo_action := CASE ev.action WHEN 'INSERT' THEN 'DELETE' WHEN 'DELETE' THEN 'INSERT' ELSE 'UPDATE' END;
        undo_new_key := CASE WHEN ev.details OPERATOR(pg_catalog.?) 'new_resource_id' THEN ev.resource_id END;
        undo_old_data := ev.new_data;
        undo_new_data := ev.old_data;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION audit_chain.revert_plan(xid8) IS
    'the checked statements that undo one transaction''s row changes (newest first), each with the event it produces';

-- Not SECURITY DEFINER and no SET clause: the statements run as the caller, with the caller's
-- settings, so the table's own triggers behave as for any change (the statements name every
-- table and function with its schema).
CREATE FUNCTION audit_chain.revert(transaction_id xid8, apply boolean DEFAULT false) RETURNS SETOF text
    LANGUAGE C
    AS 'MODULE_PATHNAME', 'audit_chain_revert';
COMMENT ON FUNCTION audit_chain.revert(xid8, boolean) IS
    'the statements that undo one transaction''s row changes (newest first); apply => true runs them';

-- Erasure (right to erasure): values are replaced by "[ERASED]", verify() stays valid.
CREATE FUNCTION audit_chain.erase(target regclass, key jsonb) RETURNS bigint
    LANGUAGE C
    AS 'MODULE_PATHNAME', 'audit_chain_erase';
COMMENT ON FUNCTION audit_chain.erase(regclass, jsonb) IS
    'erases every recorded value of one row (by key) from all events; returns the number of events changed';

CREATE FUNCTION audit_chain.erase_value(value text, target regclass DEFAULT NULL) RETURNS bigint
    LANGUAGE C
    AS 'MODULE_PATHNAME', 'audit_chain_erase_value';
COMMENT ON FUNCTION audit_chain.erase_value(text, regclass) IS
    'erases every recorded value equal to value (e.g. an email) from all events, or from one table''s';

-- Lets an administrator find a hashed value without seeing the key.
CREATE FUNCTION audit_chain.keyed_hash(value text) RETURNS text
    LANGUAGE C STRICT STABLE
    AS 'MODULE_PATHNAME', 'audit_chain_keyed_hash';
COMMENT ON FUNCTION audit_chain.keyed_hash(text) IS
    'the "hmac-sha256:<hex>" form a hashed column records for this value';
