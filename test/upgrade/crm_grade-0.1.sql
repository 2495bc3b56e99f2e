--
-- PostgreSQL database dump
--

\restrict afhTsb6PdgeaF16upKbv2AnXhIEC8gwx5MMtXSJNd0s2mKhg4hgTsTyiqO7T6Te

-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: app; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA app;


--
-- Name: crm_grade; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA crm_grade;


--
-- Name: crm_grade; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS crm_grade WITH SCHEMA crm_grade;


--
-- Name: EXTENSION crm_grade; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON EXTENSION crm_grade IS 'customer value grades maintained by C triggers on an application''s own tables';


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: customers; Type: TABLE; Schema: app; Owner: -
--

CREATE TABLE app.customers (
    id integer NOT NULL,
    owner text,
    created_at timestamp with time zone,
    attrs jsonb
);


--
-- Name: orders; Type: TABLE; Schema: app; Owner: -
--

CREATE TABLE app.orders (
    id integer NOT NULL,
    customer_id integer NOT NULL,
    amount numeric(12,2) NOT NULL,
    ordered_at timestamp with time zone NOT NULL,
    paid_at timestamp with time zone
);


--
-- Name: orders_id_seq; Type: SEQUENCE; Schema: app; Owner: -
--

CREATE SEQUENCE app.orders_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: orders_id_seq; Type: SEQUENCE OWNED BY; Schema: app; Owner: -
--

ALTER SEQUENCE app.orders_id_seq OWNED BY app.orders.id;


--
-- Name: store_orders; Type: TABLE; Schema: app; Owner: -
--

CREATE TABLE app.store_orders (
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    total numeric NOT NULL,
    ordered_on timestamp without time zone NOT NULL,
    paid_on date
);


--
-- Name: store_orders_id_seq; Type: SEQUENCE; Schema: app; Owner: -
--

CREATE SEQUENCE app.store_orders_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: store_orders_id_seq; Type: SEQUENCE OWNED BY; Schema: app; Owner: -
--

ALTER SEQUENCE app.store_orders_id_seq OWNED BY app.store_orders.id;


--
-- Name: customer_grades; Type: VIEW; Schema: crm_grade; Owner: -
--

CREATE VIEW crm_grade.customer_grades AS
 SELECT (s.customer)::integer AS customer,
    s.grade,
    s.score,
    s.lifecycle,
    s.risk,
    s.owner,
    s.amount_12m,
    s.orders_12m,
    s.total_amount,
    s.orders_total,
    s.first_order_at,
    s.last_order_at,
    s.last_contact_at,
    s.next_follow_up_at,
    (s.next_follow_up_at < crm_grade.as_of()) AS follow_up_overdue,
    s.policy,
    s.graded_at,
    s.avg_order_value_12m,
    s.active_months_12m,
    s.repurchase_rate,
    s.avg_payment_days,
    s.mean_interorder_days,
    (floor((EXTRACT(epoch FROM (crm_grade.as_of() - s.first_order_at)) / (86400)::numeric)))::integer AS tenure_days,
    (floor((EXTRACT(epoch FROM (crm_grade.as_of() - s.last_order_at)) / (86400)::numeric)))::integer AS days_since_last_order,
    s.grade_rank,
    s.valid_until
   FROM crm_grade.customer_state s;


--
-- Name: VIEW customer_grades; Type: COMMENT; Schema: crm_grade; Owner: -
--

COMMENT ON VIEW crm_grade.customer_grades IS 'one row per customer: grade, metrics and follow-up, keyed by the application''s customer key';


--
-- Name: COLUMN customer_grades.customer; Type: COMMENT; Schema: crm_grade; Owner: -
--

COMMENT ON COLUMN crm_grade.customer_grades.customer IS 'the application''s customer key, with its own type';


--
-- Name: COLUMN customer_grades.grade; Type: COMMENT; Schema: crm_grade; Owner: -
--

COMMENT ON COLUMN crm_grade.customer_grades.grade IS 'grade given by the active policy';


--
-- Name: COLUMN customer_grades.amount_12m; Type: COMMENT; Schema: crm_grade; Owner: -
--

COMMENT ON COLUMN crm_grade.customer_grades.amount_12m IS 'sum of order amounts (refunds subtracted) in the 12 months up to graded_at';


--
-- Name: COLUMN customer_grades.orders_12m; Type: COMMENT; Schema: crm_grade; Owner: -
--

COMMENT ON COLUMN crm_grade.customer_grades.orders_12m IS 'orders (refunds excluded) in the 12 months up to graded_at';


--
-- Name: COLUMN customer_grades.total_amount; Type: COMMENT; Schema: crm_grade; Owner: -
--

COMMENT ON COLUMN crm_grade.customer_grades.total_amount IS 'sum of all order amounts, refunds subtracted';


--
-- Name: COLUMN customer_grades.orders_total; Type: COMMENT; Schema: crm_grade; Owner: -
--

COMMENT ON COLUMN crm_grade.customer_grades.orders_total IS 'number of orders, refunds excluded';


--
-- Name: COLUMN customer_grades.follow_up_overdue; Type: COMMENT; Schema: crm_grade; Owner: -
--

COMMENT ON COLUMN crm_grade.customer_grades.follow_up_overdue IS 'next_follow_up_at has passed';


--
-- Name: COLUMN customer_grades.graded_at; Type: COMMENT; Schema: crm_grade; Owner: -
--

COMMENT ON COLUMN crm_grade.customer_grades.graded_at IS 'the moment (crm_grade.as_of) the row was last evaluated';


--
-- Name: COLUMN customer_grades.valid_until; Type: COMMENT; Schema: crm_grade; Owner: -
--

COMMENT ON COLUMN crm_grade.customer_grades.valid_until IS 'earliest moment at which time alone changes the row; crm_grade.regrade() picks it up then';


--
-- Name: grade_history; Type: VIEW; Schema: crm_grade; Owner: -
--

