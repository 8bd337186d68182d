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
