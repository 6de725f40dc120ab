/*
 * train.c - ./train CONFIG [--set section.key=value ...] [--resume] [--force]
 *
 * Trains the stage(s) a config names (SPEC.md §5): the autoencoder (L1 reconstruction,
 * roadmap 1.2) and/or the latent dynamics (src/train_dyn.c: MSE on z_{t+1} - z_t, roadmap
 * 1.3; VAE and K-step rollouts with scheduled sampling, phase 3), writing runs/<name>/:
 * config.ini, split.txt, log.csv, {ae,dyn}_{last,best}.h5, recon.png, loss.png, rollout.png.
 *
 * Order of work: everything that can fail on bad input (config, data, models, checkpoint of
 * the autoencoder a dynamics stage needs) is done before the run folder exists, so a failed
 * start leaves nothing behind. The folder is assembled as runs/<name>.tmp.<pid> and renamed.
 *
 * Resume: every epoch ends with <stage>_last.h5 (weights, Adam state, position);
 * SIGINT/SIGTERM also saves it mid-epoch. The shuffle of epoch e is a pure function of
 * (seed, stage, e), so a resumed run replays exactly what the uninterrupted one would do.
 */
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/dataset.h"
#include "data/game.h"
#include "evaluation/picture.h"
#include "nn/checkpoint.h"
#include "nn/dyn_conv.h"
#include "nn/dynamics.h"
#include "nn/gemm.h"
#include "nn/health.h"
#include "nn/wloss.h"
#include "nn/model.h"
#include "nn/ops.h"
#include "nn/optim.h"
#include "base/err.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "base/clock.h"
#include "base/dist.h"
#include "base/threads.h"
#include "base/path.h"   // path_check_file, remove_stale_temps_in
#include "src/config.h"
#include "src/run.h"
#include "src/train.h"

#define MAX_SETS 64
#define MAX_EPOCHS 100000

const char *const stage_name[2] = {"autoencoder", "dynamics"};
const char *const stage_prefix[2] = {"ae", "dyn"};
static const char *part_names = "train_mse,train_kl,val_mse,val_kl,sampling_p";


static void usage(FILE *f) {
    fprintf(f,
            "usage: train CONFIG.ini [--set section.key=value ...] [--resume | --resume-or-start] [--force] [--init FILE]\n"
            "       train --help-config      print every config key with its default\n"
            "Trains the stages the config names and writes runs/<run.name>/ (see README).\n"
            "  --set k=v   override a config key (repeatable)\n"
            "  --resume    continue runs/<name> from its last checkpoint (same config)\n"
            "  --resume-or-start  --resume when runs/<name> exists, else start it (batch jobs)\n"
            "  --force     replace an existing runs/<name>\n"
            "  --init FILE start the first stage from these weights (HDF5 /state_dict/<name>, e.g. from PyTorch)\n");
    if (dist_built())
        fprintf(f, "Built with MPI: mpirun -np N ./train CONFIG.ini trains one model data-parallel over N ranks\n"
                   "(train.batch_size stays the global batch).\n");
}

// ---------------------------------------------------------------- helpers

const char *path_in_run(const Trainer *tr, const char *name) {
    static char buf[4][1200];   // a few live results at once; used only on the main thread
    static int k;
    k = (k + 1) % 4;
    return run_file(&tr->rd, name, buf[k], sizeof buf[k]);
}

static double peak_rss_mb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

static void log_add(Trainer *tr, LogRow r) {
    if (tr->n_log == tr->cap_log) {
        tr->cap_log = tr->cap_log ? 2 * tr->cap_log : 64;
        tr->log = xrealloc(tr->log, tr->cap_log * sizeof *tr->log);
    }
    tr->log[tr->n_log++] = r;
}

static void log_write(const Trainer *tr) {
    size_t cap = 256 + (size_t)tr->n_log * 640, n = 0;
    char *s = xmalloc(cap);
    n += snprintf(s + n, cap - n, "stage,epoch,train_loss,val_loss,lr,seconds,samples_per_s,%s,grad_norm,out_saturated,"
                                  "out_saturated_wrong,dead_relu\n", part_names);
    for (int i = 0; i < tr->n_log; i++) {
        const LogRow *r = &tr->log[i];
        n += snprintf(s + n, cap - n, "%s,%d,%.8g,%.8g,%.6g,%.3f,%.1f", stage_name[r->stage],
                      r->epoch + 1, r->train, r->val, r->lr, r->seconds, r->rate);
        for (int k = 0; k < N_PARTS; k++)
            n += isnan(r->parts[k]) ? snprintf(s + n, cap - n, ",") : snprintf(s + n, cap - n, ",%.8g", r->parts[k]);
        const double health[3] = {r->grad_norm, r->saturated, r->sat_wrong};
        for (int k = 0; k < 3; k++)
            n += isfinite(health[k]) ? snprintf(s + n, cap - n, ",%.6g", health[k]) : snprintf(s + n, cap - n, ",");
        n += snprintf(s + n, cap - n, ",%s\n", r->dead);
    }
    Err err;
    if (write_file_atomic(path_in_run(tr, "log.csv"), s, n, &err) < 0) warn("%s", err.msg);
    free(s);
}

