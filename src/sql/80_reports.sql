-- src/sql/80_reports.sql: compliance reports.
--
-- Time windows are [from_time, to_time) on event_time (the statement clock of the change):
-- an event exactly at from_time is in, one exactly at to_time is out.
-- Events are stored in commit order, so BRIN indexes on the times serve the windows; the
-- other access paths have their own indexes (resource, failures, actors' contexts).
--
-- The reports are PL/pgSQL so that they can refuse bad arguments (a NULL or an inverted
-- window would otherwise be an empty report, indistinguishable from "nothing happened"),
-- and they plan their query with the argument values (plan_cache_mode =
-- force_custom_plan): the right access path for one actor or one day differs from the one
-- for all history, and a generic plan would pick one of them for every call.

-- Time windows are served by events_time_brin (src/sql/10_storage.sql).
-- Only failed and denied events: few, and never paid for by a successful change.
CREATE INDEX events_failures_idx ON audit_chain.events (event_time) WHERE outcome OPERATOR(pg_catalog.<>) 's';

-- Who touched this resource, and when (HIPAA access logs, GDPR access requests).
CREATE FUNCTION audit_chain.access_report(
    resource_type text,
    resource_id text,
    from_time timestamptz DEFAULT '-infinity',
    to_time timestamptz DEFAULT 'infinity')
    RETURNS TABLE (event_time timestamptz, committed_at timestamptz, action text, actor_id text, actor_type text,
                   db_user text, client_addr inet, application_name text, outcome text, reason text,
                   request_id text, chain_id integer, seq bigint)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_custom_plan
    AS $$
#variable_conflict use_column
BEGIN
    IF access_report.resource_type IS NULL OR access_report.resource_id IS NULL THEN
        RAISE EXCEPTION 'resource_type and resource_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF from_time IS NULL OR to_time IS NULL THEN
        RAISE EXCEPTION 'from_time and to_time must not be NULL'
            USING ERRCODE = '22004', HINT = 'Omit them (or pass ''-infinity'' and ''infinity'') for all history.';
    END IF;
    IF from_time OPERATOR(pg_catalog.>) to_time THEN
        RAISE EXCEPTION 'from_time must not be later than to_time' USING ERRCODE = '22023';
    END IF;
    RETURN QUERY
    SELECT e.event_time, e.committed_at, e.action, c.actor_id, c.actor_type, c.current_user_name, c.client_addr,
           c.application_name,
           CASE e.outcome WHEN 's' THEN 'success' WHEN 'f' THEN 'failure' ELSE 'denied' END,
           c.reason, c.request_id, e.chain_id, e.seq
      FROM audit_chain.resources r
      JOIN audit_chain.events e ON e.resource_ref OPERATOR(pg_catalog.=) r.resource_ref
      JOIN audit_chain.contexts c ON c.context_id OPERATOR(pg_catalog.=) e.context_id
     WHERE r.resource_type OPERATOR(pg_catalog.=) access_report.resource_type
       AND e.resource_id OPERATOR(pg_catalog.=) access_report.resource_id
       AND e.event_time OPERATOR(pg_catalog.>=) from_time AND e.event_time OPERATOR(pg_catalog.<) to_time
     ORDER BY e.event_time, e.commit_seq, e.seq;
END
$$;
COMMENT ON FUNCTION audit_chain.access_report(text, text, timestamptz, timestamptz) IS
    'who touched one resource (e.g. public.patients, key 42) and when';

-- Actions of admin or system actors, of privileged database roles (SOC 2, PCI DSS), and
-- every change of what is audited, whoever made it: tracking and untracking, column
-- policies, erasure, the capture triggers, schema changes and dropping a tracked table. A
-- table's owner may do all of these without any privilege; together they show when and by
-- whom auditing was turned off and on again.
CREATE FUNCTION audit_chain.privileged_action_report(
    from_time timestamptz DEFAULT '-infinity',
    to_time timestamptz DEFAULT 'infinity')
    RETURNS TABLE (event_time timestamptz, action text, resource_type text, resource_id text, actor_id text,
                   actor_type text, db_user text, db_user_privileged boolean, client_addr inet, reason text,
                   outcome text, chain_id integer, seq bigint)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_custom_plan
    AS $$
#variable_conflict use_column
BEGIN
    IF from_time IS NULL OR to_time IS NULL THEN
        RAISE EXCEPTION 'from_time and to_time must not be NULL'
            USING ERRCODE = '22004', HINT = 'Omit them (or pass ''-infinity'' and ''infinity'') for all history.';
    END IF;
    IF from_time OPERATOR(pg_catalog.>) to_time THEN
        RAISE EXCEPTION 'from_time must not be later than to_time' USING ERRCODE = '22023';
    END IF;
    RETURN QUERY
    SELECT e.event_time, e.action, r.resource_type, e.resource_id, c.actor_id, c.actor_type, c.current_user_name,
           c.privileged, c.client_addr, c.reason,
           CASE e.outcome WHEN 's' THEN 'success' WHEN 'f' THEN 'failure' ELSE 'denied' END,
           e.chain_id, e.seq
      FROM audit_chain.events e
      JOIN audit_chain.contexts c ON c.context_id OPERATOR(pg_catalog.=) e.context_id
      JOIN audit_chain.resources r ON r.resource_ref OPERATOR(pg_catalog.=) e.resource_ref
     WHERE e.event_time OPERATOR(pg_catalog.>=) from_time AND e.event_time OPERATOR(pg_catalog.<) to_time
       AND (c.actor_type OPERATOR(pg_catalog.=) ANY (ARRAY['admin', 'system']) OR c.privileged
            OR e.action OPERATOR(pg_catalog.=) ANY (ARRAY['TRACK', 'UNTRACK', 'CONFIGURE', 'ERASE', 'ALTER TABLE',
                                                          'DROP TABLE', 'DISABLE TRIGGER', 'ENABLE TRIGGER',
                                                          'DROP TRIGGER', 'ALTER TRIGGER', 'ALTER EXTENSION']))
     ORDER BY e.event_time, e.commit_seq, e.seq;
END
$$;
COMMENT ON FUNCTION audit_chain.privileged_action_report(timestamptz, timestamptz) IS
    'actions of admin or system actors and of privileged database roles, and every change of what is audited';

-- Actors with repeated failures or denials. An actor is its actor_id: if its events name
-- different actor types, they are listed together rather than splitting the count.
CREATE FUNCTION audit_chain.failed_access_report(
    from_time timestamptz DEFAULT '-infinity',
    to_time timestamptz DEFAULT 'infinity',
    min_failures integer DEFAULT 5)
    RETURNS TABLE (actor_id text, actor_types text[], failures bigint, denied bigint, first_time timestamptz,
                   last_time timestamptz, resources bigint, client_addrs inet[])
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_custom_plan
    AS $$
#variable_conflict use_column
BEGIN
    IF from_time IS NULL OR to_time IS NULL THEN
        RAISE EXCEPTION 'from_time and to_time must not be NULL'
            USING ERRCODE = '22004', HINT = 'Omit them (or pass ''-infinity'' and ''infinity'') for all history.';
    END IF;
    IF from_time OPERATOR(pg_catalog.>) to_time THEN
        RAISE EXCEPTION 'from_time must not be later than to_time' USING ERRCODE = '22023';
    END IF;
    IF min_failures IS NULL THEN
        RAISE EXCEPTION 'min_failures must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF min_failures OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'min_failures must be at least 1' USING ERRCODE = '22023';
    END IF;
    RETURN QUERY
    SELECT c.actor_id, pg_catalog.array_agg(DISTINCT c.actor_type ORDER BY c.actor_type),
           pg_catalog.count(*) FILTER (WHERE e.outcome OPERATOR(pg_catalog.=) 'f'),
           pg_catalog.count(*) FILTER (WHERE e.outcome OPERATOR(pg_catalog.=) 'd'),
           pg_catalog.min(e.event_time), pg_catalog.max(e.event_time),
           pg_catalog.count(DISTINCT (e.resource_ref, e.resource_id)),
           pg_catalog.array_agg(DISTINCT c.client_addr ORDER BY c.client_addr) FILTER (WHERE c.client_addr IS NOT NULL)
      FROM audit_chain.events e
      JOIN audit_chain.contexts c ON c.context_id OPERATOR(pg_catalog.=) e.context_id
     WHERE e.outcome OPERATOR(pg_catalog.<>) 's'
       AND e.event_time OPERATOR(pg_catalog.>=) from_time AND e.event_time OPERATOR(pg_catalog.<) to_time
     GROUP BY c.actor_id
    HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>=) min_failures
     ORDER BY pg_catalog.count(*) DESC, c.actor_id;
