/*
 * eval.c - ./eval: evaluate trained emulators (SPEC.md section 6).
 *
 *   ./eval --compare A.png B.png    L1, SSIM and PSNR of two images (evaluation/compare.c)
 *   ./eval --recon FILE.h5 [--run DIR] [--out PNG]
 *                                   every frame of FILE (e.g. `gen tetris --edge-cases`) beside
 *                                   its reconstruction by the run's autoencoder: a PNG grid
 *                                   labelled with names and per-frame L1/SSIM, and a Markdown
 *                                   table (L1, SSIM, PSNR, and the closest other frame of FILE)
 *   ./eval [--run DIR] [--steps 1,5,10,30,60] [--episodes N] [--starts N] [--seed S]
 *          [--data FILE] [--out DIR] [--temperature T] [--samples N]
 *                                   open-loop rollout evaluation (evaluation/rollout.c)
 *
 * The run (default: the runs/<name>/ whose dyn_best.h5 is newest) supplies config.ini (data
 * file, preprocessing, split, eval defaults), dyn_best.h5 and its autoencoder (ae_best.h5 of
 * a stage = both run, else the checkpoint the dynamics file names). The test episodes are
 * recomputed with dataset_split exactly as ./train made them and checked against the run's
 * split.txt. With --data FILE of another file every episode of FILE is evaluated (none of
 * them was seen in training); the same file under another name keeps the run's split.
 * A run of several games (data.path lists one file per game): --game NAME evaluates that
 * game's file with its game column; without it src/eval_games.c evaluates each game in turn.
 *
 * Output: the Markdown table on stdout (same command, same table), and in results/<run>/
 * (or --out DIR): eval.md, eval.csv, eval.json, rollouts.png, eval_plot.png (and for VAE
 * dynamics samples.csv, and samples.png with --samples > 1: evaluation/samples.h). All are
 * written only after every computation succeeded, first as "<name>.part" and then renamed,
 * so a failure leaves no partial result and never replaces an old one halfway.
 * The time taken goes to stderr, so stdout stays reproducible.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef _OPENMP
#endif

#include "data/dataset.h"           // Dataset, Split
#include "evaluation/compare.h"     // --compare
#include "evaluation/emu_picture.h" // rollouts.png with start frame and changed pixels
#include "evaluation/emu_report.h"  // emulation measures in the reports
#include "evaluation/emulation_eval.h"   // changed-pixel L1, action sensitivity, liveliness, piece, direction
#include "evaluation/game_trace.h"  // the built-in game's knowledge (re-simulated episodes)
#include "evaluation/game_look.h"   // digit accuracy, hue error, colour bleeding (built-in game)
#include "evaluation/picture.h"     // picture_rollouts
#include "evaluation/report.h"      // tables, JSON, plot
#include "evaluation/rollout.h"     // start points, rollouts, intervals
#include "evaluation/samples.h"     // per-sample rows and diversity (vae)
#include "nn/checkpoint.h"          // checkpoint_read_meta, checkpoint_load
#include "nn/gemm.h"                // blas_init
#include "base/h5.h"                // frame_names attribute (--recon); die, Err
#include "base/alloc.h"
#include "base/rng.h"
#include "base/clock.h"
#include "base/threads.h"           // threads_use
#include "nn/dyn_conv.h"            // the conv dynamics of a spatial latent
#include "nn/dynamics.h"            // DynModel
#include "nn/model.h"               // AE
#include "base/path.h"               // path_check_file
#include "src/config.h"             // Config, config_load, config_hash
#include "src/cli.h"                // options and their values
#include "src/emu_run.h"            // the run, its checkpoints and models
#include "src/eval.h"               // eval_recon_main (--recon) and what it shares with main
#include "src/run.h"                // write_file_atomic, mkdir_p

#define EVAL_PICS 4     // start points shown in rollouts.png

static int compare_main(int argc, char **argv) {
    if (argc != 4) die("usage: eval --compare A.png B.png");
    Err err = {{0}};
    CompareResult r;
    if (compare_png_files(argv[2], argv[3], &r, &err) < 0) die("%s", err.msg);
    compare_print(stdout, argv[2], argv[3], &r);
    return 0;
}

void usage(FILE *f) {
    fprintf(f,
            "usage: eval [--run DIR] [--steps 1,5,10,30,60] [--episodes N] [--starts N] [--seed S]\n"
            "            [--data FILE] [--out DIR] [--temperature T] [--samples N]\n"
            "            [--compose T] [--deadband E] [--reencode N] [--direction-steps K] [--direction-starts N] [--replay-seeds FILE]\n"
            "            [--game NAME] [--hyp-oracle frame|cell]\n"
            "       eval --compare A.png B.png\n"
            "       eval --recon FILE.h5 [--run DIR] [--out PNG]\n"
            "Open-loop rollouts of a trained emulator on the held-out test episodes: from a real\n"
            "frame, encode once, apply the dynamics with the recorded actions, decode at each step\n"
            "and compare with the real frame (L1, SSIM, PSNR; mean and 95%% Student-t interval over\n"
            "start points), beside the copy (start frame repeated) and recon (decode(encode(frame)))\n"
            "reference rows. Defaults come from the run's config.ini [eval] section.\n"
            "  --run DIR        run folder (default: the runs/*/ with the newest dyn_best.h5)\n"
            "  --steps LIST     rollout steps to report, strictly increasing, each 1..1000\n"
            "  --episodes N     evaluate the first N test episodes (0 = all)\n"
            "  --starts N       start points per episode\n"
            "  --seed S         start-point seed (default: the run's run.seed)\n"
            "  --data FILE      evaluate on FILE with the run's preprocessing\n"
            "  --out DIR        result folder (default: results/<run name>)\n"
            "  --temperature T  vae dynamics: delta = mean + T * std * eps (0 = the mean); hypotheses:\n"
            "                   a candidate drawn from softmax(logits / T) (0 = the most likely)\n"
            "  --compose T      draw predicted frames keeping the start frame's pixels wherever the\n"
            "                   prediction moved by <= T from the decoded start frame (0 = off; default:\n"
            "                   the run's dynamics.compose)\n"
            "  --deadband E     after each step, a latent cell whose change has an RMS below E keeps its\n"
            "                   value, as ./play --deadband (0 = off; default: the run's dynamics.deadband)\n"
            "  --reencode N     every N steps, the rollout's latent becomes the encoding of its frame as drawn\n"
            "                   (composed), as ./play --reencode (0 = off; default: the run's dynamics.reencode)\n"
            "  --samples N      vae dynamics at T > 0: N sampled rollouts per start point\n"
            "  --hyp-oracle frame|cell  hypotheses: each step takes the candidate nearest the encoded true next\n"
            "                   frame (frame: training's winner-takes-all choice; cell: each grid cell its own)\n"
            "                   instead of the most probable: the rollouts a perfect chooser would give, and\n"
            "                   how often the most probable was the nearest\n"
            "  --direction-steps K   steps LEFT / RIGHT / no button are held in the direction test, and the\n"
            "                   spawn test's steps (at least 2) (default: 48 frames' worth, ceil(48 / frame_skip):\n"
            "                   one cell of gravity at level 0)\n"
            "  --direction-starts N  start frames of the direction test and of the spawn test (default 20)\n"
            "  --replay-seeds FILE   read the episodes' replay seeds from FILE (the same episodes recorded by\n"
            "                   this gen tetris; every frame is still checked) instead of the data file\n"
            "  --game NAME      a run of several games (data.path lists one file per game): evaluate game NAME\n"
            "                   alone (default: each game in turn into <out>/<game>/, then a summary table)\n"
            "Also measures emulation: changed-pixel L1, action sensitivity (dPSNR against another episode's\n"
            "actions and against no buttons), liveliness, and on files of gen tetris (re-simulated and checked\n"
            "frame by frame) the falling piece's L1 and drawn share and the LEFT/RIGHT/down direction test.\n"
            "Writes eval.md, eval.csv, eval.json, rollouts.png, eval_plot.png and starts.csv (each start point at each\n"
            "step; vae: also samples.csv, samples.png).\n"
            "--recon FILE.h5 reconstructs every frame of FILE (at most %d; e.g. gen tetris --edge-cases)\n"
            "with the autoencoder of --run DIR (default: the runs/*/ with the newest ae_best.h5) after the\n"
            "run's preprocessing; writes a PNG (default results/<run>/recon_<file stem>.png) of each frame\n"
            "beside its reconstruction and prints a table of L1, SSIM and PSNR per frame.\n", RECON_MAX_FRAMES);
}

