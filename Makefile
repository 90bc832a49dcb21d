# SPDX-License-Identifier: MIT
#
#   make            build the harness, the tests and the self-tests
#   make check      self-tests of the harness and runner, then the suite
#   make selftest   only the self-tests
#   make clean
#   make mutation-score KSRC=DIR   seeded kernel bugs the suite catches (slow; not in CI)
#   make coverage KSRC=DIR         gcov coverage of io_uring's task_work code (slow; not in CI)
#   make bench      the task_work benchmark on this kernel (bench/twbench; about 2 minutes)

-include config-host.mak

HARNESS_SRCS := $(wildcard src/*.c)
HARNESS_OBJS := $(HARNESS_SRCS:.c=.o)
TEST_SRCS := $(wildcard test/*.c)
TESTS := $(TEST_SRCS:.c=.t)
SELF_SRCS := $(wildcard test/self/*.c)
SELF_TESTS := $(SELF_SRCS:.c=.t)
# runtests.sh's process supervisor: in its own directory, out of libharness.a.
SUPERVISE := src/run/supervise
# tools/vm-run's helpers: on the host mkcpio, kimage, vm-watch; in the guest
# uring-check and runas (one C file each, no harness).
TOOLS := $(patsubst %.c,%,$(wildcard tools/*.c))
# The benchmark (not a test: it measures, it does not judge the kernel):
# bench/twbench.c over bench/libbench.a, which its self-test links too.
BENCH := bench/twbench
BENCH_LIB_OBJS := $(patsubst %.c,%.o,$(filter-out bench/twbench.c,$(wildcard bench/*.c)))

CPPFLAGS += -Isrc -I.

all: $(TESTS) $(SELF_TESTS) $(SUPERVISE) $(TOOLS) $(BENCH)

# What tools/vm-run puts into a guest (built there with ./configure --static).
guest: $(TESTS) $(SUPERVISE) $(TOOLS) $(BENCH)

config-host.mak config-host.h: configure
	@if [ -f config-host.mak ]; then \
		echo "configure changed: re-run ./configure with your options" >&2; exit 1; \
	fi
	./configure

src/libharness.a: $(HARNESS_OBJS)
	$(AR) rcs $@ $^

src/%.o: src/%.c src/*.h config-host.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

test/%.t: test/%.c src/libharness.a src/*.h config-host.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< src/libharness.a $(LDFLAGS) $(LIBS)

test/self/%.t: test/self/%.c test/self/selftest.h src/libharness.a src/*.h config-host.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< src/libharness.a $(LDFLAGS) $(LIBS)

$(SUPERVISE): src/run/*.c src/run/*.h src/timeutil.h config-host.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ src/run/*.c $(LDFLAGS)

bench/%.o: bench/%.c bench/*.h src/*.h config-host.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

bench/libbench.a: $(BENCH_LIB_OBJS)
	$(AR) rcs $@ $^

$(BENCH): bench/twbench.o bench/libbench.a src/libharness.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LIBS)

test/self/bench.t: test/self/bench.c test/self/selftest.h bench/libbench.a src/libharness.a bench/*.h src/*.h config-host.h
	$(CC) $(CPPFLAGS) -Ibench $(CFLAGS) -o $@ $< bench/libbench.a src/libharness.a $(LDFLAGS) $(LIBS)

tools/%: tools/%.c src/timeutil.h config-host.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LDFLAGS)

selftest: all
	scripts/selftest.sh

check: all
	scripts/selftest.sh
	./runtests.sh

# Kernel builds and guest runs, minutes each: by hand, never in CI.
# KSRC: a kernel source tree (Debian's linux-source-7.3 unpacked, a git
# checkout); MUTATION_ARGS, COVERAGE_ARGS: the tools' options and, after
# --, test names. TW_KBUILD_LOCK=FILE serialises kernel builds (flock).
KSRC ?=
mutation-score coverage:
	@if [ -z "$(KSRC)" ]; then \
		echo "make $@: set KSRC to a kernel source tree (make $@ KSRC=~/linux-source-7.3)" >&2; exit 2; \
	fi
	tools/$@ $(if $(filter mutation-score,$@),$(MUTATION_ARGS),$(COVERAGE_ARGS)) $(KSRC)

# BENCH_ARGS: twbench's options and workloads (bench/twbench -h).
BENCH_OUT ?= results/bench/$(shell uname -r)
bench: $(BENCH)
	$(BENCH) -o $(BENCH_OUT) $(BENCH_ARGS)
	@if command -v gnuplot >/dev/null 2>&1; then \
		tools/bench-plot $(BENCH_OUT)/bench.json; \
	else \
		echo "make bench: no gnuplot, no plot (scripts/install-deps.sh --bench)"; \
	fi

clean:
	rm -f src/*.o src/libharness.a test/*.t test/self/*.t $(SUPERVISE) $(TOOLS) $(BENCH) bench/*.o bench/libbench.a

distclean: clean
	rm -f config-host.mak config-host.h
	rm -rf results build-static

.PHONY: all guest check selftest clean distclean mutation-score coverage bench
.DELETE_ON_ERROR:
