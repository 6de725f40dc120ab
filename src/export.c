/*
 * export.c - ./export: a trained emulator as one dependency-free C99 file (NAME.h + NAME.c)
 * in float, Q16.16 or int8 fixed point, a web page that plays it, and a check of the exported
 * file against nemu's own float model (issue #24; see export.h and the README's Export).
 *
 *   ./export [--run DIR] [--game NAME] --out DIR [--name NAME] [--format float|q16|int8] [--encoder] [--force]
 *   ./export [--run DIR] [--game NAME] --web DIR [--name NAME] [--format F] [--force]
 *   ./export [--run DIR] [--game NAME] --check LIB.so [--name NAME] [--steps N] [--episodes N]
 *
 * Every check (run, checkpoints, finite weights, format, output folders, emcc) comes before
 * the first file; the output folder is assembled beside its final place and renamed at the
 * end, so a failure leaves nothing and an existing folder is only replaced with --force.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/export.h"
#include "src/cli.h"          // cli_option, cli_text, cli_long
#include "src/run.h"          // RunDir: output folders created whole
#include "base/err.h"
#include "base/threads.h"

typedef struct {
    const char *run, *game, *out, *name, *web, *check, *results;
    ExFormat fmt;
    int encoder, force, steps, episodes, start;
} Options;

static void usage(FILE *f) {
    fprintf(f,
            "usage: ./export [--run DIR] [--game NAME] --out DIR [--name NAME] [--format float|q16|int8] [--encoder]\n"
            "                [--start T] [--force]\n"
            "       ./export [--run DIR] [--game NAME] --web DIR [--name NAME] [--format float|q16|int8] [--start T]\n"
            "                [--force]\n"
            "       ./export [--run DIR] [--game NAME] --check LIB.so [--name NAME] [--start T] [--steps N]\n"
            "                [--episodes N]\n"
            "  --run DIR       trained run (default: the newest runs/*/ with dyn_best.h5)\n"
            "  --game NAME     a run of several games (data.path lists one file per game): the game to export; its\n"
            "                  game column is compiled in as a constant, so the file emulates that game alone\n"
            "  --out DIR       write NAME.h and NAME.c there (a new folder; --force replaces one)\n"
            "  --name NAME     C prefix of the API and file name (default: the run's name as an identifier)\n"
            "  --format F      float (default), q16 (Q16.16 fixed point) or int8 (per-channel int8 weights)\n"
            "  --encoder       also export the encoder: NAME_encode(state, frame)\n"
            "  --start T       the compiled-in start: frame T of the run's first test episode (default 0)\n"
            "  --web DIR       index.html + NAME.js + NAME.wasm that play it in a browser (emscripten's emcc)\n"
            "  --check LIB.so  compare an exported file compiled as a shared object (cc -shared -fPIC -O2 NAME.c\n"
            "                  -o LIB.so -lm) with nemu's float model on the run's test episodes\n"
            "  --steps N       --check: rollout steps (default 60); --episodes N: test episodes (default all)\n"
            "  --results DIR   where ./eval's results are, for the header block (default results)\n");
}

static void parse_options(int argc, char **argv, Options *o) {
    memset(o, 0, sizeof *o);
    o->steps = 60, o->results = "results";
    static const char *const known[] = {"--run", "--out", "--name", "--format", "--check", "--steps", "--episodes",
                                        "--results", "--web", "--start", "--game"};
    static const char *const flags[] = {"--encoder", "--force", "--help", "-h"};
    const CliText texts[] = {{"--run", &o->run},     {"--out", &o->out}, {"--name", &o->name}, {"--game", &o->game},
                             {"--check", &o->check}, {"--web", &o->web}, {"--results", &o->results}};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h")) { usage(stdout); exit(0); }
        char name[32];
        const char *v;
        cli_option(argc, argv, &i, known, sizeof known / sizeof *known, flags, 4, "./export", name, sizeof name, &v);
        if (!strcmp(name, "--help")) { usage(stdout); exit(0); }
        else if (!strcmp(name, "--encoder")) o->encoder = 1;
        else if (!strcmp(name, "--force")) o->force = 1;
        else if (cli_text(texts, sizeof texts / sizeof *texts, name, v)) continue;
        else if (!strcmp(name, "--steps")) o->steps = (int)cli_long(name, v, 1, 100000);
        else if (!strcmp(name, "--episodes")) o->episodes = (int)cli_long(name, v, 1, 1000000);
        else if (!strcmp(name, "--start")) o->start = (int)cli_long(name, v, 0, 100000000);
        else if (!strcmp(v, "float")) o->fmt = FMT_FLOAT;
        else if (!strcmp(v, "q16")) o->fmt = FMT_Q16;
        else if (!strcmp(v, "int8")) o->fmt = FMT_INT8;
        else die("--format %s: expected float, q16 or int8", v);
    }
    if (!o->out && !o->web && !o->check) die("nothing to do: give --out DIR, --web DIR or --check LIB.so (see --help)");
    if (o->check && (o->out || o->web)) die("--check runs alone: export first, then check the compiled file");
}

