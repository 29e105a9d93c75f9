# lingerlab - plain GNU make.
# Sources are picked up by folder, so a new module needs no Makefile edit:
#   analyzer/*.c, lab/*.c, reports/*.c -> one object list shared by the
#   binary and the tests; lab/target/*.c -> the reference target server;
#   tests/unit/test_*.c -> one cmocka binary each; tests/support/*.c are
#   linked into every test binary.

VERSION    := 0.1.0
PREFIX     ?= /usr/local
DESTDIR    ?=
CC         ?= cc
BUILD      ?= build

PKGS       := libpcap jansson openssl libnftables zlib libzstd liblzma
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
NET_CFLAGS := $(shell libnet-config --cflags 2>/dev/null)
NET_LIBS   := $(shell libnet-config --libs 2>/dev/null)

WARN       := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter
CFLAGS     ?= -O2 -g
# -pthread: capture.c reads saved captures in a thread of its own
ALL_CFLAGS := -pthread -std=c11 -D_GNU_SOURCE -D_DEFAULT_SOURCE -DLL_VERSION=\"$(VERSION)\" $(WARN) \
              -I. $(PKG_CFLAGS) $(NET_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS)
LDLIBS     := $(PKG_LIBS) $(NET_LIBS) -lm $(EXTRA_LDLIBS)