// ---------------------------------------------------------------- the run

static void same_file_check(const char *a, const char *b, int *same) {
    struct stat sa, sb;
    *same = stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

// Reads the which-th "test:" line of split.txt (one per file of data.path) into ids (malloc'ed);
// -1 when the file or line is absent.
static int read_split_test(const char *path, int which, int **ids) {
    Err err;
    if (path_check_file(path, "split file", &err) < 0) die("%s", err.msg);   // a FIFO would block
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char *line = NULL;
    size_t cap = 0;
    int n = -1;
    *ids = NULL;
    while (getline(&line, &cap, f) > 0) {
        if (strncmp(line, "test:", 5) || which-- > 0) continue;
        n = 0;
        int cap_ids = 16;
        *ids = xmalloc((size_t)cap_ids * sizeof(int));
        char *p = line + 5, *end;
        for (;;) {
            long x = strtol(p, &end, 10);
            if (end == p) break;
            if (n == cap_ids) *ids = xrealloc(*ids, (size_t)(cap_ids *= 2) * sizeof(int));
            (*ids)[n++] = (int)x;
            p = end;
        }
        break;
    }
    free(line);
    fclose(f);
    return n;
}

// ---------------------------------------------------------------- main

typedef struct {
    const char *run, *steps, *data, *out, *replay_seeds, *game;
    long episodes, starts, samples, dir_steps, dir_starts;
    int has_seed, has_temperature, has_compose, has_deadband, has_reencode;
    HypOracle hyp_oracle;
    uint64_t seed;
    double temperature, compose, deadband;
    long reencode;
} Options;

static void parse_options(int argc, char **argv, Options *o) {
    memset(o, 0, sizeof *o);
    o->episodes = o->starts = o->samples = o->dir_steps = o->dir_starts = -1;
    static const char *const known[] = {"--run", "--steps", "--episodes", "--starts", "--seed", "--data",
                                        "--out", "--temperature", "--samples", "--compose", "--direction-steps",
                                        "--direction-starts", "--replay-seeds", "--game", "--deadband", "--reencode",
                                        "--hyp-oracle"};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { usage(stdout); exit(0); }
        char name[40];
        const char *v;
        cli_option(argc, argv, &i, known, sizeof known / sizeof *known, NULL, 0, "eval", name, sizeof name, &v);
        if (!strcmp(name, "--hyp-oracle")) {
            if (strcmp(v, "frame") && strcmp(v, "cell")) die("--hyp-oracle %s: expected frame or cell", v);
            o->hyp_oracle = strcmp(v, "frame") ? HYP_ORACLE_CELL : HYP_ORACLE_FRAME;
        } else if (!strcmp(name, "--run")) o->run = v;
        else if (!strcmp(name, "--steps")) o->steps = v;
        else if (!strcmp(name, "--data")) o->data = v;
        else if (!strcmp(name, "--out")) o->out = v;
        else if (!strcmp(name, "--replay-seeds")) o->replay_seeds = v;
        else if (!strcmp(name, "--game")) o->game = v;
        else if (!strcmp(name, "--episodes")) o->episodes = cli_long(name, v, 0, 1000000);
        else if (!strcmp(name, "--starts")) o->starts = cli_long(name, v, 1, 100000);
        else if (!strcmp(name, "--samples")) o->samples = cli_long(name, v, 1, 1000);
        else if (!strcmp(name, "--direction-steps")) o->dir_steps = cli_long(name, v, 1, 1000);
        else if (!strcmp(name, "--direction-starts")) o->dir_starts = cli_long(name, v, 1, 100000);
        else if (!strcmp(name, "--seed")) o->seed = cli_u64(name, v), o->has_seed = 1;
        else if (!strcmp(name, "--temperature")) o->temperature = cli_double(name, v, 0, 1e6), o->has_temperature = 1;
        else if (!strcmp(name, "--compose")) o->compose = cli_double(name, v, 0, 1), o->has_compose = 1;
        else if (!strcmp(name, "--deadband")) o->deadband = cli_double(name, v, 0, 5), o->has_deadband = 1;
        else if (!strcmp(name, "--reencode")) o->reencode = cli_long(name, v, 0, 100000), o->has_reencode = 1;
    }
}