// Reads log.csv of a run being resumed, keeping rows before (stage, epoch).
static void log_read(Trainer *tr, int stage, int epoch) {
    Err err;
    if (path_check_file(path_in_run(tr, "log.csv"), "CSV file", &err) < 0) die("%s", err.msg);
    FILE *f = fopen(path_in_run(tr, "log.csv"), "r");
    if (!f) return;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char st[32];
        LogRow r = {0};
        if (sscanf(line, "%31[^,],%d,%lf,%lf,%lf,%lf,%lf", st, &r.epoch, &r.train, &r.val, &r.lr,
                   &r.seconds, &r.rate) != 7) continue;
        const char *f = line;   // the parts after the 7th comma; empty fields are NaN
        for (int k = 0; k < 7 && f; k++) f = strchr(f, ',') ? strchr(f, ',') + 1 : NULL;
        for (int k = 0; k < N_PARTS; k++) {
            char *end;
            r.parts[k] = f ? strtod(f, &end) : NAN;
            if (!f || end == f) r.parts[k] = NAN;
            f = f && strchr(f, ',') ? strchr(f, ',') + 1 : NULL;
        }
        double *health[3] = {&r.grad_norm, &r.saturated, &r.sat_wrong};   // absent in older logs: NaN
        for (int k = 0; k < 3; k++) {
            char *end;
            *health[k] = f ? strtod(f, &end) : NAN;
            if (!f || end == f) *health[k] = NAN;
            f = f && strchr(f, ',') ? strchr(f, ',') + 1 : NULL;
        }
        if (f) snprintf(r.dead, sizeof r.dead, "%.*s", (int)strcspn(f, "\r\n"), f);
        r.stage = !strcmp(st, "dynamics") ? ST_DYN : ST_AE;
        r.epoch -= 1;   // log.csv counts epochs from 1
        if (r.stage < stage || (r.stage == stage && r.epoch < epoch)) log_add(tr, r);
    }
    fclose(f);
}

static void loss_plot(const Trainer *tr) {
    static const char *names[2][2] = {{"autoencoder train (L1)", "autoencoder val (L1)"},
                                      {"dynamics train (MSE)", "dynamics val (MSE)"}};
    size_t len = (size_t)tr->n_log + 1;
    double *buf = xmalloc(4 * 2 * len * sizeof(double));   // (stage, train|val) x (x, y)
    PlotSeries s[4];
    int ns = 0;
    for (int st = 0; st < 2; st++)
        for (int which = 0; which < 2; which++) {
            double *sx = buf + (size_t)ns * 2 * len, *sy = sx + len;
            int n = 0;
            for (int i = 0; i < tr->n_log; i++)
                if (tr->log[i].stage == st) {
                    sx[n] = tr->log[i].epoch + 1;
                    sy[n] = which ? tr->log[i].val : tr->log[i].train;
                    n++;
                }
            if (n) s[ns++] = (PlotSeries){names[st][which], sx, sy, n};
        }
    // a log10 y axis when the losses span a decade or more (positive ones), else a linear one
    double lo = INFINITY, hi = 0;
    for (int k = 0; k < ns; k++)
        for (int i = 0; i < s[k].n; i++)
            if (isfinite(s[k].y[i]) && s[k].y[i] > 0) lo = fmin(lo, s[k].y[i]), hi = fmax(hi, s[k].y[i]);
    if (ns) {
        PlotSpec p = {.title = tr->cfg.run.name, .xlabel = "epoch", .ylabel = "loss", .logy = hi >= 10 * lo};
        Err err;
        if (plot_lines_png(path_in_run(tr, "loss.png"), &p, s, ns, &err) < 0) warn("%s", err.msg);
    }
    free(buf);
}

#define BLAS_ALLOWANCE ((size_t)8 << 20)   // OpenBLAS per-thread buffers and thread stacks (measured)

static size_t current_rss_bytes(void) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

static void print_memory(const char *what, size_t bytes) {
    printf("  %-28s %8.1f MB\n", what, bytes / 1048576.0);
}

// The run folder of a --force run while the run it replaced is still kept aside (RunDir.old):
// the first checkpoint removes the old run; an exit before that puts it back (atexit).
static RunDir *g_replacing;

static void put_replaced_run_back(void) {
    if (g_replacing) run_dir_restore_old(g_replacing);
}

// Saves <stage>_last.h5 (and copies to best when asked) with the position to resume from.
static void save_ckpt(const Trainer *tr, const char *file, const ParamArena *a, CkptMeta *meta) {
    Err err;
    ckpt_set_i64(meta, "config_hash", (int64_t)config_hash(&tr->cfg));
    if (tr->ds.n_games > 0) {   // several games (roadmap 5.3): their names, in the order of the game columns
        char games[DATASET_MAX_GAMES * 65] = "";
        for (int g = 0; g < tr->ds.n_games; g++)
            snprintf(games + strlen(games), sizeof games - strlen(games), "%s%s", g ? "," : "", tr->ds.games[g]);
        ckpt_set_str(meta, "games", games);
    }
    if (checkpoint_save(path_in_run(tr, file), a, meta, &err) == 0) {
        if (g_replacing) run_dir_drop_old(g_replacing);
        g_replacing = NULL;
    } else {
        if (strstr(err.msg, "non-finite"))   // weights or Adam state diverged though the loss did not
            die("%s (%s training diverged by epoch %ld; any earlier checkpoint is kept: lower train.lr or set "
                "train.max_grad_norm)", err.msg, meta->model, meta->epoch);
        die("%s", err.msg);
    }
}