CREATE VIEW crm_grade.grade_history AS
 SELECT (h.customer)::integer AS customer,
    h.changed_at,
    h.old_grade,
    h.new_grade,
    h.old_lifecycle,
    h.new_lifecycle,
    h.old_risk,
    h.new_risk,
    h.reason
   FROM crm_grade.history h;


--
-- Name: VIEW grade_history; Type: COMMENT; Schema: crm_grade; Owner: -
--

COMMENT ON VIEW crm_grade.grade_history IS 'every grade change with its reason';


--
-- Name: orders id; Type: DEFAULT; Schema: app; Owner: -
--

ALTER TABLE ONLY app.orders ALTER COLUMN id SET DEFAULT nextval('app.orders_id_seq'::regclass);


--
-- Name: store_orders id; Type: DEFAULT; Schema: app; Owner: -
--

ALTER TABLE ONLY app.store_orders ALTER COLUMN id SET DEFAULT nextval('app.store_orders_id_seq'::regclass);


--
-- Data for Name: customers; Type: TABLE DATA; Schema: app; Owner: -
--

COPY app.customers (id, owner, created_at, attrs) FROM stdin;
1	rep2	2024-01-11 00:00:00+00	{"industry_outlook": 20}
2	rep3	2024-01-21 00:00:00+00	{"industry_outlook": 40}
3	rep1	2024-01-31 00:00:00+00	{"industry_outlook": 60}
4	rep2	2024-02-10 00:00:00+00	{"industry_outlook": 80}
6	rep1	2024-03-01 00:00:00+00	{"industry_outlook": 20}
8	rep3	2024-03-21 00:00:00+00	{"industry_outlook": 60}
10	rep2	2024-04-10 00:00:00+00	{"industry_outlook": 0}
12	rep1	2024-04-30 00:00:00+00	{"industry_outlook": 40}
13	rep2	2024-05-10 00:00:00+00	{"industry_outlook": 60}
14	rep3	2024-05-20 00:00:00+00	{"industry_outlook": 80}
15	rep1	2024-05-30 00:00:00+00	{"industry_outlook": 0}
16	rep2	2024-06-09 00:00:00+00	{"industry_outlook": 20}
17	rep3	2024-06-19 00:00:00+00	{"industry_outlook": 40}
18	rep1	2024-06-29 00:00:00+00	{"industry_outlook": 60}
19	rep2	2024-07-09 00:00:00+00	{"industry_outlook": 80}
20	rep3	2024-07-19 00:00:00+00	{"industry_outlook": 0}
11	rep3	2024-04-20 00:00:00+00	{"industry_outlook": 80}
21	rep2	2026-06-01 00:00:00+00	{"industry_outlook": 80}
5	rep3	2024-02-20 00:00:00+00	{"expansion": 60, "industry_outlook": 0}
7	rep2	2024-03-11 00:00:00+00	{"referral": 40, "service_level": "gold"}
\.


--
-- Data for Name: orders; Type: TABLE DATA; Schema: app; Owner: -
--

