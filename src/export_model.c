/*
 * export_model.c - ./export's input: a trained run (src/emu_run.h: config.ini, dyn_best.h5 and
 * the autoencoder it was trained on; then the data) read into nemu's float models and a list of
 * layers per part (encoder, decoder, dynamics), with the compiled-in start latent and the
 * int8 calibration ranges (see export.h).
 */
#include "src/export.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/dyn_conv.h"
#include "base/alloc.h"
#include "base/rng.h"

#define EX_CALIB 64   // frames of the training episodes whose activations set the int8 ranges

const char *const EX_FORMAT_NAMES[3] = {"float", "q16", "int8"};

static const float *tensor(const ParamArena *a, const char *name) {
    const TensorInfo *t = arena_find(a, name);
    CHECK(t, "export: tensor %s missing", name);
    return a->params + t->offset;
}

// Appends a layer of tensor "<tensor>.weight/.bias" of arena a.
static XLayer *add_layer(XLayer *list, int *n, int kind, const char *id, const char *tname, const ParamArena *a,
                         ConvShape s, int act) {
    CHECK(*n < EX_MAX_LAYERS, "export: too many layers");
    XLayer *l = &list[(*n)++];
    memset(l, 0, sizeof *l);
    l->kind = kind, l->s = s, l->act = act;
    snprintf(l->id, sizeof l->id, "%s", id);
    snprintf(l->tensor, sizeof l->tensor, "%s", tname);
    char nm[64];
    snprintf(nm, sizeof nm, "%s.weight", tname);
    l->w = tensor(a, nm);
    snprintf(nm, sizeof nm, "%s.bias", tname);
    l->b = tensor(a, nm);
    return l;
}

// A Linear [OUT, IN] as a 1x1 conv on a 1x1 grid.
static ConvShape linear_shape(int IN, int OUT) { return conv2d_shape(IN, 1, 1, OUT, 1, 1, 0); }

static void build_layers(ExModel *m) {
    const AE *ae = &m->ae;
    const ParamArena *aa = &ae->arena, *da = dynm_arena(&m->dyn);
    const int S = m->ac.stages;
    char id[32], tn[48];
    m->n_enc = m->n_dec = m->n_dyn = 0;
    for (int i = 0; i < S; i++) {
        snprintf(id, sizeof id, "enc%d", i), snprintf(tn, sizeof tn, "encoder_conv.%d", 2 * i);
        add_layer(m->enc, &m->n_enc, XL_CONV, id, tn, aa, ae->enc[i], XACT_RELU);
    }
    if (m->spatial) {
        add_layer(m->enc, &m->n_enc, XL_CONV, "lat_enc", "latent_enc", aa, ae->lat_enc, XACT_NONE);
        add_layer(m->dec, &m->n_dec, XL_CONV, "lat_dec", "latent_dec", aa, ae->lat_dec, XACT_RELU);
    } else {
        add_layer(m->enc, &m->n_enc, XL_CONV, "fc_enc", "fc_enc", aa, linear_shape(ae->F, m->Z), XACT_NONE);
        add_layer(m->dec, &m->n_dec, XL_CONV, "fc_dec", "fc_dec", aa, linear_shape(m->Z, ae->F), XACT_NONE);
    }
    for (int i = 0; i < S; i++) {
        snprintf(id, sizeof id, "dec%d", i), snprintf(tn, sizeof tn, "decoder_conv.%d", 2 * i);
        add_layer(m->dec, &m->n_dec, XL_CONVT, id, tn, aa, ae->dec[i], i < S - 1 ? XACT_RELU : XACT_SIGMOID);
    }
    if (m->mlp) {
        const Dyn *d = (const Dyn *)m->dyn.impl;
        m->ln_w = tensor(da, "net.0.weight"), m->ln_b = tensor(da, "net.0.bias");
        add_layer(m->dyn_l, &m->n_dyn, XL_CONV, "fc1", "net.1", da, linear_shape(d->IN, m->hidden), XACT_NONE);
        add_layer(m->dyn_l, &m->n_dyn, XL_CONV, "fc2", "net.3", da, linear_shape(m->hidden, m->hidden), XACT_NONE);
        add_layer(m->dyn_l, &m->n_dyn, XL_CONV, "fc3", "net.5", da, linear_shape(m->hidden, d->OUT), XACT_NONE);
        return;
    }
    const ConvDyn *c = (const ConvDyn *)m->dyn.impl;
    add_layer(m->dyn_l, &m->n_dyn, XL_CONV, "conv_in", "conv_in", da, c->s_in, XACT_RELU);
    add_layer(m->dyn_l, &m->n_dyn, XL_CONV, "ctx", "ctx", da, linear_shape(m->hidden, m->hidden), XACT_NONE);
    for (int i = 0; i < m->blocks; i++) {
        snprintf(id, sizeof id, "blocks%d", i), snprintf(tn, sizeof tn, "blocks.%d", i);
        add_layer(m->dyn_l, &m->n_dyn, XL_CONV, id, tn, da, c->s_mid, i == 0 ? XACT_NONE : XACT_RELU);
    }
    add_layer(m->dyn_l, &m->n_dyn, XL_CONV, "conv_out", "conv_out", da, c->s_out, XACT_NONE);
}