END
$$;
COMMENT ON FUNCTION audit_chain.failed_access_report(timestamptz, timestamptz, integer) IS
    'actors with at least min_failures failed or denied events';

-- What one actor did: events per resource type and action. The actor's contexts are joined,
-- not matched as context_id = ANY (array of them): an actor may have a context per request,
-- and matching every event against such an array costs events x contexts comparisons, where
-- a hash join costs one probe per event. There is no index from contexts to events (a
-- btree would add some 20 bytes to every event, and the planner does not choose a BRIN on
-- context_id): without a time window, the report reads every event.
CREATE FUNCTION audit_chain.actor_activity(
    actor_id text,
    from_time timestamptz DEFAULT '-infinity',
    to_time timestamptz DEFAULT 'infinity')
    RETURNS TABLE (resource_type text, action text, events bigint, failures bigint, first_time timestamptz,
                   last_time timestamptz)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_custom_plan
    AS $$
#variable_conflict use_column
BEGIN
    IF actor_activity.actor_id IS NULL THEN
        RAISE EXCEPTION 'actor_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF from_time IS NULL OR to_time IS NULL THEN
        RAISE EXCEPTION 'from_time and to_time must not be NULL'
            USING ERRCODE = '22004', HINT = 'Omit them (or pass ''-infinity'' and ''infinity'') for all history.';
    END IF;
    IF from_time OPERATOR(pg_catalog.>) to_time THEN
        RAISE EXCEPTION 'from_time must not be later than to_time' USING ERRCODE = '22023';
    END IF;
    RETURN QUERY
    SELECT r.resource_type, e.action, pg_catalog.count(*),
           pg_catalog.count(*) FILTER (WHERE e.outcome OPERATOR(pg_catalog.<>) 's'),
           pg_catalog.min(e.event_time), pg_catalog.max(e.event_time)
      FROM audit_chain.events e
      JOIN audit_chain.contexts c ON c.context_id OPERATOR(pg_catalog.=) e.context_id
      JOIN audit_chain.resources r ON r.resource_ref OPERATOR(pg_catalog.=) e.resource_ref
     WHERE c.actor_id OPERATOR(pg_catalog.=) actor_activity.actor_id
       AND e.event_time OPERATOR(pg_catalog.>=) from_time AND e.event_time OPERATOR(pg_catalog.<) to_time
     GROUP BY r.resource_type, e.action
     ORDER BY r.resource_type, e.action;