LIB_SRC    := $(wildcard analyzer/*.c) $(wildcard lab/*.c) \
              $(filter-out reports/main.c,$(wildcard reports/*.c))
LIB_OBJ    := $(LIB_SRC:%.c=$(BUILD)/%.o)
TARGET_SRC := $(wildcard lab/target/*.c)
TARGET_OBJ := $(TARGET_SRC:%.c=$(BUILD)/%.o)
SUPPORT_SRC:= $(wildcard tests/support/*.c)
SUPPORT_OBJ:= $(SUPPORT_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

BIN        := $(BUILD)/lingerlab
TARGET_BIN := $(BUILD)/lingerlab-target

.PHONY: all deps test check-deps asan fuzz bench demo install uninstall clean tests

all: $(BIN) $(TARGET_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BIN): $(LIB_OBJ) $(BUILD)/reports/main.o
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(TARGET_BIN): $(TARGET_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIB_OBJ) $(SUPPORT_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# Test helper programs with a main() of their own (so not in tests/support/,
# whose objects go into every unit test): the golden capture generator and
# the tiny loopback server of the golden tests.
HELPER_BIN := $(BUILD)/tests/mkgolden $(BUILD)/tests/tiny_server

$(BUILD)/tests/mkgolden: $(BUILD)/tests/golden/mkgolden.o $(BUILD)/tests/support/pktbuild.o
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/tiny_server: $(BUILD)/tests/golden/tiny_server.o
	$(CC) $(ALL_CFLAGS) -o $@ $^

# The raw TCP client's driver (tests/integration/rawtcp*.sh, bench/rawtcp.sh);
# linked with only what it uses, so it builds while other modules are half-done.
HELPER_BIN += $(BUILD)/tests/rawtcp_probe
RAWTCP_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard lab/rawtcp*.c))
$(BUILD)/tests/rawtcp_probe: $(BUILD)/bench/rawtcp_probe.o $(RAWTCP_OBJ) $(BUILD)/lab/earlyrx.o $(BUILD)/lab/timerheap.o $(BUILD)/lab/addr.o \
                             $(BUILD)/analyzer/decode.o $(BUILD)/analyzer/tunnel.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)
# its per-segment CPU cost offline (bench/run)
HELPER_BIN += $(BUILD)/tests/rawtcp_cpu
$(BUILD)/tests/rawtcp_cpu: $(BUILD)/bench/rawtcp_cpu.o $(RAWTCP_OBJ) $(BUILD)/lab/earlyrx.o $(BUILD)/lab/timerheap.o $(BUILD)/lab/addr.o \
                           $(BUILD)/analyzer/decode.o $(BUILD)/analyzer/tunnel.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

tests: all $(UNIT_BIN) $(HELPER_BIN)

# Debian packages the build, the tests and the benchmark need.
DEB_PKGS := build-essential pkg-config libpcap-dev libnet1-dev libjansson-dev \
            libcmocka-dev tcpdump iproute2 nftables nginx-light wrk clang \
            libclang-rt-14-dev jq chromium procps python3-jsonschema groff-base \
            libssl-dev openssl tshark libnftables-dev apache2-bin curl \
            zlib1g-dev libzstd-dev liblzma-dev perl python3-yaml \
            lighttpd lighttpd-mod-openssl haproxy zstd

deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present"; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "deps: installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "deps: missing packages; run as root:"; echo "  apt-get install -y$$missing"; exit 2; fi

test: deps
	$(MAKE) tests
	BUILD=$(BUILD) tests/run

asan:
	$(MAKE) BUILD=build-asan CC=clang \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  EXTRA_LDLIBS="-fsanitize=address,undefined" tests
	BUILD=build-asan ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 tests/run

# libFuzzer over everything that parses untrusted bytes: the decoder, the
# analyzer and the pcap reader (fuzz_decode, fuzz_analyzer, fuzz_pcapread),
# the scenario parser (fuzz_scenario) and the report readers of explain,
# render and diff (fuzz_report); bounded time per target.
# Per target NAME (tests/fuzz/NAME.c):
#   FUZZ_DEPS_NAME   the sources it links (default: the analyzer),
#   FUZZ_LIBS_NAME   extra libraries,
#   FUZZ_SEEDS_NAME  seed folders (default: tests/fuzz/seeds),
#   and -dict=tests/fuzz/X.dict when NAME is fuzz_X and that file exists.
# `make fuzz FUZZ_TARGETS="fuzz_scenario"` runs a subset.
# UBSan findings abort (so libFuzzer keeps them as crashes); crash inputs go
# to $(FUZZ_BUILD)/<target>-crash-*, not the working directory. Every target
# runs even if an earlier one crashed; the rule fails at the end.
FUZZ_TIME ?= 60
FUZZ_BUILD ?= build-fuzz
FUZZ_TARGETS ?= $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_DEPS_DEFAULT := $(wildcard analyzer/*.c)
FUZZ_DEPS_fuzz_scenario := lab/scenario.c $(wildcard lab/scn_*.c) lab/respscan.c
FUZZ_SEEDS_fuzz_scenario := tests/fuzz/seeds-scenario scenarios
FUZZ_DEPS_fuzz_ports := lab/target.c lab/addr.c
FUZZ_SEEDS_fuzz_ports := tests/fuzz/seeds-ports
FUZZ_DEPS_fuzz_addr := lab/addr.c
FUZZ_SEEDS_fuzz_addr := tests/fuzz/seeds-addr
# cmd_explain/cmd_diff sit in one object list with the rest of the CLI
# (cmd_run needs the lab, cmd_audit libnet): link it all but main.c.
FUZZ_DEPS_fuzz_report := $(LIB_SRC)
FUZZ_LIBS_fuzz_report := $(NET_LIBS)
FUZZ_SEEDS_fuzz_report := tests/fuzz/seeds-report
FUZZ_SEEDS_fuzz_tls := tests/fuzz/seeds-tls
FUZZ_DEPS_fuzz_pngmeta := analyzer/pngmeta.c
FUZZ_SEEDS_fuzz_pngmeta := tests/fuzz/seeds-pngmeta
FUZZ_SEEDS_fuzz_tlsdec := tests/fuzz/seeds-tlsdec
FUZZ_SEEDS_fuzz_tlskeys := tests/fuzz/seeds-tlskeys
FUZZ_CFLAGS := -pthread -std=c11 -D_GNU_SOURCE -D_DEFAULT_SOURCE -DLL_VERSION=\"$(VERSION)\" \
               -I. $(PKG_CFLAGS) $(NET_CFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=undefined
fuzz_dict = $(firstword $(wildcard tests/fuzz/$(1).dict tests/fuzz/$(patsubst fuzz_%,%,$(1)).dict))
# One target's shell commands: build (a build failure stops the rule), run.
define fuzz_one
n=$(1); \
clang $(FUZZ_CFLAGS) -o $(FUZZ_BUILD)/$$n tests/fuzz/$$n.c \
  $(or $(FUZZ_DEPS_$(1)),$(FUZZ_DEPS_DEFAULT)) $(PKG_LIBS) $(FUZZ_LIBS_$(1)) -lm || exit 1; \
mkdir -p $(FUZZ_BUILD)/corpus-$$n; \
echo "fuzz: $$n for $(FUZZ_TIME)s"; \
$(FUZZ_BUILD)/$$n -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
  $(if $(call fuzz_dict,$(1)),-dict=$(call fuzz_dict,$(1))) \
  -artifact_prefix=$(FUZZ_BUILD)/$$n- $(FUZZ_BUILD)/corpus-$$n \
  $(or $(FUZZ_SEEDS_$(1)),tests/fuzz/seeds) \
  || failed="$$failed $$n";
endef

fuzz:
	@mkdir -p $(FUZZ_BUILD)
	@failed=""; \
	$(foreach t,$(FUZZ_TARGETS),$(call fuzz_one,$(t))) \
	if [ -n "$$failed" ]; then echo "fuzz: crashed:$$failed (inputs in $(FUZZ_BUILD)/)"; exit 1; fi

bench: deps
	$(MAKE) all
	bench/run

demo: deps
	$(MAKE) all
	./demo

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/lingerlab/scenarios $(DESTDIR)$(PREFIX)/share/lingerlab/schema
	install -m 755 $(BIN) $(TARGET_BIN) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 docs/lingerlab.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 scenarios/*.scn $(DESTDIR)$(PREFIX)/share/lingerlab/scenarios/
	install -m 644 reports/schema/*.json $(DESTDIR)$(PREFIX)/share/lingerlab/schema/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/lingerlab $(DESTDIR)$(PREFIX)/bin/lingerlab-target \
	  $(DESTDIR)$(PREFIX)/share/man/man1/lingerlab.1
	rm -rf $(DESTDIR)$(PREFIX)/share/lingerlab

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