static float max_abs(const float *x, size_t n, float m) {
    for (size_t i = 0; i < n; i++) m = fabsf(x[i]) > m ? fabsf(x[i]) : m;
    return m;
}

// int8 ranges: the largest |input| of every layer over EX_CALIB frames of the training
// episodes (with their recorded actions), through nemu's own float models.
static void calibrate(ExModel *m, const Split *sp) {
    const int B = m->ae.max_B, Z = m->Z, A = m->A;
    const size_t F = (size_t)m->C * m->H * m->W;
    float *x = xmalloc_floats((size_t)B * F), *a = xmalloc_floats((size_t)B * A), *out = xmalloc_floats((size_t)B * F);
    int n = 0;
    const int *eps = sp->n_train > 0 ? sp->train : sp->test;
    int n_eps = sp->n_train > 0 ? sp->n_train : sp->n_test;
    for (int i = 0; n < B && i < B * 4; i++) {   // frames spread over the episodes
        int e = eps[i % n_eps];
        int64_t T = dataset_ep_transitions(&m->ds, e);
        if (T < 1) continue;
        int64_t t = (int64_t)(i / n_eps) * 7 % T;
        dataset_frame(&m->ds, e, t, x + (size_t)n * F);
        dataset_action(&m->ds, e, t, a + (size_t)n * A);
        n++;
    }
    CHECK(n > 0, "export: no calibration frames");
    m->calib_z = xmalloc_floats((size_t)n * Z);
    m->n_calib = n;
    ae_encode(&m->ae, x, n, m->calib_z);
    const size_t in0 = (size_t)n * F;
    m->enc[0].in_max = max_abs(x, in0, 0);
    for (int i = 1; i < m->n_enc; i++) {
        const ConvShape *s = &m->enc[i - 1].s;
        m->enc[i].in_max = max_abs(m->ae.enc_out[i - 1], (size_t)n * s->OC * s->OH * s->OW, 0);
    }
    dynm_forward_step(&m->dyn, 0, m->calib_z, a, n);
    if (!m->mlp) {
        const ConvDyn *c = (const ConvDyn *)m->dyn.impl;
        const size_t HH = (size_t)m->hidden * c->HW;
        m->dyn_l[0].in_max = max_abs(c->x0, (size_t)n * c->IN * c->HW, 0);
        m->dyn_l[1].in_max = max_abs(c->pool, (size_t)n * m->hidden, 0);
        for (int i = 0; i < m->blocks; i++) m->dyn_l[2 + i].in_max = max_abs(c->hs[i], (size_t)n * HH, 0);
        m->dyn_l[2 + m->blocks].in_max = max_abs(c->hs[m->blocks], (size_t)n * HH, 0);
    }
    // the decoder on the encoded frames and on their predicted successors
    float zmax = max_abs(m->calib_z, (size_t)n * Z, 0);
    zmax = max_abs(dynm_znext(&m->dyn, 0), (size_t)n * Z, zmax);
    m->dec[0].in_max = zmax;
    for (int pass = 0; pass < 2; pass++) {
        ae_decode(&m->ae, pass ? dynm_znext(&m->dyn, 0) : m->calib_z, n, out);
        m->dec[1].in_max = max_abs(m->ae.h, (size_t)n * m->ae.F, m->dec[1].in_max);
        for (int i = 2; i < m->n_dec; i++) {
            const ConvShape *s = &m->dec[i - 1].s;
            m->dec[i].in_max = max_abs(m->ae.dec_out[i - 2], (size_t)n * s->OC * s->OH * s->OW, m->dec[i].in_max);
        }
    }
    free(x), free(a), free(out);
}

