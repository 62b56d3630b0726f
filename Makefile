# certops — build, test, install.  See docs/building.md.
#
#   make            build build/certops and build/libcertops.a
#   make deps       install the Debian packages everything here needs
#   make test       deps, then unit and integration tests
#   make asan       the same tests built with ASan + UBSan (= make test SANITIZE=1)
#   make demo       deps, build, and the quickstart against a local Pebble
#   make fuzz       build and run the libFuzzer targets for a bounded time
#   make bench      benchmarks (never part of `make test`)
#   make lint       static checks (scripts/lint.sh; docs/hacking.md)
#   make compile_commands.json   the compilation database for clangd (bear)
#   make install    PREFIX=/usr/local DESTDIR=   (binary, library, man page)

PREFIX    ?= /usr/local
DESTDIR   ?=
SANITIZE  ?=
CC        ?= cc

ifeq ($(SANITIZE),1)
BUILD     ?= build/asan
SANFLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT       := -O1
else
BUILD     ?= build
SANFLAGS  :=
OPT       := -O2
endif

PKGS      := libgit2 openssl libcurl yaml-0.1 jansson
# Recursive (=) so pkg-config runs only when a compile needs it, after deps.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
CMOCKA_CFLAGS = $(shell pkg-config --cflags cmocka)
CMOCKA_LIBS   = $(shell pkg-config --libs cmocka)

WARN      := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral -Wvla
CFLAGS    ?=
ALL_CFLAGS = -std=gnu11 $(OPT) -g $(WARN) $(SANFLAGS) -D_GNU_SOURCE -pthread \
             -Ilib $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
LDFLAGS   ?=
ALL_LDFLAGS = $(SANFLAGS) -pthread $(LDFLAGS)

LIB_SRCS  := $(sort $(wildcard lib/*/*.c))
CMD_SRCS  := $(sort $(wildcard cmd/certops/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/*/test_*.c))
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))

LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CMD_OBJS  := $(CMD_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_BINS := $(UNIT_SRCS:%.c=$(BUILD)/%)
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)

LIBA      := $(BUILD)/libcertops.a
BIN       := $(BUILD)/certops

.PHONY: all deps check check-unit check-integration test asan demo fuzz bench \
        install clean pkgcheck lint compile_commands.json
.DEFAULT_GOAL := all

all: $(BIN) $(LIBA)

pkgcheck:
	@pkg-config --exists $(PKGS) cmocka || { \
	  echo "error: build libraries missing (pkg-config: $(PKGS) cmocka); run 'make deps'" >&2; exit 1; }

$(BUILD)/obj/%.o: %.c | pkgcheck
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIBA): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BIN): $(CMD_OBJS) $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CMD_OBJS) $(LIBA) $(PKG_LIBS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIBA) | pkgcheck
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) -o $@ $< $(LIBA) $(PKG_LIBS) $(CMOCKA_LIBS) $(ALL_LDFLAGS)

$(BUILD)/tools/%: tests/tools/%.c $(LIBA) | pkgcheck
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBA) $(PKG_LIBS) $(ALL_LDFLAGS)

deps:
	@scripts/deps.sh

# The tests themselves, on what is built (no package installs).
check: $(BIN) $(UNIT_BINS) $(TOOL_BINS)
	@BUILD=$(BUILD) SANITIZE=$(SANITIZE) tests/run.sh

check-unit: $(UNIT_BINS)
	@BUILD=$(BUILD) SANITIZE=$(SANITIZE) tests/run.sh unit

check-integration: $(BIN) $(TOOL_BINS)
	@BUILD=$(BUILD) SANITIZE=$(SANITIZE) tests/run.sh integration

test: deps
	@$(MAKE) --no-print-directory check SANITIZE=$(SANITIZE)

asan:
	@$(MAKE) --no-print-directory test SANITIZE=1

demo: deps
	@$(MAKE) --no-print-directory all $(TOOL_BINS)
	@BUILD=$(BUILD) scripts/demo.sh

fuzz: deps
	@scripts/fuzz.sh

bench: deps
	@$(MAKE) --no-print-directory all $(TOOL_BINS)
	@BUILD=$(BUILD) scripts/bench.sh

# Static checks: banned calls, cmd/ includes, headers that compile alone,
# the state directory's one owner, -Werror everywhere.  Not clang-format.
lint: | pkgcheck
	@CC="$(CC)" MAKE="$(MAKE)" \
	  LINT_CFLAGS="-std=gnu11 $(WARN) -D_GNU_SOURCE -pthread -Ilib $(PKG_CFLAGS) $(CFLAGS)" \
	  scripts/lint.sh

# The compilation database (for clangd and other tools), recorded by bear
# from a from-scratch build of everything into $(BUILD)/compdb; always
# regenerated.  Ignored by git.
COMPDB_BUILD := $(BUILD)/compdb
compile_commands.json: | pkgcheck
	@command -v bear >/dev/null || { \
	  echo "error: bear not found; run 'make deps'" >&2; exit 1; }
	rm -rf $(COMPDB_BUILD)
	bear --output $@ -- $(MAKE) --no-print-directory BUILD=$(COMPDB_BUILD) \
	  $(COMPDB_BUILD)/certops $(UNIT_SRCS:%.c=$(COMPDB_BUILD)/%) \
	  $(TOOL_SRCS:tests/tools/%.c=$(COMPDB_BUILD)/tools/%)

MANPAGE := docs/certops.1

# The man page is a prerequisite, not an option: a missing page fails.
install: $(BIN) $(LIBA) $(MANPAGE)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
	  $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/certops
	install -m 0644 $(LIBA) $(DESTDIR)$(PREFIX)/lib/libcertops.a
	install -m 0644 $(MANPAGE) $(DESTDIR)$(PREFIX)/share/man/man1/certops.1

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d) $(CMD_OBJS:.o=.d) $(UNIT_BINS:=.d) $(TOOL_BINS:=.d)