COPY app.orders (id, customer_id, amount, ordered_at, paid_at) FROM stdin;
1	1	20000.00	2025-01-10 10:00:00+00	2025-01-20 10:00:00+00
2	1	10000.00	2025-06-20 10:00:00+00	2025-06-25 10:00:00+00
3	1	10000.00	2025-07-20 10:00:00+00	2025-07-25 10:00:00+00
4	1	10000.00	2025-08-20 10:00:00+00	2025-08-25 10:00:00+00
5	1	10000.00	2025-09-20 10:00:00+00	2025-09-25 10:00:00+00
6	1	10000.00	2025-10-20 10:00:00+00	2025-10-25 10:00:00+00
7	1	10000.00	2025-11-20 10:00:00+00	2025-11-25 10:00:00+00
8	1	10000.00	2025-12-20 10:00:00+00	2025-12-25 10:00:00+00
9	1	10000.00	2026-01-20 10:00:00+00	2026-01-25 10:00:00+00
10	1	10000.00	2026-02-20 10:00:00+00	2026-02-25 10:00:00+00
11	1	10000.00	2026-03-20 10:00:00+00	2026-03-25 10:00:00+00
12	1	10000.00	2026-04-20 10:00:00+00	2026-04-25 10:00:00+00
13	1	10000.00	2026-05-20 10:00:00+00	2026-05-25 10:00:00+00
14	1	10000.00	2026-06-10 10:00:00+00	2026-06-12 10:00:00+00
15	2	30000.00	2026-05-01 09:00:00+00	2026-05-11 09:00:00+00
16	2	30000.00	2026-06-10 09:00:00+00	2026-06-30 09:00:00+00
17	3	35000.00	2025-08-12 08:00:00+00	2025-08-15 08:00:00+00
18	3	8000.00	2025-10-04 08:00:00+00	2025-10-07 08:00:00+00
19	3	21000.00	2025-11-26 08:00:00+00	\N
20	3	34000.00	2026-01-18 08:00:00+00	2026-01-21 08:00:00+00
21	3	7000.00	2026-03-12 08:00:00+00	2026-03-15 08:00:00+00
22	3	20000.00	2026-05-04 08:00:00+00	\N
23	3	33000.00	2025-03-23 08:00:00+00	2025-03-26 08:00:00+00
24	4	2000.00	2025-09-18 08:00:00+00	2025-09-22 08:00:00+00
25	4	15000.00	2025-11-10 08:00:00+00	2025-11-14 08:00:00+00
26	4	28000.00	2026-01-02 08:00:00+00	\N
27	4	1000.00	2026-02-24 08:00:00+00	2026-02-28 08:00:00+00
28	5	9000.00	2025-10-25 08:00:00+00	2025-10-30 08:00:00+00
29	5	22000.00	2025-12-17 08:00:00+00	2025-12-22 08:00:00+00
30	5	35000.00	2026-02-08 08:00:00+00	\N
31	5	8000.00	2026-04-02 08:00:00+00	2026-04-07 08:00:00+00
32	5	21000.00	2026-05-25 08:00:00+00	2026-05-30 08:00:00+00
33	6	16000.00	2025-12-01 08:00:00+00	2025-12-07 08:00:00+00
35	6	2000.00	2026-03-17 08:00:00+00	\N
36	6	15000.00	2026-05-09 08:00:00+00	2026-05-15 08:00:00+00
37	6	28000.00	2025-03-28 08:00:00+00	2025-04-03 08:00:00+00
38	6	1000.00	2025-05-20 08:00:00+00	\N
39	7	23000.00	2026-01-07 08:00:00+00	2026-01-14 08:00:00+00
40	7	36000.00	2026-03-01 08:00:00+00	2026-03-08 08:00:00+00
41	7	9000.00	2026-04-23 08:00:00+00	\N
42	7	22000.00	2025-03-12 08:00:00+00	2025-03-19 08:00:00+00
43	7	35000.00	2025-05-04 08:00:00+00	2025-05-11 08:00:00+00
44	7	8000.00	2025-06-26 08:00:00+00	\N
45	7	21000.00	2025-08-18 08:00:00+00	2025-08-25 08:00:00+00
46	8	30000.00	2026-02-13 08:00:00+00	2026-02-21 08:00:00+00
47	8	3000.00	2026-04-07 08:00:00+00	2026-04-15 08:00:00+00
48	8	16000.00	2026-05-30 08:00:00+00	\N
49	8	29000.00	2025-04-18 08:00:00+00	2025-04-26 08:00:00+00
50	9	37000.00	2026-03-22 08:00:00+00	2026-03-22 08:00:00+00
51	9	10000.00	2026-05-14 08:00:00+00	2026-05-14 08:00:00+00
52	9	23000.00	2025-04-02 08:00:00+00	\N
53	9	36000.00	2025-05-25 08:00:00+00	2025-05-25 08:00:00+00
54	9	9000.00	2025-07-17 08:00:00+00	2025-07-17 08:00:00+00
55	10	4000.00	2026-04-28 08:00:00+00	2026-04-29 08:00:00+00
56	10	17000.00	2025-03-17 08:00:00+00	2025-03-18 08:00:00+00
57	10	30000.00	2025-05-09 08:00:00+00	\N
58	10	3000.00	2025-07-01 08:00:00+00	2025-07-02 08:00:00+00
59	10	16000.00	2025-08-23 08:00:00+00	2025-08-24 08:00:00+00
60	10	29000.00	2025-10-15 08:00:00+00	\N
61	11	11000.00	2025-03-01 08:00:00+00	2025-03-03 08:00:00+00
62	11	24000.00	2025-04-23 08:00:00+00	2025-04-25 08:00:00+00
63	11	37000.00	2025-06-15 08:00:00+00	\N
64	11	10000.00	2025-08-07 08:00:00+00	2025-08-09 08:00:00+00
65	11	23000.00	2025-09-29 08:00:00+00	2025-10-01 08:00:00+00
66	11	36000.00	2025-11-21 08:00:00+00	\N
67	11	9000.00	2026-01-13 08:00:00+00	2026-01-15 08:00:00+00
68	12	18000.00	2025-04-07 08:00:00+00	2025-04-10 08:00:00+00
69	12	31000.00	2025-05-30 08:00:00+00	2025-06-02 08:00:00+00
70	12	4000.00	2025-07-22 08:00:00+00	\N
71	12	17000.00	2025-09-13 08:00:00+00	2025-09-16 08:00:00+00
73	101	20000.00	2026-04-01 12:00:00+00	\N
75	19	120000.00	2026-06-01 10:00:00+00	2026-06-02 10:00:00+00
76	2	500000.00	2026-06-11 10:00:00+00	\N
77	2	-460000.00	2026-06-12 10:00:00+00	\N
72	101	10000.00	2026-02-01 12:00:00+00	2026-02-03 12:00:00+00
\.


--
-- Data for Name: store_orders; Type: TABLE DATA; Schema: app; Owner: -
--

COPY app.store_orders (id, customer_id, total, ordered_on, paid_on) FROM stdin;
1	4	2500	2025-09-03 14:30:00	\N
2	4	3000	2025-10-02 14:30:00	2025-10-05
3	4	3500	2025-10-31 14:30:00	\N
4	4	4000	2025-11-29 14:30:00	2025-12-02
5	4	4500	2025-12-28 14:30:00	\N
6	4	5000	2026-01-26 14:30:00	2026-01-29
7	5	3000	2025-09-04 14:30:00	\N
8	5	3500	2025-10-03 14:30:00	2025-10-06
9	5	4000	2025-11-01 14:30:00	\N
10	5	4500	2025-11-30 14:30:00	2025-12-03
11	5	5000	2025-12-29 14:30:00	\N
12	5	5500	2026-01-27 14:30:00	2026-01-30
13	13	7000	2025-09-12 14:30:00	\N
14	13	7500	2025-10-11 14:30:00	2025-10-14
15	13	8000	2025-11-09 14:30:00	\N
16	13	8500	2025-12-08 14:30:00	2025-12-11
17	13	9000	2026-01-06 14:30:00	\N
18	13	9500	2026-02-04 14:30:00	2026-02-07
19	103	52000	2025-12-11 14:30:00	\N
20	103	52500	2026-01-09 14:30:00	2026-01-12
21	103	53000	2026-02-07 14:30:00	\N
22	103	53500	2026-03-08 14:30:00	2026-03-11
23	103	54000	2026-04-06 14:30:00	\N
24	103	54500	2026-05-05 14:30:00	2026-05-08
25	20	900	2026-06-14 09:00:00	2026-06-14
\.


--
-- Data for Name: active_policy; Type: TABLE DATA; Schema: crm_grade; Owner: -
--

COPY crm_grade.active_policy (singleton, name) FROM stdin;
t	four_class
\.


--
-- Data for Name: customer_state; Type: TABLE DATA; Schema: crm_grade; Owner: -
--

