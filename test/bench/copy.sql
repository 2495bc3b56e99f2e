-- One bulk load by COPY: the file :file (written once by run.sh, the rows of an INSERT ... SELECT
-- load of bulk.sql) into :tbl.
\set ON_ERROR_STOP 1
COPY :tbl (customer_id, amount, ordered_at, paid_at) FROM :'file' (FORMAT csv);