// What main's phases hand on: the run and its config, the evaluation settings, the two
// checkpoints, the data and the episodes and start points evaluated.
typedef struct {
    EmuRun R;                    // the run, its config and checkpoints
    const char *data_path, *split_kind;
    uint64_t seed;
    int steps[CFG_MAX_STEPS], n_steps, starts, episodes, samples, K, reencode;
    HypOracle hyp_oracle;
    double temperature, compose, deadband;
    int own_data;
    int game, n_files;                       // --game's index among the run's files (0: one file)
    char files[CFG_MAX_FILES][CFG_STR];      // the run's data.path, one file per game
    Dataset ds;
    int *eval_eps, n_pool, n_eval, skipped;   // the episodes evaluated (n_eval of a pool of n_pool)
    StartPoint *sp;                           // N start points in them
    int N;
} EvalRun;

// The evaluation settings: the run's [eval] section, then the options.
static void eval_settings(const Options *o, EvalRun *E) {
    E->n_steps = E->R.cfg.eval.n_steps;
    memcpy(E->steps, E->R.cfg.eval.steps, sizeof E->steps);
    if (o->steps) {
        Err err = {{0}};
        E->n_steps = steps_parse(o->steps, 1, 1000, E->steps, &err);
        if (E->n_steps < 0) die("--steps %s", err.msg);
    }
    E->starts = o->starts > 0 ? (int)o->starts : E->R.cfg.eval.starts;
    E->episodes = o->episodes >= 0 ? (int)o->episodes : E->R.cfg.eval.episodes;
    E->temperature = o->has_temperature ? o->temperature : E->R.cfg.eval.temperature;
    E->samples = o->samples > 0 ? (int)o->samples : E->R.cfg.eval.samples;
    E->compose = o->has_compose ? o->compose : E->R.cfg.dynamics.compose;
    E->deadband = o->has_deadband ? o->deadband : E->R.cfg.dynamics.deadband;
    E->reencode = o->has_reencode ? (int)o->reencode : E->R.cfg.dynamics.reencode;
    E->seed = o->has_seed ? o->seed : E->R.cfg.run.seed;
    if (!E->R.stochastic && E->temperature > 0)
        die("temperature %g: the dynamics model of %s is deterministic (dynamics.type = deterministic, "
            "hypotheses = 1); temperature and samples apply to dynamics.type = vae or hypotheses > 1 only",
            E->temperature, E->R.run_dir);
    if (!E->R.stochastic && E->samples > 1)
        die("samples %d: the dynamics model of %s is deterministic (dynamics.type = deterministic, hypotheses = 1); "
            "every sample would be the same rollout", E->samples, E->R.run_dir);
    if (E->R.stochastic && E->samples > 1 && E->temperature == 0)
        die("samples %d at temperature 0: every sample of %s is the mean rollout (give --temperature T > 0)",
            E->samples, E->R.run_dir);
    if (o->hyp_oracle && E->R.dyn_hyp < 2)
        die("--hyp-oracle: the dynamics model of %s has no hypotheses to choose among (dynamics.hypotheses = %d)",
            E->R.run_dir, E->R.dyn_hyp);
    if (o->hyp_oracle && (E->samples > 1 || E->temperature > 0))
        die("--hyp-oracle: the oracle's choice is one rollout per start point; drop --samples and --temperature");
    E->hyp_oracle = o->hyp_oracle;
    E->K = E->steps[E->n_steps - 1];
    threads_use(E->R.cfg.run.threads);
}

