-- bench/update_range10.sql (pgbench script): ten single-column row UPDATEs per transaction
-- (aligned blocks of ten accounts, so concurrent clients wait for each other but never deadlock).
-- Used to fill an audit trail quickly from many sessions, spread over the chains.
\set first random(0, 10000 * :scale - 1) * 10 + 1
UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid BETWEEN :first AND :first + 9;
