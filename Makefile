# nemu - neural emulators of retro games, in C.
#   make deps      install the Debian packages nemu needs (apt-get, when missing)
#   make           build ./train ./eval ./gen ./play     (build/release)
#   make test      build and run the test suite          (last line: N passed, N failed, N skipped)
#   make debug     -O0 -g with AddressSanitizer + UndefinedBehaviorSanitizer (build/debug)
#   make test-debug  the test suite on the sanitized build
#   make bench     benchmarks -> bench/results.csv
#   make clean
# Options: NO_OMP=1 (no OpenMP), NO_BLAS=1 (naive gemm instead of OpenBLAS), NO_SDL=1 (no window in ./play), OPT='-O2',
#          MPI=1 (data-parallel ./train over OpenMPI: mpirun -np N ./train CONFIG; build/release-mpi).
#   make deps MPI=1 SLURM=1   also installs OpenMPI (libopenmpi-dev openmpi-bin) / Slurm (slurm-wlm, and
#                             slurmdbd + mariadb-server for sacct in bench/slurm_local.sh)

PROGS    := train eval gen sweep play export
DEB_PKGS := build-essential pkg-config libopenblas-dev libopenblas0-openmp libhdf5-dev libpng-dev zlib1g-dev libgif-dev libsdl2-dev \
            $(if $(MPI),libopenmpi-dev openmpi-bin) $(if $(SLURM),slurm-wlm slurmdbd mariadb-server)

CC       ?= cc
OPT      ?= -O3 -march=native
MODE     ?= release
BUILD    := build/$(MODE)$(if $(NO_OMP),-noomp)$(if $(NO_BLAS),-noblas)$(if $(NO_SDL),-nosdl)$(if $(MPI),-mpi)

PKGS        := hdf5-serial libpng
ifndef NO_BLAS
PKGS        += openblas
endif
PKG_CFLAGS  := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ifeq ($(PKG_LIBS),)
PKG_CFLAGS  := -I/usr/include/hdf5/serial -I/usr/include/x86_64-linux-gnu/openblas-pthread
PKG_LIBS    := -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5 -lpng -lopenblas
endif
# One thread pool: link the OpenMP build of OpenBLAS (Debian's libopenblas0-openmp) by path,
# with an rpath, since the system's default libopenblas.so.0 is the pthread build whose own
# threads fight libgomp's on few cores (measured in bench/README.md). Same cblas API.
MULTIARCH   := $(shell $(CC) -print-multiarch 2>/dev/null)
OPENBLAS_OMP := /usr/lib/$(MULTIARCH)/openblas-openmp/libopenblas.so.0
ifndef NO_BLAS
ifndef NO_OMP
ifneq ($(wildcard $(OPENBLAS_OMP)),)
PKG_LIBS    := $(filter-out -lopenblas -L%openblas-pthread/ -L%openblas-pthread,$(PKG_LIBS)) \
               $(OPENBLAS_OMP) -Wl,-rpath,$(dir $(OPENBLAS_OMP))
endif
endif
endif

CFLAGS   := -std=c11 -D_GNU_SOURCE -Wall -Wextra -I. $(PKG_CFLAGS) -MMD -MP
LDLIBS   := $(PKG_LIBS) -lgif -lz -lm
# ./play's window (SDL2) is optional: built when pkg-config finds sdl2 (NO_SDL=1: never);
# without it ./play --window says in one line how to get it. Only ./play links SDL2.
ifndef NO_SDL
SDL_CFLAGS  := $(shell pkg-config --cflags sdl2 2>/dev/null)
SDL_LIBS    := $(shell pkg-config --libs sdl2 2>/dev/null)
endif
ifeq ($(MODE),debug)
CFLAGS   += -O0 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
else
CFLAGS   += $(OPT) -g
endif
ifndef NO_OMP
CFLAGS   += -fopenmp
LDFLAGS  += -fopenmp
endif
ifdef NO_BLAS
CFLAGS   += -DNO_BLAS
endif
# OpenMPI (Debian's libopenmpi-dev): base/dist.c then sums gradients over the ranks
ifdef MPI
ifneq ($(MAKECMDGOALS),deps)
MPI_CFLAGS := $(shell mpicc --showme:compile 2>/dev/null)
MPI_LIBS   := $(shell mpicc --showme:link 2>/dev/null)
ifeq ($(MPI_LIBS),)
$(error MPI=1 needs OpenMPI's mpicc: make deps MPI=1 (apt-get install libopenmpi-dev openmpi-bin))
endif
CFLAGS   += -DNEMU_MPI $(MPI_CFLAGS)
LDLIBS   += $(MPI_LIBS)
endif
endif

LIB_SRC  := $(wildcard base/*.c nn/*.c data/*.c evaluation/*.c) $(filter-out $(PROGS:%=src/%.c),$(wildcard src/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libnemu.a
PROG_BIN := $(PROGS:%=$(BUILD)/bin/%)
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(wildcard bench/bench_*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all deps test debug test-debug bench clean tests FORCE
.SUFFIXES:
.SECONDARY:

all: $(PROGS)

# the programs at the root are the release build's, with or without MPI (whichever was made last)
ifneq ($(filter build/release build/release-mpi,$(BUILD)),)
$(PROGS): %: $(BUILD)/bin/% FORCE
	@cmp -s $< $@ || { echo "cp $< $@"; cp $< $@.tmp && mv -f $@.tmp $@; }
endif

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# ./export's runtime and web page: the text of src/export_rt/* as C strings (src/export_emit.c,
# src/export_web.c): core.c -> RT_core, index.html -> RT_index_html
RT_SRC   := $(sort $(wildcard src/export_rt/*))
$(BUILD)/gen/export_rt.h: $(RT_SRC) Makefile
	@mkdir -p $(dir $@)
	@for f in $(RT_SRC); do echo "static const char RT_$$(basename $$f | sed 's/[.]c$$//; s/[.]/_/g')[] ="; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$$/\\n"/' $$f; echo "    ;"; done >$@.tmp && mv $@.tmp $@
$(BUILD)/src/export_emit.o $(BUILD)/src/export_web.o: $(BUILD)/gen/export_rt.h
$(BUILD)/src/export_emit.o $(BUILD)/src/export_web.o: CFLAGS += -I$(BUILD)/gen

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

ifneq ($(SDL_LIBS),)
$(BUILD)/src/play_window.o: CFLAGS += -DNEMU_SDL $(SDL_CFLAGS)
$(BUILD)/bin/play: LDLIBS += $(SDL_LIBS)
endif

$(BUILD)/bin/%: $(BUILD)/src/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

tests: $(PROG_BIN) $(TEST_BIN)

test: tests
	@bash tests/run.sh $(BUILD)

debug:
	$(MAKE) MODE=debug tests

test-debug:
	$(MAKE) MODE=debug test

bench: $(PROGS) $(BENCH_BIN)
	@bash bench/run.sh $(BUILD)

deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	else echo "all build dependencies present"; fi

clean:
	rm -rf build $(PROGS)

-include $(shell find build -name '*.d' 2>/dev/null)