// The default NAME: the run's name as a C identifier (letters, digits, '_'; not starting with a digit).
static void default_name(const char *run_name, char *name, size_t cap) {
    size_t n = 0;
    if (run_name[0] >= '0' && run_name[0] <= '9') name[n++] = 'm';
    for (const char *p = run_name; *p && n + 1 < cap; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        name[n++] = ok ? c : '_';
    }
    name[n] = 0;
}

static void check_name(const char *name) {
    int ok = name[0] && !(name[0] >= '0' && name[0] <= '9') && strlen(name) < 64;
    for (const char *p = name; *p; p++)
        ok &= (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_';
    if (!ok) die("--name %s: expected a C identifier of at most 63 characters (letters, digits, '_')", name);
}

// A new output folder (dir.tmp.<pid> until committed); dies without writing when dir exists and !force.
static void open_out(RunDir *rd, const char *dir, int force, const char *opt) {
    Err err = {{0}};
    struct stat st;
    if (!force && stat(dir, &st) == 0) die("%s %s: the folder exists (give --force to replace it)", opt, dir);
    if (run_dir_create(rd, dir, force, &err) < 0) die("%s %s: %s", opt, dir, err.msg);
}

int main(int argc, char **argv) {
    set_progname(argv[0]);
    Options o;
    parse_options(argc, argv, &o);
    if (o.web && !export_have_emcc())
        die("--web needs emscripten's emcc, not installed here: sudo apt-get install emscripten (Debian)");
    if (o.check && access(o.check, R_OK) != 0) die("--check %s: %s", o.check, strerror(errno));
    struct stat st;
    if (!o.force) {   // before the (slow) run is read
        if (o.out && stat(o.out, &st) == 0) die("--out %s: the folder exists (give --force to replace it)", o.out);
        if (o.web && stat(o.web, &st) == 0) die("--web %s: the folder exists (give --force to replace it)", o.web);
    }
    threads_use(1);
    Err err = {{0}};
    static ExModel m;
    if (export_load(&m, o.run, o.game, o.results, o.start, &err) < 0) die("%s", err.msg);
    if (export_format_ok(&m, o.fmt, &err) < 0) die("%s", err.msg);
    char name[64];
    if (o.name) snprintf(name, sizeof name, "%s", o.name), check_name(o.name);
    else default_name(m.run.run_name, name, sizeof name);
    if (o.check) return export_check_main(&m, o.check, name, o.steps, o.episodes);

    RunDir out_rd = {0}, web_rd = {0};
    if (o.out) open_out(&out_rd, o.out, o.force, "--out");
    if (o.web) open_out(&web_rd, o.web, o.force, "--web");
    int rc = o.out ? export_write_c(&m, o.fmt, out_rd.path, name, o.encoder, &err) : 0;
    if (rc == 0 && o.web) rc = export_web(&m, o.fmt, web_rd.path, name, &err);
    if (rc == 0 && o.out) rc = run_dir_commit(&out_rd, &err);
    if (rc == 0 && o.web) rc = run_dir_commit(&web_rd, &err);
    if (rc < 0) {
        run_dir_abort(&out_rd), run_dir_abort(&web_rd);
        die("%s", err.msg);
    }
    if (o.out)
        printf("export: %s/%s.h and %s.c (%s, %zu parameters, %zu bytes of weights%s)\n", o.out, name, name,
               EX_FORMAT_NAMES[o.fmt], export_params(&m, o.encoder), export_weight_bytes(&m, o.fmt, o.encoder),
               o.encoder ? ", encoder included" : "");
    if (o.web)
        printf("export: %s/index.html, %s.js, %s.wasm (serve the folder: cd %s && python3 -m http.server)\n", o.web, name,
               name, o.web);
    export_free(&m);
    return 0;
}