END
$$;
COMMENT ON FUNCTION audit_chain.actor_activity(text, timestamptz, timestamptz) IS
    'what one actor did: events per resource type and action';

-- One day, [its midnight, the next midnight) in the session's time zone: events per
-- resource type, action and actor.
CREATE FUNCTION audit_chain.daily_summary(day date)
    RETURNS TABLE (resource_type text, action text, actor_id text, events bigint, failures bigint)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_custom_plan
    AS $$
#variable_conflict use_column
BEGIN
    IF day IS NULL THEN
        RAISE EXCEPTION 'day must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF NOT pg_catalog.isfinite(day) THEN
        RAISE EXCEPTION 'day must be a finite date' USING ERRCODE = '22023';
    END IF;
    RETURN QUERY
    SELECT r.resource_type, e.action, c.actor_id, pg_catalog.count(*),
           pg_catalog.count(*) FILTER (WHERE e.outcome OPERATOR(pg_catalog.<>) 's')
      FROM audit_chain.events e
      JOIN audit_chain.resources r ON r.resource_ref OPERATOR(pg_catalog.=) e.resource_ref
      JOIN audit_chain.contexts c ON c.context_id OPERATOR(pg_catalog.=) e.context_id
     WHERE e.event_time OPERATOR(pg_catalog.>=) day::timestamptz
       AND e.event_time OPERATOR(pg_catalog.<) (day OPERATOR(pg_catalog.+) 1)::timestamptz
     GROUP BY r.resource_type, e.action, c.actor_id
     ORDER BY r.resource_type, e.action, c.actor_id;
END
$$;
COMMENT ON FUNCTION audit_chain.daily_summary(date) IS
    'events of one day per resource type, action and actor';

-- Bursts (more than max_changes row changes by one actor within `window`) and large
-- numeric changes (|new - old| above relative_change times |old|, or from 0 to non-zero).
-- The window ending at a change holds the actor's changes at most `window` before it
-- (bounds included). Rows come in a total order (time, kind, actor, then the event and
-- column), so the same trail always gives the same report; the window is given in
-- seconds, which, unlike an interval's text, does not depend on the session's IntervalStyle.
CREATE FUNCTION audit_chain.suspicious_activity(
    from_time timestamptz DEFAULT '-infinity',
    to_time timestamptz DEFAULT 'infinity',
    max_changes integer DEFAULT 100,
    "window" interval DEFAULT '1 minute',
    relative_change numeric DEFAULT 0.5)
    RETURNS TABLE (kind text, actor_id text, event_time timestamptz, resource_type text, resource_id text,
                   detail jsonb)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_custom_plan
    AS $$
