# crm_grade: PGXS build, tests and demo.
#
#   make            build the extension (warnings are errors)
#   make install    install into the PostgreSQL found by pg_config
#   make test       install Debian packages if missing, build, install, and run
#                   every pg_regress, pgTAP and isolation test on a throw-away cluster
#   make demo       the same set-up, then a sample CRM graded and printed

EXTENSION = crm_grade
EXTVERSION = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = crm_grade
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# The install script is assembled from the files in src/sql, in name order.
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
DATA = $(filter-out $(DATA_built),$(wildcard sql/$(EXTENSION)--*--*.sql))
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

sql/$(EXTENSION)--$(EXTVERSION).sql: $(sort $(wildcard src/sql/*.sql))
	cat $^ > $@

.PHONY: test demo deps bench
deps:
	bash test/install-deps.sh

test:
	bash test/run-tests.sh

demo:
	bash test/demo.sh

bench:
	bash test/bench/run.sh
