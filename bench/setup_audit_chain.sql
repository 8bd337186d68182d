-- bench/setup_audit_chain.sql: variant b, audit_chain tracking pgbench_accounts.
--
-- The benchmark measures the cost of each UPDATE event, so the table is tracked without a
-- baseline (track() would otherwise record every existing row as an event first).
CREATE EXTENSION audit_chain;
SELECT EXISTS (SELECT FROM pg_proc
                WHERE oid = 'audit_chain.track'::regproc
                  AND 'baseline' = ANY (proargnames)) AS has_baseline_option \gset
\if :has_baseline_option
SELECT audit_chain.track('pgbench_accounts', baseline => false);
\else
SELECT audit_chain.track('pgbench_accounts');
\endif
