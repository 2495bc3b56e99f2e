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

-- The lifecycle funnel: per calendar month (in crm_grade.timezone) of
-- grade_history, the customers entering each stage, the conversions of
-- prospects and customers with intent into active ones, and the rate of
-- those among everyone who was in the pipeline (prospect or intent) at the
-- start of the month or entered it during the month.  As complete as the
-- history: it starts with the first attach.
CREATE OR REPLACE VIEW @extschema@.lifecycle_funnel AS
WITH h AS (
	SELECT h.customer, h.changed_at, h.old_lifecycle, h.new_lifecycle, h.reason,
		   pg_catalog.date_trunc('month', h.changed_at AT TIME ZONE @extschema@._timezone())::date AS month,
		   lead(h.changed_at) OVER (PARTITION BY h.customer ORDER BY h.changed_at, h.id) AS until
	  FROM @extschema@.history h
), months AS (
	SELECT m::date AS month, (m::timestamp AT TIME ZONE @extschema@._timezone()) AS starts
	  FROM generate_series((SELECT min(h.month) FROM h),
						   pg_catalog.date_trunc('month', @extschema@.as_of() AT TIME ZONE @extschema@._timezone()),
						   interval '1 month') m
), moves AS (
	SELECT h.month,
		   count(*) FILTER (WHERE h.new_lifecycle = 'prospect' AND h.old_lifecycle IS DISTINCT FROM 'prospect') AS prospects,
		   count(*) FILTER (WHERE h.new_lifecycle = 'intent' AND h.old_lifecycle IS DISTINCT FROM 'intent') AS intent,
		   count(*) FILTER (WHERE h.new_lifecycle = 'active' AND h.old_lifecycle IS NULL) AS first_seen_active,
		   count(*) FILTER (WHERE h.new_lifecycle = 'active' AND h.old_lifecycle IN ('prospect', 'intent')) AS conversions,
		   count(*) FILTER (WHERE h.new_lifecycle = 'dormant' AND h.old_lifecycle IS DISTINCT FROM 'dormant') AS dormant,
		   count(*) FILTER (WHERE h.new_lifecycle = 'churned' AND h.old_lifecycle IS DISTINCT FROM 'churned') AS churned,
		   count(*) FILTER (WHERE h.new_lifecycle = 'active' AND h.old_lifecycle IN ('dormant', 'churned')) AS reactivations
	  FROM h
	 -- a customer's first evaluation by an attach, an update or a full
	 -- re-grade is when crm_grade started to follow it, not a move
	 WHERE NOT (h.old_lifecycle IS NULL AND h.reason IN ('attach', 'upgrade', 'regrade_all', 'policy'))
	 GROUP BY h.month
), pipeline AS (
	SELECT m.month, count(DISTINCT h.customer) AS at_start
	  FROM months m JOIN h ON h.changed_at < m.starts AND (h.until IS NULL OR h.until >= m.starts)
	 WHERE h.new_lifecycle IN ('prospect', 'intent')
	 GROUP BY m.month
)
SELECT m.month,
	   coalesce(p.at_start, 0) AS pipeline_at_start,
	   coalesce(v.prospects, 0) AS prospects,
	   coalesce(v.intent, 0) AS intent,
	   coalesce(v.conversions, 0) + coalesce(v.first_seen_active, 0) AS first_orders,
	   coalesce(v.conversions, 0) AS conversions,
	   round(coalesce(v.conversions, 0)::numeric
			 / nullif(coalesce(p.at_start, 0) + coalesce(v.prospects, 0) + coalesce(v.intent, 0), 0), 4) AS conversion_rate,
	   coalesce(v.dormant, 0) AS dormant,
	   coalesce(v.churned, 0) AS churned,
	   coalesce(v.reactivations, 0) AS reactivations
  FROM months m
  LEFT JOIN moves v ON v.month = m.month
  LEFT JOIN pipeline p ON p.month = m.month
 ORDER BY m.month;
COMMENT ON VIEW @extschema@.lifecycle_funnel IS 'per month of grade_history: customers entering each stage, conversions of prospects and customers with intent, the conversion rate, dormancy, churn and reactivations';
COMMENT ON COLUMN @extschema@.lifecycle_funnel.month IS 'the calendar month, in crm_grade.timezone';
COMMENT ON COLUMN @extschema@.lifecycle_funnel.pipeline_at_start IS 'customers who were prospects or had intent when the month began';
COMMENT ON COLUMN @extschema@.lifecycle_funnel.prospects IS 'customers who became prospects (new ones, mostly)';
COMMENT ON COLUMN @extschema@.lifecycle_funnel.intent IS 'customers who entered the intent stage (an intent contact or an open opportunity, no order)';
COMMENT ON COLUMN @extschema@.lifecycle_funnel.first_orders IS 'customers who became active for the first time: conversions, and customers first seen with an order';
COMMENT ON COLUMN @extschema@.lifecycle_funnel.conversions IS 'prospects and customers with intent who became active';
COMMENT ON COLUMN @extschema@.lifecycle_funnel.conversion_rate IS 'conversions over the pipeline at the start of the month plus those who entered it during the month, 4 decimals';
COMMENT ON COLUMN @extschema@.lifecycle_funnel.dormant IS 'customers who became dormant';
COMMENT ON COLUMN @extschema@.lifecycle_funnel.churned IS 'customers who churned';
COMMENT ON COLUMN @extschema@.lifecycle_funnel.reactivations IS 'dormant or churned customers who ordered again';