// results/<run name>/eval.csv, if any: the model rows' SSIM and L1 per step.
static void read_eval_summary(ExModel *m, const char *results_dir) {
    char *path = m->eval_path;
    if (m->n_games > 0)   // ./eval writes each game of a run of several into its own folder
        snprintf(path, sizeof m->eval_path, "%.1000s/%s/%s/eval.csv", results_dir, m->run.run_name, m->game_name);
    else
        snprintf(path, sizeof m->eval_path, "%.1000s/%s/eval.csv", results_dir, m->run.run_name);
    m->eval_summary[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(m->eval_summary, sizeof m->eval_summary, "no ./eval results (%s not found)", path);
        return;
    }
    char line[4096];
    size_t len = (size_t)snprintf(m->eval_summary, sizeof m->eval_summary, "%s, model rows: step SSIM/L1", path);
    int first = 1;
    while (fgets(line, sizeof line, f)) {
        if (first) { first = 0; continue; }   // header: step,row,n,l1_mean,...,ssim_mean at column 8
        char *col[16];
        int nc = 0;
        for (char *p = strtok(line, ","); p && nc < 16; p = strtok(NULL, ",")) col[nc++] = p;
        if (nc < 9 || strcmp(col[1], "model")) continue;
        if (len + 40 < sizeof m->eval_summary)
            len += (size_t)snprintf(m->eval_summary + len, sizeof m->eval_summary - len, " %s:%.3f/%.4f", col[0],
                                    atof(col[8]), atof(col[3]));
    }
    fclose(f);
}

static int load_data(ExModel *m, Split *sp, Err *err) {
    const Config *cfg = &m->run.cfg;
    char files[CFG_MAX_FILES][CFG_STR];
    const int n_files = cfg_data_files(cfg, files);
    const char *path = m->data_path;
    snprintf(m->data_path, sizeof m->data_path, "%s", files[m->game]);
    if (!readable(path))
        return err_set(err, "%s: data.path = %s is not readable here (the start frame and the int8 ranges come "
                       "from it): run ./export from the folder ./train ran in", m->run.run_dir, path);
    Preprocess pp = {cfg->data.height, cfg->data.width, cfg->data.channels};
    // a run of several games: the game's file alone, its rows with the game's column (as ./eval --game reads it)
    if (dataset_load_games(&m->ds, files, n_files, n_files > 1 ? m->game : -1, &pp, cfg->data.accept_odd, err) < 0)
        return -1;
    if (m->ds.H != m->H || m->ds.W != m->W || m->ds.C != m->C || m->ds.A != m->A)
        return err_set(err, "%s: frames %dx%dx%d with %d buttons, but the models take %dx%dx%d with %d", path,
                       m->ds.H, m->ds.W, m->ds.C, m->ds.A, m->H, m->W, m->C, m->A);
    if (dataset_split(sp, m->ds.n_episodes, cfg->data.test_episodes, cfg->data.val_split, cfg->run.seed, err) < 0)
        return -1;
    if (sp->n_test < 1)
        return err_set(err, "%s: the run holds out no test episode (data.test_episodes = 0)", m->run.run_dir);
    m->start_ep = sp->test[0];
    return 0;
}

// A run of several games: the game exported (--game), its index and name into m.
static void pick_game(ExModel *m, const char *game) {
    const EmuRun *R = &m->run;
    char names[CFG_MAX_FILES][64];
    m->n_games = emu_run_games(R, names);
    if (m->n_games == 0 && game)
        die("--game %s: %s is a run of one game (data.path = %s); --game picks a game of a run of several", game,
            R->run_dir, R->cfg.data.path);
    if (m->n_games > 0 && !game)
        die("%s is a run of %d games (data.path = %s): give --game NAME, the game to export (its game column is "
            "compiled in as a constant)", R->run_dir, m->n_games, R->cfg.data.path);
    if (m->n_games > 0) {
        m->game = emu_run_game_index(R, names, m->n_games, game, "--game");
        snprintf(m->game_name, sizeof m->game_name, "%s", names[m->game]);
    }
}