COPY crm_grade.customer_state (customer, in_master, owner, created_at, attributes, total_amount, orders_total, amount_12m, orders_12m, first_order_at, last_order_at, order_months, pay_days_sum, pay_count, oldest_window_at, next_order_at, avg_order_value_12m, active_months_12m, repurchase_rate, avg_payment_days, mean_interorder_days, last_contact_at, contacts_90d, last_outcome, next_action_at, open_opportunities, first_seen_at, grade, grade_rank, score, lifecycle, risk, next_follow_up_at, policy, graded_at, valid_until) FROM stdin;
6	t	rep1	2024-03-01 00:00:00+00	{"industry_outlook": 20}	62000.00	5	33000.00	3	2025-03-28 08:00:00+00	2026-05-09 08:00:00+00	{24311,24314,24316}	12	2	2025-12-01 08:00:00+00	\N	11000.0000000000000000	3	0.25000000000000000000	6.0000000000000000	101.7500000000000000	\N	\N	\N	\N	\N	2024-03-01 00:00:00+00	normal	3	\N	\N	\N	\N	four_class	2026-06-15 12:00:00+00	2026-12-01 08:00:00+00
5	t	rep3	2024-02-20 00:00:00+00	{"expansion": 60, "industry_outlook": 0}	120500.00	11	120500.00	11	2025-09-04 14:30:00+00	2026-05-25 08:00:00+00	{24308,24309,24310,24311,24312,24313,24315,24316}	26	7	2025-09-04 14:30:00+00	\N	10954.545454545455	8	0.80000000000000000000	3.7142857142857143	26.2000000000000000	\N	\N	\N	\N	\N	2024-02-20 00:00:00+00	key	2	\N	\N	\N	\N	four_class	2026-06-15 12:00:00+00	2026-07-01 00:00:00+00
7	t	rep2	2024-03-11 00:00:00+00	{"referral": 40, "service_level": "gold"}	154000.00	7	97000.00	5	2025-03-12 08:00:00+00	2026-04-23 08:00:00+00	{24305,24307,24312,24314,24315}	21	3	2025-06-26 08:00:00+00	\N	19400.000000000000	5	0.41666666666666666667	7.0000000000000000	67.8333333333333333	\N	\N	\N	\N	\N	2024-03-11 00:00:00+00	key	2	\N	\N	\N	\N	four_class	2026-06-15 12:00:00+00	2026-06-26 08:00:00+00
13	t	rep2	2024-05-10 00:00:00+00	{"industry_outlook": 60}	49500	6	49500	6	2025-09-12 14:30:00+00	2026-02-04 14:30:00+00	{24308,24309,24310,24311,24312,24313}	6	3	2025-09-12 14:30:00+00	\N	8250.0000000000000000	6	0.60000000000000000000	2.0000000000000000	29.0000000000000000	\N	\N	\N	\N	\N	2024-05-10 00:00:00+00	normal	3	\N	\N	\N	\N	four_class	2026-06-15 12:00:00+00	2026-07-01 00:00:00+00
18	t	rep1	2024-06-29 00:00:00+00	{"industry_outlook": 60}	0	0	0	0	\N	\N	{}	0	0	\N	\N	\N	0	\N	\N	\N	\N	\N	\N	\N	\N	2024-06-29 00:00:00+00	potential	4	\N	\N	\N	\N	four_class	2026-06-15 12:00:00+00	\N
2	t	rep3	2024-01-21 00:00:00+00	{"industry_outlook": 40}	100000.00	3	100000.00	3	2026-05-01 09:00:00+00	2026-06-11 10:00:00+00	{24316,24317}	30	2	2026-05-01 09:00:00+00	\N	33333.333333333333	2	1.00000000000000000000	15.0000000000000000	20.5000000000000000	\N	\N	\N	\N	\N	2024-01-21 00:00:00+00	key	2	\N	\N	\N	\N	four_class	2026-06-15 12:00:00+00	2026-07-01 00:00:00+00
10	t	rep2	2024-04-10 00:00:00+00	{"industry_outlook": 0}	99000.00	6	52000.00	4	2025-03-17 08:00:00+00	2026-04-28 08:00:00+00	{24306,24307,24309,24315}	3	3	2025-07-01 08:00:00+00	\N	13000.000000000000	4	0.33333333333333333333	1.00000000000000000000	81.4000000000000000	\N	\N	\N	\N	\N	2024-04-10 00:00:00+00	key	2	\N	\N	\N	\N	four_class	2026-06-15 12:00:00+00	2026-07-01 08:00:00+00
14	t	rep3	2024-05-20 00:00:00+00	{"industry_outlook": 80}	0	0	0	0	\N	\N	{}	0	0	\N	\N	\N	0	\N	\N	\N	\N	\N	\N	\N	\N	2024-05-20 00:00:00+00	potential	4	\N	\N	\N	\N	four_class	2026-06-15 12:00:00+00	\N
8	t	rep3	2024-03-21 00:00:00+00	{"industry_outlook": 60}	78000.00	4	49000.00	3	2025-04-18 08:00:00+00	2026-05-30 08:00:00+00	{24313,24315,24316}	16	2	2026-02-13 08:00:00+00	\N	16333.333333333333	3	0.25000000000000000000	8.0000000000000000	135.6666666666666667	\N	\N	\N	\N	\N	2024-03-21 00:00:00+00	normal	3	\N	\N	\N	\N	four_class	2026-06-15 12:00:00+00	2027-02-13 08:00:00+00
4	t	rep2	2024-02-10 00:00:00+00	{"industry_outlook": 80}	68500.00	10	68500.00	10	2025-09-03 14:30:00+00	2026-02-24 08:00:00+00	{24308,24309,24310,24311,24312,24313}	18	6	2025-09-03 14:30:00+00	\N	6850.0000000000000000	6	0.60000000000000000000	3.0000000000000000	19.2222222222222222	\N	\N	\N	\N	\N	2024-02-10 00:00:00+00	key	2	\N	\N	\N	\N	four_class	2026-06-15 12:00:00+00	2026-07-01 00:00:00+00
3	t	rep1	2024-01-31 00:00:00+00	{"industry_outlook": 60}	158000.00	7	125000.00	6	2025-03-23 08:00:00+00	2026-05-04 08:00:00+00	{24307,24309,24310,24312,24314,24316}	12	4	2025-08-12 08:00:00+00	\N	20833.333333333333	6	0.50000000000000000000	3.0000000000000000	67.8333333333333333	\N	\N	\N	\N	\N	2024-01-31 00:00:00+00	key	2	\N	\N	\N	\N	four_class	2026-06-15 12:00:00+00	2026-08-12 08:00:00+00
11	t	rep3	2024-04-20 00:00:00+00	{"industry_outlook": 80}	150000.00	7	78000.00	4	2025-03-01 08:00:00+00	2026-01-13 08:00:00+00	{24307,24308,24310,24312}	6	3	2025-08-07 08:00:00+00	\N	19500.000000000000	4	0.33333333333333333333	2.0000000000000000	53.0000000000000000	\N	\N	\N	\N	\N	2024-04-20 00:00:00+00	key	2	\N	\N	\N	\N	four_class	2026-06-15 12:00:00+00	2026-08-07 08:00:00+00
12	t	rep1	2024-04-30 00:00:00+00	{"industry_outlook": 40}	70000.00	4	21000.00	2	2025-04-07 08:00:00+00	2025-09-13 08:00:00+00	{24306,24308}	3	1	2025-07-22 08:00:00+00	\N	10500.0000000000000000	2	0.16666666666666666667	3.0000000000000000	53.0000000000000000	\N	\N	\N	\N	\N	2024-04-30 00:00:00+00	normal	3	\N	\N	\N	\N	four_class	2026-06-15 12:00:00+00	2026-07-22 08:00:00+00
9	f	\N	\N	\N	115000.00	5	56000.00	3	2025-04-02 08:00:00+00	2026-05-14 08:00:00+00	{24306,24314,24316}	0	3	2025-07-17 08:00:00+00	\N	18666.666666666667	3	0.25000000000000000000	0.00000000000000000000	101.7500000000000000	\N	\N	\N	\N	\N	2025-04-02 08:00:00+00	key	2	\N	\N	\N	\N	four_class	2026-06-15 12:00:00+00	2026-07-17 08:00:00+00
19	t	rep2	2024-07-09 00:00:00+00	{"industry_outlook": 80}	120000.00	1	120000.00	1	2026-06-01 10:00:00+00	2026-06-01 10:00:00+00	{24317}	1	1	2026-06-01 10:00:00+00	\N	120000.000000000000	1	1.00000000000000000000	1.00000000000000000000	\N	\N	\N	\N	\N	\N	2024-07-09 00:00:00+00	key	2	\N	\N	\N	\N	four_class	2026-06-15 12:00:00+00	2026-07-01 00:00:00+00
1	t	rep2	2024-01-11 00:00:00+00	{"industry_outlook": 20}	150000.00	14	130000.00	13	2025-01-10 10:00:00+00	2026-06-10 10:00:00+00	{24305,24306,24307,24308,24309,24310,24311,24312,24313,24314,24315,24316,24317}	62	13	2025-06-20 10:00:00+00	\N	10000.0000000000000000	13	1.0833333333333333	4.7692307692307692	39.6923076923076923	\N	\N	\N	\N	\N	2024-01-11 00:00:00+00	core	1	\N	\N	\N	\N	four_class	2026-06-15 12:00:00+00	2026-06-20 10:00:00+00
16	t	rep2	2024-06-09 00:00:00+00	{"industry_outlook": 20}	0	0	0	0	\N	\N	{}	0	0	\N	\N	\N	0	\N	\N	\N	\N	\N	\N	\N	\N	2024-06-09 00:00:00+00	potential	4	\N	\N	\N	\N	four_class	2026-06-15 12:00:00+00	\N
103	f	\N	\N	\N	319500	6	319500	6	2025-12-11 14:30:00+00	2026-05-05 14:30:00+00	{24311,24312,24313,24314,24315,24316}	6	3	2025-12-11 14:30:00+00	\N	53250.000000000000	6	0.85714285714285714286	2.0000000000000000	29.0000000000000000	\N	\N	\N	\N	\N	2025-12-11 14:30:00+00	key	2	\N	\N	\N	\N	four_class	2026-06-15 12:00:00+00	2026-07-01 00:00:00+00
20	t	rep3	2024-07-19 00:00:00+00	{"industry_outlook": 0}	900	1	900	1	2026-06-14 09:00:00+00	2026-06-14 09:00:00+00	{24317}	-1	1	2026-06-14 09:00:00+00	\N	900.0000000000000000	1	1.00000000000000000000	-1.00000000000000000000	\N	\N	\N	\N	\N	\N	2024-07-19 00:00:00+00	normal	3	\N	\N	\N	\N	four_class	2026-06-15 12:00:00+00	2026-07-01 00:00:00+00
101	f	\N	\N	\N	30000.00	2	30000.00	2	2026-02-01 12:00:00+00	2026-04-01 12:00:00+00	{24313,24315}	2	1	2026-02-01 12:00:00+00	\N	15000.000000000000	2	0.40000000000000000000	2.0000000000000000	59.0000000000000000	\N	\N	\N	\N	\N	2026-02-01 12:00:00+00	normal	3	\N	\N	\N	\N	four_class	2026-06-15 12:00:00+00	2026-07-01 00:00:00+00
21	t	rep2	2026-06-01 00:00:00+00	{"industry_outlook": 80}	0	0	0	0	\N	\N	{}	0	0	\N	\N	\N	0	\N	\N	\N	\N	\N	\N	\N	\N	2026-06-01 00:00:00+00	potential	4	\N	\N	\N	\N	four_class	2026-06-15 12:00:00+00	\N
15	t	rep1	2024-05-30 00:00:00+00	{"industry_outlook": 0}	0	0	0	0	\N	\N	{}	0	0	\N	\N	\N	0	\N	\N	\N	\N	\N	\N	\N	\N	2024-05-30 00:00:00+00	potential	4	\N	\N	\N	\N	four_class	2026-06-15 12:00:00+00	\N
17	t	rep3	2024-06-19 00:00:00+00	{"industry_outlook": 40}	0	0	0	0	\N	\N	{}	0	0	\N	\N	\N	0	\N	\N	\N	\N	\N	\N	\N	\N	2024-06-19 00:00:00+00	potential	4	\N	\N	\N	\N	four_class	2026-06-15 12:00:00+00	\N
\.


