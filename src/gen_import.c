/*
 * gen_import.c - ./gen import: a folder of PNG frames plus a CSV of button states -> a
 * one-episode dataset in the layout of SPEC.md §3.
 *
 * Frames are the folder's *.png files sorted by name (byte order), all the same size, grey
 * or RGB. The CSV has a header row of button names (they become the action_names
 * attribute) and one row of 0/1 values per frame: row t holds the buttons held during step
 * t, from frame t to frame t+1. The last frame has no successor, so its row is ignored (it
 * may also be left out): T = frames - 1 steps.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "data/actions_csv.h"
#include "data/episodes.h"
#include "data/png.h"
#include "base/err.h"
#include "base/path.h"    // path_check_output, remove_stale_temps_of
#include "base/alloc.h"
#include "src/gen.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: gen import --frames DIR --actions FILE.csv --out FILE.h5 [--game NAME] [--frame-skip K]\n"
            "Makes a one-episode dataset from DIR/*.png (sorted by file name; all the same size,\n"
            "grey or RGB) and a CSV of buttons: a header row of button names (e.g.\n"
            "A,B,SELECT,START,UP,DOWN,LEFT,RIGHT), then one row of 0/1 values per frame. Row t is\n"
            "the buttons held during step t (frame t -> frame t+1); the last frame's row is ignored\n"
            "and may be omitted, so the episode has T = frames - 1 steps.\n");
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

// Sorted names of dir's *.png files; returns the count, or -1 with err set.
static int list_pngs(const char *dir, char ***names_out, Err *err) {
    DIR *d = opendir(dir);
    if (!d) return err_set(err, "frames directory '%s': %s", dir, strerror(errno));
    char **names = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcasecmp(e->d_name + l - 4, ".png")) continue;
        if (n == cap) cap = cap ? 2 * cap : 256, names = xrealloc(names, sizeof *names * (size_t)cap);
        names[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (n) qsort(names, (size_t)n, sizeof *names, cmp_str);
    *names_out = names;
    return n;
}

// The frame number of a name: its last run of digits ("frame_0012.png" -> 12), or -1.
static long frame_number(const char *name) {
    long v = -1;
    for (const char *p = name; *p; p++)
        if (*p >= '0' && *p <= '9' && (p == name || p[-1] < '0' || p[-1] > '9')) v = strtol(p, NULL, 10);
    return v;
}

// Numbered frames (every name has a number) must count up by one in name order: a gap is a
// lost frame, and "frame_10" sorting before "frame_2" is a numbering without zero padding.
static int check_frame_numbers(const char *dir, char **names, int n, Err *err) {
    for (int i = 0; i < n; i++)
        if (frame_number(names[i]) < 0) return 0;   // unnumbered names: taken in name order
    for (int i = 1; i < n; i++) {
        long a = frame_number(names[i - 1]), b = frame_number(names[i]);
        if (b != a + 1)
            return err_set(err, "%s/%s: frame number %ld follows %s (number %ld); expected %ld (a missing frame, or "
                           "numbers without zero padding, which sort out of order)", dir, names[i], b, names[i - 1], a,
                           a + 1);
    }
    return 0;
}

int gen_import_main(int argc, char **argv) {
    const char *dir = NULL, *csv_path = NULL, *out = NULL, *game = "import";
    int K = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        if (strcmp(a, "--frames") && strcmp(a, "--actions") && strcmp(a, "--out") && strcmp(a, "--game") &&
            strcmp(a, "--frame-skip"))
            die("import: unknown option '%s' (see gen import --help)", a);
        if (!v) die("import: %s needs a value", a);
        i++;
        if (!strcmp(a, "--frames")) dir = v;
        else if (!strcmp(a, "--actions")) csv_path = v;
        else if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--game")) game = v;
        else {
            char *end;
            long k = strtol(v, &end, 10);
            if (!*v || *end || k < 1 || k > 1000) die("import: --frame-skip expects an integer in 1..1000, got '%s'", v);
            K = (int)k;
        }
    }
    if (!dir || !csv_path || !out) die("import: --frames, --actions and --out are required (see gen import --help)");

    Err err;
    ActionsCsv csv;
    if (actions_csv_read(csv_path, &csv, &err)) die("import: %s", err.msg);
    char **names = NULL;
    int n = list_pngs(dir, &names, &err);
    if (n < 0 || check_frame_numbers(dir, names, n, &err) < 0) { free(csv.act); die("import: %s", err.msg); }
    if (n < 2) { free(csv.act); die("import: frames directory '%s' has %d PNG files; need at least 2", dir, n); }
    if (csv.rows != n && csv.rows != n - 1) {
        free(csv.act);
        die("import: %s has %d rows of buttons but %s has %d frames (expected %d rows, one per frame, "
            "or %d without the last)", csv_path, csv.rows, dir, n, n, n - 1);
    }
    // the output is none of the inputs (nothing is overwritten that this command reads)
    size_t plen = strlen(dir) + 300;
    char *path = xmalloc(plen);
    const char *ins[2] = {csv_path, dir};
    int bad = path_check_output("--out", out, ins, 2, &err) < 0;
    for (int i = 0; i < n && !bad; i++) {
        snprintf(path, plen, "%s/%s", dir, names[i]);
        ins[0] = path;
        bad = path_check_output("--out", out, ins, 1, &err) < 0;
    }
    if (bad) die("import: %s", err.msg);

    remove_stale_temps_of(out);   // what a killed run of this command left
    EpisodeWriter *w = episode_writer_open(out, game, csv.names, K, &err);
    if (!w) { free(csv.act); die("import: %s", err.msg); }
    Image first = {0}, img = {0}, prev = {0};
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        snprintf(path, plen, "%s/%s", dir, names[i]);
        if (png_read(path, &img, &err)) { rc = -1; break; }
        if (i == 0) {
            first = img;
            if (img.w < 16 || img.h < 16 || img.w > 4096 || img.h > 4096)
                rc = err_set(&err, "%s: %dx%d frame; width and height must be 16..4096", path, img.w, img.h);
            else if (episode_writer_begin(w, img.h, img.w, img.c, csv.A, &err)) rc = -1;
        } else {
            if (img.w != first.w || img.h != first.h || img.c != first.c)
                rc = err_set(&err, "%s: size mismatch: %dx%d with %d channel(s), but %s is %dx%d with %d",
                             path, img.w, img.h, img.c, names[0], first.w, first.h, first.c);
            else if (episode_writer_step(w, prev.px, csv.act + (size_t)(i - 1) * csv.A, 0.f, 0, 0, &err))
                rc = -1;
            if (i > 1) image_free(&prev);
        }
        prev = img;
        img = (Image){0};
    }
    if (!rc && episode_writer_end(w, prev.px, &err)) rc = -1;
    if (prev.px != first.px) image_free(&prev);
    image_free(&first);
    image_free(&img);
    free(path);
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    free(csv.act);
    if (rc) {
        episode_writer_abort(w);
        die("import: %s", err.msg);
    }
    if (episode_writer_close(w, &err)) die("import: %s", err.msg);
    fprintf(stderr, "gen import: wrote %s: 1 episode, %d steps\n", out, n - 1);
    return 0;
}