int export_load(ExModel *m, const char *opt_run, const char *game, const char *results_dir, int start_t, Err *err) {
    memset(m, 0, sizeof *m);
    EmuRun *R = &m->run;
    emu_run_open(opt_run, R);   // dies with one line on a bad run (no dyn_best.h5, mismatched models)
    pick_game(m, game);
    Rng rng;
    rng_seed(&rng, 0);
    emu_run_models(R, EX_CALIB, &rng, &m->ae, &m->dyn);   // refuses NaN / Inf weights
    if (m->dyn.history > 0)   // the generated step keeps no past latents
        die("%s: dynamics with a history of %d steps (dynamics.history) cannot be exported: the exported step sees "
            "one latent; export a run with dynamics.history = 0", R->dyn_path, m->dyn.history);
    if (m->dyn.hyp > 1)   // the generated step has one delta (or a VAE's); choosing among candidates is not in it
        die("%s: dynamics with %d hypotheses (dynamics.hypotheses) cannot be exported: the exported step takes one "
            "delta; export a run with dynamics.hypotheses = 1", R->dyn_path, m->dyn.hyp);
    if (R->cfg.dynamics.compose > 0)
        fprintf(stderr, "export: note: %s sets dynamics.compose = %g; the exported file draws decoded frames (compose "
                "is ./eval's and ./play's drawing, not compiled in)\n", R->cfg_path, R->cfg.dynamics.compose);
    if (R->cfg.dynamics.deadband > 0)
        fprintf(stderr, "export: note: %s sets dynamics.deadband = %g; the exported file steps without it (the "
                "deadband is ./eval's and ./play's rollout, not compiled in)\n", R->cfg_path, R->cfg.dynamics.deadband);
    if (R->cfg.dynamics.reencode > 0)
        fprintf(stderr, "export: note: %s sets dynamics.reencode = %d; the exported file steps without it (./eval's and "
                "./play's rollout, not compiled in)\n", R->cfg_path, R->cfg.dynamics.reencode);
    m->ac = m->ae.cfg;
    m->dyn.temperature = 0;   // a VAE's mean: what the exported file does until NAME_set_temperature
    m->vae = R->dyn_vae;
    m->spatial = m->ac.latent_channels > 0;
    m->mlp = strcmp(m->dyn.ops->family, "conv") != 0;
    m->C = m->ac.C, m->H = m->ac.H, m->W = m->ac.W, m->Z = m->ac.latent_dim, m->A = m->dyn.A;
    m->B = m->A - m->n_games;
    if (m->mlp) {
        m->hidden = ((const Dyn *)m->dyn.impl)->cfg.hidden;
    } else {
        const ConvDyn *c = (const ConvDyn *)m->dyn.impl;
        m->hidden = c->cfg.hidden, m->blocks = c->cfg.blocks, m->grid_h = c->cfg.height, m->grid_w = c->cfg.width;
    }
    build_layers(m);
    int rc = load_data(m, &m->split, err);
    m->start_t = start_t;
    if (rc == 0 && start_t >= dataset_ep_frames(&m->ds, m->start_ep))
        rc = err_set(err, "--start %d: the first test episode (/episode_%d of %s) has %lld frames", start_t,
                     m->ds.ep_id[m->start_ep], m->ds.path, (long long)dataset_ep_frames(&m->ds, m->start_ep));
    if (rc == 0) {
        float *x = xmalloc_floats((size_t)m->C * m->H * m->W);
        dataset_frame(&m->ds, m->start_ep, m->start_t, x);
        m->start_z = xmalloc_floats((size_t)m->Z);
        ae_encode(&m->ae, x, 1, m->start_z);
        free(x);
        calibrate(m, &m->split);
        read_eval_summary(m, results_dir);
    }
    return rc;
}

void export_free(ExModel *m) {
    ae_free(&m->ae);
    dynm_free(&m->dyn);
    dataset_free(&m->ds);
    split_free(&m->split);
    free(m->start_z), free(m->calib_z);
    memset(m, 0, sizeof *m);
}

int export_format_ok(const ExModel *m, ExFormat fmt, Err *err) {
    if (fmt == FMT_FLOAT) return 0;
    if (m->vae)
        return err_set(err, "--format %s: %s has VAE dynamics, whose sampling (exp, Gaussian noise) the fixed-point "
                       "formats do not express; export it with --format float", EX_FORMAT_NAMES[fmt], m->run.dyn_path);
    if (m->mlp)
        return err_set(err, "--format %s: %s is the flat MLP dynamics, whose LayerNorm and GELU the fixed-point "
                       "formats do not express; export it with --format float", EX_FORMAT_NAMES[fmt], m->run.dyn_path);
    return 0;
}

static size_t part_params(const XLayer *l, int n) {
    size_t p = 0;
    for (int i = 0; i < n; i++) p += (size_t)l[i].s.OC * l[i].s.C * l[i].s.K * l[i].s.K + l[i].s.OC;
    return p;
}

size_t export_params(const ExModel *m, int encoder) {
    return part_params(m->dec, m->n_dec) + part_params(m->dyn_l, m->n_dyn) + (encoder ? part_params(m->enc, m->n_enc) : 0) +
           (m->mlp ? 2 * (size_t)(m->Z + m->A) : 0);
}

// float: 4 bytes a parameter; q16: 4; int8: 1 a weight, 4 a bias, 8 a channel multiplier.
size_t export_weight_bytes(const ExModel *m, ExFormat fmt, int encoder) {
    if (fmt != FMT_INT8) return 4 * export_params(m, encoder);
    const XLayer *parts[3] = {m->dec, m->dyn_l, m->enc};
    const int ns[3] = {m->n_dec, m->n_dyn, encoder ? m->n_enc : 0};
    size_t b = 0;
    for (int p = 0; p < 3; p++)
        for (int i = 0; i < ns[p]; i++) {
            const ConvShape *s = &parts[p][i].s;
            b += (size_t)s->OC * s->C * s->K * s->K + 12 * (size_t)s->OC;
        }
    return b;
}