static void eval_data(const Options *o, EvalRun *E) {
    Err err = {{0}};
    E->data_path = o->data ? o->data : E->files[E->game];
    if (!readable(E->data_path)) {
        if (o->data) die("--data %s: %s", o->data, strerror(errno));
        die("%s: data.path = %s (from %s) is not readable here: run ./eval from the folder ./train ran in, or pass "
            "--data FILE", E->R.run_dir, E->R.cfg.data.path, E->R.cfg_path);
    }
    E->own_data = 1;
    if (o->data) same_file_check(o->data, E->files[E->game], &E->own_data);
    Preprocess pp = {E->R.cfg.data.height, E->R.cfg.data.width, E->R.cfg.data.channels};
    char files[CFG_MAX_FILES][CFG_STR];   // the game's file (or --data) among the run's, for its game column
    memcpy(files, E->files, sizeof files);
    snprintf(files[E->game], sizeof files[0], "%s", E->data_path);
    if (dataset_load_games(&E->ds, files, E->n_files, E->n_files > 1 ? E->game : -1, &pp, E->R.cfg.data.accept_odd,
                           &err) < 0) {
        if (o->data) die("%s (the run's autoencoder takes %dx%dx%d frames, HxWxC)", err.msg, E->R.ac.H, E->R.ac.W, E->R.ac.C);
        die("%s", err.msg);
    }
    if (E->ds.H != E->R.ac.H || E->ds.W != E->R.ac.W || E->ds.C != E->R.ac.C)
        die("%s: frames are %dx%dx%d (HxWxC) after the run's preprocessing, but the autoencoder %s takes %dx%dx%d",
            E->data_path, E->ds.H, E->ds.W, E->ds.C, E->R.ae_path, E->R.ac.H, E->R.ac.W, E->R.ac.C);
    if (E->ds.A != E->R.dyn_A)
        die("%s: %d action buttons per step, but the dynamics model %s takes %d", E->data_path, E->ds.A, E->R.dyn_path,
            E->R.dyn_A);

    E->eval_eps = NULL, E->n_pool = 0;
    E->split_kind = E->own_data ? "test" : "all";
    if (E->own_data) {
        Split split;
        if (dataset_split(&split, E->ds.n_episodes, E->R.cfg.data.test_episodes, E->R.cfg.data.val_split, E->R.cfg.run.seed,
                          &err) < 0)
            die("%s: %s", E->data_path, err.msg);
        int *ids = NULL;
        int n_ids = read_split_test(E->R.split_path, E->game, &ids);
        if (n_ids >= 0) {   // the trainer's own record must agree
            int same = n_ids == split.n_test;
            for (int i = 0; same && i < n_ids; i++) same = ids[i] == E->ds.ep_id[split.test[i]];
            if (!same)
                die("%s: its test episodes differ from the split of %s recomputed with the run's settings: the data "
                    "file changed since training", E->R.split_path, E->data_path);
        }
        free(ids);
        E->n_pool = split.n_test;
        E->eval_eps = xmalloc((size_t)(E->n_pool > 0 ? E->n_pool : 1) * sizeof(int));
        memcpy(E->eval_eps, split.test, (size_t)E->n_pool * sizeof(int));
        split_free(&split);
        if (E->n_pool == 0) die("%s: the run holds out no test episodes (data.test_episodes = 0)", E->R.run_dir);
    } else {
        E->n_pool = E->ds.n_episodes;
        E->eval_eps = xmalloc((size_t)E->n_pool * sizeof(int));
        for (int i = 0; i < E->n_pool; i++) E->eval_eps[i] = i;
    }
    if (E->episodes > E->n_pool)
        die("--episodes %d: %s has only %d%s episodes", E->episodes, E->own_data ? E->R.run_dir : E->data_path, E->n_pool,
            E->own_data ? " test" : "");
    E->n_eval = E->episodes > 0 ? E->episodes : E->n_pool;
    if (select_starts(&E->ds, E->eval_eps, E->n_eval, E->starts, E->K, E->seed, &E->sp, &E->N, &err) < 0)
        die("%s", err.msg);
    E->skipped = 0;
    for (int i = 0; i < E->n_eval; i++) E->skipped += dataset_ep_transitions(&E->ds, E->eval_eps[i]) < E->K;
}

