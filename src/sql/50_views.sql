-- src/sql/50_views.sql: audit_chain.audit_events, one row per event.
--
-- Outer joins: an event whose context or resource row went missing still shows (with
-- NULLs), and verify() reports it.

CREATE VIEW audit_chain.audit_events AS
SELECT e.chain_id,
       e.seq,
       e.event_id,
       e.event_time,
       e.committed_at,
       e.commit_seq,
       e.xid AS transaction_id,
       c.actor_id,
       c.actor_type,
       c.current_user_name AS db_user,
       c.session_user_name AS db_session_user,
       c.privileged AS db_user_privileged,
       c.client_addr,
       c.application_name,
       e.action,
       r.resource_type,
       e.resource_id,
       e.old_data,
       e.new_data,
       CASE e.outcome WHEN 's' THEN 'success' WHEN 'f' THEN 'failure' WHEN 'd' THEN 'denied' END AS outcome,
       e.details,
       c.user_agent,
       c.request_id,
       c.session_id,
       c.reason,
       e.hash
  FROM audit_chain.events e
  LEFT JOIN audit_chain.contexts c ON c.context_id OPERATOR(pg_catalog.=) e.context_id
  LEFT JOIN audit_chain.resources r ON r.resource_ref OPERATOR(pg_catalog.=) e.resource_ref;
COMMENT ON VIEW audit_chain.audit_events IS 'audit events with their context, one row per event';

-- Every event as one JSON value holding exactly what the hash specification hashes, in
-- the form it hashes it (times in microseconds since the Unix epoch, bytes in hex), so that
-- anyone can re-verify an export with a SHA-256 library (README, "Hash specification").
CREATE VIEW audit_chain.events_export AS
SELECT e.chain_id,
       e.seq,
       pg_catalog.jsonb_build_object(
           'ledger_id', (SELECT l.ledger_id FROM audit_chain.ledger l),
           'chain_id', e.chain_id,
           'seq', e.seq,
           'commit_seq', e.commit_seq,
           'committed_at_us', pg_catalog.trunc(EXTRACT(epoch FROM e.committed_at) OPERATOR(pg_catalog.*) 1000000),
           'xid', e.xid::text::numeric,
           'event_time_us', pg_catalog.trunc(EXTRACT(epoch FROM e.event_time) OPERATOR(pg_catalog.*) 1000000),
           'event_id', e.event_id,
           'action', e.action,
           'outcome', CASE e.outcome WHEN 's' THEN 'success' WHEN 'f' THEN 'failure' WHEN 'd' THEN 'denied' END,
           'resource_type', r.resource_type,
           'resource_id', e.resource_id,
           -- An erased attribute reads "[ERASED]" (or a pseudonym), except an erased client
           -- address: it leaves the inet column NULL, and its commitment in the erasure record.
           'context', pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
               'actor_id', c.actor_id,
               'actor_type', c.actor_type,
               'session_user', c.session_user_name,
               'current_user', c.current_user_name,
               'client_addr', COALESCE(pg_catalog.to_jsonb(c.client_addr),
                                       pg_catalog.to_jsonb(CASE WHEN (c.erasure OPERATOR(pg_catalog.->) 'commitments') OPERATOR(pg_catalog.?) 'client_addr' THEN '[ERASED]' END)),
               'application_name', c.application_name,
               'user_agent', c.user_agent,
               'request_id', c.request_id,
               'session_id', c.session_id,
               'reason', c.reason,
               'privileged', CASE WHEN c.privileged THEN 'true' WHEN NOT c.privileged THEN 'false' END)),
           'context_salt', pg_catalog.encode(c.salt, 'hex'),
           'context_erasure', c.erasure,
           'salt', pg_catalog.encode(e.salt, 'hex'),
           'old_data', e.old_data,
           'new_data', e.new_data,
           'details', e.details,
           'erasure', e.erasure,
           'hash', pg_catalog.encode(e.hash, 'hex')) AS event
  FROM audit_chain.events e
  LEFT JOIN audit_chain.contexts c ON c.context_id OPERATOR(pg_catalog.=) e.context_id
  LEFT JOIN audit_chain.resources r ON r.resource_ref OPERATOR(pg_catalog.=) e.resource_ref;
COMMENT ON VIEW audit_chain.events_export IS 'events in the exact form the hash specification hashes them, for external verification';