// A stop request (SIGINT/SIGTERM) seen before batch `batch` of `epoch`: save the position and
// the epoch's running loss sum, so the resumed epoch logs the same mean, then exit.
static void stop_if_requested(const Trainer *tr, StageId st, int epoch, long batch, double loss_sum, long samples,
                              const double part_sum[2], const ParamArena *a, CkptMeta *meta, Progress *pg) {
    int sig = dist_stop_signal();
    if (!sig) return;
    progress_clear(pg);
    if (dist_rank() > 0) {   // rank 0 saves for all: the ranks hold the same weights
        dist_finalize();
        exit(128 + sig);
    }
    meta->epoch = epoch;
    ckpt_set_i64(meta, "batch", batch);
    ckpt_set_f64(meta, "epoch_loss_sum", loss_sum);
    ckpt_set_i64(meta, "epoch_samples", samples);
    ckpt_set_f64(meta, "epoch_mse_sum", part_sum[0]);
    ckpt_set_f64(meta, "epoch_kl_sum", part_sum[1]);
    char file[64];
    snprintf(file, sizeof file, "%s_last.h5", stage_prefix[st]);
    save_ckpt(tr, file, a, meta);
    fprintf(stderr, "%s: stopped by %s in %s epoch %d at batch %ld; saved %s; continue with --resume\n",
            progname(), sig == SIGINT ? "SIGINT" : "SIGTERM", stage_name[st], epoch + 1, batch,
            path_in_run(tr, file));
    dist_finalize();
    exit(128 + sig);
}

static void nan_stop(const Trainer *tr, StageId st, int epoch, long batch, float loss) {
    char file[64];
    snprintf(file, sizeof file, "%s_last.h5", stage_prefix[st]);
    const char *p = path_in_run(tr, file);
    int have = access(p, R_OK) == 0;
    die("%s loss is %s at epoch %d, batch %ld: training stopped; %s%s", stage_name[st], isnan(loss) ? "NaN" : "Inf",
        epoch + 1, batch, have ? "the last good checkpoint is " : "this stage has no checkpoint yet",
        have ? p : "");
}

static Adam make_adam(const Config *c, double lr) {
    Adam o = adam_default((float)lr);
    o.weight_decay = (float)c->train.weight_decay;
    o.decoupled = c->train.optimizer == OPT_ADAMW;
    return o;
}

// ---------------------------------------------------------------- the epoch loop of any stage


static void shuffle_epoch(const Config *c, StageId st, int epoch, Sampler *s) {
    Rng er;
    rng_seed(&er, epoch_seed(c->run.seed, st, epoch));
    sampler_shuffle(s, &er);
}

// "  ETA 1:02:03" (or "  ETA 02:03") of the epochs left in a stage at the mean epoch time so
// far, " (+ dynamics)" while a later stage of the run is still to come (its time is not known
// before it runs); after a stage's last epoch nothing, or "  (dynamics next)".
static const char *eta_str(char *buf, size_t cap, const Trainer *tr, const Stage *s, int done, double secs, int n) {
    const int left = (int)(s->epochs - done > 0 ? (s->epochs - done) * (secs / n) + 0.5 : 0);
    const char *more = s->id == ST_AE && tr->cfg.train.stage == STAGE_BOTH ? " (+ dynamics)" : "";
    if (done >= s->epochs) snprintf(buf, cap, "%s", *more ? "  (dynamics next)" : "");
    else if (left >= 3600)
        snprintf(buf, cap, "  ETA %d:%02d:%02d%s", left / 3600, left / 60 % 60, left % 60, more);
    else
        snprintf(buf, cap, "  ETA %02d:%02d%s", left / 60, left % 60, more);
    return buf;
}

