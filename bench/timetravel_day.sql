-- bench/timetravel_day.sql (pgbench script): one "day" of changes to tt_acc for the timetravel
-- phase, one single-row change per transaction: 80% UPDATEs of a random account, 10% INSERTs
-- of a new one, 10% DELETEs of a random account (one already deleted records nothing, and
-- so does an UPDATE of it). -D rows=N: the accounts the table started with.
\set r random(1, 100)
\set id random(1, :rows)
\if :r <= 80
UPDATE tt_acc SET balance = balance + 1, note = 'updated' WHERE id = :id;
\elif :r <= 90
INSERT INTO tt_acc (id, owner, balance, note) VALUES (nextval('tt_acc_new_id'), 'owner ' || :id, 0, 'opened today');
\else
DELETE FROM tt_acc WHERE id = :id;
\endif
