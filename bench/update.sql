-- bench/update.sql (pgbench script): one single-row, single-column UPDATE per transaction.
\set aid random(1, 100000 * :scale)
\set delta random(-5000, 5000)
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
