# crm_grade: PGXS build, tests and demo.
#
#   make            build the extension (warnings are errors)
#   make install    install into the PostgreSQL found by pg_config
#   make test       install Debian packages if missing, build, install, and run
#                   every pg_regress, pgTAP and isolation test on a throw-away cluster
#   make demo       the same set-up, then a sample CRM graded and printed
#   make bench      single-row and bulk writes against a plain table and a PL/pgSQL trigger,
#                   then make bench-maintenance's part, in one run (about 35 minutes)
#   make bench-lifecycle  followups_due() among a million customers, contact INSERT cost
#   make bench-policies   simulate(), use_policy() and explain() among a million customers
#   make bench-profile    perf profile of single-row INSERTs into an attached order table
#   make bench-floor      single-row INSERTs against the least a trigger can cost (C no-op triggers,
#                         a C trigger updating one state row), beside crm_grade (about 5 minutes)
#   make bench-maintenance  back-fill, regrade(), followups_due() among a million customers, backend memory
#   make bench-ab BENCH_BASE=REV  the write path of the library built at REV against the working tree's
#   make memcheck   the pg_regress suite, isolation specs and generated workloads under valgrind
#   make sanitize   the same with crm_grade built with UBSan

EXTENSION = crm_grade
EXTVERSION = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = crm_grade
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# The install script is assembled from src/sql: install-only files around the
# definitions in src/sql/common.  The upgrade script from the previous version
# is the migration in src/sql/upgrade, the same common definitions, and its
# post part, so an upgraded database gets exactly what a fresh install has.
# Upgrade scripts of older versions are frozen copies in sql/ (DATA), as is
# the install script of 0.1, which the upgrade tests install first; 0.1
# users update through the chain 0.1 -> 0.2 -> 0.3 -> 0.4 -> 0.5 -> 0.6 -> 0.7 -> 0.8 -> 0.9 -> 0.10 -> 0.11 (test/t/upgrade.t).
UPGRADE_FROM = 0.11
SQL_COMMON = $(sort $(wildcard src/sql/common/*.sql))
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql sql/$(EXTENSION)--$(UPGRADE_FROM)--$(EXTVERSION).sql
DATA = $(filter-out $(DATA_built),$(wildcard sql/$(EXTENSION)--*.sql))
EXTRA_CLEAN = $(DATA_built)

PG_CPPFLAGS = -I$(srcdir)/src -Wall -Wextra -Werror \
	-Wno-unused-parameter -Wno-sign-compare -Wno-missing-field-initializers

# pg_regress: every sql/NAME.sql except the install and upgrade scripts.
REGRESS = $(sort $(patsubst sql/%.sql,%,$(filter-out sql/$(EXTENSION)--%,$(wildcard sql/*.sql))))
REGRESS_OPTS = --load-extension=crm_grade

# Isolation specs live in test/isolation/specs with expected output beside them.
ISOLATION = $(sort $(patsubst test/isolation/specs/%.spec,%,$(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Every object depends on every header (PGXS tracks no header dependencies).
# After the include, so that PGXS's "all" stays the default goal.
$(OBJS): $(wildcard src/*.h)

sql/$(EXTENSION)--$(EXTVERSION).sql: src/sql/install/00_header.sql src/sql/install/10_tables.sql \
		$(SQL_COMMON)
	cat $^ > $@

sql/$(EXTENSION)--$(UPGRADE_FROM)--$(EXTVERSION).sql: src/sql/upgrade/$(UPGRADE_FROM)--$(EXTVERSION).sql \
		$(SQL_COMMON) src/sql/upgrade/$(UPGRADE_FROM)--$(EXTVERSION)-post.sql
	cat $^ > $@

.PHONY: test demo deps bench bench-lifecycle bench-policies bench-profile bench-floor bench-maintenance bench-ab memcheck sanitize
deps:
	bash test/install-deps.sh

test:
	bash test/run-tests.sh

demo:
	bash test/demo.sh

bench:
	bash test/bench/run.sh

bench-lifecycle:
	bash test/bench/lifecycle.sh

bench-policies:
	bash test/bench/policies.sh

bench-profile:
	bash test/bench/profile.sh

bench-floor:
	bash test/bench/floor.sh

bench-maintenance:
	bash test/bench/maintenance.sh

bench-ab:
	bash test/bench/ab.sh

memcheck:
	bash test/memcheck.sh valgrind

sanitize:
	bash test/memcheck.sh sanitize
