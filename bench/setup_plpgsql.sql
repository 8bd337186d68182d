-- bench/setup_plpgsql.sql: variant c, the classic PL/pgSQL audit trigger on pgbench_accounts.
\ir plpgsql_baseline.sql
SELECT bench_audit.track('pgbench_accounts', 'aid');
