/*
 * bench_train.c - the programs as a user runs them, timed from outside (in a temp folder
 * under /tmp, removed at the end):
 *   1. `gen tetris` records 24 episodes x 70 steps;
 *   2. `train` runs a small config for one epoch of each stage (stage = both, the default
 *      80x80 grey model: 3 stages, base 32, latent 32, batch 128; data.test_episodes = 20) and
 *      its output gives
 *        train_rss_estimate_mb  the "estimated total" memory it prints at start
 *        peak_rss_train_mb      the peak RSS it prints at the end ("done: ... (peak RSS N MB)")
 *        train_rss_ratio        peak / estimate (the target: within 10%)
 *   3. `eval` with its defaults on that run (20 test episodes x 5 starts x 60 steps, the
 *      copy and recon rows, all five result files), repeated:
 *        eval_default_seconds   wall time of the whole program
 *        eval_rollouts_seconds  the rollouts and metrics alone (eval's own "in X s" on stderr)
 * The programs are found in $NEMU_BIN, else in the bin/ beside this binary's bench/ folder.
 * CSV rows `name,value,unit,threads` on stdout (best repeat as `name`, `name_median` the
 * median; the memory rows come from one run). Two eval repeats (`bench_train quick`: one);
 * about 30 s in all on the 2-core machine of bench/README.md.
 */
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "src/run.h"

#define MAX_REPS 8

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// Times t[n] in seconds: the shortest as `name`, the median as `name_median`.
static void row_times(const char *name, double *t, int n, int threads) {
    qsort(t, (size_t)n, sizeof t[0], cmp_double);
    printf("%s,%.4g,s,%d\n", name, t[0], threads);
    printf("%s_median,%.4g,s,%d\n", name, t[n / 2], threads);
    fflush(stdout);
}

// Runs a shell command in dir with stdout and stderr to dir/out.txt and dir/err.txt; dies
// with the last error line when it fails. Returns the wall time.
static double run_in(const char *dir, const char *cmd) {
    char *line = xmalloc(strlen(dir) * 3 + strlen(cmd) + 64);
    sprintf(line, "cd '%s' && %s >'%s/out.txt' 2>'%s/err.txt'", dir, cmd, dir, dir);
    double t0 = now_seconds();
    int rc = system(line);
    double dt = now_seconds() - t0;
    free(line);
    if (rc != 0) {
        char p[PATH_MAX], last[512] = "";
        snprintf(p, sizeof p, "%s/err.txt", dir);
        FILE *f = fopen(p, "r");
        if (f) {
            char buf[512];
            while (fgets(buf, sizeof buf, f)) snprintf(last, sizeof last, "%s", buf);
            fclose(f);
        }
        die("'%s' failed: %s", cmd, last[0] ? last : "(no message)");
    }
    return dt;
}

// The first number after `key` in dir/name (e.g. "estimated total" -> MB); -1 if absent.
static double grep_number(const char *dir, const char *name, const char *key) {
    char p[PATH_MAX], buf[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "r");
    if (!f) return -1;
    double v = -1;
    while (v < 0 && fgets(buf, sizeof buf, f)) {
        char *k = strstr(buf, key);
        if (!k) continue;
        k += strlen(key);
        while (*k && !(*k >= '0' && *k <= '9')) k++;
        if (*k) v = strtod(k, NULL);
    }
    fclose(f);
    return v;
}

static const char CONFIG[] =
    "# bench_train: one epoch of each stage with the default 80x80 model\n"
    "[run]\nname = bench\nseed = 1\n"
    "[data]\npath = data.h5\ngenerate = none\ntest_episodes = 20\n"
    "[train]\nstage = both\nepochs = 1\n";

int main(int argc, char **argv) {
    set_progname(argv[0]);
    int reps = argc > 1 && !strcmp(argv[1], "quick") ? 1 : 2;   // eval takes seconds each
    char bin[PATH_MAX];
    if (getenv("NEMU_BIN")) {
        snprintf(bin, sizeof bin, "%s", getenv("NEMU_BIN"));
    } else {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0) die("cannot find my own path; set NEMU_BIN");
        exe[n] = 0;
        snprintf(bin, sizeof bin, "%s/bin", dirname(dirname(exe)));
    }
    char probe[PATH_MAX + 16];
    const char *progs[3] = {"gen", "train", "eval"};
    for (int i = 0; i < 3; i++) {
        snprintf(probe, sizeof probe, "%s/%s", bin, progs[i]);
        if (access(probe, X_OK) != 0) die("%s is not built (make)", probe);
    }
    char dir[] = "/tmp/nemu_bench_train_XXXXXX";
    if (!mkdtemp(dir)) die("cannot create a folder in /tmp");
    long threads = sysconf(_SC_NPROCESSORS_ONLN);   // run.threads = 0: all cores
    char cmd[2 * PATH_MAX], p[PATH_MAX];

    snprintf(p, sizeof p, "%s/bench.ini", dir);
    FILE *f = xfopen(p, "w");
    fputs(CONFIG, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s/gen' tetris --episodes 24 --steps 70 --seed 3 --out data.h5", bin);
    run_in(dir, cmd);

    snprintf(cmd, sizeof cmd, "'%s/train' bench.ini", bin);
    double t_train = run_in(dir, cmd);
    double est = grep_number(dir, "out.txt", "estimated total"), peak = grep_number(dir, "out.txt", "done: runs/bench (peak RSS");
    if (est <= 0 || peak <= 0) die("no 'estimated total' or 'peak RSS' line in the output of train");
    printf("train_rss_estimate_mb,%.1f,MB,%ld\n", est, threads);
    printf("peak_rss_train_mb,%.1f,MB,%ld\n", peak, threads);
    printf("train_rss_ratio,%.3f,x,%ld\n", peak / est, threads);
    fflush(stdout);

    double t[MAX_REPS], tr[MAX_REPS];
    snprintf(cmd, sizeof cmd, "'%s/eval' --run runs/bench", bin);
    // no untimed warm-up: train has just read the data file, so it is in the page cache
    for (int i = 0; i < reps; i++) {
        t[i] = run_in(dir, cmd);
        tr[i] = grep_number(dir, "err.txt", "steps in");
        if (tr[i] < 0) die("no 'rollouts of N steps in X s' line from eval");
    }
    row_times("eval_default_seconds", t, reps, (int)threads);
    row_times("eval_rollouts_seconds", tr, reps, (int)threads);
    fprintf(stderr, "bench_train: train (1 epoch per stage, %.1f s) estimate %.0f MB, peak RSS %.0f MB; eval x%d\n",
            t_train, est, peak, reps);
    remove_tree(dir);
    return 0;
}
