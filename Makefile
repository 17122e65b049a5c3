# SPDX-License-Identifier: MIT
# atomicwrite - GNU Makefile.  `make` builds the libraries and the CLI into
# build/, `make check` runs the fast tests, `make install` honours PREFIX,
# DESTDIR and LIBDIR.  The longer suites have their own targets.

VERSION    := 0.1.0
SOVERSION  := 0

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions

CC        ?= cc
CFLAGS    ?= -O2 -g
WARNINGS  := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
             -Wformat=2 -Wundef -Wno-unused-parameter
CPPFLAGS  += -D_GNU_SOURCE -Iinclude -Isrc $(AW_DEFS)
ALL_CFLAGS = -std=c11 $(WARNINGS) $(CFLAGS)
LDLIBS    += -lpthread

B := build

LIB_SRC := $(wildcard src/*.c)
CLI_SRC := $(wildcard cli/*.c)
UNIT_SRC := $(wildcard tests/unit/*.c)

LIB_OBJ      := $(LIB_SRC:src/%.c=$(B)/obj/%.o)
LIB_TEST_OBJ := $(LIB_SRC:src/%.c=$(B)/testobj/%.o)
CLI_OBJ      := $(CLI_SRC:cli/%.c=$(B)/cli/%.o)
UNIT_OBJ     := $(UNIT_SRC:tests/unit/%.c=$(B)/unit/%.o)
HEADERS      := include/atomicwrite.h $(wildcard src/*.h)
MAN1         := $(wildcard docs/man1/*.1)
MAN3         := $(wildcard docs/man3/*.3)

.PHONY: all check check-unit check-cli check-header check-batch-big check-asan check-valgrind \
        check-posix check-warnings amalgamation check-fuzz \
        check-faults check-powerloss check-hostile bench demo install uninstall clean

all: $(B)/libatomicwrite.a $(B)/libatomicwrite.so $(B)/atomicwrite $(B)/atomicwrite.pc

$(B)/obj/%.o: src/%.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -fPIC -c -o $@ $<

# The same sources with the test seam (src/sys.c's fault injection) compiled in.
$(B)/testobj/%.o: src/%.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -DAW_TESTING $(ALL_CFLAGS) -c -o $@ $<

$(B)/cli/%.o: cli/%.c $(HEADERS) $(wildcard cli/*.h)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Icli $(ALL_CFLAGS) -c -o $@ $<

$(B)/unit/%.o: tests/unit/%.c $(HEADERS) $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -DAW_TESTING -Itests/unit $(ALL_CFLAGS) -c -o $@ $<

$(B)/libatomicwrite.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(B)/libatomicwrite.so.$(VERSION): $(LIB_OBJ) src/libatomicwrite.map
	$(CC) $(ALL_CFLAGS) -shared -Wl,-soname,libatomicwrite.so.$(SOVERSION) \
	    -Wl,--version-script=src/libatomicwrite.map -o $@ $(LIB_OBJ) $(LDFLAGS) $(LDLIBS)

$(B)/libatomicwrite.so: $(B)/libatomicwrite.so.$(VERSION)
	ln -sf libatomicwrite.so.$(VERSION) $(B)/libatomicwrite.so.$(SOVERSION)
	ln -sf libatomicwrite.so.$(VERSION) $@

# The CLI links the static library so that it runs from build/ and can be
# copied anywhere (the power-loss VM, a rescue shell).
$(B)/atomicwrite: $(CLI_OBJ) $(B)/libatomicwrite.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJ) $(B)/libatomicwrite.a $(LDLIBS)

$(B)/unit-tests: $(UNIT_OBJ) $(LIB_TEST_OBJ)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|'

$(B)/atomicwrite.pc: atomicwrite.pc.in Makefile
	@mkdir -p $(@D)
	$(PC_SED) $< > $@

# ---- tests ---------------------------------------------------------------

# Every fast test; ends with the line "N passed, N failed".
# The compiler and flags go to the tests that build consumer programs, so
# that they link with the library as built (with sanitizers, say).
check: all $(B)/unit-tests
	@AW_CC="$(CC)" AW_CFLAGS="$(CFLAGS) $(LDFLAGS)" tests/run-check.sh

# R2 at full size: batches of 100,000 files under ulimit -n 1024 through the
# library and the CLI, timed, on tmpfs where there is one (BIG_TMPDIR).
BIG_TMPDIR ?= $(shell [ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm || echo $${TMPDIR:-/tmp})
check-batch-big: all $(B)/unit-tests
	AW_BIG=1 TMPDIR=$(BIG_TMPDIR) $(B)/unit-tests batch_of_100000
	TMPDIR=$(BIG_TMPDIR) AW=$(CURDIR)/$(B)/atomicwrite bash tests/cli/big_batch.sh

# The public header on its own: C99, C11 and C++ (gcc and clang), pedantic,
# warnings as errors, so that consumers with strict flags can include it.
check-header:
	@mkdir -p $(B)/header
	@printf '#include <atomicwrite.h>\nint main(void) { return aw_lib_version() == 0; }\n' > $(B)/header/use.c
	@cp $(B)/header/use.c $(B)/header/use.cc
	@set -e; for cc in gcc clang; do \
	    for std in c99 c11; do \
	        $$cc -std=$$std -Wall -Wextra -pedantic -Werror -Iinclude -fsyntax-only $(B)/header/use.c; \
	    done; \
	done
	@set -e; for cxx in g++ clang++; do \
	    $$cxx -std=c++11 -Wall -Wextra -pedantic -Werror -Iinclude -fsyntax-only $(B)/header/use.cc; \
	done
	@echo "check-header: atomicwrite.h compiles alone as C99, C11 and C++11 with gcc and clang"

check-asan:
	$(MAKE) B=build/asan CC=clang \
	    CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    LDFLAGS="-fsanitize=address,undefined" check

# Every fast test again with the Linux-only paths compiled out: the POSIX
# fallbacks (named temporary files, link-based no-clobber, read/write copies).
check-posix:
	AW_TEST_POSIX=1 $(MAKE) B=build/posix AW_DEFS=-DAW_FORCE_POSIX check

# Warning-free under gcc and clang, warnings as errors.
check-warnings:
	$(MAKE) B=build/werror-gcc CC=gcc CFLAGS="-O2 -Werror" all build/werror-gcc/unit-tests
	$(MAKE) B=build/werror-clang CC=clang CFLAGS="-O2 -Werror" all build/werror-clang/unit-tests

check-valgrind: all $(B)/unit-tests
	AW_VALGRIND=1 tests/run-check.sh

# The fault and crash suites (tests/faults, TESTING.md): syscall sweeps,
# random kills, real filesystems, fuzzing.  LONG=1 runs more.
check-faults: all $(B)/unit-tests $(B)/faults/killer $(B)/faults/killer-control
	B=$(B) tests/faults/run.sh

$(B)/faults/killer: tests/faults/killer.c $(B)/libatomicwrite.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libatomicwrite.a $(LDLIBS)

$(B)/faults/killer-control: tests/faults/killer.c $(B)/libatomicwrite.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -DKILLER_UNSAFE_CONTROL $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libatomicwrite.a $(LDLIBS)

# libFuzzer targets (clang): the CLI's argument handling and the library's
# options.  FUZZ_SECONDS each; new inputs go to build/fuzz/corpus-*.
FUZZ_SECONDS ?= 60
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_CPPFLAGS := -D_GNU_SOURCE -Iinclude -Isrc -Icli

build/fuzz/fuzz_cli: tests/fuzz/fuzz_cli.c tests/fuzz/scratch.c tests/fuzz/fuzz_stubs.h $(LIB_SRC) $(CLI_SRC) $(HEADERS)
	@mkdir -p $(@D)
	clang $(FUZZ_CPPFLAGS) $(FUZZ_FLAGS) -Dmain=cli_main -include tests/fuzz/fuzz_stubs.h \
	    -o $@ tests/fuzz/fuzz_cli.c tests/fuzz/scratch.c $(LIB_SRC) $(CLI_SRC) -lpthread

build/fuzz/fuzz_options: tests/fuzz/fuzz_options.c tests/fuzz/scratch.c $(LIB_SRC) $(HEADERS)
	@mkdir -p $(@D)
	clang $(FUZZ_CPPFLAGS) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_options.c tests/fuzz/scratch.c $(LIB_SRC) -lpthread

check-fuzz: build/fuzz/fuzz_cli build/fuzz/fuzz_options
	@set -e; for t in cli options; do \
	    mkdir -p build/fuzz/corpus-$$t; \
	    echo "fuzz_$$t: $(FUZZ_SECONDS) s from tests/fuzz/corpus/$$t"; \
	    rc=0; build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=20 -rss_limit_mb=2048 -close_fd_mask=3 \
	        -artifact_prefix=$(CURDIR)/build/fuzz/ \
	        -print_final_stats=1 $(CURDIR)/build/fuzz/corpus-$$t $(CURDIR)/tests/fuzz/corpus/$$t \
	        > build/fuzz/$$t.log 2>&1 || rc=$$?; \
	    grep -E 'stat::number_of_executed_units|stat::new_units_added|ERROR|SUMMARY|Test unit written' \
	        build/fuzz/$$t.log || true; \
	    test $$rc -eq 0 || { tail -40 build/fuzz/$$t.log; exit 1; }; \
	done

check-powerloss: all
	tests/powerloss/run.sh

# The hostile tier (tests/hostile, TESTING.md): an unprivileged attacker
# (a user created for the run and removed after it) against root's writes
# in shared directories.  Needs root; as another user it says so and passes.
HOSTILE_HELPERS := $(patsubst tests/hostile/%.c,$(B)/hostile/%,$(wildcard tests/hostile/awh-*.c))

check-hostile: all $(HOSTILE_HELPERS)
	@B=$(B) tests/hostile/run.sh

$(B)/hostile/awh-%: tests/hostile/awh-%.c $(B)/libatomicwrite.a include/atomicwrite.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libatomicwrite.a $(LDLIBS)

bench: all
	bench/run.sh

demo: all
	@tests/demo.sh

# ---- install -------------------------------------------------------------

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(LIBDIR)/pkgconfig \
	    $(DESTDIR)$(INCLUDEDIR)
	install -m 755 $(B)/atomicwrite $(DESTDIR)$(BINDIR)/atomicwrite
	install -m 644 include/atomicwrite.h $(DESTDIR)$(INCLUDEDIR)/atomicwrite.h
	install -m 644 $(B)/libatomicwrite.a $(DESTDIR)$(LIBDIR)/libatomicwrite.a
	install -m 755 $(B)/libatomicwrite.so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libatomicwrite.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libatomicwrite.so.$(SOVERSION)
	ln -sf libatomicwrite.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libatomicwrite.so
	# Made here, not copied from build/: the PREFIX of `make install` may
	# differ from the one the build saw.
	$(PC_SED) atomicwrite.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/atomicwrite.pc
	chmod 644 $(DESTDIR)$(LIBDIR)/pkgconfig/atomicwrite.pc
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 \
	    $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(MAN3) $(DESTDIR)$(MANDIR)/man3/
	install -m 644 completions/atomicwrite.bash $(DESTDIR)$(BASHCOMPDIR)/atomicwrite
	install -m 644 completions/_atomicwrite $(DESTDIR)$(ZSHCOMPDIR)/_atomicwrite

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/atomicwrite $(DESTDIR)$(INCLUDEDIR)/atomicwrite.h \
	    $(DESTDIR)$(LIBDIR)/libatomicwrite.a $(DESTDIR)$(LIBDIR)/libatomicwrite.so \
	    $(DESTDIR)$(LIBDIR)/libatomicwrite.so.$(SOVERSION) \
	    $(DESTDIR)$(LIBDIR)/libatomicwrite.so.$(VERSION) \
	    $(DESTDIR)$(LIBDIR)/pkgconfig/atomicwrite.pc \
	    $(MAN1:docs/man1/%=$(DESTDIR)$(MANDIR)/man1/%) $(MAN3:docs/man3/%=$(DESTDIR)$(MANDIR)/man3/%) \
	    $(DESTDIR)$(BASHCOMPDIR)/atomicwrite $(DESTDIR)$(ZSHCOMPDIR)/_atomicwrite

# One atomicwrite.c and atomicwrite.h for projects that vendor the library:
# the internal headers first, then every source file, with the includes of
# the internal headers removed.
amalgamation: $(B)/amalgamation/atomicwrite.c $(B)/amalgamation/atomicwrite.h

$(B)/amalgamation/atomicwrite.h: include/atomicwrite.h
	@mkdir -p $(@D)
	cp $< $@

$(B)/amalgamation/atomicwrite.c: src/internal.h src/sys.h $(LIB_SRC) Makefile
	@mkdir -p $(@D)
	{ printf '/* atomicwrite %s - amalgamated from the sources, do not edit. */\n' $(VERSION); \
	  printf '#ifndef _GNU_SOURCE\n#define _GNU_SOURCE\n#endif\n'; \
	  for f in src/internal.h src/sys.h $(LIB_SRC); do \
	      printf '\n/* ---- %s ---- */\n' $$f; \
	      sed -e '/^#include "internal.h"/d' -e '/^#include "sys.h"/d' $$f; \
	  done; } > $@

clean:
	rm -rf build

# The Debian packages: built (with make check) in a copy of the tree,
# lintian-clean, installed, used and purged (tests/packaging/deb.sh; root).
.PHONY: check-deb
check-deb:
	bash tests/packaging/deb.sh