--
-- Data for Name: history; Type: TABLE DATA; Schema: crm_grade; Owner: -
--

COPY crm_grade.history (id, customer, changed_at, old_grade, new_grade, old_lifecycle, new_lifecycle, old_risk, new_risk, reason) FROM stdin;
1	13	2026-06-15 12:00:00+00	\N	C	\N	\N	\N	\N	attach
2	18	2026-06-15 12:00:00+00	\N	C	\N	\N	\N	\N	attach
3	2	2026-06-15 12:00:00+00	\N	C	\N	\N	\N	\N	attach
4	10	2026-06-15 12:00:00+00	\N	C	\N	\N	\N	\N	attach
5	14	2026-06-15 12:00:00+00	\N	C	\N	\N	\N	\N	attach
6	6	2026-06-15 12:00:00+00	\N	C	\N	\N	\N	\N	attach
7	8	2026-06-15 12:00:00+00	\N	C	\N	\N	\N	\N	attach
8	9	2026-06-15 12:00:00+00	\N	C	\N	\N	\N	\N	attach
9	4	2026-06-15 12:00:00+00	\N	C	\N	\N	\N	\N	attach
10	3	2026-06-15 12:00:00+00	\N	C	\N	\N	\N	\N	attach
11	5	2026-06-15 12:00:00+00	\N	C	\N	\N	\N	\N	attach
12	11	2026-06-15 12:00:00+00	\N	C	\N	\N	\N	\N	attach
13	12	2026-06-15 12:00:00+00	\N	C	\N	\N	\N	\N	attach
14	7	2026-06-15 12:00:00+00	\N	C	\N	\N	\N	\N	attach
15	15	2026-06-15 12:00:00+00	\N	C	\N	\N	\N	\N	attach
16	17	2026-06-15 12:00:00+00	\N	C	\N	\N	\N	\N	attach
17	19	2026-06-15 12:00:00+00	\N	C	\N	\N	\N	\N	attach
18	20	2026-06-15 12:00:00+00	\N	C	\N	\N	\N	\N	attach
19	1	2026-06-15 12:00:00+00	\N	C	\N	\N	\N	\N	attach
20	16	2026-06-15 12:00:00+00	\N	C	\N	\N	\N	\N	attach
21	3	2026-06-15 12:00:00+00	C	B	\N	\N	\N	\N	attach
22	1	2026-06-15 12:00:00+00	C	B	\N	\N	\N	\N	attach
23	101	2026-06-15 12:00:00+00	\N	C	\N	\N	\N	\N	attach
24	102	2026-06-15 12:00:00+00	\N	C	\N	\N	\N	\N	attach
25	5	2026-06-15 12:00:00+00	C	B	\N	\N	\N	\N	attach
26	103	2026-06-15 12:00:00+00	\N	B	\N	\N	\N	\N	attach
27	8	2026-06-15 12:00:00+00	C	B	\N	\N	\N	\N	attach
28	3	2026-06-15 12:00:00+00	B	A	\N	\N	\N	\N	attach
29	8	2026-06-15 12:00:00+00	B	C	\N	\N	\N	\N	detach
30	3	2026-06-15 12:00:00+00	A	B	\N	\N	\N	\N	detach
31	19	2026-06-15 12:00:00+00	C	B	\N	\N	\N	\N	first_order
32	2	2026-06-15 12:00:00+00	C	A	\N	\N	\N	\N	order
33	2	2026-06-15 12:00:00+00	A	B	\N	\N	\N	\N	refund
34	13	2026-06-15 12:00:00+00	C	bright	\N	\N	\N	\N	policy
35	18	2026-06-15 12:00:00+00	C	bright	\N	\N	\N	\N	policy
36	2	2026-06-15 12:00:00+00	B	dim	\N	\N	\N	\N	policy
37	10	2026-06-15 12:00:00+00	C	dim	\N	\N	\N	\N	policy
38	14	2026-06-15 12:00:00+00	C	bright	\N	\N	\N	\N	policy
39	6	2026-06-15 12:00:00+00	C	dim	\N	\N	\N	\N	policy
40	8	2026-06-15 12:00:00+00	C	bright	\N	\N	\N	\N	policy
41	9	2026-06-15 12:00:00+00	C	bright	\N	\N	\N	\N	policy
42	4	2026-06-15 12:00:00+00	C	bright	\N	\N	\N	\N	policy
43	3	2026-06-15 12:00:00+00	B	bright	\N	\N	\N	\N	policy
44	5	2026-06-15 12:00:00+00	B	dim	\N	\N	\N	\N	policy
45	11	2026-06-15 12:00:00+00	C	dim	\N	\N	\N	\N	policy
46	12	2026-06-15 12:00:00+00	C	dim	\N	\N	\N	\N	policy
47	7	2026-06-15 12:00:00+00	C	dim	\N	\N	\N	\N	policy
48	15	2026-06-15 12:00:00+00	C	dim	\N	\N	\N	\N	policy
49	17	2026-06-15 12:00:00+00	C	dim	\N	\N	\N	\N	policy
50	19	2026-06-15 12:00:00+00	B	bright	\N	\N	\N	\N	policy
51	20	2026-06-15 12:00:00+00	C	dim	\N	\N	\N	\N	policy
52	1	2026-06-15 12:00:00+00	B	dim	\N	\N	\N	\N	policy
53	16	2026-06-15 12:00:00+00	C	dim	\N	\N	\N	\N	policy
54	101	2026-06-15 12:00:00+00	C	dim	\N	\N	\N	\N	policy
55	102	2026-06-15 12:00:00+00	C	dim	\N	\N	\N	\N	policy
56	103	2026-06-15 12:00:00+00	B	dim	\N	\N	\N	\N	policy
57	11	2026-06-15 12:00:00+00	dim	bright	\N	\N	\N	\N	customer_updated
58	9	2026-06-15 12:00:00+00	bright	dim	\N	\N	\N	\N	customer_deleted
59	13	2026-06-15 12:00:00+00	bright	normal	\N	\N	\N	\N	policy
60	18	2026-06-15 12:00:00+00	bright	potential	\N	\N	\N	\N	policy
61	2	2026-06-15 12:00:00+00	dim	key	\N	\N	\N	\N	policy
62	10	2026-06-15 12:00:00+00	dim	key	\N	\N	\N	\N	policy
63	14	2026-06-15 12:00:00+00	bright	potential	\N	\N	\N	\N	policy
64	6	2026-06-15 12:00:00+00	dim	key	\N	\N	\N	\N	policy
65	8	2026-06-15 12:00:00+00	bright	normal	\N	\N	\N	\N	policy
66	4	2026-06-15 12:00:00+00	bright	key	\N	\N	\N	\N	policy
67	3	2026-06-15 12:00:00+00	bright	key	\N	\N	\N	\N	policy
68	5	2026-06-15 12:00:00+00	dim	key	\N	\N	\N	\N	policy
69	11	2026-06-15 12:00:00+00	bright	key	\N	\N	\N	\N	policy
70	12	2026-06-15 12:00:00+00	dim	normal	\N	\N	\N	\N	policy
71	7	2026-06-15 12:00:00+00	dim	key	\N	\N	\N	\N	policy
72	15	2026-06-15 12:00:00+00	dim	potential	\N	\N	\N	\N	policy
73	17	2026-06-15 12:00:00+00	dim	potential	\N	\N	\N	\N	policy
74	19	2026-06-15 12:00:00+00	bright	key	\N	\N	\N	\N	policy
75	20	2026-06-15 12:00:00+00	dim	potential	\N	\N	\N	\N	policy
76	1	2026-06-15 12:00:00+00	dim	core	\N	\N	\N	\N	policy
77	16	2026-06-15 12:00:00+00	dim	potential	\N	\N	\N	\N	policy
78	101	2026-06-15 12:00:00+00	dim	key	\N	\N	\N	\N	policy
79	102	2026-06-15 12:00:00+00	dim	normal	\N	\N	\N	\N	policy
80	9	2026-06-15 12:00:00+00	dim	key	\N	\N	\N	\N	policy
81	103	2026-06-15 12:00:00+00	dim	key	\N	\N	\N	\N	policy
82	20	2026-06-15 12:00:00+00	potential	normal	\N	\N	\N	\N	first_order
83	101	2026-06-15 12:00:00+00	key	normal	\N	\N	\N	\N	order_updated
84	6	2026-06-15 12:00:00+00	key	normal	\N	\N	\N	\N	order_deleted
85	21	2026-06-15 12:00:00+00	\N	potential	\N	\N	\N	\N	customer_created
\.


--
-- Data for Name: holiday; Type: TABLE DATA; Schema: crm_grade; Owner: -
--

COPY crm_grade.holiday (day, name) FROM stdin;
2026-01-01	New Year
2026-12-25	Christmas
\.


--
-- Data for Name: policy; Type: TABLE DATA; Schema: crm_grade; Owner: -
--

COPY crm_grade.policy (name, definition, description, builtin) FROM stdin;
payers	{"kind": "rules", "grades": [{"when": {"op": ">=", "value": 1, "metric": "repurchase_rate"}, "grade": "loyal"}, {"when": {"all": [{"op": "<=", "value": 12, "metric": "avg_payment_days"}]}, "grade": "prompt"}], "cadence": {"slow": "30 days", "loyal": "7 days", "prompt": "14 days"}, "default": "slow"}	loyal: an order every month; prompt: pays within 12 days; slow: the rest	f
outlook	{"kind": "rules", "grades": [{"when": {"op": ">=", "value": 60, "metric": "attr.industry_outlook"}, "grade": "bright"}], "cadence": {"dim": "60 days", "bright": "14 days"}, "default": "dim"}	bright: the account manager rates the industry outlook 60 or more	f
\.


--
-- Data for Name: source; Type: TABLE DATA; Schema: crm_grade; Owner: -
--