// Every result file into out_dir (--out, or results/<run>), each first as "<name>.part", then
// all renamed: a failure leaves no partial result and replaces no old one (dies with why).
static void write_results(const Options *o, const EvalRun *E, char *out_dir, size_t cap, const char *md,
                          const char *csv, const char *json, const char *scsv, const EmuResult *er,
                          const RolloutResult *rr, const EvalReport *rep, int n_pic) {
    Err err = {{0}};
    int len = o->out ? snprintf(out_dir, cap, "%s", o->out)
              : E->n_files > 1 ? snprintf(out_dir, cap, "results/%s/%s", E->R.run_name, E->ds.games[E->game])
                               : snprintf(out_dir, cap, "results/%s", E->R.run_name);
    if (len < 0 || (size_t)len >= cap) die("--out %s: path too long", o->out ? o->out : E->R.run_name);
    if (mkdir_p(out_dir) != 0) die("--out %s: cannot create the folder: %s", out_dir, strerror(errno));
    enum { F_MD, F_CSV, F_JSON, F_ROLL, F_PLOT, F_STARTS, F_SAMPLES, F_SPIC, F_N };
    static const char *const names[F_N] = {"eval.md", "eval.csv", "eval.json", "rollouts.png", "eval_plot.png",
                                           "starts.csv", "samples.csv", "samples.png"};
    char *starts = report_starts_csv(rep, rr);
    const int n_files = E->R.stochastic && E->samples > 1 ? F_N : E->R.stochastic ? F_N - 1 : F_N - 2;
    char final[F_N][PATH_MAX + 32], part[F_N][PATH_MAX + 48];
    for (int i = 0; i < F_N; i++)
        if (snprintf(final[i], sizeof final[i], "%s/%s", out_dir, names[i]) >= (int)sizeof final[i] ||
            snprintf(part[i], sizeof part[i], "%s.part", final[i]) >= (int)sizeof part[i])
            die("--out %s: path too long", out_dir);
    int ok = write_file_atomic(part[F_MD], md, strlen(md), &err) == 0 &&
             write_file_atomic(part[F_CSV], csv, strlen(csv), &err) == 0 &&
             write_file_atomic(part[F_JSON], json, strlen(json), &err) == 0 &&
             picture_rollouts_marked(part[F_ROLL], er->pic_start, er->pic_pred0, rr->pic_truth, rr->pic_pred, n_pic,
                                     E->n_steps, E->steps, E->ds.C, E->ds.H, E->ds.W, &err) == 0 &&
             report_plot(part[F_PLOT], rep, &err) == 0 &&
             write_file_atomic(part[F_STARTS], starts, strlen(starts), &err) == 0 &&
             (!E->R.stochastic || write_file_atomic(part[F_SAMPLES], scsv, strlen(scsv), &err) == 0) &&
             (n_files <= F_SPIC || samples_picture(part[F_SPIC], rr, E->steps, E->temperature, &err) == 0);
    for (int i = 0; ok && i < n_files; i++)
        if (rename(part[i], final[i]) != 0) {
            err_set(&err, "cannot write %s: %s", final[i], strerror(errno));
            ok = 0;
        }
    free(starts);
    if (!ok) {
        for (int i = 0; i < F_N; i++) unlink(part[i]);
        die("%s", err.msg);
    }
}

