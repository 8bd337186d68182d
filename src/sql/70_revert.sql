-- src/sql/70_revert.sql: undoing one transaction's changes.
--
-- revert() produces the statements that undo a transaction's row changes, newest first,
-- and with apply => true runs them (as the caller, so they are checked and audited like any
-- change). It refuses when a later change touched the same rows or the same table's
-- structure, and each statement only changes a row that still holds what the transaction
-- left there, so nothing is overwritten that the trail does not know about.

CREATE FUNCTION audit_chain.revert(transaction_id xid8, apply boolean DEFAULT false) RETURNS SETOF text
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    tx_commit_seq bigint;
    ev record;
    later record;
    tbl regclass;
    key_cols text[];
    key_json jsonb;
    current_id text;
    cols text[];
    col_list text;
    stmt text;
    done bigint;
BEGIN
    IF transaction_id IS NULL THEN
        RAISE EXCEPTION 'transaction_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    SELECT min(e.commit_seq) INTO tx_commit_seq FROM audit_chain.events e
     WHERE ((e.xid::text)::bigint) OPERATOR(pg_catalog.=) (transaction_id::text)::bigint;
    IF tx_commit_seq IS NULL THEN
        RAISE EXCEPTION 'no audited transaction %', transaction_id USING ERRCODE = 'P0002';
    END IF;

    FOR ev IN
        SELECT e.seq, e.action, e.resource_id, e.old_data, e.new_data, e.details, r.resource_type, e.resource_ref
          FROM audit_chain.events e JOIN audit_chain.resources r ON r.resource_ref OPERATOR(pg_catalog.=) e.resource_ref
         WHERE e.commit_seq OPERATOR(pg_catalog.=) tx_commit_seq
         ORDER BY e.seq DESC
    LOOP
        IF ev.action NOT IN ('INSERT', 'UPDATE', 'DELETE') THEN
            RAISE EXCEPTION 'cannot revert transaction %: it contains a % event of %', transaction_id, ev.action, ev.resource_type
                USING ERRCODE = '0A000', HINT = 'Only transactions made of INSERT, UPDATE and DELETE can be reverted.';
        END IF;
        tbl := pg_catalog.to_regclass(ev.resource_type);
        IF tbl IS NULL THEN
            RAISE EXCEPTION 'cannot revert transaction %: table % no longer exists under that name', transaction_id, ev.resource_type
                USING ERRCODE = '55000';
        END IF;
        SELECT pg_catalog.array_agg(a.attname::text ORDER BY k.ord) INTO key_cols
          FROM pg_catalog.pg_index i
          CROSS JOIN LATERAL pg_catalog.unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid AND a.attnum OPERATOR(pg_catalog.=) k.attnum
         WHERE i.indrelid OPERATOR(pg_catalog.=) tbl AND i.indisprimary;
        IF key_cols IS NULL THEN
            RAISE EXCEPTION 'cannot revert changes of %: it has no primary key', ev.resource_type USING ERRCODE = '0A000';
        END IF;

        -- The key the row has after the transaction (an UPDATE may have changed it).
        current_id := COALESCE(ev.details OPERATOR(pg_catalog.->>) 'new_resource_id', ev.resource_id);

        -- Refuse if anything later touched this row, or the table as a whole.
        SELECT e.commit_seq, e.action, e.xid, e.committed_at INTO later
          FROM audit_chain.events e
         WHERE e.resource_ref OPERATOR(pg_catalog.=) ev.resource_ref
           AND e.commit_seq OPERATOR(pg_catalog.>) tx_commit_seq
           AND (e.resource_id OPERATOR(pg_catalog.=) current_id OR e.resource_id IS NULL
                OR e.details OPERATOR(pg_catalog.->>) 'new_resource_id' OPERATOR(pg_catalog.=) current_id)
           AND e.action NOT IN ('BASELINE')
         ORDER BY e.commit_seq LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'cannot revert transaction %: row % of % was changed later', transaction_id, current_id, ev.resource_type
                USING ERRCODE = '40001',
                      DETAIL = pg_catalog.format('Transaction %s made a %s at %s.', later.xid, later.action, later.committed_at),
                      HINT = 'Revert the later transactions first, newest first.';
        END IF;

        -- Values the trail does not hold (redacted, hashed, erased, or columns not recorded)
        -- cannot be put back.
        IF EXISTS (SELECT FROM pg_catalog.jsonb_each(COALESCE(ev.old_data, '{}')) AS o
                    WHERE pg_catalog.jsonb_typeof(o.value) OPERATOR(pg_catalog.=) 'string'
                      AND (o.value OPERATOR(pg_catalog.#>>) '{}' OPERATOR(pg_catalog.=) ANY (ARRAY['[REDACTED]', '[ERASED]'])
                           OR pg_catalog.starts_with(o.value OPERATOR(pg_catalog.#>>) '{}', 'hmac-sha256:'))) THEN
            RAISE EXCEPTION 'cannot revert transaction %: the audit trail does not hold the old values of row % of %',
                transaction_id, current_id, ev.resource_type
                USING ERRCODE = '0A000', DETAIL = 'Some of its values were redacted, hashed or erased.';
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

        IF pg_catalog.array_length(key_cols, 1) OPERATOR(pg_catalog.=) 1 THEN
            key_json := pg_catalog.jsonb_build_object(key_cols[1], current_id);
        ELSE
            SELECT pg_catalog.jsonb_object_agg(k.col, v.val) INTO key_json
              FROM pg_catalog.unnest(key_cols) WITH ORDINALITY AS k(col, ord)
              JOIN pg_catalog.jsonb_array_elements(current_id::jsonb) WITH ORDINALITY AS v(val, ord) USING (ord);
        END IF;
        IF ev.action OPERATOR(pg_catalog.=) 'INSERT' THEN
            SELECT pg_catalog.array_agg(k) INTO cols FROM pg_catalog.jsonb_object_keys(ev.new_data) AS k;
            stmt := pg_catalog.format(
                'DELETE FROM %s AS t USING pg_catalog.jsonb_populate_record(NULL::%s, %L) AS n WHERE (%s) = (%s) AND (%s) IS NOT DISTINCT FROM (%s)',
                tbl, tbl, ev.new_data,
                (SELECT pg_catalog.string_agg(pg_catalog.format('t.%I', c), ', ') FROM pg_catalog.unnest(key_cols) c),
                (SELECT pg_catalog.string_agg(pg_catalog.format('n.%I', c), ', ') FROM pg_catalog.unnest(key_cols) c),
                (SELECT pg_catalog.string_agg(pg_catalog.format('t.%I', c), ', ') FROM pg_catalog.unnest(cols) c),
                (SELECT pg_catalog.string_agg(pg_catalog.format('n.%I', c), ', ') FROM pg_catalog.unnest(cols) c));
        ELSIF ev.action OPERATOR(pg_catalog.=) 'DELETE' THEN
            SELECT pg_catalog.string_agg(pg_catalog.format('%I', k), ', ') INTO col_list
              FROM pg_catalog.jsonb_object_keys(ev.old_data) AS k;
            stmt := pg_catalog.format('INSERT INTO %s (%s) SELECT %s FROM pg_catalog.jsonb_populate_record(NULL::%s, %L) AS o',
                tbl, col_list,
                (SELECT pg_catalog.string_agg(pg_catalog.format('o.%I', k), ', ') FROM pg_catalog.jsonb_object_keys(ev.old_data) k),
                tbl, ev.old_data);
        ELSE
            SELECT pg_catalog.array_agg(k) INTO cols FROM pg_catalog.jsonb_object_keys(ev.old_data) AS k;
            stmt := pg_catalog.format(
                'UPDATE %s AS t SET (%s) = (SELECT %s FROM pg_catalog.jsonb_populate_record(NULL::%s, %L) AS o) '
                'FROM pg_catalog.jsonb_populate_record(NULL::%s, %L) AS n '
                'WHERE (%s) = (SELECT %s FROM pg_catalog.jsonb_populate_record(NULL::%s, %L) AS k) AND (%s) IS NOT DISTINCT FROM (%s)',
                tbl,
                (SELECT pg_catalog.string_agg(pg_catalog.format('%I', c), ', ') FROM pg_catalog.unnest(cols) c),
                (SELECT pg_catalog.string_agg(pg_catalog.format('o.%I', c), ', ') FROM pg_catalog.unnest(cols) c),
                tbl, ev.old_data, tbl, ev.new_data,
                (SELECT pg_catalog.string_agg(pg_catalog.format('t.%I', c), ', ') FROM pg_catalog.unnest(key_cols) c),
                (SELECT pg_catalog.string_agg(pg_catalog.format('k.%I', c), ', ') FROM pg_catalog.unnest(key_cols) c),
                tbl, key_json,
                (SELECT pg_catalog.string_agg(pg_catalog.format('t.%I', c), ', ') FROM pg_catalog.unnest(cols) c),
                (SELECT pg_catalog.string_agg(pg_catalog.format('n.%I', c), ', ') FROM pg_catalog.unnest(cols) c));
        END IF;

        IF apply THEN
            EXECUTE stmt;
            GET DIAGNOSTICS done = ROW_COUNT;
            IF done OPERATOR(pg_catalog.<>) 1 THEN
                RAISE EXCEPTION 'cannot revert transaction %: row % of % does not hold what the transaction left there',
                    transaction_id, current_id, ev.resource_type
                    USING ERRCODE = '40001',
                          DETAIL = 'The row was changed without being audited (capture bypassed) or removed.';
            END IF;
        END IF;
        RETURN NEXT stmt;
    END LOOP;
END
$$;
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