// Epochs of a stage with Adam, from the resume point (if any) to the end: progress, stop
// requests, NaN guard, validation, log.csv, loss.png, <stage>_last.h5 and _best.h5.
void run_stage(Trainer *tr, Stage *s, CkptMeta *meta) {
    const Config *c = &tr->cfg;
    const int B = c->train.batch_size;   // the global batch (s->batch: this rank's most, base/dist.h)
    const int root = dist_rank() == 0;   // writes the run's files
    Adam opt = make_adam(c, s->lr);
    int epoch0 = 0;
    long batch0 = 0, samples0 = 0;
    double best = INFINITY, sum0 = 0, part0[2] = {0, 0};
    long nb = (long)sampler_batches(s->train, B);
    if (tr->resume && resume_stage(tr, s, nb, meta, &epoch0, &batch0, &sum0, &samples0, part0)) {
        opt.t = meta->step;
        const CkptAttr *b = ckpt_get(meta, "best_val");
        if (b) best = b->f;
        if (epoch0 >= s->epochs)
            printf("resuming %s: its %d epochs are done, nothing left to train\n", stage_name[s->id], s->epochs);
        else printf("resuming %s at epoch %d, batch %ld\n", stage_name[s->id], epoch0 + 1, batch0);
    }
    char last[64], bestf[64];
    snprintf(last, sizeof last, "%s_last.h5", stage_prefix[s->id]);
    snprintf(bestf, sizeof bestf, "%s_best.h5", stage_prefix[s->id]);
    Progress pg;
    progress_init(&pg, stage_name[s->id], s->epochs);
    pg.tty &= root;
    dist_stats_reset();
    dist_stage_begin(c, s);
    // replay the shuffles of finished epochs so epoch e sees the order an unbroken run sees
    for (int e = 0; e < epoch0; e++) shuffle_epoch(c, s->id, e, s->train);
    Health hl;
    health_init(&hl, s->arena, c->train.collapse_stop);
    double run_secs = 0;   // this process's epochs, for the ETA
    char eta[64];
    for (int k = 0; k < tr->n_log; k++)   // resumed: the last finished epoch's loss, for the flat-loss check
        if (tr->log[k].stage == (int)s->id && tr->log[k].epoch == epoch0 - 1 && isfinite(tr->log[k].train))
            hl.prev_loss = tr->log[k].train, hl.have_prev = 1;
    for (int e = epoch0; e < s->epochs; e++) {
        shuffle_epoch(c, s->id, e, s->train);
        health_begin_epoch(&hl);
        s->epoch = e;
        if (s->epoch_begin) s->epoch_begin(s, e);
        s->part_sum[0] = e == epoch0 ? part0[0] : 0;
        s->part_sum[1] = e == epoch0 ? part0[1] : 0;
        progress_epoch_start(&pg, e + 1, nb);
        double t0 = now_seconds(), sum = e == epoch0 ? sum0 : 0;
        long samples = e == epoch0 ? samples0 : 0;
        for (long i = (e == epoch0 ? batch0 : 0); i < nb; i++) {
            meta->step = opt.t;
            stop_if_requested(tr, s->id, e, i, sum, samples, s->part_sum, s->arena, meta, &pg);
            arena_zero_grad(s->arena);
            int n;
            float loss = dist_train_step(s, i, B, &n);
            if (!isfinite(loss)) nan_stop(tr, s->id, e, i, loss);
            health_add_grads(&hl);
            if (c->train.max_grad_norm > 0) clip_grad_norm(s->arena->grads, s->arena->n, (float)c->train.max_grad_norm);
            adam_step(&opt, s->arena->params, s->arena->grads, s->arena->m, s->arena->v, s->arena->n);
            sum += (double)loss * n;
            samples += n;
            progress_update(&pg, i + 1, (float)(sum / samples), samples);
        }
        double secs = now_seconds() - t0;
        run_secs += secs;
        progress_clear(&pg);
        if (!root) continue;   // the others wait in the next batch's sum
        if (s->probe && samples > 0) s->probe(s, &hl);   // before validate: it overwrites the activations
        double val = s->validate(s);
        if (!isfinite(val)) nan_stop(tr, s->id, e, nb, (float)val);
        int is_best = val < best;
        if (is_best) best = val;
        LogRow r = {.stage = s->id, .epoch = e, .train = samples ? sum / samples : NAN, .val = val, .lr = s->lr,
                    .seconds = secs, .rate = samples / (secs > 0 ? secs : 1), .parts = {NAN, NAN, NAN, NAN, NAN}};
        if (s->has_parts) {
            s->parts[0] = samples ? s->part_sum[0] / samples : NAN;
            s->parts[1] = samples ? s->part_sum[1] / samples : NAN;
            memcpy(r.parts, s->parts, sizeof r.parts);
        }
        int collapsed = health_end_epoch(&hl, r.train);
        r.grad_norm = hl.grad_norm, r.saturated = hl.saturated, r.sat_wrong = hl.saturated_wrong;
        health_dead_str(&hl, r.dead, sizeof r.dead);
        log_add(tr, r);
        log_write(tr);
        loss_plot(tr);
        printf("%s epoch %d/%d  train %s %.6g  val %s %.6g  %.1fs  %.0f samples/s%s%s\n", stage_name[s->id], e + 1,
               s->epochs, s->loss_name, r.train, s->loss_name, val, secs, r.rate, is_best ? "  (best)" : "",
               eta_str(eta, sizeof eta, tr, s, e + 1, run_secs, e + 1 - epoch0));
        fflush(stdout);
        meta->epoch = e + 1;
        meta->step = opt.t;
        ckpt_set_i64(meta, "batch", 0);
        ckpt_set_f64(meta, "best_val", best);
        ckpt_set_f64(meta, "val_loss", val);
        if (is_best) ckpt_set_i64(meta, "best_epoch", e + 1);   // _last first: see finish_best()
        save_ckpt(tr, last, s->arena, meta);
        if (is_best) save_ckpt(tr, bestf, s->arena, meta);
        if (collapsed) {
            warn("%s epoch %d collapsed: %s", stage_name[s->id], e + 1, hl.msg);
            if (health_should_stop(&hl))
                die("%s stopped: collapsed %d epochs in a row (train.collapse_stop = %d), last: %s. Checkpoints "
                    "%s and %s are kept; see log.csv (grad_norm, out_saturated, out_saturated_wrong, dead_relu). "
                    "For the autoencoder, model.output_bias = data_mean starts the output at the data's mean pixel",
                    stage_name[s->id], hl.collapsed_run, c->train.collapse_stop, hl.msg, last, bestf);
        }
    }
    health_free(&hl);
    dist_stage_end();
    if (s->epochs == 0 && root) save_ckpt(tr, bestf, s->arena, meta);
    dist_print_stats(run_secs, nb * (s->epochs - epoch0) - batch0);
    dist_barrier();   // the checkpoints are written before any rank reads them
    printf("%s done: best val %s %.6g  peak RSS %.0f MB\n", stage_name[s->id], s->loss_name, best, peak_rss_mb());
}

// ---------------------------------------------------------------- autoencoder stage

typedef struct {
    Trainer *tr;
    AE *ae;
    Sampler *val;
    float *x, *drecon;       // [B,C,H,W]
    size_t fsz;              // C*H*W
    float *eps;              // [B, Z] model.latent_noise > 0: this batch's standard normals, else NULL
    int last_n;              // samples of the last training batch (for the health probe)
    float *w;                // [B,C,H,W] L1 weights (train.changed_weight > 0 or train.weight_map), else NULL
    Perceptual *perc;        // train.perceptual_weight > 0: the frozen feature extractor, else NULL
    double perc_sum;         // this epoch's perceptual term x samples (printed by ae_validate)
    long perc_n;
} AEStage;

static void ae_probe(Stage *s, Health *h) {
    AEStage *a = s->ctx;
    health_probe_ae(h, a->ae, a->x, a->last_n);
}