// One game (a run's only game, or --game's, or each game of a run of several in turn): the models,
// the rollouts and every measure, the result files, the tables on stdout. rows (NULL: not wanted):
// [n_steps] the model / copy / recon rows per step, for eval_games_main's summary.
static void eval_game(const Options *o, EvalRun *E, double t_start, EvalGameRow *rows) {
    eval_settings(o, E);
    eval_data(o, E);

    // ---- models
    int B = E->N * E->samples < EVAL_BATCH ? E->N * E->samples : EVAL_BATCH;   // rows: start points x samples
    if (B < E->samples) B = E->samples;
    Rng rng;
    rng_seed(&rng, 0);
    AE ae;
    DynModel dyn;
    emu_run_models(&E->R, B, &rng, &ae, &dyn);
    Rng eps_rng;   // the vae's eps: seeded by the evaluation seed, so a command repeats its samples
    rng_seed(&eps_rng, E->seed ^ 0x5851f42d4c957f2dull);
    dyn.temperature = (float)E->temperature;
    dyn.rng = &eps_rng;

    // ---- the game's trace (the emulation measures' and the enemies' region), then the rollouts
    double t_emu = now_seconds();
    GameTrace gt;
    game_trace_build_from(&gt, &E->ds, E->eval_eps, E->n_eval, o->replay_seeds ? o->replay_seeds : E->data_path);
    if (!gt.available) fprintf(stderr, "eval: game-aware measures unavailable: %s\n", gt.reason);
    t_emu = now_seconds() - t_emu;
    double t_roll = now_seconds();
    int n_pic = E->N < EVAL_PICS ? E->N : EVAL_PICS;
    RolloutResult rr;
    const ClosedLoop loop = {(float)E->compose, (float)E->deadband, E->reencode, E->hyp_oracle};
    rollout_eval(&ae, &dyn, &E->ds, E->sp, E->N, E->steps, E->n_steps, n_pic, E->samples, &loop, &gt, &rr);
    t_roll = now_seconds() - t_roll;
    const long hyp_choices = dyn.oracle_choices, hyp_agree = dyn.oracle_agree;   // the model row's (the tests add theirs)

    // ---- emulation measures (game-aware ones when the game can be re-simulated)
    t_emu -= now_seconds();   // the trace's time so far, plus the measures' below
    Emulator em;
    AeDynEmu emctx;
    emulator_ae_dyn(&em, &emctx, &ae, &dyn);
    emulator_ae_dyn_loop(&em, &emctx, loop);
    EmuResult er;
    emu_eval(&em, &E->ds, &gt, E->sp, E->N, E->steps, E->n_steps, rr.pic_idx, n_pic, &er);
    const int dir_frames = gt.game && gt.game->eval ? gt.game->eval->dir_frames : 48;   // Tetris: 48
    int dir_k = o->dir_steps > 0 ? (int)o->dir_steps : gt.K > 0 ? (dir_frames + gt.K - 1) / gt.K : 12;
    const int dir_n = o->dir_starts > 0 ? (int)o->dir_starts : 20;
    emu_direction_test(&em, &E->ds, &gt, E->eval_eps, E->n_eval, dir_k, dir_n, &er);
    emu_spawn_test(&em, &E->ds, &gt, E->eval_eps, E->n_eval, dir_k < 2 ? 2 : dir_k, dir_n, &er);
    EmuStats es;
    emu_stats_init(&es, &er, E->steps);
    GameLook look;
    char *look_md = NULL, *look_json;
    if (game_look_init(&look, &gt) == 0) {
        game_look_eval(&look, &em, &E->ds, E->eval_eps, E->n_eval, E->sp, E->N, E->steps, E->n_steps);
        look_md = game_look_markdown(&look);
        look_json = game_look_json(&look, NULL);
        game_look_free(&look);
    } else look_json = game_look_json(NULL, gt.reason);
    t_emu += now_seconds();

    int *eval_ids = xmalloc((size_t)E->n_eval * sizeof(int));
    for (int i = 0; i < E->n_eval; i++) eval_ids[i] = E->ds.ep_id[E->eval_eps[i]];
    int *sp_ids = xmalloc((size_t)E->N * sizeof(int));
    for (int i = 0; i < E->N; i++) sp_ids[i] = E->ds.ep_id[E->sp[i].e];
    EvalReport rep = {
        .run_dir = E->R.run_dir, .run_name = E->R.run_name, .dyn_ckpt = E->R.dyn_path, .ae_ckpt = E->R.ae_path,
        .config_hash = E->R.chash,
        .data_path = E->data_path, .C = E->ds.C, .H = E->ds.H, .W = E->ds.W, .split_kind = E->split_kind,
        .split_seed = E->R.cfg.run.seed, .eval_ids = eval_ids, .n_eval_eps = E->n_eval, .n_split_eps = E->n_pool,
        .skipped_eps = E->skipped, .seed = E->seed, .starts = E->starts, .sp = E->sp, .sp_ids = sp_ids, .n_starts = E->N,
        .compose = E->compose, .deadband = E->deadband, .reencode = E->reencode, .hyp_oracle = E->hyp_oracle,
        .hyp_choices = hyp_choices, .hyp_agree = hyp_agree, .hyp_cell = dyn.choice_cell,
        .steps = E->steps, .n_steps = E->n_steps, .rows = report_rows(&rr), .paired = report_paired(&rr),
        .emu = &es};
    char *md = report_markdown(&rep), *csv = report_csv(&rep), *json = report_json(&rep);
    json = json_add_member(json, look_json);
    free(look_json);
    char *smd = E->R.stochastic ? samples_markdown(&rr, E->steps, E->temperature) : NULL;
    char *scsv = E->R.stochastic ? samples_csv(&rr, E->steps, E->temperature) : NULL;
    if (smd) {   // eval.md gets the samples section
        md = xrealloc(md, strlen(md) + strlen(smd) + 1);
        strcat(md, smd);
    }
    if (look_md) {   // and the colour and digits section
        md = xrealloc(md, strlen(md) + strlen(look_md) + 1);
        strcat(md, look_md);
        free(look_md);
    }

    // ---- results: everything as .part files first, then renamed
    char out_dir[PATH_MAX];
    write_results(o, E, out_dir, sizeof out_dir, md, csv, json, scsv, &er, &rr, &rep, n_pic);
    fputs(md, stdout);
    fflush(stdout);
    fprintf(stderr, "eval: %d rollouts of %d steps in %.2fs, emulation measures in %.2fs (%.2fs in all); results in %s/\n",
            E->N, E->K, t_roll, t_emu, now_seconds() - t_start, out_dir);
    emu_stats_free(&es);
    emu_result_free(&er);
    emulator_ae_dyn_free(&emctx);
    game_trace_free(&gt);

    for (int j = 0; rows && j < E->n_steps; j++) {   // the summary of a run of several games
        rows[j].step = E->steps[j];
        for (int k = 0; k < ROW_KINDS; k++) {
            const RowStats *r = &rep.rows[j * ROW_KINDS + k];
            rows[j].ssim[k] = r->ssim.mean, rows[j].ci[k] = r->ssim.half, rows[j].l1[k] = r->l1.mean;
        }
    }
    free(md), free(csv), free(json), free(rep.rows), free(rep.paired), free(smd), free(scsv);
    free(eval_ids), free(sp_ids), free(E->sp), free(E->eval_eps);
    rollout_result_free(&rr);
    ae_free(&ae);
    dynm_free(&dyn);
    dataset_free(&E->ds);
}

