# SPDX-License-Identifier: MIT
# atomicwrite - GNU Makefile.  `make` builds the libraries and the CLI into
# build/, `make check` runs the fast tests, `make install` honours PREFIX,
# DESTDIR and LIBDIR.  The longer suites have their own targets.

# The version lives in ONE place: the AW_VERSION_MAJOR/MINOR/PATCH macros
# of include/atomicwrite.h (tests/cli/test_packaging.sh checks that the
# header's AW_VERSION_STRING and the rest agree with them).
aw_version_part = $(shell sed -n 's/^\#define AW_VERSION_$(1) \([0-9][0-9]*\)$$/\1/p' include/atomicwrite.h)
VERSION_MAJOR := $(call aw_version_part,MAJOR)
VERSION_MINOR := $(call aw_version_part,MINOR)
VERSION_PATCH := $(call aw_version_part,PATCH)
VERSION    := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)
SOVERSION  := $(VERSION_MAJOR)
SONAME     := libatomicwrite.so.$(SOVERSION)

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
CMAKEDIR   ?= $(LIBDIR)/cmake/atomicwrite
# libatomicwrite-preload.so (atomicwrite run): a private directory, no soname
PRELOADDIR ?= $(LIBDIR)/atomicwrite
# AW_PRELOAD=no builds no preload (tests/cross/run.sh: a preload for another
# architecture or libc cannot be loaded into this machine's programs, and
# it intercepts glibc's entry points); `run` then says it has none.
AW_PRELOAD ?= yes
PRELOAD_SO = $(if $(filter yes,$(AW_PRELOAD)),$(B)/libatomicwrite-preload.so)

# CC, CPPFLAGS, CFLAGS, LDFLAGS and LDLIBS belong to whoever runs make (a
# packager's `make CFLAGS=... CPPFLAGS=...` replaces them whole); the
# project's own flags live in AW_* variables that come first on every
# command line, so the user's flags can add to them and override warnings
# but cannot lose -Iinclude or -std=c11.
CC        ?= cc
CLANG     ?= clang
CFLAGS    ?= -O2 -g
AW_WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
               -Wformat=2 -Wundef -Wno-unused-parameter
AW_INCDIR ?= include
# 64-bit file offsets and times on 32-bit systems (glibc on i386, armhf):
# files over 2 GiB, dates after 2038, readdir's 64-bit offsets.  The public
# header has no off_t or time_t, so this changes no ABI.
AW_LFS      = -D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64
AW_CPPFLAGS = -D_GNU_SOURCE $(AW_LFS) -I$(AW_INCDIR) -Isrc $(AW_DEFS)
AW_CFLAGS   = -std=c11 $(AW_WARNINGS)
# After the user's CFLAGS (the last map wins): no source directory in the
# binaries, so that two builds of the same source in different places are
# identical, whatever map the user's flags bring.
AW_REPRO    = -ffile-prefix-map=$(CURDIR)=.
AW_LDLIBS   = -lpthread
ALL_CFLAGS  = $(AW_CFLAGS) $(CFLAGS) $(AW_REPRO)
COMPILE     = $(CC) $(AW_CPPFLAGS) $(CPPFLAGS) $(ALL_CFLAGS)
LINK_TOOL   = $(CC) $(ALL_CFLAGS) $(LDFLAGS)
# A shared object cannot be linked -static: a packager's LDFLAGS=-static
# (meant for the programs) does not reach the -shared link.
SHARED_LDFLAGS = $(filter-out -static -static-pie,$(LDFLAGS))

B := build
# The CLI links the static library by default so that it runs from build/
# and can be copied anywhere (the power-loss VM, a rescue shell);
# CLI_LINK=shared links it against libatomicwrite.so for distributions.
CLI_LINK ?= static

