--
-- Views without a customer column.  They do not depend on the application's
-- key type, so they are ordinary extension members.  (customer_grades and
-- grade_history are created by the first attach_*: see _build_views.)
--

-- The Pareto view: customers and 12-month revenue per grade, best grade first.
CREATE OR REPLACE VIEW @extschema@.grade_summary AS
WITH g AS (
	SELECT s.grade, min(s.grade_rank) AS grade_rank, count(*) AS customers,
		   sum(s.amount_12m) AS amount_12m
	  FROM @extschema@.customer_state s
	 WHERE s.grade IS NOT NULL
	 GROUP BY s.grade
)
SELECT g.grade, g.customers, g.amount_12m,
	   round(g.amount_12m / nullif(sum(g.amount_12m) OVER (), 0), 4) AS share_12m,
	   round(sum(g.amount_12m) OVER (ORDER BY g.grade_rank, g.grade)
			 / nullif(sum(g.amount_12m) OVER (), 0), 4) AS cumulative_share_12m
  FROM g
 ORDER BY g.grade_rank, g.grade;
COMMENT ON VIEW @extschema@.grade_summary IS 'customers and 12-month revenue per grade, best grade first: the Pareto view';
COMMENT ON COLUMN @extschema@.grade_summary.grade IS 'grade given by the active policy';
COMMENT ON COLUMN @extschema@.grade_summary.customers IS 'customers with this grade';
COMMENT ON COLUMN @extschema@.grade_summary.amount_12m IS 'their 12-month revenue, refunds subtracted';
COMMENT ON COLUMN @extschema@.grade_summary.share_12m IS 'share of all customers'' 12-month revenue';
COMMENT ON COLUMN @extschema@.grade_summary.cumulative_share_12m IS 'share of this grade and every better one';