typedef struct { const Options *o; const EmuRun *R; } GamesCtx;

// Game g of a run of several into out_dir, as `./eval --game G --out out_dir` would (EvalGameFn).
static int eval_game_cb(void *p, int game, const char *out_dir, EvalGameRow *rows) {
    const GamesCtx *c = p;
    Options o = *c->o;
    o.out = out_dir;
    EvalRun *E = xcalloc(1, sizeof *E);
    E->R = *c->R;
    E->R.run_name = strrchr(E->R.run_dir, '/') ? strrchr(E->R.run_dir, '/') + 1 : E->R.run_dir;
    E->n_files = cfg_data_files(&E->R.cfg, E->files);
    E->game = game;
    eval_game(&o, E, now_seconds(), rows);
    int n = E->n_steps;
    free(E);
    return n;
}

int main(int argc, char **argv) {
    set_progname(argv[0]);
    if (argc >= 2 && !strcmp(argv[1], "--compare")) return compare_main(argc, argv);
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--recon") || !strncmp(argv[i], "--recon=", 8)) return eval_recon_main(argc, argv);
    double t_start = now_seconds();
    Options o;
    parse_options(argc, argv, &o);
    if (o.replay_seeds && !readable(o.replay_seeds)) die("--replay-seeds %s: %s", o.replay_seeds, strerror(errno));

    EvalRun E;
    memset(&E, 0, sizeof E);
    emu_run_open(o.run, &E.R);
    E.n_files = cfg_data_files(&E.R.cfg, E.files);
    E.game = eval_game_index(&E.R, E.n_files, o.game, o.data);
    if (E.game < 0) {   // each game in turn, then a summary
        GamesCtx ctx = {&o, &E.R};
        return eval_games_main(&E.R, o.out, eval_game_cb, &ctx);
    }
    eval_game(&o, &E, t_start, NULL);
    return 0;
}