static float ae_step(Stage *s, int64_t i, int *n) {
    AEStage *a = s->ctx;
    const Config *c = &a->tr->cfg;
    *n = sampler_batch(s->train, i, s->batch, a->x, NULL, NULL);
    a->last_n = *n;
    size_t len = (size_t)*n * a->fsz;
    if (a->w && c->train.changed_weight > 0) {   // weight 1 + alpha where frame t differs from frame t-1 (t = 0: frame 1)
        const Dataset *d = &a->tr->ds;
        for (int j = 0; j < *n; j++) {
            SampleRef r = s->train->items[i * c->train.batch_size + j];
            int64_t o = r.t > 0 ? r.t - 1 : dataset_ep_frames(d, r.e) > 1 ? 1 : 0;
            changed_weights(dataset_frame_u8(d, r.e, r.t), dataset_frame_u8(d, r.e, o), d->C, d->H, d->W,
                            (float)c->train.changed_weight, a->w + j * a->fsz);
            if (a->tr->wmap) weights_mul(a->w + j * a->fsz, a->tr->wmap, a->fsz);   // times train.weight_map's
        }
    }   // train.weight_map alone: a->w holds the map for every sample since the stage began
    if (a->eps) sample_normals(a->eps, *n, a->ae->cfg.latent_dim, c->run.seed, 100, s->epoch, s->first);
    ae_forward_eps(a->ae, a->x, *n, a->eps);
    float loss = a->w ? wl1_loss_forward(a->ae->recon, a->x, a->w, len) : l1_loss_forward(a->ae->recon, a->x, len);
    memset(a->drecon, 0, len * sizeof(float));
    if (a->w) wl1_loss_backward(a->drecon, a->ae->recon, a->x, a->w, len, 1.0f);
    else l1_loss_backward(a->drecon, a->ae->recon, a->x, len, 1.0f);
    if (a->perc) {   // loss = L1 + w x perceptual; the L1 part is returned (logged beside val L1)
        const float pw = (float)c->train.perceptual_weight;
        a->perc_sum += perc_forward(a->perc, a->ae->recon, a->x, *n) * *n;
        a->perc_n += *n;
        perc_backward(a->perc, a->drecon, *n, pw);
    }
    ae_backward(a->ae, a->drecon, NULL, *n);
    return loss;
}

// model.output_bias = data_mean: the decoder output layer's bias (decoder_conv.{2(S-1)}.bias, [C])
// set to logit(mean pixel of channel c over the training frames), so the sigmoid output starts
// at the data's mean instead of 0.5; a resumed run then loads its checkpoint over it.
static void output_bias_from_data(AE *ae, const Dataset *ds, const Sampler *train) {
    const int C = ds->C, S = ae->cfg.stages;
    const size_t P = (size_t)ds->H * ds->W;
    double sum[4] = {0};
    for (int64_t i = 0; i < train->n; i++) {
        const uint8_t *f = dataset_frame_u8(ds, train->items[i].e, train->items[i].t);
        for (int c = 0; c < C; c++)
            for (size_t p = 0; p < P; p++) sum[c] += f[c * P + p];
    }
    for (int c = 0; c < C; c++) {
        double m = train->n ? sum[c] / (255.0 * P * train->n) : 0.5;
        double q = m < 1e-3 ? 1e-3 : m > 1 - 1e-3 ? 1 - 1e-3 : m;
        ae->w.dec_b[S - 1][c] = (float)log(q / (1 - q));
        printf("decoder_conv.%d.bias[%d] = logit(%.5f) = %.4f (model.output_bias = data_mean: the training frames' "
               "mean pixel)\n", 2 * (S - 1), c, m, ae->w.dec_b[S - 1][c]);
    }
}

// The autoencoder a config describes for frames of ds (spatial: latent_dim derived at init).
static AEConfig ae_config_of(const Config *c, const Dataset *ds) {
    int spatial = c->model.latent == LATENT_SPATIAL;
    AEConfig ac = {ds->H, ds->W, ds->C, c->model.stages, c->model.base_channels, spatial ? 0 : c->model.latent_dim,
                   (float)c->model.latent_noise, spatial ? c->model.latent_channels : 0};
    return ac;
}

// Validation L1 (no noise) and recon.png: 16 validation frames spread over the set.
static double ae_validate(Stage *s) {
    AEStage *a = s->ctx;
    Trainer *tr = a->tr;
    const int B = s->batch;
    double sum = 0;
    int64_t cnt = 0;
    for (int64_t i = 0; i < sampler_batches(a->val, B); i++) {
        int n = sampler_batch(a->val, i, B, a->x, NULL, NULL);
        ae_forward(a->ae, a->x, n, NULL);
        sum += (double)l1_loss_forward(a->ae->recon, a->x, (size_t)n * a->fsz) * n;
        cnt += n;
    }
    int k = (int)(a->val->n < 16 ? a->val->n : 16);
    k = k < B ? k : B;
    float *truth = a->x, *rec = a->drecon;   // free between batches
    for (int j = 0; j < k; j++) {
        SampleRef r = a->val->items[(a->val->n * j) / k];
        dataset_frame(&tr->ds, r.e, r.t, truth + j * a->fsz);
    }
    ae_forward(a->ae, truth, k, NULL);
    memcpy(rec, a->ae->recon, (size_t)k * a->fsz * sizeof(float));
    if (a->perc && a->perc_n) {
        printf("perceptual term (train, this epoch): %.6g (x %g in the loss)\n", a->perc_sum / a->perc_n,
               tr->cfg.train.perceptual_weight);
        a->perc_sum = 0, a->perc_n = 0;
    }
    Err err;
    if (k && picture_recon(path_in_run(tr, "recon.png"), truth, rec, k, tr->ds.C, tr->ds.H, tr->ds.W, &err) < 0)
        warn("%s", err.msg);
    return cnt ? sum / cnt : NAN;
}