#variable_conflict use_column
BEGIN
    IF from_time IS NULL OR to_time IS NULL THEN
        RAISE EXCEPTION 'from_time and to_time must not be NULL'
            USING ERRCODE = '22004', HINT = 'Omit them (or pass ''-infinity'' and ''infinity'') for all history.';
    END IF;
    IF from_time OPERATOR(pg_catalog.>) to_time THEN
        RAISE EXCEPTION 'from_time must not be later than to_time' USING ERRCODE = '22023';
    END IF;
    IF max_changes IS NULL OR "window" IS NULL OR relative_change IS NULL THEN
        RAISE EXCEPTION 'max_changes, window and relative_change must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF max_changes OPERATOR(pg_catalog.<) 0 THEN
        RAISE EXCEPTION 'max_changes must not be negative' USING ERRCODE = '22023';
    END IF;
    IF "window" OPERATOR(pg_catalog.<) '0'::interval OR NOT pg_catalog.isfinite("window") THEN
        RAISE EXCEPTION 'window must be a finite interval, not negative' USING ERRCODE = '22023';
    END IF;
    IF relative_change OPERATOR(pg_catalog.<) 0 OR relative_change OPERATOR(pg_catalog.=) 'NaN'::numeric THEN
        RAISE EXCEPTION 'relative_change must be a number, not negative' USING ERRCODE = '22023';
    END IF;
    RETURN QUERY
    WITH changes AS (
        SELECT e.event_time, e.commit_seq, e.seq, c.actor_id, r.resource_type, e.resource_id, e.action,
               e.old_data, e.new_data
          FROM audit_chain.events e
          JOIN audit_chain.contexts c ON c.context_id OPERATOR(pg_catalog.=) e.context_id
          JOIN audit_chain.resources r ON r.resource_ref OPERATOR(pg_catalog.=) e.resource_ref
         WHERE e.event_time OPERATOR(pg_catalog.>=) from_time AND e.event_time OPERATOR(pg_catalog.<) to_time
           AND e.action OPERATOR(pg_catalog.=) ANY (ARRAY['INSERT', 'UPDATE', 'DELETE'])
    ), windows AS (
        SELECT ch.*, pg_catalog.count(*) OVER (PARTITION BY ch.actor_id ORDER BY ch.event_time
                                              RANGE BETWEEN "window" PRECEDING AND CURRENT ROW) AS in_window
          FROM changes ch
    ), bursts AS (
        SELECT DISTINCT ON (w.actor_id) 'burst'::text AS kind, w.actor_id, w.event_time, NULL::text AS resource_type,
               NULL::text AS resource_id,
               pg_catalog.jsonb_build_object('changes_in_window', w.in_window,
                                             'window_seconds', pg_catalog.trim_scale(EXTRACT(epoch FROM "window")))
                 AS detail,
               w.commit_seq, w.seq, NULL::text AS column_name
          FROM windows w
         WHERE w.in_window OPERATOR(pg_catalog.>) max_changes
         ORDER BY w.actor_id, w.in_window DESC, w.event_time, w.commit_seq, w.seq
    ), numeric_changes AS (
        SELECT 'large_change'::text AS kind, ch.actor_id, ch.event_time, ch.resource_type, ch.resource_id,
               pg_catalog.jsonb_build_object('column', o.key, 'old', o.value, 'new', ch.new_data OPERATOR(pg_catalog.->) o.key) AS detail,
               ch.commit_seq, ch.seq, o.key AS column_name
          FROM changes ch
          CROSS JOIN LATERAL pg_catalog.jsonb_each(ch.old_data) AS o
         WHERE ch.action OPERATOR(pg_catalog.=) 'UPDATE'
           AND pg_catalog.jsonb_typeof(o.value) OPERATOR(pg_catalog.=) 'number'
           AND pg_catalog.jsonb_typeof(ch.new_data OPERATOR(pg_catalog.->) o.key) OPERATOR(pg_catalog.=) 'number'
           AND CASE WHEN (o.value::text)::numeric OPERATOR(pg_catalog.=) 0
                    THEN ((ch.new_data OPERATOR(pg_catalog.->>) o.key)::numeric) OPERATOR(pg_catalog.<>) 0
                    ELSE (pg_catalog.abs(((ch.new_data OPERATOR(pg_catalog.->>) o.key)::numeric)
                                         OPERATOR(pg_catalog.-) (o.value::text)::numeric))
                         OPERATOR(pg_catalog.>)
                         (relative_change OPERATOR(pg_catalog.*) pg_catalog.abs((o.value::text)::numeric))
               END
    )
    SELECT f.kind, f.actor_id, f.event_time, f.resource_type, f.resource_id, f.detail
      FROM (SELECT * FROM bursts UNION ALL SELECT * FROM numeric_changes) f
     ORDER BY f.event_time, f.kind, f.actor_id, f.commit_seq, f.seq, f.column_name;
END
$$;
COMMENT ON FUNCTION audit_chain.suspicious_activity(timestamptz, timestamptz, integer, interval, numeric) IS
    'bursts of changes by one actor and large relative changes of numeric values';
