/*
 * eval_recon.c - ./eval --recon FILE.h5 [--run DIR] [--out PNG]: every frame of FILE (e.g.
 * `gen tetris --edge-cases`) beside its reconstruction by the run's autoencoder: a PNG grid
 * labelled with names and per-frame L1/SSIM, and a Markdown table (L1, SSIM, PSNR, and the
 * closest other frame of FILE). See src/eval.c for the other modes.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "evaluation/font.h"        // FONT_LINE, font_text_width
#include "evaluation/game_look.h"   // digit accuracy, hue error, colour bleeding (built-in game)
#include "evaluation/metrics.h"     // metrics_batch, metric_l1
#include "evaluation/picture.h"
#include "nn/checkpoint.h"
#include "nn/model.h"
#include "base/path.h"   // path_check_output
#include "base/h5.h"                // frame_names attribute
#include "base/alloc.h"
#include "base/clock.h"
#include "base/threads.h"           // threads_use
#include "src/config.h"
#include "src/eval.h"
#include "src/run.h"

#define RECON_PAIRS 4          // frame/reconstruction pairs per picture row

// Frame names: the root attribute frame_names (comma-separated, one per frame), else
// "e<id>_t<t>". names: n_frames strings of 64 bytes.
static char *recon_names(const Dataset *ds, const char *path) {
    int64_t n = ds->n_frames;
    char *names = xcalloc((size_t)n, 64);
    Err err;
    char attr[RECON_MAX_FRAMES * 64];
    hid_t f = h5_open(path, 0, &err);
    if (f < 0) die("%s", err.msg);
    int have = h5_attr_exists(f, "/", "frame_names");
    if (have && h5_attr_read_str(f, "/", "frame_names", attr, sizeof attr, &err) < 0) {
        h5_close(f);
        die("%s: attribute frame_names: %s", path, err.msg);
    }
    h5_close(f);
    if (have) {
        int64_t k = 0;
        for (const char *p = attr; p; k++) {
            const char *end = strchr(p, ',');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            if (k < n) snprintf(names + 64 * k, 64, "%.*s", (int)(len < 63 ? len : 63), p);
            p = end ? end + 1 : NULL;
        }
        if (k != n)
            die("%s: attribute frame_names holds %lld names but the file holds %lld frames", path, (long long)k,
                (long long)n);
        return names;
    }
    for (int e = 0; e < ds->n_episodes; e++)
        for (int64_t t = 0; t < dataset_ep_frames(ds, e); t++)
            snprintf(names + 64 * (ds->frame_off[e] + t), 64, "e%d_t%lld", ds->ep_id[e], (long long)t);
    return names;
}

// The picture: RECON_PAIRS (frame, reconstruction) pairs per row, each pair under two caption
// lines (name; L1 and SSIM). truth, recon: [n, c, h, w].
static int recon_picture(const char *path, const char *title, const float *truth, const float *recon, int n,
                         int c, int h, int w, const char *names, const Metrics *m, Err *err) {
    static const Rgb INK = {30, 30, 30}, BG = {245, 245, 245};
    int side = h > w ? h : w;
    int scale = side >= 160 ? 1 : 160 / side > 8 ? 8 : 160 / side;
    int cw = w * scale, ch = h * scale, ts = cw >= 100 ? 2 : 1;
    const int pad = 10, gap = 4, pair_gap = 18, cap_h = 2 * FONT_LINE * ts + 4;
    int pairs = n < RECON_PAIRS ? n : RECON_PAIRS, rows = (n + pairs - 1) / pairs;
    int pw = 2 * cw + gap, title_h = 2 * FONT_LINE + 8;
    int W = 2 * pad + pairs * pw + (pairs - 1) * pair_gap, H = 2 * pad + title_h + rows * (cap_h + ch + pair_gap);
    if (font_text_width(title, 2) + 2 * pad > W) W = font_text_width(title, 2) + 2 * pad;
    Canvas cv;
    canvas_init(&cv, W, H, BG);
    canvas_text(&cv, pad, pad, title, INK, 2);
    size_t isz = (size_t)c * h * w;
    for (int i = 0; i < n; i++) {
        int x = pad + (i % pairs) * (pw + pair_gap), y = pad + title_h + (i / pairs) * (cap_h + ch + pair_gap);
        char line[96];
        snprintf(line, sizeof line, "%d %s", i, names + 64 * i);
        canvas_text(&cv, x, y, line, INK, ts);
        snprintf(line, sizeof line, "L1 %.4f SSIM %.3f", m[i].l1, m[i].ssim);
        canvas_text(&cv, x, y + FONT_LINE * ts, line, INK, ts);
        canvas_blit_planar(&cv, truth + i * isz, c, h, w, x, y + cap_h, scale);
        canvas_blit_planar(&cv, recon + i * isz, c, h, w, x + cw + gap, y + cap_h, scale);
    }
    int rc = canvas_write_png(&cv, path, err);
    canvas_free(&cv);
    return rc;
}

// The output picture: --out, else results/<run>/recon_<file stem>.png (the folder made).
static void recon_out_path(const char *opt_out, const char *file, const char *ae_path, const char *run_name, char *out,
                           size_t cap) {
    if (opt_out) {   // never one of this command's inputs
        const char *ins[2] = {file, ae_path};
        Err err;
        if (path_check_output("--out", opt_out, ins, 2, &err) < 0) die("%s", err.msg);
        snprintf(out, cap, "%s", opt_out);
        return;
    }
    const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
    size_t stem = strlen(base);
    if (stem > 3 && !strcmp(base + stem - 3, ".h5")) stem -= 3;
    char dir[PATH_MAX];
    int dl = snprintf(dir, sizeof dir, "results/%s", run_name);
    if (dl < 0 || (size_t)dl >= sizeof dir) die("results/%s: path too long", run_name);
    if (mkdir_p(dir) != 0) die("cannot create %s: %s", dir, strerror(errno));
    int len = snprintf(out, cap, "%s/recon_%.*s.png", dir, (int)(stem < 200 ? stem : 200), base);
    if (len < 0 || (size_t)len >= cap) die("%s: output path too long", dir);
}

// For each of the n frames x [n, isz], the most similar other frame by L1 (how far apart the
// cases are): near[i] (-1 when n == 1) and near_l1[i].
static void closest_frames(const float *x, int n, size_t isz, int *near, double *near_l1) {
    for (int i = 0; i < n; i++) {
        near[i] = -1, near_l1[i] = 0;
        for (int j = 0; j < n; j++) {
            if (j == i) continue;
            double d = metric_l1(x + i * isz, x + j * isz, isz);
            if (near[i] < 0 || d < near_l1[i]) near[i] = j, near_l1[i] = d;
        }
    }
}

// The built-in game's measures of every frame and its reconstruction (x, y: [n_frames, C,H,W]),
// when FILE is a recording of it that re-simulates; else one line saying why not.
static void recon_look(const Dataset *ds, const float *x, const float *y) {
    int *eps = xmalloc((size_t)ds->n_episodes * sizeof *eps);
    for (int e = 0; e < ds->n_episodes; e++) eps[e] = e;
    GameTrace gt;
    game_trace_build(&gt, ds, eps, ds->n_episodes);
    GameLook L;
    if (game_look_init(&L, &gt) == 0) {
        const size_t isz = (size_t)ds->C * ds->H * ds->W;
        for (int e = 0; e < ds->n_episodes; e++)
            for (int64_t t = 0; t < dataset_ep_frames(ds, e); t++) {
                game_look_state(&L, e, t);
                game_look_frame(&L, "source", x + (ds->frame_off[e] + t) * isz);
                game_look_frame(&L, "recon", y + (ds->frame_off[e] + t) * isz);
            }
        char *md = game_look_markdown(&L);
        fputs(md, stdout);
        free(md);
        game_look_free(&L);
    } else printf("\ncolour and digit measures unavailable: %s\n", gt.reason);
    game_trace_free(&gt);
    free(eps);
}

int eval_recon_main(int argc, char **argv) {
    const char *file = NULL, *opt_run = NULL, *opt_out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); exit(0); }
        const char *v = strchr(a, '=');
        size_t len = v ? (size_t)(v - a) : strlen(a);
        const char **dst = len == 7 && !strncmp(a, "--recon", 7) ? &file
                         : len == 5 && !strncmp(a, "--run", 5)   ? &opt_run
                         : len == 5 && !strncmp(a, "--out", 5)   ? &opt_out
                                                                 : NULL;
        if (!dst) die("--recon takes --run DIR and --out PNG only, got '%s' (see eval --help)", a);
        if (v) v++;
        else if (i + 1 < argc) v = argv[++i];
        else die("%.*s needs a value (see eval --help)", (int)len, a);
        if (!*v) die("%.*s needs a value (see eval --help)", (int)len, a);
        *dst = v;
    }
    if (!readable(file)) die("--recon %s: %s", file, strerror(errno ? errno : ENOENT));
    double t_start = now_seconds();
    Err err = {{0}};
    char run_dir[PATH_MAX];
    resolve_run(opt_run, run_dir, sizeof run_dir, "ae_best.h5");
    const char *run_name = strrchr(run_dir, '/') ? strrchr(run_dir, '/') + 1 : run_dir;
    char cfg_path[PATH_MAX + 32], ae_path[PATH_MAX + 32];
    snprintf(cfg_path, sizeof cfg_path, "%s/config.ini", run_dir);
    snprintf(ae_path, sizeof ae_path, "%s/ae_best.h5", run_dir);
    if (!readable(cfg_path)) die("%s: no config.ini: not a run folder of ./train", run_dir);
    Config cfg;
    if (config_load(&cfg, cfg_path, 0, NULL, &err) < 0) die("%s", err.msg);
    if (!readable(ae_path)) {
        if (cfg.train.stage == STAGE_DYNAMICS && readable(cfg.model.autoencoder))
            snprintf(ae_path, sizeof ae_path, "%s", cfg.model.autoencoder);   // the AE it encoded with
        else
            die("%s: no autoencoder checkpoint (ae_best.h5): an unfinished run, or one whose autoencoder lies "
                "elsewhere; pass --run DIR of a run that trained one", run_dir);
    }
    CkptMeta meta;
    AEConfig ac;
    if (checkpoint_read_meta(ae_path, &meta, &err) < 0) die("%s", err.msg);
    if (strcmp(meta.model, "autoencoder")) die("%s: a '%s' checkpoint, expected autoencoder", ae_path, meta.model);
    if (ckpt_meta_to_ae_config(&meta, &ac, &err) < 0) die("%s: %s", ae_path, err.msg);
    threads_use(cfg.run.threads);

    // ---- frames, with the run's preprocessing
    Preprocess pp = {cfg.data.height, cfg.data.width, cfg.data.channels};
    Dataset ds;
    if (dataset_load_odd(&ds, file, &pp, cfg.data.accept_odd, &err) < 0) die("%s (the run's autoencoder takes %dx%dx%d frames, HxWxC)", err.msg, ac.H, ac.W, ac.C);
    if (ds.H != ac.H || ds.W != ac.W || ds.C != ac.C)
        die("%s: frames are %dx%dx%d (HxWxC) after the run's preprocessing, but the autoencoder %s takes %dx%dx%d",
            file, ds.H, ds.W, ds.C, ae_path, ac.H, ac.W, ac.C);
    if (ds.n_frames > RECON_MAX_FRAMES)
        die("%s holds %lld frames; --recon draws at most %d (one picture): use a smaller file, e.g. gen tetris "
            "--edge-cases", file, (long long)ds.n_frames, RECON_MAX_FRAMES);
    if (ac.H < SSIM_MIN_SIDE || ac.W < SSIM_MIN_SIDE)
        die("%s: frames of %dx%d are below SSIM's %dx%d window", ae_path, ac.H, ac.W, SSIM_MIN_SIDE, SSIM_MIN_SIDE);
    int n = (int)ds.n_frames;
    char *names = recon_names(&ds, file);

    // ---- reconstruct
    size_t isz = (size_t)ds.C * ds.H * ds.W;
    float *x = xmalloc_floats((size_t)n * isz), *y = xmalloc_floats((size_t)n * isz);
    for (int e = 0; e < ds.n_episodes; e++)
        for (int64_t t = 0; t < dataset_ep_frames(&ds, e); t++) dataset_frame(&ds, e, t, x + (ds.frame_off[e] + t) * isz);
    int B = n < EVAL_BATCH ? n : EVAL_BATCH;
    Rng rng;
    rng_seed(&rng, 0);
    AE ae;
    if (ae_init(&ae, &ac, B, &rng, &err) < 0) die("%s: %s", ae_path, err.msg);
    if (checkpoint_load(ae_path, &ae.arena, "autoencoder", &meta, &err) < 0) die("%s", err.msg);

    // ---- the output (after every check: a refused command creates no folder)
    char out[PATH_MAX];
    recon_out_path(opt_out, file, ae_path, run_name, out, sizeof out);

    float *z = xmalloc_floats((size_t)B * ac.latent_dim);
    for (int i = 0; i < n; i += B) {
        int b = n - i < B ? n - i : B;
        ae_encode(&ae, x + i * isz, b, z);
        ae_decode(&ae, z, b, y + i * isz);
    }
    Metrics *m = xmalloc((size_t)n * sizeof *m);
    metrics_batch(x, y, n, ds.C, ds.H, ds.W, m);
    int *near = xmalloc((size_t)n * sizeof *near);
    double *near_l1 = xmalloc((size_t)n * sizeof *near_l1);
    closest_frames(x, n, isz, near, near_l1);

    // ---- picture, then the table
    char title[PATH_MAX + 128];
    snprintf(title, sizeof title, "frame | reconstruction: %s by %s", file, ae_path);
    if (recon_picture(out, title, x, y, n, ds.C, ds.H, ds.W, names, m, &err) < 0) die("%s", err.msg);
    printf("Reconstructions of %s by %s (%dx%dx%d, HxWxC)\n\n", file, ae_path, ds.H, ds.W, ds.C);
    printf("| # | frame | L1 | SSIM | PSNR (dB) | closest other frame | its L1 |\n");
    printf("|---|---|---|---|---|---|---|\n");
    Metrics mean = {0, 0, 0, 0};
    for (int i = 0; i < n; i++) {
        printf("| %d | %s | %.5f | %.4f | %.2f | %s | %.5f |\n", i, names + 64 * i, m[i].l1, m[i].ssim, m[i].psnr,
               near[i] >= 0 ? names + 64 * near[i] : "-", near_l1[i]);
        mean.l1 += m[i].l1 / n, mean.ssim += m[i].ssim / n, mean.psnr += m[i].psnr / n;
    }
    printf("\nmean of %d frames: L1 %.5f, SSIM %.4f, PSNR %.2f dB\n", n, mean.l1, mean.ssim, mean.psnr);
    recon_look(&ds, x, y);
    fflush(stdout);
    fprintf(stderr, "eval: %d reconstructions in %.2fs; picture %s\n", n, now_seconds() - t_start, out);
    free(x), free(y), free(z), free(m), free(near), free(near_l1), free(names);
    ae_free(&ae);
    dataset_free(&ds);
    return 0;
}