static void train_autoencoder(Trainer *tr) {
    const Config *c = &tr->cfg;
    int B = dist_step_batch(c);   // this rank's share or a chunk (all of the batch with one process)
    Err err;
    AEConfig ac = ae_config_of(c, &tr->ds);
    Rng rng;
    rng_seed(&rng, c->run.seed);
    AE ae;
    if (ae_init(&ae, &ac, B, &rng, &err) < 0) die("%s", err.msg);
    Sampler ts, vs;
    if (sampler_init(&ts, &tr->ds, tr->split.train, tr->split.n_train, SAMPLE_FRAMES, 0, &err) < 0) die("%s", err.msg);
    if (sampler_init(&vs, &tr->ds, tr->split.val, tr->split.n_val, SAMPLE_FRAMES, 0, &err) < 0) die("%s", err.msg);
    AEStage a = {tr, &ae, &vs, NULL, NULL, (size_t)tr->ds.C * tr->ds.H * tr->ds.W, NULL, 0, NULL, NULL, 0, 0};
    Perceptual perc;
    if (perceptual_open(tr, &perc, B)) a.perc = &perc;
    if (c->train.changed_weight > 0 || tr->wmap) a.w = xmalloc_floats((size_t)B * a.fsz);
    if (tr->wmap && c->train.changed_weight == 0)   // the same weights for every batch
        for (int j = 0; j < B; j++) memcpy(a.w + (size_t)j * a.fsz, tr->wmap, a.fsz * sizeof(float));
    if (c->model.output_bias == OUTBIAS_DATA_MEAN) output_bias_from_data(&ae, &tr->ds, &ts);
    init_weights(tr, &ae.arena, ST_AE);   // --init (a resumed run's checkpoint then loads over it)
    a.x = xmalloc_floats((size_t)B * a.fsz);
    a.drecon = xmalloc_floats((size_t)B * a.fsz);
    if (c->model.latent_noise > 0) a.eps = xmalloc_floats((size_t)B * ae.cfg.latent_dim);
    CkptMeta meta;
    ckpt_meta_init(&meta, "autoencoder");
    ckpt_meta_ae(&meta, &ac);
    Stage s = {.id = ST_AE, .arena = &ae.arena, .train = &ts, .epochs = c->train.epochs, .batch = B, .lr = c->train.lr,
               .loss_name = "L1", .step = ae_step, .validate = ae_validate, .ctx = &a,
               .probe = ae_probe};
    run_stage(tr, &s, &meta);
    free(a.x);
    free(a.eps);
    free(a.drecon);
    free(a.w);
    if (a.perc) perc_free(a.perc);
    sampler_free(&ts);
    sampler_free(&vs);
    ae_free(&ae);
    malloc_trim(0);   // the dynamics stage loads the autoencoder again: see the estimate
}

// ---------------------------------------------------------------- main
// The models this run trains, made once to print their tables and measure them, and the
// memory training will take: what the process holds now (code, libraries, the loaded
// dataset) plus what training allocates once (models, batch buffers, latents).
static void estimate_memory(Trainer *tr) {
    const Config *c = &tr->cfg;
    Err err;
    size_t fsz = (size_t)tr->ds.C * tr->ds.H * tr->ds.W;
    size_t total = current_rss_bytes() + BLAS_ALLOWANCE;
    printf("---- models and memory\n");
    print_memory("process now (incl. dataset)", current_rss_bytes());
    print_memory("  of which dataset", (size_t)tr->ds.n_frames * fsz + (size_t)tr->ds.n_steps * tr->ds.A);
    print_memory("BLAS buffers, stacks", BLAS_ALLOWANCE);
    int B = dist_step_batch(c);
    dist_print_layout(c);
    {
        Rng r0;
        rng_seed(&r0, 1);
        AE ae;
        AEConfig ac = ae_config_of(c, &tr->ds);
        int have_ae = 0;
        size_t chunks = 0;   // train.grad_chunks' buffer of the larger stage (one stage at a time)
        if (c->train.stage == STAGE_DYNAMICS) {
            load_autoencoder(c->model.autoencoder, &tr->ds, &ae, B);
            check_latent_family(c, &ae, c->model.autoencoder);
            if (!tr->resume) check_model_keys(c, &ae, c->model.autoencoder);
            have_ae = 1;
        } else if (ae_init(&ae, &ac, B, &r0, &err) < 0) die("%s", err.msg);
        else have_ae = 1;
        if (have_ae) {
            if (c->train.stage != STAGE_DYNAMICS) init_weights(tr, &ae.arena, ST_AE);   // checked before any file
            ae_print_table(&ae, stdout);
            print_memory("autoencoder (all buffers)", ae_bytes(&ae));
            const int nbuf = 2 + (c->train.stage != STAGE_DYNAMICS && (c->train.changed_weight > 0 || tr->wmap));
            print_memory("batch buffers", nbuf * floats_bytes((size_t)B * fsz));
            total += ae_bytes(&ae) + nbuf * floats_bytes((size_t)B * fsz) + perceptual_estimate(tr, B);
            if (c->train.stage != STAGE_DYNAMICS) chunks = dist_chunk_bytes(c, ae.arena.n);
        }
        if (c->train.stage != STAGE_AUTOENCODER) {
            int K = c->dynamics.rollout_steps;
            DynConfig dc = {ae.cfg.latent_dim, tr->ds.A, c->dynamics.hidden, K, c->dynamics.type == DYN_VAE};
            DynModel dyn;
            if (dynm_init_for_ae(&dyn, &ae.cfg, &dc, c->dynamics.blocks, c->dynamics.hypotheses,
                         c->dynamics.hyp_choice == HYP_CHOICE_CELL, c->dynamics.history, c->dynamics.history_off, B, &r0, &err) < 0) die("%s", err.msg);
            if (c->train.stage == STAGE_DYNAMICS) init_weights(tr, dynm_arena(&dyn), ST_DYN);
            dynm_print_table(&dyn, stdout);
            size_t win = floats_bytes((size_t)(K + 1) * B * dc.latent_dim) + floats_bytes((size_t)K * B * tr->ds.A);
            size_t zs = floats_bytes((size_t)tr->ds.n_frames * dc.latent_dim), rep = dyn_report_bytes(&tr->ds);
            print_memory("dynamics (all buffers)", dynm_bytes(&dyn) + win);
            print_memory("latents of every frame", zs);
            print_memory("closing checks, rollout.png", rep);   // allocated after training
            total += dynm_bytes(&dyn) + win + zs + rep;
            if (dist_chunk_bytes(c, dynm_arena(&dyn)->n) > chunks) chunks = dist_chunk_bytes(c, dynm_arena(&dyn)->n);
            dynm_free(&dyn);
        }
        if (chunks) print_memory("gradient chunks (train.grad_chunks)", chunks);
        total += chunks;
        ae_free(&ae);
    }
    // The models above were made only to be measured; give their memory back to the system
    // now (glibc would keep part of it in its heap, and training's peak RSS would exceed the
    // estimate by that much: 16 MB of 136 for configs/tetris_quick.ini, measured).
    malloc_trim(0);
    print_memory("estimated total", total);
    tr->estimate_mb = total / 1048576.0;
    fflush(stdout);
}

