-- src/sql/60_time_travel.sql: rows and tables as they were, and row histories.
--
-- "As of T" means as committed at T: a change whose transaction committed after T is not
-- visible, even if its statement ran before T. The jsonb forms name columns as they were
-- at T (current_names => true renames them to today's names); the typed forms return
-- today's row type, filled from the row as it was (columns added since are NULL, dropped
-- ones are left out, values of retyped columns are converted, or fail loudly).

CREATE FUNCTION audit_chain.row_at(target regclass, key jsonb, at timestamptz, current_names boolean DEFAULT false)
    RETURNS jsonb
    LANGUAGE C STABLE
    AS 'MODULE_PATHNAME', 'audit_chain_row_at';
COMMENT ON FUNCTION audit_chain.row_at(regclass, jsonb, timestamptz, boolean) IS
    'the row with this key as committed at a moment, as jsonb (NULL if it did not exist)';

CREATE FUNCTION audit_chain.table_at(target regclass, at timestamptz, current_names boolean DEFAULT false)
    RETURNS SETOF jsonb
    LANGUAGE C STABLE
    ROWS 1000
    AS 'MODULE_PATHNAME', 'audit_chain_table_at';
COMMENT ON FUNCTION audit_chain.table_at(regclass, timestamptz, boolean) IS
    'every row of the table as committed at a moment, as jsonb';

CREATE FUNCTION audit_chain.history(target regclass, key jsonb)
    RETURNS TABLE (chain_id integer, seq bigint, commit_seq bigint, committed_at timestamptz, transaction_id xid8,
                   action text, actor_id text, db_user text, old_data jsonb, new_data jsonb, row_data jsonb,
                   resource_id text)
    LANGUAGE C STABLE
    ROWS 100
    AS 'MODULE_PATHNAME', 'audit_chain_history';
COMMENT ON FUNCTION audit_chain.history(regclass, jsonb) IS
    'every version of one row, oldest first: who changed what, and the whole row after each change';

-- A table name given as a string literal ('public.accounts') would be ambiguous between the
-- regclass and the typed (anyelement) forms; these text forms resolve it with the caller's
-- search_path, exactly as a regclass literal would be.
CREATE FUNCTION audit_chain.row_at(target text, key jsonb, at timestamptz, current_names boolean DEFAULT false)
    RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$ SELECT audit_chain.row_at(target::pg_catalog.regclass, key, at, current_names) $$;
COMMENT ON FUNCTION audit_chain.row_at(text, jsonb, timestamptz, boolean) IS
    'row_at with the table named by a string';

CREATE FUNCTION audit_chain.table_at(target text, at timestamptz, current_names boolean DEFAULT false)
    RETURNS SETOF jsonb
    LANGUAGE sql STABLE
    ROWS 1000
    AS $$ SELECT audit_chain.table_at(target::pg_catalog.regclass, at, current_names) $$;
COMMENT ON FUNCTION audit_chain.table_at(text, timestamptz, boolean) IS
    'table_at with the table named by a string';

-- The table whose row type row_type is (typed forms below).
CREATE FUNCTION audit_chain.table_of_row_type(row_type anyelement) RETURNS regclass
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    rel pg_catalog.oid;
BEGIN
    SELECT t.typrelid INTO rel FROM pg_catalog.pg_type t WHERE t.oid OPERATOR(pg_catalog.=) pg_catalog.pg_typeof(row_type);
    IF rel IS NULL OR rel OPERATOR(pg_catalog.=) 0 THEN
        RAISE EXCEPTION 'row_type must be a table''s row type, like NULL::public.accounts'
            USING ERRCODE = '42809', DETAIL = pg_catalog.format('%s is not a table row type.', pg_catalog.pg_typeof(row_type));
    END IF;
    RETURN rel::pg_catalog.regclass;
END
$$;
COMMENT ON FUNCTION audit_chain.table_of_row_type(anyelement) IS 'the table whose row type a value has';

CREATE FUNCTION audit_chain.row_at(row_type anyelement, key jsonb, at timestamptz) RETURNS anyelement
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    image pg_catalog.jsonb := audit_chain.row_at(audit_chain.table_of_row_type(row_type), key, at, true);
BEGIN
    IF image IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN pg_catalog.jsonb_populate_record(row_type, image);
END
$$;
COMMENT ON FUNCTION audit_chain.row_at(anyelement, jsonb, timestamptz) IS
    'the row with this key as committed at a moment, in the table''s row type: row_at(NULL::t, ''{"id": 5}'', at)';

CREATE FUNCTION audit_chain.table_at(row_type anyelement, at timestamptz) RETURNS SETOF anyelement
    LANGUAGE plpgsql STABLE
    ROWS 1000
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    RETURN QUERY
        SELECT (pg_catalog.jsonb_populate_record(row_type, j)).*
          FROM audit_chain.table_at(audit_chain.table_of_row_type(row_type), at, true) AS j;
END
$$;
COMMENT ON FUNCTION audit_chain.table_at(anyelement, timestamptz) IS
    'every row of the table as committed at a moment, in the table''s row type: table_at(NULL::t, at)';
