--
-- 23_recipe_currencies: README recipe "Several currencies".  Each order
-- keeps the exchange rate of its day, filled by the shop's own BEFORE
-- trigger from a rates table; a stored generated column converts, and
-- crm_grade grades the converted amount.  A later change of a rate does
-- not rewrite past orders; an order without a rate is refused by name.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset
\set grades 'SELECT customer, grade, amount_12m, orders_12m FROM crm_grade.customer_grades WHERE customer BETWEEN 2301 AND 2399 ORDER BY customer'

CREATE SCHEMA fx;
CREATE TABLE fx.rates (
	currency char(3),
	valid_from date,
	to_eur numeric(12,6) NOT NULL,
	PRIMARY KEY (currency, valid_from)
);
INSERT INTO fx.rates VALUES
	('EUR', '2000-01-01', 1), ('USD', '2026-01-01', 0.9), ('USD', '2026-06-01', 0.8),
	('CHF', '2026-01-01', 1.05);
CREATE TABLE fx.orders (
	id bigserial PRIMARY KEY,
	customer_id int NOT NULL,
	amount numeric(12,2) NOT NULL,
	currency char(3) NOT NULL,
	ordered_at timestamptz NOT NULL
);
CREATE INDEX ON fx.orders (customer_id);
INSERT INTO fx.orders (customer_id, amount, currency, ordered_at) VALUES
	(2301, 400000, 'EUR', '2026-05-01 10:00+00'),
	(2301, 200000, 'USD', '2026-05-02 10:00+00');

-- The recipe: the rate of the order's day, kept on the order.
ALTER TABLE fx.orders ADD COLUMN to_eur numeric(12,6);
CREATE FUNCTION fx.set_rate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' OR (NEW.currency, NEW.ordered_at) IS DISTINCT FROM (OLD.currency, OLD.ordered_at) THEN
		NEW.to_eur := (SELECT r.to_eur FROM fx.rates r
						WHERE r.currency = NEW.currency AND r.valid_from <= NEW.ordered_at::date
						ORDER BY r.valid_from DESC LIMIT 1);
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER set_rate BEFORE INSERT OR UPDATE ON fx.orders
	FOR EACH ROW EXECUTE FUNCTION fx.set_rate();
UPDATE fx.orders SET to_eur = (SELECT r.to_eur FROM fx.rates r
								WHERE r.currency = orders.currency AND r.valid_from <= orders.ordered_at::date
								ORDER BY r.valid_from DESC LIMIT 1);
ALTER TABLE fx.orders
	ADD COLUMN amount_eur numeric(14,2) GENERATED ALWAYS AS (amount * to_eur) STORED;
SELECT crm_grade.attach_orders('fx.orders', 'customer_id', 'amount_eur', 'ordered_at');
:grades;

-- New orders take the rate of their day; a new rate leaves past orders alone.
INSERT INTO fx.orders (customer_id, amount, currency, ordered_at) VALUES
	(2302, 100000, 'USD', '2026-06-02 10:00+00'),	-- 0.8: 80,000 EUR
	(2302, 20000, 'CHF', '2026-06-03 10:00+00');	-- 21,000 EUR
INSERT INTO fx.rates VALUES ('USD', '2026-06-10', 2);
:grades;
-- a currency changed on an order: converted again
UPDATE fx.orders SET currency = 'EUR' WHERE customer_id = 2302 AND currency = 'CHF';
:grades;
-- no rate for the currency: the order cannot be graded, and crm_grade says which column
INSERT INTO fx.orders (customer_id, amount, currency, ordered_at) VALUES (2303, 5, 'XXX', '2026-06-04 10:00+00');
SELECT * FROM crm_grade.verify();

-- cleanup
SELECT crm_grade.detach('fx.orders');
DROP SCHEMA fx CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SELECT count(*) AS customers_left FROM crm_grade.customer_state;