// A new run's folder, created whole or not at all (config.ini, split.txt); or, resuming, the
// log of the stage and epoch the checkpoints say the run stopped at.
static void open_run_folder(Trainer *tr, const char *rundir, int force) {
    const Config *c = &tr->cfg;
    Err err;
    if (!tr->resume) {
        if (run_dir_create(&tr->rd, rundir, force, &err) < 0) die("%s", err.msg);
        char *text = config_to_string(c);
        char p[1200];
        int ok = write_file_atomic(run_file(&tr->rd, "config.ini", p, sizeof p), text, strlen(text), &err) == 0 &&
                 split_write(&tr->split, &tr->ds, run_file(&tr->rd, "split.txt", p, sizeof p), &err) == 0 &&
                 run_dir_commit(&tr->rd, &err) == 0;
        free(text);
        if (!ok) {
            run_dir_abort(&tr->rd);
            die("%s", err.msg);
        }
        if (tr->rd.old[0]) {
            g_replacing = &tr->rd;
            atexit(put_replaced_run_back);
            printf("run folder: %s (the run it replaces is kept as %s until the first checkpoint)\n", tr->rd.path,
                   tr->rd.old);
        } else printf("run folder: %s\n", tr->rd.path);
    } else {
        char sp[1200];   // the split the run trained on is the config's, or the run is not this one
        if (split_check(&tr->split, &tr->ds, run_file(&tr->rd, "split.txt", sp, sizeof sp), &err) < 0)
            die("%s", err.msg);
        remove_stale_temps_in(tr->rd.path);   // loss.png.tmp, ae_last.h5.tmp, ... of a killed run
        int stage = ST_AE, epoch = 0;
        // position: the dynamics stage if it has a checkpoint, else the autoencoder's
        CkptMeta m;
        char p[1200];
        if (checkpoint_read_meta(run_file(&tr->rd, "dyn_last.h5", p, sizeof p), &m, &err) == 0)
            stage = ST_DYN, epoch = (int)m.epoch;
        else if (checkpoint_read_meta(run_file(&tr->rd, "ae_last.h5", p, sizeof p), &m, &err) == 0)
            epoch = (int)m.epoch;
        else if (c->train.stage == STAGE_DYNAMICS) stage = ST_DYN;
        log_read(tr, stage, epoch);
    }
}

// The data (recorded first when missing and data.generate says so), preprocessed, and its
// split; the checks a stage needs before any work. Returns the seconds the load took.
static double load_data(Trainer *tr) {
    const Config *c = &tr->cfg;
    Err err;
    if (c->train.stage == STAGE_DYNAMICS && access(c->model.autoencoder, R_OK) != 0)   // before recording any data
        die("model.autoencoder = %s: %s", c->model.autoencoder, strerror(errno));
    if (dist_rank() == 0) ensure_data(c);   // recorded once
    dist_barrier();
    Preprocess pp = {c->data.height, c->data.width, c->data.channels};
    double t0 = now_seconds();
    char files[CFG_MAX_FILES][CFG_STR];
    const int n_files = cfg_data_files(c, files);
    if (dataset_load_games(&tr->ds, files, n_files, -1, &pp, c->data.accept_odd, &err) < 0) die("%s", err.msg);
    const double tload = now_seconds() - t0;
    if (dataset_split_games(&tr->split, &tr->ds, c->data.test_episodes, c->data.val_split, c->run.seed, &err) < 0)
        die("%s%s%s", n_files > 1 ? "" : c->data.path, n_files > 1 ? "" : ": ", err.msg);
    if (tr->split.n_val == 0) die("%s: no validation episodes (data.val_split = 0 or too few episodes)", c->data.path);
    if (c->train.stage != STAGE_AUTOENCODER) check_windows(tr);
    check_batch_size(tr);
    check_perceptual(tr);
    tr->wmap = weight_map_build(c, &tr->ds);   // its size against the frames as stored
    return tload;
}

