# pg_awf: the awf extension, built with PGXS.
#   make && make install      build and install the extension
#   make installcheck         pg_regress (sql/, expected/) and isolation specs (test/isolation/)
EXTENSION = awf
MODULE_big = awf
DATA = $(wildcard sql/awf--*.sql)

SRCS = $(wildcard src/core/*.cpp src/pg/*.cpp src/task/*.cpp src/wakeup/*.cpp src/worker/*.cpp src/*.cpp)
OBJS = $(SRCS:.cpp=.o)

REGRESS = install lifecycle retries list_status bad_input roles nlflow xina hardening workflow
REGRESS_OPTS = --load-extension=awf
ISOLATION = claim_race claim_vs_cancel success_vs_cancel start_vs_requeue sequence_advance enqueue_visibility concurrency_limit workflow_cancel
ISOLATION_OPTS = --inputdir=test/isolation --load-extension=awf

PG_CONFIG ?= pg_config
PG_CPPFLAGS = -Isrc -isystem $(shell $(PG_CONFIG) --includedir-server)
PG_CXXFLAGS = -std=c++17 -Wextra -Wno-missing-field-initializers
SHLIB_LINK = -lstdc++

# The extension is C++; PGXS would otherwise try to emit LLVM bitcode for JIT with clang.
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Every object depends on the headers of its layer (the tree is small; this keeps rebuilds honest).
$(OBJS): $(wildcard src/*/*.hpp)