COPY crm_grade.source (tbl, kind, key_type, customer_column, amount_column, time_column, paid_at_column, owner_column, created_at_column, attributes_column, attached_at) FROM stdin;
app.customers	customers	integer	id	\N	\N	\N	owner	created_at	attrs	2026-06-01 08:00:00+00
app.orders	orders	integer	customer_id	amount	ordered_at	paid_at	\N	\N	\N	2026-06-01 08:01:00+00
app.store_orders	orders	bigint	customer_id	total	ordered_on	paid_on	\N	\N	\N	2026-06-01 08:02:00+00
\.


--
-- Name: orders_id_seq; Type: SEQUENCE SET; Schema: app; Owner: -
--

SELECT pg_catalog.setval('app.orders_id_seq', 77, true);


--
-- Name: store_orders_id_seq; Type: SEQUENCE SET; Schema: app; Owner: -
--

SELECT pg_catalog.setval('app.store_orders_id_seq', 25, true);


--
-- Name: history_id_seq; Type: SEQUENCE SET; Schema: crm_grade; Owner: -
--

SELECT pg_catalog.setval('crm_grade.history_id_seq', 85, true);


--
-- Name: customers customers_pkey; Type: CONSTRAINT; Schema: app; Owner: -
--

ALTER TABLE ONLY app.customers
    ADD CONSTRAINT customers_pkey PRIMARY KEY (id);