LIB_SRC := $(wildcard src/*.c)
CLI_SRC := $(wildcard cli/*.c)
UNIT_SRC := $(wildcard tests/unit/*.c)

LIB_OBJ      := $(LIB_SRC:src/%.c=$(B)/obj/%.o)
LIB_TEST_OBJ := $(LIB_SRC:src/%.c=$(B)/testobj/%.o)
CLI_OBJ      := $(CLI_SRC:cli/%.c=$(B)/cli/%.o)
UNIT_OBJ     := $(UNIT_SRC:tests/unit/%.c=$(B)/unit/%.o)
HEADERS      := $(AW_INCDIR)/atomicwrite.h $(wildcard src/*.h)
# Man pages: docs/man1/*.1 and docs/man3/*.3 (a page, or a .so link to one).
MAN1         := $(wildcard docs/man1/*.1)
MAN3         := $(wildcard docs/man3/*.3)
# The public functions: the names in the version script (src/libatomicwrite.map).
PUBLIC_SYMS   = $(shell sed -n 's/^[[:space:]]*\(aw_[a-z0-9_]*\);.*/\1/p' src/libatomicwrite.map)

.PHONY: all check check-unit check-cli check-header check-batch-big check-asan check-valgrind \
        check-posix check-portable check-cross check-warnings amalgamation check-fuzz fuzzers tools bench-tools \
        powerloss-tools check-faults check-powerloss check-powerloss-long run-tools check-run-crash check-hostile check-abi abi-baseline \
        bench demo install uninstall dist distcheck clean version FORCE

all: $(B)/libatomicwrite.a $(B)/libatomicwrite.so $(B)/atomicwrite $(B)/atomicwrite.pc $(PRELOAD_SO)

version:
	@echo $(VERSION)

$(B)/obj/%.o: src/%.c $(HEADERS)
	@mkdir -p $(@D)
	$(COMPILE) -fPIC -c -o $@ $<

# The same sources with the test seam (src/sys.c's fault injection) compiled in.
$(B)/testobj/%.o: src/%.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(AW_CPPFLAGS) -DAW_TESTING $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(B)/cli/%.o: cli/%.c $(HEADERS) $(wildcard cli/*.h)
	@mkdir -p $(@D)
	$(COMPILE) -Icli -c -o $@ $<

$(B)/unit/%.o: tests/unit/%.c $(HEADERS) $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	$(CC) $(AW_CPPFLAGS) -DAW_TESTING -Itests/unit $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# The static library hides the internal aw__ functions as the shared one
# does: every object is linked into one relocatable object, in which only
# the public functions stay global, and that one object is archived.
# (Plus i386's PIC thunks: comdat copies, hidden, that must stay global or
# the linker, keeping libc's copy, drops the section a local one is in.)
$(B)/public.syms: src/libatomicwrite.map
	@mkdir -p $(@D)
	printf '%s\n' $(PUBLIC_SYMS) '__x86.get_pc_thunk.*' > $@

# GNU ld or lld (and binutils' objcopy) everywhere but on macOS, whose
# ld64 has no soname, version script or objcopy: an install name and a
# list of exported symbols (C names with their leading underscore) there,
# and `ld -r -exported_symbols_list` hides the rest of the static library.
# (Reviewed on paper only: no macOS machine here.)
ifeq ($(shell uname -s),Darwin)
SHARED_LINK  = -dynamiclib -install_name $(LIBDIR)/$(SONAME) -Wl,-exported_symbols_list,$(B)/exported.syms
STATIC_HIDE  = $(LD) -r -exported_symbols_list $(B)/exported.syms -o $(B)/atomicwrite-all.o $(LIB_OBJ)
AR_FLAGS     = rcs
else
SHARED_LINK  = -shared -Wl,-soname,$(SONAME) -Wl,--version-script=src/libatomicwrite.map
STATIC_HIDE  = $(LD) -r -o $(B)/atomicwrite-all.o $(LIB_OBJ) && \
	$(OBJCOPY) --wildcard --keep-global-symbols=$(B)/public.syms $(B)/atomicwrite-all.o
AR_FLAGS     = rcsD
endif

$(B)/exported.syms: $(B)/public.syms
	sed -n 's/^aw_/_aw_/p' $< > $@

$(B)/libatomicwrite.a: $(LIB_OBJ) $(B)/public.syms $(B)/exported.syms
	rm -f $@ $(B)/atomicwrite-all.o
	$(STATIC_HIDE)
	$(AR) $(AR_FLAGS) $@ $(B)/atomicwrite-all.o

OBJCOPY ?= objcopy

$(B)/libatomicwrite.so.$(VERSION): $(LIB_OBJ) src/libatomicwrite.map $(B)/exported.syms
	$(CC) $(ALL_CFLAGS) $(SHARED_LINK) \
	    -o $@ $(LIB_OBJ) $(SHARED_LDFLAGS) $(LDLIBS) $(AW_LDLIBS)

$(B)/libatomicwrite.so: $(B)/libatomicwrite.so.$(VERSION)
	ln -sf libatomicwrite.so.$(VERSION) $(B)/$(SONAME)
	ln -sf libatomicwrite.so.$(VERSION) $@

CLI_LIB_static := $(B)/libatomicwrite.a
CLI_LIB_shared := $(B)/libatomicwrite.so
ifeq ($(CLI_LIB_$(CLI_LINK)),)
$(error CLI_LINK must be static or shared, not "$(CLI_LINK)")
endif

# Remembers the last CLI_LINK, so that changing it relinks the CLI.
$(B)/cli-link: FORCE
	@mkdir -p $(@D)
	@echo $(CLI_LINK) | cmp -s - $@ 2>/dev/null || echo $(CLI_LINK) > $@
FORCE:

$(B)/atomicwrite: $(CLI_OBJ) $(CLI_LIB_$(CLI_LINK)) $(B)/cli-link
	$(LINK_TOOL) -o $@ $(CLI_OBJ) $(CLI_LIB_$(CLI_LINK)) $(LDLIBS) $(AW_LDLIBS)

$(B)/unit-tests: $(UNIT_OBJ) $(LIB_TEST_OBJ)
	$(LINK_TOOL) -o $@ $^ $(LDLIBS) $(AW_LDLIBS)

PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|'

$(B)/atomicwrite.pc: atomicwrite.pc.in Makefile
	@mkdir -p $(@D)
	$(PC_SED) $< > $@

# ---- the tools the tests and benchmarks use -------------------------------

# Programs linked with the static library (they run in a VM or on a
# scratch filesystem), the project's warnings, CC and B honoured.
# (Each tool defines the feature macros it needs itself.)
TOOL_CPPFLAGS = $(AW_LFS) -I$(AW_INCDIR) $(AW_DEFS) $(CPPFLAGS)
TOOL_WITH_LIB = $(LINK_TOOL) $(TOOL_CPPFLAGS) -o $@ $(filter %.c,$^) \
	$(B)/libatomicwrite.a $(LDLIBS) $(AW_LDLIBS)
TOOL_PLAIN    = $(LINK_TOOL) $(TOOL_CPPFLAGS) -o $@ $(filter %.c,$^)

# The power-loss campaign: the guest's programs are static (busybox initrd).
POWERLOSS_TOOLS := $(addprefix $(B)/powerloss/,workload workload-dyn dmlog check replay check_selftest atomicwrite)
powerloss-tools: $(POWERLOSS_TOOLS) $(B)/libatomicwrite-preload.so
POWERLOSS_WORKLOAD_SRC := tests/powerloss/workload.c tests/powerloss/workload_cli.c tests/powerloss/workload.h \
	tests/powerloss/dmctl.c tests/powerloss/dmctl.h $(B)/libatomicwrite.a
$(B)/powerloss/workload: $(POWERLOSS_WORKLOAD_SRC)
	@mkdir -p $(@D)
	$(TOOL_WITH_LIB) -static
# The same, dynamic: the inplace-run mode runs it under the preload (which
# a static program ignores), with its loader and libc copied into the guest.
$(B)/powerloss/workload-dyn: $(POWERLOSS_WORKLOAD_SRC)
	@mkdir -p $(@D)
	$(filter-out -static -static-pie,$(TOOL_WITH_LIB))
# The command, static, for the guest's workloads of its subcommands.
$(B)/powerloss/atomicwrite: $(CLI_OBJ) $(B)/libatomicwrite.a
	@mkdir -p $(@D)
	$(LINK_TOOL) -static -o $@ $(CLI_OBJ) $(B)/libatomicwrite.a $(AW_LDLIBS)
$(B)/powerloss/dmlog: tests/powerloss/dmlog.c tests/powerloss/dmctl.c tests/powerloss/dmctl.h
	@mkdir -p $(@D)
	$(TOOL_PLAIN) -static
$(B)/powerloss/check $(B)/powerloss/replay: $(B)/powerloss/%: tests/powerloss/%.c tests/powerloss/version_format.h
	@mkdir -p $(@D)
	$(TOOL_PLAIN)
$(B)/powerloss/check_selftest: tests/powerloss/check_selftest.c tests/powerloss/version_format.h
	@mkdir -p $(@D)
	$(TOOL_PLAIN) -D_POSIX_C_SOURCE=200809L

# The benchmarks' drivers (bench/run.sh; glib's needs glib-2.0, so it is
# built only by bench-tools), the batch and the reflink benchmarks.
BENCH_TOOLS := $(addprefix $(B)/bench/,minimal prep spawn aw batch_bench edit_bench call_cost)
tools: $(POWERLOSS_TOOLS) $(BENCH_TOOLS)
bench-tools: $(BENCH_TOOLS) $(B)/bench/glib
$(B)/bench/minimal $(B)/bench/prep $(B)/bench/spawn: $(B)/bench/%: bench/drivers/%.c bench/drivers/driver.h
	@mkdir -p $(@D)
	$(TOOL_PLAIN) -D_GNU_SOURCE
# The cost of each system call of a replacement, alone (bench/SYSCALLS.md).
$(B)/bench/call_cost: bench/call_cost.c
	@mkdir -p $(@D)
	$(TOOL_PLAIN)
$(B)/bench/aw: bench/drivers/aw.c bench/drivers/driver.h $(B)/libatomicwrite.a
	@mkdir -p $(@D)
	$(TOOL_WITH_LIB) -D_GNU_SOURCE
$(B)/bench/glib: bench/drivers/glib.c bench/drivers/driver.h
	@mkdir -p $(@D)
	$(TOOL_PLAIN) -D_GNU_SOURCE $$(pkg-config --cflags --libs glib-2.0)
$(B)/bench/batch_bench: bench/batch/batch_bench.c $(B)/libatomicwrite.a
	@mkdir -p $(@D)
	$(TOOL_WITH_LIB)
$(B)/bench/edit_bench: bench/reflink/edit_bench.c $(B)/libatomicwrite.a
	@mkdir -p $(@D)
	$(TOOL_WITH_LIB)

# ---- atomicwrite run (issue 15): the preload and its test programs ------

# libatomicwrite-preload.so: the library's sources compiled into it
# privately, only the intercepted libc names exported (preload/preload.map).
# Never built with sanitizers (so from the sources, not from $(LIB_OBJ),
# which check-asan instruments): it is loaded into programs that are not
# (bash, cp), and an ASan runtime cannot come second.  The test programs it
# runs in are plain dynamic programs for the same reason.
$(B)/cli/cmd_run.o: AW_DEFS += -DAW_PRELOADDIR='"$(PRELOADDIR)"'
PRELOAD_FLAGS = $(filter-out -fsanitize=%,$(ALL_CFLAGS) $(SHARED_LDFLAGS))
# preload.c itself is compiled without AW_LFS: it defines open and open64
# (and the other pairs) side by side, which the LFS headers would make one
# name; the library compiled into it keeps AW_LFS.
$(B)/preload/preload.o: preload/preload.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(filter-out $(AW_LFS),$(AW_CPPFLAGS)) $(CPPFLAGS) $(filter-out -fsanitize=%,$(ALL_CFLAGS)) \
	    -fPIC -c -o $@ preload/preload.c
$(B)/libatomicwrite-preload.so: $(B)/preload/preload.o preload/preload.map $(LIB_SRC) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(AW_CPPFLAGS) $(CPPFLAGS) $(PRELOAD_FLAGS) -fPIC -shared \
	    -Wl,--version-script=preload/preload.map -o $@ $(B)/preload/preload.o $(LIB_SRC) -ldl $(AW_LDLIBS)

# The test variant (tests/cli/test_run_faults.sh): preload and library
# built with the fault seam (-DAW_TESTING, AW_PRELOAD_FAULT, preload.c's
# "fault seam" section); never installed.
$(B)/run/preload-seam.o: preload/preload.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(filter-out $(AW_LFS),$(AW_CPPFLAGS)) -DAW_TESTING $(CPPFLAGS) $(filter-out -fsanitize=%,$(ALL_CFLAGS)) \
	    -fPIC -c -o $@ preload/preload.c
$(B)/run/libatomicwrite-preload-seam.so: $(B)/run/preload-seam.o preload/preload.map $(LIB_SRC) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(AW_CPPFLAGS) -DAW_TESTING $(CPPFLAGS) $(PRELOAD_FLAGS) -fPIC -shared \
	    -Wl,--version-script=preload/preload.map -o $@ $(B)/run/preload-seam.o $(LIB_SRC) -ldl $(AW_LDLIBS)

# The preload's code in one executable (tests/run/inproc/inproc.c), built
# with CFLAGS as given: under check-asan, with ASan and UBSan.
$(B)/run/inproc-preload.o: preload/preload.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(filter-out $(AW_LFS),$(AW_CPPFLAGS)) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ preload/preload.c
$(B)/run/inproc: tests/run/inproc/inproc.c $(B)/run/inproc-preload.o $(B)/libatomicwrite.a
	@mkdir -p $(@D)
	$(CC) -D_GNU_SOURCE $(CPPFLAGS) $(ALL_CFLAGS) $(SHARED_LDFLAGS) -o $@ $< \
	    $(B)/run/inproc-preload.o $(B)/libatomicwrite.a -ldl $(AW_LDLIBS)

RUN_TESTS := $(if $(PRELOAD_SO),$(patsubst tests/run/%.c,$(B)/run/%,$(wildcard tests/run/*.c)) \
             $(B)/run/libatomicwrite-preload-seam.so $(B)/run/inproc)
run-tools: $(RUN_TESTS)
$(B)/run/%: tests/run/%.c
	@mkdir -p $(@D)
	$(CC) -D_GNU_SOURCE $(PRELOAD_FLAGS) -o $@ $<

# 500 SIGKILLed writers without and with the preload (tests/run/crash.sh).
check-run-crash: all $(RUN_TESTS)
	B=$(B) bash tests/run/crash.sh

# ---- tests ---------------------------------------------------------------

# Every fast test; ends with the line "N passed, N failed".
# The compiler and flags go to the tests that build consumer programs, so
# that they link with the library as built (with sanitizers, say).
check: all $(B)/unit-tests $(B)/powerloss/check $(B)/powerloss/check_selftest $(RUN_TESTS) $(B)/test-strerror
	@B="$(B)" AW_CC="$(CC)" AW_CFLAGS="$(CFLAGS) $(LDFLAGS)" tests/run-check.sh

# The libc's wording of an errno, for the CLI tests (tests/cli/strerror.c).
$(B)/test-strerror: tests/cli/strerror.c
	@mkdir -p $(@D)
	$(TOOL_PLAIN)

# R2 at full size: batches of 100,000 files under ulimit -n 1024 through the
# library and the CLI, timed, on tmpfs where there is one (BIG_TMPDIR).
BIG_TMPDIR ?= $(shell [ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm || echo $${TMPDIR:-/tmp})
check-batch-big: all $(B)/unit-tests
	AW_BIG=1 TMPDIR=$(BIG_TMPDIR) $(B)/unit-tests batch_of_100000
	TMPDIR=$(BIG_TMPDIR) AW=$(abspath $(B))/atomicwrite bash tests/cli/big_batch.sh

# AW_KEEP_INODE / AW_IF_UNCHANGED on an exchange XFS (tests/xfs-exchange.sh,
# root), 10 times the concurrency of make check's run (issue 14).
check-xfs-exchange: all $(B)/unit-tests
	AW_XFSX_LONG=1 B=$(abspath $(B)) bash tests/xfs-exchange.sh run $(B)/unit-tests keep_inode if_unchanged
.PHONY: check-xfs-exchange

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
# In $(B)/posix, with the caller's CC and flags (a cross build's too).
check-posix:
	AW_TEST_POSIX=1 $(MAKE) B=$(B)/posix AW_DEFS=-DAW_FORCE_POSIX check

# src/ and cli/ compiled as on a system that is not Linux (gcc and clang,
# -Werror; tests/portable/posix-only.h): __linux__ undefined and only
# POSIX 2008 (plus what the BSDs and macOS all have), then once more as
# macOS (__APPLE__, Darwin's names declared): a Linux-only call outside
# the #ifdefs that keep it to Linux fails the build.  Compiles, links
# nothing, runs nothing.
PORTABLE_CFLAGS = -U__linux__ -U__linux -U__gnu_linux__ -Ulinux -include tests/portable/posix-only.h \
	-I$(AW_INCDIR) -Isrc -Icli -std=c11 $(AW_WARNINGS) -Werror -fsyntax-only
PORTABLE_AS_posix  = -D_POSIX_C_SOURCE=200809L -D_XOPEN_SOURCE=700
PORTABLE_AS_seam   = -D_POSIX_C_SOURCE=200809L -D_XOPEN_SOURCE=700 -DAW_TESTING
PORTABLE_AS_darwin = -D__APPLE__ -D_DEFAULT_SOURCE -DAW_PORTABLE_DARWIN
check-portable:
	@set -e; for cc in gcc clang; do for as in posix seam darwin; do \
	    case $$as in posix) f='$(PORTABLE_AS_posix)';; seam) f='$(PORTABLE_AS_seam)';; \
	        darwin) f='$(PORTABLE_AS_darwin)';; esac; \
	    for src in $(LIB_SRC) $(CLI_SRC); do \
	        $$cc $(PORTABLE_CFLAGS) $$f $$src || { echo "check-portable: $$src fails as $$as ($$cc)"; exit 1; }; \
	    done; echo "check-portable: src/ and cli/ compile as $$as with $$cc"; done; done

# Warning-free under gcc and clang, warnings as errors.
check-warnings:
	$(MAKE) B=build/werror-gcc CC=gcc CFLAGS="-O2 -Werror" all tools build/werror-gcc/unit-tests
	$(MAKE) B=build/werror-clang CC=clang CFLAGS="-O2 -Werror" all tools build/werror-clang/unit-tests

# Every architecture and libc we can build and run here (tests/cross/run.sh:
# TARGETS=..., CROSS_FAST=1, CROSS_FULL=1; installs its packages as root).
check-cross:
	tests/cross/run.sh

check-valgrind: all $(B)/unit-tests
	B="$(B)" AW_VALGRIND=1 tests/run-check.sh

# The fault and crash suites (tests/faults, TESTING.md): syscall sweeps,
# random kills, real filesystems, fuzzing.  LONG=1 runs more.
check-faults: all $(B)/unit-tests $(B)/faults/killer $(B)/faults/killer-control
	B=$(B) tests/faults/run.sh

$(B)/faults/killer: tests/faults/killer.c $(B)/libatomicwrite.a
	@mkdir -p $(@D)
	$(TOOL_WITH_LIB)

$(B)/faults/killer-control: tests/faults/killer.c $(B)/libatomicwrite.a
	@mkdir -p $(@D)
	$(TOOL_WITH_LIB) -DKILLER_UNSAFE_CONTROL

# libFuzzer targets (clang): the CLI's argument handling and the library's
# options.  FUZZ_SECONDS each; new inputs go to build/fuzz/corpus-*.
FUZZ_SECONDS ?= 60
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_CPPFLAGS := -D_GNU_SOURCE $(AW_LFS) -I$(AW_INCDIR) -Isrc -Icli -include tests/fuzz/fuzz_protos.h
FUZZERS := $(B)/fuzz/fuzz_cli $(B)/fuzz/fuzz_options
fuzzers: $(FUZZERS)

$(B)/fuzz/fuzz_cli: tests/fuzz/fuzz_cli.c tests/fuzz/scratch.c tests/fuzz/fuzz_stubs.h tests/fuzz/fuzz_protos.h $(LIB_SRC) $(CLI_SRC) $(HEADERS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CPPFLAGS) $(AW_WARNINGS) $(FUZZ_FLAGS) -Dmain=cli_main -include tests/fuzz/fuzz_stubs.h \
	    -o $@ tests/fuzz/fuzz_cli.c tests/fuzz/scratch.c $(LIB_SRC) $(CLI_SRC) -lpthread

$(B)/fuzz/fuzz_options: tests/fuzz/fuzz_options.c tests/fuzz/scratch.c tests/fuzz/fuzz_protos.h $(LIB_SRC) $(HEADERS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CPPFLAGS) $(AW_WARNINGS) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_options.c tests/fuzz/scratch.c $(LIB_SRC) -lpthread

FUZZ_OUT = $(abspath $(B))/fuzz
check-fuzz: $(FUZZERS)
	@set -e; for t in cli options; do \
	    mkdir -p $(FUZZ_OUT)/corpus-$$t; \
	    echo "fuzz_$$t: $(FUZZ_SECONDS) s from tests/fuzz/corpus/$$t"; \
	    rc=0; $(FUZZ_OUT)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=20 -rss_limit_mb=2048 -close_fd_mask=3 \
	        -artifact_prefix=$(FUZZ_OUT)/ \
	        -print_final_stats=1 $(FUZZ_OUT)/corpus-$$t $(CURDIR)/tests/fuzz/corpus/$$t \
	        > $(FUZZ_OUT)/$$t.log 2>&1 || rc=$$?; \
	    grep -E 'stat::number_of_executed_units|stat::new_units_added|ERROR|SUMMARY|Test unit written' \
	        $(FUZZ_OUT)/$$t.log || true; \
	    test $$rc -eq 0 || { tail -40 $(FUZZ_OUT)/$$t.log; exit 1; }; \
	done

check-powerloss: all $(POWERLOSS_TOOLS)
	B=$(B) tests/powerloss/run.sh

# The long campaign (issue 16): the guest kernels, five filesystem
# variants, 200 cuts of the file workload and 100 of each subcommand's per
# filesystem, 10 cuts a boot; the file workload and the subcommands alone
# took 52 min per filesystem and kernel here (2 cores, two runs at once),
# the whole plan far more, so run it in parts with SEED=, FSLIST=,
# KERNELS= or PLAN= and merge the rows with tests/powerloss/summarize.sh.
check-powerloss-long: all $(POWERLOSS_TOOLS)
	B=$(B) LONG=1 CUTS=$${CUTS:-200} WORKLOAD_CUTS=$${WORKLOAD_CUTS:-100} CUT_STATES=$${CUT_STATES:-10} tests/powerloss/run.sh

# The hostile tier (tests/hostile, TESTING.md): an unprivileged attacker
# (a user created for the run and removed after it) against root's writes
# in shared directories.  Needs root; as another user it says so and passes.
HOSTILE_HELPERS := $(patsubst tests/hostile/%.c,$(B)/hostile/%,$(wildcard tests/hostile/awh-*.c))

check-hostile: all $(HOSTILE_HELPERS)
	@B=$(B) tests/hostile/run.sh

$(B)/hostile/awh-%: tests/hostile/awh-%.c $(B)/libatomicwrite.a include/atomicwrite.h $(wildcard tests/hostile/*.h)
	@mkdir -p $(@D)
	$(TOOL_WITH_LIB)

bench: all
	B=$(B) bench/run.sh

demo: all
	@tests/demo.sh

# ---- install -------------------------------------------------------------

# The CMake package config: paths relative to the installed file, so that
# the tree can be moved (DESTDIR, a relocated prefix).
CMAKE_REL_INC = $(shell realpath -m --relative-to=$(CMAKEDIR) $(INCLUDEDIR))
CMAKE_REL_LIB = $(shell realpath -m --relative-to=$(CMAKEDIR) $(LIBDIR))
SIZEOF_VOID_P = $(shell printf '__SIZEOF_POINTER__\n' | $(CC) -E -P - 2>/dev/null | tail -n 1)
CMAKE_SED = sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@VERSION_MAJOR@|$(VERSION_MAJOR)|g' \
	    -e 's|@SONAME@|$(SONAME)|g' -e 's|@REL_INCLUDEDIR@|$(CMAKE_REL_INC)|g' \
	    -e 's|@REL_LIBDIR@|$(CMAKE_REL_LIB)|g' -e 's|@SIZEOF_VOID_P@|$(SIZEOF_VOID_P)|g'
CMAKE_FILES := atomicwriteConfig.cmake atomicwriteConfigVersion.cmake
MAN1_DEST = $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN1)))
MAN3_DEST = $(addprefix $(DESTDIR)$(MANDIR)/man3/,$(notdir $(MAN3)))
INSTALLED_DIRS = $(BINDIR) $(LIBDIR) $(LIBDIR)/pkgconfig $(CMAKEDIR) $(PRELOADDIR) $(INCLUDEDIR) \
	    $(MANDIR)/man1 $(MANDIR)/man3 $(BASHCOMPDIR) $(ZSHCOMPDIR)

install: all
	install -d $(addprefix $(DESTDIR),$(INSTALLED_DIRS))
	install -m 755 $(B)/atomicwrite $(DESTDIR)$(BINDIR)/atomicwrite
	install -m 644 include/atomicwrite.h $(DESTDIR)$(INCLUDEDIR)/atomicwrite.h
	install -m 644 $(B)/libatomicwrite.a $(DESTDIR)$(LIBDIR)/libatomicwrite.a
	$(if $(PRELOAD_SO),install -m 644 $(PRELOAD_SO) $(DESTDIR)$(PRELOADDIR)/libatomicwrite-preload.so,@:)
	install -m 644 $(B)/libatomicwrite.so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libatomicwrite.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf libatomicwrite.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libatomicwrite.so
	# Made here, not copied from build/: the PREFIX of `make install` may
	# differ from the one the build saw.
	$(PC_SED) atomicwrite.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/atomicwrite.pc
	chmod 644 $(DESTDIR)$(LIBDIR)/pkgconfig/atomicwrite.pc
	for f in $(CMAKE_FILES); do \
	    $(CMAKE_SED) cmake/$$f.in > $(DESTDIR)$(CMAKEDIR)/$$f && chmod 644 $(DESTDIR)$(CMAKEDIR)/$$f || exit 1; \
	done
	$(if $(MAN1),cp -P $(MAN1) $(DESTDIR)$(MANDIR)/man1/ && chmod 644 $(MAN1_DEST))
	$(if $(MAN3),cp -P $(MAN3) $(DESTDIR)$(MANDIR)/man3/ && chmod 644 $(MAN3_DEST))
	install -m 644 completions/atomicwrite.bash $(DESTDIR)$(BASHCOMPDIR)/atomicwrite
	install -m 644 completions/_atomicwrite $(DESTDIR)$(ZSHCOMPDIR)/_atomicwrite
	@# Into the live system: the dynamic linker's cache must learn the new
	@# soname, or the first program linked against it does not start.
	@$(call run_ldconfig,install,so that programs find $(SONAME) in $(LIBDIR))

# Without DESTDIR (the live system), as root: ldconfig, so that the
# dynamic linker's cache learns what (un)install changed; else say so.
run_ldconfig = if [ -z "$(DESTDIR)" ]; then \
	    if [ "$$(id -u)" = 0 ] && ldc=$$(PATH=$$PATH:/sbin:/usr/sbin command -v ldconfig); then \
	        echo "$$ldc"; "$$ldc"; \
	    else \
	        echo "make $(1): now run ldconfig as root, $(2)"; \
	    fi; \
	fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/atomicwrite $(DESTDIR)$(INCLUDEDIR)/atomicwrite.h \
	    $(DESTDIR)$(LIBDIR)/libatomicwrite.a $(DESTDIR)$(LIBDIR)/libatomicwrite.so \
	    $(DESTDIR)$(PRELOADDIR)/libatomicwrite-preload.so \
	    $(DESTDIR)$(LIBDIR)/$(SONAME) \
	    $(DESTDIR)$(LIBDIR)/libatomicwrite.so.$(VERSION) \
	    $(DESTDIR)$(LIBDIR)/pkgconfig/atomicwrite.pc \
	    $(addprefix $(DESTDIR)$(CMAKEDIR)/,$(CMAKE_FILES)) \
	    $(MAN1_DEST) $(MAN3_DEST) \
	    $(DESTDIR)$(BASHCOMPDIR)/atomicwrite $(DESTDIR)$(ZSHCOMPDIR)/_atomicwrite
	@# Our own directory goes; under a DESTDIR every directory left empty
	@# (deepest first, then up to DESTDIR), as install made them.
	@rmdir $(DESTDIR)$(CMAKEDIR) 2>/dev/null || true
	@rmdir $(DESTDIR)$(PRELOADDIR) 2>/dev/null || true
	@if [ -n "$(DESTDIR)" ]; then \
	    for d in $$(printf '%s\n' $(INSTALLED_DIRS) | awk '{ print length($$0), $$0 }' | sort -rn | cut -d' ' -f2-); do \
	        while [ "$$d" != / ] && [ "$$d" != . ]; do \
	            if [ -d "$(DESTDIR)$$d" ]; then rmdir "$(DESTDIR)$$d" 2>/dev/null || break; fi; \
	            d=$$(dirname "$$d"); \
	        done; \
	    done; \
	    rmdir "$(DESTDIR)" 2>/dev/null || true; \
	fi
	@$(call run_ldconfig,uninstall,so that its cache forgets $(SONAME))

# One atomicwrite.c and atomicwrite.h for projects that vendor the library:
# the internal headers first, then every source file, with the includes of
# the internal headers removed.  The internal functions get internal
# linkage: each top-level declaration of an aw__ function in the internal
# headers gains `static` (their definitions then inherit it), so that only
# the public aw_ functions are global (tests/cli/test_packaging.sh checks).
amalgamation: $(B)/amalgamation/atomicwrite.c $(B)/amalgamation/atomicwrite.h

$(B)/amalgamation/atomicwrite.h: include/atomicwrite.h
	@mkdir -p $(@D)
	cp $< $@

# (AW__AMALG_STATIC also marks them unused: a build may not call them all.)
AMALGAMATE_STATIC = sed -E '/^typedef /!s/^([A-Za-z_][A-Za-z0-9_ ]*[ *]aw__[a-z0-9_]+\()/AW__AMALG_STATIC \1/'
$(B)/amalgamation/atomicwrite.c: src/internal.h src/sys.h src/xfs_exchange.h $(LIB_SRC) Makefile
	@mkdir -p $(@D)
	{ printf '/* SPDX-License-Identifier: MIT */\n'; \
	  printf '/* atomicwrite %s - amalgamated from the sources, do not edit. */\n' $(VERSION); \
	  printf '#ifndef _GNU_SOURCE\n#define _GNU_SOURCE\n#endif\n'; \
	  printf '/* 64-bit offsets and times (32-bit systems); no off_t or time_t is public. */\n'; \
	  printf '#undef _FILE_OFFSET_BITS\n#define _FILE_OFFSET_BITS 64\n#undef _TIME_BITS\n#define _TIME_BITS 64\n'; \
	  printf '#if defined(__GNUC__) || defined(__clang__)\n#define AW__AMALG_STATIC static __attribute__((unused))\n'; \
	  printf '#else\n#define AW__AMALG_STATIC static\n#endif\n'; \
	  for f in src/internal.h src/sys.h src/xfs_exchange.h; do \
	      printf '\n/* ---- %s ---- */\n' $$f; \
	      sed -e '/^#include "internal.h"/d' -e '/^#include "sys.h"/d' $$f | $(AMALGAMATE_STATIC); \
	  done; \
	  for f in $(LIB_SRC); do \
	      printf '\n/* ---- %s ---- */\n' $$f; \
	      sed -e '/^#include "internal.h"/d' -e '/^#include "sys.h"/d' \
	          -e '/^#include "xfs_exchange.h"/d' $$f; \
	  done; } > $@

# ---- ABI -----------------------------------------------------------------

# The 1.0 ABI (functions, their versions and every type reachable from the
# public header) as libabigail's abidw wrote it; `make check-abi` compares
# the library as built against it with abidiff, after a self-test: a copy
# of the library built from a header with a public struct's layout changed
# must be reported as an ABI change, or the check is blind.  `make
# abi-baseline` rewrites the baseline (on purpose only: a new API in a new
# version node, at a release).  Needs abigail-tools and a -g build.
ABI_BASELINE := abi/libatomicwrite.abi
ABIDW_FLAGS  := --headers-dir include --drop-undefined-syms --no-corpus-path --no-comp-dir-path
# A field added at the front of aw_options, another at the front of aw_error.
ABI_PATCHES  := options error
ABI_PATCH_options := /^typedef struct aw_options {/a\	int aw_abi_probe;
ABI_PATCH_error   := /^typedef struct aw_error {/a\	int aw_abi_probe;

abi-baseline: $(B)/libatomicwrite.so
	@mkdir -p $(dir $(ABI_BASELINE))
	abidw $(ABIDW_FLAGS) --out-file $(ABI_BASELINE) $(B)/libatomicwrite.so.$(VERSION)
	@echo "abi-baseline: wrote $(ABI_BASELINE); commit it"

$(B)/abi-selftest/%/libatomicwrite.so: $(LIB_SRC) $(HEADERS) src/libatomicwrite.map
	@mkdir -p $(B)/abi-selftest/$*/include
	sed '$(ABI_PATCH_$*)' include/atomicwrite.h > $(B)/abi-selftest/$*/include/atomicwrite.h
	cmp -s include/atomicwrite.h $(B)/abi-selftest/$*/include/atomicwrite.h && \
	    { echo "check-abi: the $* patch no longer applies to include/atomicwrite.h"; exit 1; } || true
	$(MAKE) -s B=$(B)/abi-selftest/$* AW_INCDIR=$(B)/abi-selftest/$*/include CFLAGS="-O2 -g -Wno-missing-field-initializers" \
	    $(B)/abi-selftest/$*/libatomicwrite.so

check-abi: $(B)/libatomicwrite.so $(ABI_PATCHES:%=$(B)/abi-selftest/%/libatomicwrite.so)
	@command -v abidiff >/dev/null || { echo "check-abi: abidiff missing (Debian: abigail-tools)"; exit 1; }
	@readelf -S $(B)/libatomicwrite.so.$(VERSION) | grep -q '\.debug_info' || \
	    { echo "check-abi: $(B)/libatomicwrite.so has no debug info; build with -g"; exit 1; }
	@set -e; for p in $(ABI_PATCHES); do \
	    rc=0; abidiff --headers-dir2 $(B)/abi-selftest/$$p/include $(ABI_BASELINE) \
	        $(B)/abi-selftest/$$p/libatomicwrite.so > $(B)/abi-selftest/$$p.diff 2>&1 || rc=$$?; \
	    if [ $$((rc & 12)) = 0 ] || [ $$((rc & 3)) != 0 ]; then \
	        cat $(B)/abi-selftest/$$p.diff; \
	        echo "check-abi: self-test FAILED: abidiff (status $$rc) missed the changed layout ($$p)"; exit 1; \
	    fi; \
	    echo "check-abi: self-test: a changed $$p layout is reported (abidiff status $$rc)"; \
	done
	@rc=0; abidiff --headers-dir2 include $(ABI_BASELINE) $(B)/libatomicwrite.so.$(VERSION) \
	    > $(B)/abi.diff 2>&1 || rc=$$?; \
	if [ $$rc != 0 ]; then cat $(B)/abi.diff; \
	    echo "check-abi: the ABI differs from $(ABI_BASELINE) (abidiff status $$rc)."; \
	    echo "A 1.x release may only add functions, in a new node of src/libatomicwrite.map;"; \
	    echo "then \`make abi-baseline\` and commit the new baseline."; exit 1; fi; \
	echo "check-abi: $(B)/libatomicwrite.so matches $(ABI_BASELINE)"

# ---- release -------------------------------------------------------------

DIST_NAME := atomicwrite-$(VERSION)
DIST      := $(B)/$(DIST_NAME).tar.gz

# The committed tree at HEAD (uncommitted changes are not in it).
dist:
	@mkdir -p $(B)
	@git diff --quiet HEAD 2>/dev/null || echo "dist: uncommitted changes are not in the tarball"
	git archive --format=tar.gz --prefix=$(DIST_NAME)/ -o $(DIST) HEAD
	@echo "dist: $(DIST)"

# Unpacks the tarball in a temporary directory, builds it out of tree (the
# source read-only) as an ordinary user (root runs it as `nobody`), runs
# `make check`, installs into a DESTDIR, uninstalls, and requires that
# nothing is left.
distcheck: dist
	B="$(B)" DIST="$(DIST)" DIST_NAME="$(DIST_NAME)" MAKE="$(MAKE)" tests/distcheck.sh

clean:
	rm -rf build

# The Debian packages: built (with make check) in a copy of the tree,
# lintian-clean, installed, used and purged (tests/packaging/deb.sh; root).
.PHONY: check-deb
check-deb:
	bash tests/packaging/deb.sh