int main(int argc, char **argv) {
    set_progname(argv[0]);
    blas_init(argc, argv);
    dist_init(&argc, &argv);
    const char *cfg_path = NULL;
    char *sets[MAX_SETS];
    int n_sets = 0, resume = 0, force = 0, resume_or_start = 0;
    const char *init = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--help-config")) { config_print_keys_markdown(stdout); return 0; }
        else if (!strcmp(a, "--resume")) resume = 1;
        else if (!strcmp(a, "--resume-or-start")) resume_or_start = 1;
        else if (!strcmp(a, "--force")) force = 1;
        else if (!strcmp(a, "--init")) {
            if (i + 1 >= argc) die("--init needs a weights file (HDF5 with /state_dict/<name> datasets)");
            init = argv[++i];
        } else if (!strcmp(a, "--set")) {
            if (i + 1 >= argc) die("--set needs section.key=value");
            if (n_sets == MAX_SETS) die("too many --set options (at most %d)", MAX_SETS);
            sets[n_sets++] = argv[++i];
        } else if (!strncmp(a, "--set=", 6)) {
            if (n_sets == MAX_SETS) die("too many --set options (at most %d)", MAX_SETS);
            sets[n_sets++] = (char *)a + 6;
        } else if (a[0] == '-') die("unknown option '%s' (see train --help)", a);
        else if (cfg_path) die("more than one config given ('%s' and '%s')", cfg_path, a);
        else cfg_path = a;
    }
    if (!cfg_path) { usage(stderr); return 2; }
    if (resume && force) die("--resume and --force exclude each other");
    if (resume_or_start && (resume || force)) die("--resume-or-start excludes --resume and --force");

    Trainer tr;
    memset(&tr, 0, sizeof tr);
    tr.resume = resume;
    tr.init = init;
    Err err;
    if (config_load(&tr.cfg, cfg_path, n_sets, sets, &err) < 0) die("%s", err.msg);
    Config *c = &tr.cfg, given = tr.cfg;
    adopt_autoencoder_sizes(c);
    char rundir[CFG_STR + 16];
    snprintf(rundir, sizeof rundir, "runs/%s", c->run.name);
    // batch jobs (a Slurm task requeued after SIGTERM): the same command resumes a run that
    // exists (its config must match) and starts one that does not
    if (resume_or_start) tr.resume = resume = access(rundir, F_OK) == 0;
    dist_barrier();   // every rank decided before rank 0 creates anything
    dist_check_config(c);
    if (resume) {
        // the run's own config.ini is the truth; the given one must resolve to the same
        if (run_dir_open(&tr.rd, rundir, &err) < 0) die("%s", err.msg);
        Config saved;
        char p[1200];
        if (config_load(&saved, run_file(&tr.rd, "config.ini", p, sizeof p), 0, NULL, &err) < 0) die("%s", err.msg);
        if (config_equal(&saved, &given)) *c = given;   // a dynamics run recorded before the sizes were adopted
        else if (!config_equal(&saved, c))
            die("%s differs from %s: resume with the same config and --set options", cfg_path, p);
    }
    tr.threads = threads_use(c->run.threads);
    check_weight_map_file(c);   // a missing or broken map before the data are loaded

    const double tload = load_data(&tr);

    // ---- what this run is: config, data, models, memory
    printf("nemu train: %s  (BLAS core %s, %d threads)\n", cfg_path, blas_core(), tr.threads);
    if (dist_size() > 1) printf("data parallel: %d MPI ranks, %d threads each\n", dist_size(), tr.threads);
    printf("---- resolved config\n");
    config_write(c, stdout);
    printf("---- data\n%s: %d episodes, %lld frames, %lld steps, preprocessed to %dx%dx%d, %d actions (%.1fs)\n",
           c->data.path, tr.ds.n_episodes, (long long)tr.ds.n_frames, (long long)tr.ds.n_steps, tr.ds.H, tr.ds.W,
           tr.ds.C, tr.ds.A, tload);
    if (tr.ds.odd[0]) printf("odd layout, accepted (data.accept_odd = yes): %s\n", tr.ds.odd);
    for (int g = 0; g < tr.ds.n_games; g++)
        printf("game %d: %s (%s), %d episodes; the actions end with %d one-hot game columns\n", g, tr.ds.games[g],
               tr.ds.files[g], tr.ds.file_ep0[g + 1] - tr.ds.file_ep0[g], tr.ds.n_games);
    printf("split (seed %llu): %d train, %d val, %d test episodes\n", (unsigned long long)c->run.seed,
           tr.split.n_train, tr.split.n_val, tr.split.n_test);
    estimate_memory(&tr);

    // ---- the run folder: created whole or not at all
    if (dist_rank() == 0) open_run_folder(&tr, rundir, force);
    dist_barrier();
    if (dist_rank() > 0 && !resume && run_dir_open(&tr.rd, rundir, &err) < 0) die("%s", err.msg);
    signals_install();

    int do_ae = c->train.stage != STAGE_DYNAMICS, do_dyn = c->train.stage != STAGE_AUTOENCODER;
    if (do_ae) {
        int skip = 0;
        if (resume && do_dyn) {   // autoencoder finished earlier and dynamics under way
            char p[1200];
            skip = access(run_file(&tr.rd, "dyn_last.h5", p, sizeof p), R_OK) == 0;
        }
        if (!skip) train_autoencoder(&tr);
    }
    if (do_dyn) train_dynamics(&tr);
    printf("done: %s (peak RSS %.0f MB, estimated %.0f MB)\n", tr.rd.path, peak_rss_mb(), tr.estimate_mb);
    dataset_free(&tr.ds);
    split_free(&tr.split);
    free(tr.wmap);
    free(tr.log);
    dist_finalize();
    return 0;
}