--
-- Name: orders orders_pkey; Type: CONSTRAINT; Schema: app; Owner: -
--

ALTER TABLE ONLY app.orders
    ADD CONSTRAINT orders_pkey PRIMARY KEY (id);


--
-- Name: store_orders store_orders_pkey; Type: CONSTRAINT; Schema: app; Owner: -
--

ALTER TABLE ONLY app.store_orders
    ADD CONSTRAINT store_orders_pkey PRIMARY KEY (id);


--
-- Name: orders_customer_id_idx; Type: INDEX; Schema: app; Owner: -
--

CREATE INDEX orders_customer_id_idx ON app.orders USING btree (customer_id);


--
-- Name: store_orders_customer_id_idx; Type: INDEX; Schema: app; Owner: -
--

CREATE INDEX store_orders_customer_id_idx ON app.store_orders USING btree (customer_id);


--
-- Name: customers crm_grade_delete; Type: TRIGGER; Schema: app; Owner: -
--

CREATE TRIGGER crm_grade_delete AFTER DELETE ON app.customers REFERENCING OLD TABLE AS crm_grade_old FOR EACH STATEMENT EXECUTE FUNCTION crm_grade.customers_trigger('id', 'owner', 'created_at', 'attrs');


--
-- Name: orders crm_grade_delete; Type: TRIGGER; Schema: app; Owner: -
--

CREATE TRIGGER crm_grade_delete AFTER DELETE ON app.orders REFERENCING OLD TABLE AS crm_grade_old FOR EACH STATEMENT EXECUTE FUNCTION crm_grade.orders_trigger('customer_id', 'amount', 'ordered_at', 'paid_at');


--
-- Name: store_orders crm_grade_delete; Type: TRIGGER; Schema: app; Owner: -
--

CREATE TRIGGER crm_grade_delete AFTER DELETE ON app.store_orders REFERENCING OLD TABLE AS crm_grade_old FOR EACH STATEMENT EXECUTE FUNCTION crm_grade.orders_trigger('customer_id', 'total', 'ordered_on', 'paid_on');


--
-- Name: customers crm_grade_insert; Type: TRIGGER; Schema: app; Owner: -
--

CREATE TRIGGER crm_grade_insert AFTER INSERT ON app.customers REFERENCING NEW TABLE AS crm_grade_new FOR EACH STATEMENT EXECUTE FUNCTION crm_grade.customers_trigger('id', 'owner', 'created_at', 'attrs');


--
-- Name: orders crm_grade_insert; Type: TRIGGER; Schema: app; Owner: -
--

CREATE TRIGGER crm_grade_insert AFTER INSERT ON app.orders REFERENCING NEW TABLE AS crm_grade_new FOR EACH STATEMENT EXECUTE FUNCTION crm_grade.orders_trigger('customer_id', 'amount', 'ordered_at', 'paid_at');


--
-- Name: store_orders crm_grade_insert; Type: TRIGGER; Schema: app; Owner: -
--

CREATE TRIGGER crm_grade_insert AFTER INSERT ON app.store_orders REFERENCING NEW TABLE AS crm_grade_new FOR EACH STATEMENT EXECUTE FUNCTION crm_grade.orders_trigger('customer_id', 'total', 'ordered_on', 'paid_on');


--
-- Name: customers crm_grade_truncate; Type: TRIGGER; Schema: app; Owner: -
--

CREATE TRIGGER crm_grade_truncate AFTER TRUNCATE ON app.customers FOR EACH STATEMENT EXECUTE FUNCTION crm_grade.customers_trigger('id', 'owner', 'created_at', 'attrs');


--
-- Name: orders crm_grade_truncate; Type: TRIGGER; Schema: app; Owner: -
--

CREATE TRIGGER crm_grade_truncate AFTER TRUNCATE ON app.orders FOR EACH STATEMENT EXECUTE FUNCTION crm_grade.orders_trigger('customer_id', 'amount', 'ordered_at', 'paid_at');


--
-- Name: store_orders crm_grade_truncate; Type: TRIGGER; Schema: app; Owner: -
--

CREATE TRIGGER crm_grade_truncate AFTER TRUNCATE ON app.store_orders FOR EACH STATEMENT EXECUTE FUNCTION crm_grade.orders_trigger('customer_id', 'total', 'ordered_on', 'paid_on');


--
-- Name: customers crm_grade_update; Type: TRIGGER; Schema: app; Owner: -
--

CREATE TRIGGER crm_grade_update AFTER UPDATE ON app.customers REFERENCING OLD TABLE AS crm_grade_old NEW TABLE AS crm_grade_new FOR EACH STATEMENT EXECUTE FUNCTION crm_grade.customers_trigger('id', 'owner', 'created_at', 'attrs');


--
-- Name: orders crm_grade_update; Type: TRIGGER; Schema: app; Owner: -
--

CREATE TRIGGER crm_grade_update AFTER UPDATE ON app.orders REFERENCING OLD TABLE AS crm_grade_old NEW TABLE AS crm_grade_new FOR EACH STATEMENT EXECUTE FUNCTION crm_grade.orders_trigger('customer_id', 'amount', 'ordered_at', 'paid_at');


--
-- Name: store_orders crm_grade_update; Type: TRIGGER; Schema: app; Owner: -
--

CREATE TRIGGER crm_grade_update AFTER UPDATE ON app.store_orders REFERENCING OLD TABLE AS crm_grade_old NEW TABLE AS crm_grade_new FOR EACH STATEMENT EXECUTE FUNCTION crm_grade.orders_trigger('customer_id', 'total', 'ordered_on', 'paid_on');


--
-- PostgreSQL database dump complete
--

\unrestrict afhTsb6PdgeaF16upKbv2AnXhIEC8gwx5MMtXSJNd0s2mKhg4hgTsTyiqO7T6Te

