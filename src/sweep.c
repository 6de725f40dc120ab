/*
 * sweep.c - ./sweep CONFIG --grid section.key=v1,v2 ... [--set k=v ...] [--name S]
 *                  [--slurm [--time T] [--partition P] | --local [-j N]]
 *           ./sweep --collect S [--sort METRIC]
 *
 * A grid of configs (the product of the --grid lists, the first list varying slowest) as one
 * resolved config per point in sweeps/<S>/<point>.ini, the point named after its grid values
 * ("lr1e-3_seed1") and trained as run "<S>_<point>". Every point is loaded and checked
 * (config_load) before any file is written: a bad key or value stops with one line.
 * --slurm writes sweeps/<S>/job.sbatch, a job array with one task per point that Slurm may
 * stop (SIGTERM 120 s before the time limit, or scancel --signal=TERM) and requeue: ./train
 * --resume-or-start continues the run bit for bit. --local runs the points here, N at a time.
 * --collect (src/sweep_collect.c) gathers the points' results into one table and a plot.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "src/config.h"
#include "src/run.h"
#include "src/sweep.h"

#define MAX_SETS 64
static void bin_dir(char *out, size_t cap);
#define MAX_VALUES 64

typedef struct {
    const char *config;
    char name[SWEEP_STR];
    int n_grid, n_sets;
    char *grid[SWEEP_MAX_KEYS];   // "train.lr=1e-3,3e-4" as given
    char *sets[MAX_SETS];
    int slurm, local, jobs;
    const char *time, *partition;
} SweepArgs;

static void usage(FILE *f) {
    fprintf(f, "usage: sweep CONFIG.ini --grid section.key=v1,v2,... [--grid ...] [--set k=v ...] [--name S]\n"
               "             [--slurm [--time T] [--partition P] | --local [-j N]]\n"
               "       sweep --collect S [--sort METRIC]\n"
               "Writes one resolved config per grid point under sweeps/<S>/ (S: the config's stem), then\n"
               "  --slurm    sweeps/<S>/job.sbatch: a Slurm job array, one task per point (submit with sbatch)\n"
               "  --local    runs the points here, N at a time (-j N, default 1)\n"
               "  --collect  gathers every point's eval.json and log.csv into sweeps/<S>/summary.md, .csv, .png,\n"
               "             sorted by METRIC (a column of the summary; default: model SSIM at the last step)\n");
}

void sweep_grid_alloc(SweepGrid *g, int n_points) {
    g->n_points = n_points;
    g->point = xcalloc((size_t)n_points, sizeof *g->point);
    g->run = xcalloc((size_t)n_points, sizeof *g->run);
    g->value = xcalloc((size_t)n_points, sizeof *g->value);
    g->dynamics = xcalloc((size_t)n_points, sizeof *g->dynamics);
}

void sweep_grid_free(SweepGrid *g) {
    free(g->point);
    free(g->run);
    free(g->value);
    free(g->dynamics);
}

// ---------------------------------------------------------------- the grid

// "v1,v2" -> values (in place); returns the count.
static int split_values(char *list, char **vals, const char *arg) {
    int n = 0;
    for (char *p = list;; ) {
        char *comma = strchr(p, ',');
        if (comma) *comma = 0;
        if (!*p) die("--grid %s: an empty value", arg);
        if (n == MAX_VALUES) die("--grid %s: more than %d values", arg, MAX_VALUES);
        vals[n++] = p;
        if (!comma) break;
        p = comma + 1;
    }
    return n;
}

// The part of a point's name for one key: the key's name after the section, then the value
// with anything but letters, digits, '.' and '-' as '-' ("train.lr" "1e-3" -> "lr1e-3").
static void name_part(char *out, size_t cap, const char *key, const char *val) {
    const char *dot = strchr(key, '.');
    size_t n = (size_t)snprintf(out, cap, "%s", dot ? dot + 1 : key);
    for (const char *v = val; *v && n + 1 < cap; v++, n++) {
        char ch = *v;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '-';
        out[n] = ok ? ch : '-';
    }
    out[n] = 0;
}

static int valid_name(const char *s) {
    if (!*s || strlen(s) >= 64) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '.' ||
              *s == '_' || *s == '-'))
            return 0;
    return 1;
}

// Data files that are missing and that data.generate (a built-in game) makes: the sweep records each
// once with ./gen before the points run (points running at once would all record it).
static char gen_args[8][6][SWEEP_STR];
static int n_gen;

static void note_missing_data(const Config *c, const char *path, CfgGenerate game) {
    for (int i = 0; i < n_gen; i++)
        if (!strcmp(gen_args[i][0], path)) return;
    if (n_gen == 8) die("more than 8 different missing data files");
    snprintf(gen_args[n_gen][0], SWEEP_STR, "%.*s", SWEEP_STR - 1, path);
    snprintf(gen_args[n_gen][1], SWEEP_STR, "%d", c->data.gen_episodes);
    snprintf(gen_args[n_gen][2], SWEEP_STR, "%d", c->data.gen_steps);
    snprintf(gen_args[n_gen][3], SWEEP_STR, "%llu", (unsigned long long)c->data.gen_seed);
    snprintf(gen_args[n_gen][4], SWEEP_STR, "%d", c->data.gen_frame_skip);
    snprintf(gen_args[n_gen][5], SWEEP_STR, "%s", cfg_generate_game(game));
    n_gen++;
}

// ./gen GAME --out PATH [--episodes N --steps N --seed S --frame-skip K] (0: the recorder's default).
static void generate_data(void) {
    static const char *opt[] = {"--out", "--episodes", "--steps", "--seed", "--frame-skip"};
    char bin[2048], gen[PATH_MAX];
    bin_dir(bin, sizeof bin);
    snprintf(gen, sizeof gen, "%s/gen", bin);
    for (int i = 0; i < n_gen; i++) {
        char *args[16] = {gen, gen_args[i][5]};
        int n = 2;
        for (int k = 0; k < 5; k++)
            if (k == 0 || strcmp(gen_args[i][k], "0")) args[n++] = (char *)opt[k], args[n++] = gen_args[i][k];
        char parent[SWEEP_STR];   // the data folder may not exist yet
        snprintf(parent, sizeof parent, "%.*s", SWEEP_STR - 1, gen_args[i][0]);
        char *slash = strrchr(parent, '/');
        if (slash && slash != parent) {
            *slash = 0;
            if (mkdir_p(parent) != 0) die("cannot create %s: %s", parent, strerror(errno));
        }
        printf("%s is missing: recording it once for every point (./gen %s)\n", gen_args[i][0], gen_args[i][5]);
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) die("fork: %s", strerror(errno));
        if (pid == 0) {
            execv(gen, args);
            _exit(127);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) die("recording %s failed", gen_args[i][0]);
    }
}

// Expands the grid and loads every point's config (the checks of ./train); texts[p] is the
// resolved config of point p (malloc'ed). Dies with one line on any bad key or value.
static char **build_points(const SweepArgs *a, SweepGrid *g, int *threads) {
    char *vals[SWEEP_MAX_KEYS][MAX_VALUES];
    int nv[SWEEP_MAX_KEYS], total = 1;
    char copy[SWEEP_MAX_KEYS][1024];
    for (int k = 0; k < a->n_grid; k++) {
        const char *eq = strchr(a->grid[k], '=');
        if (!eq || eq == a->grid[k]) die("--grid %s: expected section.key=v1,v2,...", a->grid[k]);
        if ((size_t)(eq - a->grid[k]) >= SWEEP_STR) die("--grid %s: key too long", a->grid[k]);
        snprintf(g->keys[k], SWEEP_STR, "%.*s", (int)(eq - a->grid[k]), a->grid[k]);
        for (int j = 0; j < k; j++)
            if (!strcmp(g->keys[j], g->keys[k])) die("--grid %s: key given twice", g->keys[k]);
        if (strlen(eq + 1) >= sizeof copy[k]) die("--grid %s: too long", a->grid[k]);
        snprintf(copy[k], sizeof copy[k], "%s", eq + 1);
        nv[k] = split_values(copy[k], vals[k], a->grid[k]);
        if (total * nv[k] > SWEEP_MAX_POINTS) die("the grid has more than %d points", SWEEP_MAX_POINTS);
        total *= nv[k];
    }
    g->n_keys = a->n_grid;
    sweep_grid_alloc(g, total);
    char **texts = xcalloc((size_t)total, sizeof *texts);
    char *sets[MAX_SETS + SWEEP_MAX_KEYS + 1];
    char assign[SWEEP_MAX_KEYS + 1][SWEEP_STR * 2];
    *threads = 0;
    for (int p = 0; p < total; p++) {
        int n = 0, rest = p;
        for (int s = 0; s < a->n_sets; s++) sets[n++] = a->sets[s];
        char *pn = g->point[p];
        for (int k = a->n_grid - 1; k >= 0; k--) {   // the first key varies slowest
            int i = rest % nv[k];
            rest /= nv[k];
            snprintf(g->value[p][k], SWEEP_STR, "%s", vals[k][i]);
        }
        size_t len = 0;
        for (int k = 0; k < a->n_grid; k++) {
            char part[SWEEP_STR];
            name_part(part, sizeof part, g->keys[k], g->value[p][k]);
            len += (size_t)snprintf(pn + len, SWEEP_STR - len, "%s%s", k ? "_" : "", part);
            if (len >= SWEEP_STR) die("point name too long: %s", pn);
            snprintf(assign[k], sizeof assign[k], "%s=%s", g->keys[k], g->value[p][k]);
            sets[n++] = assign[k];
        }
        if (strlen(a->name) + strlen(pn) + 2 > SWEEP_STR) die("point name too long: %s", pn);
        snprintf(g->run[p], SWEEP_STR, "%.100s_%.150s", a->name, pn);
        if (!valid_name(g->run[p]))
            die("run name '%s' of a point: use --name and grid values of letters, digits, '.', '_', '-' (at most 63 "
                "characters in all)", g->run[p]);
        for (int q = 0; q < p; q++)
            if (!strcmp(g->point[q], pn)) die("two points get the same name '%s': give values that differ in letters or digits", pn);
        snprintf(assign[a->n_grid], sizeof assign[0], "run.name=%s", g->run[p]);
        sets[n++] = assign[a->n_grid];
        Config c;
        Err err;
        if (config_load(&c, a->config, n, sets, &err) < 0) die("point %s: %s", pn, err.msg);
        g->dynamics[p] = c.train.stage != STAGE_AUTOENCODER;
        char files[CFG_MAX_FILES][CFG_STR];   // one file per game
        for (int f = 0, nf = cfg_data_files(&c, files); f < nf; f++)
            if (access(files[f], R_OK) != 0) {
                if (cfg_data_generate(&c, f) == GEN_NONE) die("point %s: data.path %s: %s", pn, files[f], strerror(errno));
                note_missing_data(&c, files[f], cfg_data_generate(&c, f));
            }
        if (c.run.threads > *threads) *threads = c.run.threads;
        if (a->slurm && c.run.threads == 0)
            die("point %s: --slurm needs run.threads > 0 (each task's --cpus-per-task); add --set run.threads=N", pn);
        texts[p] = config_to_string(&c);
    }
    return texts;
}

// ---------------------------------------------------------------- files

static void write_text(const char *path, const char *text) {
    Err err;
    if (write_file_atomic(path, text, strlen(text), &err) < 0) die("%s", err.msg);
}

static char *points_tsv(const SweepGrid *g) {
    StrBuf b = {0};
    sb_printf(&b, "point\trun\teval");
    for (int k = 0; k < g->n_keys; k++) sb_printf(&b, "\t%s", g->keys[k]);
    sb_printf(&b, "\n");
    for (int p = 0; p < g->n_points; p++) {
        sb_printf(&b, "%s\t%s\t%d", g->point[p], g->run[p], g->dynamics[p]);
        for (int k = 0; k < g->n_keys; k++) sb_printf(&b, "\t%s", g->value[p][k]);
        sb_printf(&b, "\n");
    }
    return b.s;
}

// sweeps/<S>/: new, or the same points as before (a sweep is written again, e.g. to run it
// another way); a folder holding other points is never touched.
static void write_points(const char *dir, const SweepGrid *g, char **texts) {
    char path[PATH_MAX];
    char *tsv = points_tsv(g);
    struct stat st;
    if (stat(dir, &st) == 0) {
        snprintf(path, sizeof path, "%s/points.tsv", dir);
        char *old = sweep_read_file(path);
        int same = old && !strcmp(old, tsv);
        for (int p = 0; same && p < g->n_points; p++) {
            snprintf(path, sizeof path, "%s/%s.ini", dir, g->point[p]);
            char *o = sweep_read_file(path);
            same = o && !strcmp(o, texts[p]);
            free(o);
        }
        free(old);
        if (!same) die("%s exists with other points or settings: choose another --name (or remove it)", dir);
    } else if (mkdir_p(dir) != 0) die("cannot create %s: %s", dir, strerror(errno));
    for (int p = 0; p < g->n_points; p++) {
        snprintf(path, sizeof path, "%s/%s.ini", dir, g->point[p]);
        write_text(path, texts[p]);
    }
    snprintf(path, sizeof path, "%s/points.tsv", dir);
    write_text(path, tsv);
    free(tsv);
    printf("%s: %d points\n", dir, g->n_points);
}

// The folder of this program (where ./train and ./eval are), absolute.
static void bin_dir(char *out, size_t cap) {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) die("cannot find this program's folder (/proc/self/exe): %s", strerror(errno));
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    *slash = 0;
    if (strlen(exe) >= cap) die("this program's folder is too long a path: %s", exe);
    memcpy(out, exe, strlen(exe) + 1);
}

static void write_sbatch(const SweepArgs *a, const char *dir, const SweepGrid *g, int threads) {
    char bin[2048], cwd[2048], path[PATH_MAX];
    bin_dir(bin, sizeof bin);
    if (!getcwd(cwd, sizeof cwd)) die("getcwd: %s", strerror(errno));
    StrBuf b = {0};
    sb_printf(&b, "#!/bin/bash\n# nemu sweep %s: %d points, one array task each (written by ./sweep --slurm).\n"
                  "# Submit: sbatch %s/job.sbatch   Summary when done: ./sweep --collect %s\n",
              a->name, g->n_points, dir, a->name);
    sb_printf(&b, "#SBATCH --job-name=nemu-%s\n#SBATCH --array=0-%d\n#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=%d\n",
              a->name, g->n_points - 1, threads);
    sb_printf(&b, "#SBATCH --signal=TERM@120\n#SBATCH --requeue\n#SBATCH --open-mode=append\n#SBATCH --chdir=%s\n"
                  "#SBATCH --output=%s/slurm-%%A_%%a.out\n", cwd, dir);
    if (a->time) sb_printf(&b, "#SBATCH --time=%s\n", a->time);
    if (a->partition) sb_printf(&b, "#SBATCH --partition=%s\n", a->partition);
    sb_printf(&b, "\npoints=(");
    for (int p = 0; p < g->n_points; p++) sb_printf(&b, "%s%s", p ? " " : "", g->point[p]);
    sb_printf(&b, ")\nruns=(");
    for (int p = 0; p < g->n_points; p++) sb_printf(&b, "%s%s", p ? " " : "", g->run[p]);
    sb_printf(&b, ")\nevals=(");
    for (int p = 0; p < g->n_points; p++) sb_printf(&b, "%s%d", p ? " " : "", g->dynamics[p]);
    sb_printf(&b, ")\ni=$SLURM_ARRAY_TASK_ID\np=${points[$i]}\n"
                  "echo \"$(date -u +%%FT%%TZ) task $i ($p) on $(hostname), restart ${SLURM_RESTART_COUNT:-0}\"\n"
                  "# SIGTERM (the time limit's --signal, scancel --signal=TERM, preemption): ./train saves and\n"
                  "# exits 143; the task requeues itself and the next start resumes the run bit for bit.\n"
                  "rc=0\nsrun %s/train %s/$p.ini --resume-or-start || rc=$?\n"
                  "if [ \"$rc\" -eq 143 ]; then\n"
                  "    scontrol requeue \"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\" && exit 0\n"
                  "fi\n[ \"$rc\" -eq 0 ] || exit \"$rc\"\n"
                  "if [ \"${evals[$i]}\" = 1 ]; then srun %s/eval --run runs/${runs[$i]} --out %s/$p || exit $?; fi\n",
              bin, dir, bin, dir);
    snprintf(path, sizeof path, "%s/job.sbatch", dir);
    write_text(path, b.s);
    chmod(path, 0755);
    free(b.s);
    printf("wrote %s (%d array tasks, --cpus-per-task=%d): submit with sbatch %s\n", path, g->n_points, threads, path);
}

// ---------------------------------------------------------------- local runs

static volatile sig_atomic_t stop_sig;
static void on_stop(int sig) { stop_sig = sig; }

// Starts point p's commands (train, then eval) as one child: sh is not needed, the child
// runs them in turn with stdout and stderr appended to sweeps/<S>/<point>.log.
static pid_t start_point(const char *bin, const char *dir, const SweepGrid *g, int p) {
    pid_t pid = fork();
    if (pid < 0) die("fork: %s", strerror(errno));
    if (pid > 0) return pid;
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    char log[1024], ini[1024], train[PATH_MAX], eval[PATH_MAX], run[1024], out[1024];
    snprintf(log, sizeof log, "%s/%s.log", dir, g->point[p]);
    snprintf(ini, sizeof ini, "%s/%s.ini", dir, g->point[p]);
    snprintf(train, sizeof train, "%s/train", bin);
    snprintf(eval, sizeof eval, "%s/eval", bin);
    snprintf(run, sizeof run, "runs/%s", g->run[p]);
    snprintf(out, sizeof out, "%s/%s", dir, g->point[p]);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) _exit(126);
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
    pid_t t = fork();
    if (t == 0) {
        execl(train, train, ini, "--resume-or-start", (char *)NULL);
        _exit(127);
    }
    int st = 0;
    while (waitpid(t, &st, 0) < 0 && errno == EINTR) {}
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    if (!g->dynamics[p]) _exit(0);
    execl(eval, eval, "--run", run, "--out", out, (char *)NULL);
    _exit(127);
}

// Runs the points N at a time; SIGINT/SIGTERM is passed on to the running points (they save
// and stop) and no new point starts. Returns the number of points that did not finish.
static int run_local(const char *dir, const SweepGrid *g, int jobs) {
    char bin[2048];
    bin_dir(bin, sizeof bin);
    struct sigaction sa = {0};
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    pid_t *pids = xcalloc((size_t)g->n_points, sizeof *pids);
    int next = 0, running = 0, failed = 0, forwarded = 0;
    while (next < g->n_points || running > 0) {
        while (!stop_sig && running < jobs && next < g->n_points) {
            printf("point %d/%d %s: started (log %s/%s.log)\n", next + 1, g->n_points, g->point[next], dir, g->point[next]);
            fflush(stdout);
            pids[next] = start_point(bin, dir, g, next);
            next++, running++;
        }
        if (stop_sig && !forwarded) {
            for (int p = 0; p < next; p++)
                if (pids[p] > 0) kill(pids[p], SIGTERM);
            forwarded = 1;
        }
        if (running == 0) break;
        int st;
        pid_t w = wait(&st);
        if (w < 0) continue;   // EINTR: a stop request
        for (int p = 0; p < next; p++)
            if (pids[p] == w) {
                pids[p] = 0, running--;
                int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
                failed += !ok;
                printf("point %s: %s", g->point[p], ok ? "done\n" : "failed");
                if (!ok) printf(" (exit %d; see %s/%s.log)\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), dir, g->point[p]);
                fflush(stdout);
            }
    }
    free(pids);
    return failed + (g->n_points - next);
}

// ---------------------------------------------------------------- main

static const char *need_arg(int argc, char **argv, int *i) {
    if (*i + 1 >= argc) die("%s needs a value (see sweep --help)", argv[*i]);
    return argv[++*i];
}

static void parse_args(int argc, char **argv, SweepArgs *a, const char **collect, const char **sort) {
    const char *name = NULL;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) { usage(stdout); exit(0); }
        else if (!strcmp(s, "--grid")) {
            if (a->n_grid == SWEEP_MAX_KEYS) die("more than %d --grid options", SWEEP_MAX_KEYS);
            a->grid[a->n_grid++] = (char *)need_arg(argc, argv, &i);
        } else if (!strcmp(s, "--set")) {
            if (a->n_sets == MAX_SETS) die("more than %d --set options", MAX_SETS);
            a->sets[a->n_sets++] = (char *)need_arg(argc, argv, &i);
        } else if (!strcmp(s, "--name")) name = need_arg(argc, argv, &i);
        else if (!strcmp(s, "--slurm")) a->slurm = 1;
        else if (!strcmp(s, "--local")) a->local = 1;
        else if (!strcmp(s, "-j")) {
            const char *v = need_arg(argc, argv, &i);
            char *end;
            long j = strtol(v, &end, 10);
            if (*end || j < 1 || j > 1024) die("-j %s: expected a number of parallel points 1..1024", v);
            a->jobs = (int)j;
        } else if (!strcmp(s, "--time")) a->time = need_arg(argc, argv, &i);
        else if (!strcmp(s, "--partition")) a->partition = need_arg(argc, argv, &i);
        else if (!strcmp(s, "--collect")) *collect = need_arg(argc, argv, &i);
        else if (!strcmp(s, "--sort")) *sort = need_arg(argc, argv, &i);
        else if (s[0] == '-') die("unknown option '%s' (see sweep --help)", s);
        else if (a->config) die("more than one config given ('%s' and '%s')", a->config, s);
        else a->config = s;
    }
    if (*collect) {
        if (a->config || a->n_grid || a->n_sets || a->slurm || a->local || name)
            die("--collect S takes no config, --grid, --set, --name, --slurm or --local");
        return;
    }
    if (*sort) die("--sort goes with --collect");
    if (!a->config) { usage(stderr); exit(2); }
    if (!a->n_grid) die("no --grid given: a sweep needs at least one --grid section.key=v1,v2,...");
    if (a->slurm && a->local) die("--slurm and --local exclude each other");
    if (a->jobs && !a->local) die("-j goes with --local");
    if ((a->time || a->partition) && !a->slurm) die("--time and --partition go with --slurm");
    if (!a->jobs) a->jobs = 1;
    if (name) snprintf(a->name, sizeof a->name, "%s", name);
    else {   // the config's stem
        const char *base = strrchr(a->config, '/');
        base = base ? base + 1 : a->config;
        size_t n = strcspn(base, ".");
        snprintf(a->name, sizeof a->name, "%.*s", (int)(n < sizeof a->name ? n : sizeof a->name - 1), base);
    }
    if (!valid_name(a->name)) die("sweep name '%s': letters, digits, '.', '_', '-' only", a->name);
    if (access(a->config, R_OK) != 0) die("%s: %s", a->config, strerror(errno));
}

int main(int argc, char **argv) {
    set_progname(argv[0]);
    SweepArgs a = {0};
    const char *collect = NULL, *sort = NULL;
    parse_args(argc, argv, &a, &collect, &sort);
    if (collect) return sweep_collect(collect, sort);
    SweepGrid g;
    int threads;
    char **texts = build_points(&a, &g, &threads);
    char dir[SWEEP_STR + 16];
    snprintf(dir, sizeof dir, "sweeps/%s", a.name);
    write_points(dir, &g, texts);
    for (int p = 0; p < g.n_points; p++) free(texts[p]);
    free(texts);
    int rc = 0;
    if (a.slurm || a.local) generate_data();
    if (a.slurm) write_sbatch(&a, dir, &g, threads);
    else if (a.local) {
        int bad = run_local(dir, &g, a.jobs);
        if (bad) fprintf(stderr, "%s: %d of %d points did not finish\n", progname(), bad, g.n_points);
        else printf("all %d points done: ./sweep --collect %s\n", g.n_points, a.name);
        rc = bad ? 1 : 0;
    }
    sweep_grid_free(&g);
    return rc;
}
