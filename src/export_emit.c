/*
 * export_emit.c - writes NAME.h and NAME.c (see export.h): the header block, the state
 * struct and API, the weights as static const arrays in the chosen format, the runtime (the
 * text of the files in src/export_rt/, embedded at build time as RT_<file> strings) and the glue that
 * runs the layers in order.
 *
 * Conversions (documented in the generated header block):
 *   q16:  q = round(x * 65536), ties away from zero, saturated to int32
 *   int8: per output channel, scale = max |w| / 127 (1 when all zero), q = round(w / scale);
 *         per layer, in_scale = calibrated max |input| / 127; m = round(scale * in_scale * 2^32),
 *         qin = round(65536 / in_scale); biases in Q16.16
 */
#include "src/export.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "export_rt.h"   // RT_core, RT_float, ... (generated from src/export_rt/ by the Makefile)

static int32_t q16_of(double x) {
    double q = x * 65536.0;
    q = q < 0 ? q - 0.5 : q + 0.5;
    return q >= 2147483647.0 ? INT32_MAX : q <= -2147483648.0 ? INT32_MIN : (int32_t)q;
}

// ---------------------------------------------------------------- arrays

// Before element i of an initializer, `per` to a line.
static const char *sep(size_t i, size_t per) { return i == 0 ? "\n    " : i % per ? ", " : ",\n    "; }

static void emit_floats(FILE *f, const char *decl, const float *x, size_t n) {
    fprintf(f, "%s[%zu] = {", decl, n);
    for (size_t i = 0; i < n; i++) fprintf(f, "%s%af", sep(i, 8), (double)x[i]);
    fprintf(f, "\n};\n");
}

static void emit_ints(FILE *f, const char *decl, const int64_t *x, size_t n) {
    fprintf(f, "%s[%zu] = {", decl, n);
    for (size_t i = 0; i < n; i++) {
        if (x[i] == INT32_MIN) fprintf(f, "%s(-2147483647 - 1)", sep(i, 12));
        else fprintf(f, "%s%lld", sep(i, 12), (long long)x[i]);
    }
    fprintf(f, "\n};\n");
}

static size_t layer_weights(const XLayer *l) { return (size_t)l->s.OC * l->s.C * l->s.K * l->s.K; }
static size_t layer_in(const XLayer *l) { return (size_t)l->s.C * l->s.H * l->s.W; }
static size_t layer_out(const XLayer *l) { return (size_t)l->s.OC * l->s.OH * l->s.OW; }

// Output channel oc's weights: conv [OC][C][K][K] is one block; convT [C][OC][K][K] is strided.
static size_t w_index(const XLayer *l, int oc, size_t j) {
    const size_t KK = (size_t)l->s.K * l->s.K;
    if (l->kind == XL_CONV) return (size_t)oc * l->s.C * KK + j;
    return ((j / KK) * l->s.OC + oc) * KK + j % KK;
}

static void emit_layer(FILE *f, const XLayer *l, ExFormat fmt) {
    const size_t nw = layer_weights(l), OC = (size_t)l->s.OC, per = nw / OC;
    char decl[96];
    int64_t *q = xmalloc((nw > OC ? nw : OC) * sizeof(int64_t));
    if (fmt == FMT_FLOAT) {
        snprintf(decl, sizeof decl, "static const float W_%s", l->id);
        emit_floats(f, decl, l->w, nw);
        snprintf(decl, sizeof decl, "static const float B_%s", l->id);
        emit_floats(f, decl, l->b, OC);
    } else if (fmt == FMT_Q16) {
        for (size_t i = 0; i < nw; i++) q[i] = q16_of(l->w[i]);
        snprintf(decl, sizeof decl, "static const int32_t W_%s", l->id);
        emit_ints(f, decl, q, nw);
    } else {
        double in_scale = l->in_max > 0 ? l->in_max / 127.0 : 1.0 / 127.0;
        int64_t *mul = xmalloc((OC) * sizeof(int64_t));
        for (size_t oc = 0; oc < OC; oc++) {
            double mx = 0;
            for (size_t j = 0; j < per; j++) mx = fmax(mx, fabs(l->w[w_index(l, (int)oc, j)]));
            double sc = mx > 0 ? mx / 127.0 : 1.0;
            for (size_t j = 0; j < per; j++) q[w_index(l, (int)oc, j)] = (int64_t)lround(l->w[w_index(l, (int)oc, j)] / sc);
            mul[oc] = (int64_t)llround(sc * in_scale * 4294967296.0);
        }
        snprintf(decl, sizeof decl, "static const int8_t W_%s", l->id);
        emit_ints(f, decl, q, nw);
        snprintf(decl, sizeof decl, "static const int64_t M_%s", l->id);
        emit_ints(f, decl, mul, OC);
        free(mul);
    }
    if (fmt != FMT_FLOAT) {
        for (size_t oc = 0; oc < OC; oc++) q[oc] = q16_of(l->b[oc]);
        snprintf(decl, sizeof decl, "static const int32_t B_%s", l->id);
        emit_ints(f, decl, q, OC);
    }
    free(q);
    const ConvShape *s = &l->s;
    fprintf(f, "static const layer_t L_%s = {W_%s, B_%s, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d", l->id, l->id, l->id,
            s->C, s->H, s->W, s->OC, s->OH, s->OW, s->K, s->S, s->P, l->kind == XL_CONVT);
    if (fmt == FMT_INT8) {
        double in_scale = l->in_max > 0 ? l->in_max / 127.0 : 1.0 / 127.0;
        fprintf(f, ", M_%s, %lld", l->id, (long long)llround(65536.0 / in_scale));
    }
    fprintf(f, "}; /* %s: %s %dx%dx%d -> %dx%dx%d, k%d s%d p%d */\n\n", l->tensor,
            l->kind == XL_CONV ? "Conv2d" : "ConvTranspose2d", s->C, s->H, s->W, s->OC, s->OH, s->OW, s->K, s->S, s->P);
}

// ---------------------------------------------------------------- sizes

typedef struct { size_t buf, acc, in, aux; } StateSizes;

static void part_sizes(const XLayer *l, int n, StateSizes *z) {
    for (int i = 0; i < n; i++) {
        size_t in = layer_in(&l[i]), out = layer_out(&l[i]), plane = (size_t)l[i].s.OH * l[i].s.OW;
        z->buf = in > z->buf ? in : z->buf;
        z->buf = out > z->buf ? out : z->buf;
        z->in = in > z->in ? in : z->in;
        z->acc = plane > z->acc ? plane : z->acc;
    }
}

static StateSizes state_sizes(const ExModel *m, ExFormat fmt, int encoder) {
    StateSizes z = {(size_t)m->C * m->H * m->W, 1, 1, 1};
    part_sizes(m->dec, m->n_dec, &z);
    part_sizes(m->dyn_l, m->n_dyn, &z);
    if (encoder) part_sizes(m->enc, m->n_enc, &z);
    if (fmt != FMT_INT8) z.in = 1;
    if (!m->mlp) z.aux = 2 * (size_t)m->hidden;
    return z;
}

// ---------------------------------------------------------------- the header block

static void emit_block(FILE *f, const ExModel *m, ExFormat fmt, const char *file, const char *name, int encoder) {
    static const char *const fmt_doc[3] = {
        "float: IEEE single precision weights and activations, as nemu computes (frames equal nemu's to ~1e-6)",
        "q16: Q16.16 fixed point (int32, value = q / 65536) weights and activations, int64 product sums; each\n"
        " *              sum rounded once to nearest (ties up), saturated to int32; weights rounded to nearest\n"
        " *              (ties away from zero); sigmoid by a 257-point table (no FPU needed but in NAME_frame/encode)",
        "int8: int8 weights with one scale per output channel (max |w| / 127), each layer's input quantised\n"
        " *              to int8 with one calibrated scale (max |input| over 64 training frames / 127), int32\n"
        " *              product sums rescaled to Q16.16 by an integer multiplier; latent and the values between\n"
        " *              layers in Q16.16 as in q16"};
    fprintf(f, "/*\n * %s - a trained nemu emulator, exported by ./export: C99, libc + libm only, no malloc,\n", file);
    fprintf(f, " * no written globals (the caller owns the state: any number run side by side).\n *\n");
    fprintf(f, " * run:         %s (dynamics %s, autoencoder %s)\n", m->run.run_dir, m->run.dyn_path, m->run.ae_path);
    fprintf(f, " * config hash: %016llx\n", (unsigned long long)m->run.chash);
    fprintf(f, " * data:        %s, %dx%dx%d frames (HxWxC), %d buttons %s\n", m->data_path, m->H, m->W, m->C, m->B,
            m->ds.action_names);
    if (m->n_games > 0)
        fprintf(f, " * game:        %s, game %d of the run's %d: its one-hot game column is compiled in, so this\n"
                " *              file emulates that game alone (the run's data.path = %s)\n", m->game_name, m->game + 1,
                m->n_games, m->run.cfg.data.path);
    if (m->spatial)
        fprintf(f, " * model:       spatial autoencoder (%d stages, base %d, latent %dx%dx%d) + conv dynamics (hidden %d, "
                "%d blocks)%s\n", m->ac.stages, m->ac.base_channels, m->ac.latent_channels, m->grid_h, m->grid_w,
                m->hidden, m->blocks, m->vae ? ", VAE head" : "");
    else
        fprintf(f, " * model:       flat autoencoder (%d stages, base %d, latent %d) + MLP dynamics (hidden %d)%s\n",
                m->ac.stages, m->ac.base_channels, m->Z, m->hidden, m->vae ? ", VAE head" : "");
    fprintf(f, " * eval:        %s\n", m->eval_summary);
    fprintf(f, " * start:       test episode /episode_%d, frame %d, encoded by nemu\n", m->ds.ep_id[m->start_ep],
            m->start_t);
    fprintf(f, " * format:      %s\n", fmt_doc[fmt]);
    fprintf(f, " * weights:     %zu parameters, %zu bytes%s\n *\n", export_params(m, encoder),
            export_weight_bytes(m, fmt, encoder), encoder ? " (encoder included)" : "");
    fprintf(f, " * Use: %s_state s; %s_init(&s, seed); then per step %s_step(&s, buttons) with buttons[%d]\n"
            " * (0/1: %s) and %s_frame_rgba(&s, rgba) for a %dx%d RGBA picture.\n */\n",
            name, name, name, m->B, m->ds.action_names, name, m->W, m->H);
}

// ---------------------------------------------------------------- NAME.h

void export_upper(const char *name, char *up, size_t cap) {
    size_t i;
    for (i = 0; name[i] && i + 1 < cap; i++) up[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
    up[i] = 0;
}

static void emit_h(FILE *f, const ExModel *m, ExFormat fmt, const char *name, int encoder, const char *file) {
    static const char *const act_c[3] = {"float", "int32_t", "int32_t"}, *const acc_c[3] = {"float", "int64_t", "int32_t"},
                      *const in_c[3] = {"float", "int32_t", "int8_t"};
    StateSizes z = state_sizes(m, fmt, encoder);
    char up[128];
    export_upper(name, up, sizeof up);
    emit_block(f, m, fmt, file, name, encoder);
    fprintf(f, "#ifndef %s_H_INCLUDED\n#define %s_H_INCLUDED\n\n#include <stddef.h>\n#include <stdint.h>\n\n", up, up);
    fprintf(f, "#define %s_FORMAT \"%s\"\n#define %s_CHANNELS %d\n#define %s_HEIGHT %d\n#define %s_WIDTH %d\n", up,
            EX_FORMAT_NAMES[fmt], up, m->C, up, m->H, up, m->W);
    fprintf(f, "#define %s_LATENT %d   /* values of the latent z */\n#define %s_BUTTONS %d\n", up, m->Z, up, m->B);
    if (m->n_games > 0) fprintf(f, "#define %s_GAME \"%s\"   /* the game of the run's %d it emulates */\n", up, m->game_name,
                                m->n_games);
    fprintf(f, "#define %s_BUTTON_NAMES \"%s\"\n#define %s_VAE %d   /* 1: %s_set_temperature samples the dynamics */\n",
            up, m->ds.action_names, up, m->vae, name);
    fprintf(f, "#define %s_ENCODER %d   /* 1: %s_encode is compiled in */\n\n", up, encoder, name);
    fprintf(f, "typedef struct {\n    %s z[%d];          /* the latent (%s) */\n", act_c[fmt], m->Z,
            fmt == FMT_FLOAT ? "float" : "Q16.16");
    fprintf(f, "    %s buf[2][%zu];    /* activations, ping-pong */\n", act_c[fmt], z.buf);
    fprintf(f, "    %s aux[%zu];       /* pooled context (conv dynamics) */\n", act_c[fmt], z.aux);
    fprintf(f, "    %s acc[%zu];       /* one output plane's product sums */\n", acc_c[fmt], z.acc);
    fprintf(f, "    %s in[%zu];        /* a layer's quantised input (int8) */\n", in_c[fmt], z.in);
    fprintf(f, "    float temperature;\n    unsigned long long rng;\n} %s_state;\n", name);
    fprintf(f, "#define %s_STATE_BYTES sizeof(%s_state)\n\n", up, name);
    fprintf(f, "/* the start state: the compiled-in start latent; seed: the VAE noise (any value) */\n"
            "void %s_init(%s_state *s, unsigned long long seed);\n", name, name);
    fprintf(f, "/* one step of the dynamics with buttons[%s_BUTTONS] held (0 = up, else down) */\n"
            "void %s_step(%s_state *s, const unsigned char *buttons);\n", up, name, name);
    fprintf(f, "/* decode: out[C][H][W] in [0, 1] / rgba[H][W][4] */\n"
            "void %s_frame(%s_state *s, float *out);\nvoid %s_frame_rgba(%s_state *s, unsigned char *rgba);\n",
            name, name, name, name);
    fprintf(f, "/* VAE dynamics: delta = mean + temperature * std * eps (0 = the mean; no effect otherwise) */\n"
            "void %s_set_temperature(%s_state *s, float temperature);\n", name, name);
    fprintf(f, "/* the latent as floats, in and out */\nvoid %s_set_latent(%s_state *s, const float *z);\n"
            "void %s_get_latent(const %s_state *s, float *z);\nsize_t %s_state_bytes(void);\n", name, name, name, name,
            name);
    if (encoder)
        fprintf(f, "/* encode a frame [C][H][W] in [0, 1] into the state's latent */\n"
                "void %s_encode(%s_state *s, const float *frame);\n", name, name);
    fprintf(f, "\n#endif\n");
}

// ---------------------------------------------------------------- NAME.c

// The calls of a chain of layers, ping-ponging between s->buf[0] and [1]; src feeds the first,
// dst (NULL: a buf) takes the last. Returns the buffer the last wrote into (buf index or -1).
static int emit_chain(FILE *f, const XLayer *l, int n, const char *src, const char *dst) {
    int out = -1;
    for (int i = 0; i < n; i++) {
        char in[64], o[64];
        if (i == 0) snprintf(in, sizeof in, "%s", src);
        else snprintf(in, sizeof in, "s->buf[%d]", out);
        out = i == 0 ? 0 : 1 - out;
        if (i == n - 1 && dst) snprintf(o, sizeof o, "%s", dst);
        else snprintf(o, sizeof o, "s->buf[%d]", out);
        fprintf(f, "    layer(&L_%s, %s, %s, %s, s->in, s->acc);\n", l[i].id, o, in, l[i].act == XACT_RELU ? "ACT_RELU" : l[i].act == XACT_SIGMOID ? "ACT_SIGMOID" : "ACT_NONE");
    }
    return dst ? -1 : out;
}

static void emit_step(FILE *f, const ExModel *m, const char *name) {
    const int HW = m->grid_h * m->grid_w, Hc = m->hidden, nb = m->blocks;
    fprintf(f, "void %s_step(%s_state *s, const unsigned char *buttons) {\n", name, name);
    const char *in = "buttons";   // the dynamics' action input: the buttons, or with the game's column after them
    if (m->mlp) fprintf(f, "    int j;\n");   // declarations first
    if (m->n_games > 0) {
        fprintf(f, "    unsigned char a[%d];   /* the buttons, then the one-hot column of game %s (%d of %d) */\n"
                "    int g;\n", m->A, m->game_name, m->game + 1, m->n_games);
        fprintf(f, "    for (g = 0; g < %d; g++) a[g] = buttons[g];\n", m->B);
        fprintf(f, "    for (g = 0; g < %d; g++) a[%d + g] = (unsigned char)(g == %d);\n", m->n_games, m->B, m->game);
        in = "a";
    }
    int last;
    if (m->mlp) {
        fprintf(f, "    for (j = 0; j < %d; j++) s->buf[0][j] = s->z[j];\n", m->Z);
        fprintf(f, "    for (j = 0; j < %d; j++) s->buf[0][%d + j] = %s[j] ? 1.0f : 0.0f;\n", m->A, m->Z, in);
        fprintf(f, "    layernorm(s->buf[1], s->buf[0], LN_W, LN_B, %d);\n", m->Z + m->A);
        fprintf(f, "    layer(&L_fc1, s->buf[0], s->buf[1], ACT_NONE, s->in, s->acc);\n    gelu(s->buf[0], %d);\n", Hc);
        fprintf(f, "    layer(&L_fc2, s->buf[1], s->buf[0], ACT_NONE, s->in, s->acc);\n    gelu(s->buf[1], %d);\n", Hc);
        fprintf(f, "    layer(&L_fc3, s->buf[0], s->buf[1], ACT_NONE, s->in, s->acc);\n");
        last = 0;
    } else {
        fprintf(f, "    planes(s->buf[0], s->z, %d, %s, %d, %d);\n", m->Z, in, m->A, HW);
        fprintf(f, "    layer(&L_conv_in, s->buf[1], s->buf[0], ACT_RELU, s->in, s->acc);\n");
        fprintf(f, "    pool_mean(s->aux, s->buf[1], %d, %d);\n", Hc, HW);
        fprintf(f, "    layer(&L_ctx, s->aux + %d, s->aux, ACT_NONE, s->in, s->acc);\n", Hc);
        fprintf(f, "    layer(&L_blocks0, s->buf[0], s->buf[1], ACT_NONE, s->in, s->acc);\n");
        fprintf(f, "    add_ctx_relu(s->buf[0], s->aux + %d, %d, %d);\n", Hc, Hc, HW);
        last = 0;
        for (int i = 1; i < nb; i++, last = 1 - last)
            fprintf(f, "    layer(&L_blocks%d, s->buf[%d], s->buf[%d], ACT_RELU, s->in, s->acc);\n", i, 1 - last, last);
        fprintf(f, "    layer(&L_conv_out, s->buf[%d], s->buf[%d], ACT_NONE, s->in, s->acc);\n", 1 - last, last);
        last = 1 - last;
    }
    if (m->vae) fprintf(f, "    vae_step(s->z, s->buf[%d], %d, s->temperature, &s->rng);\n}\n\n", last, m->Z);
    else fprintf(f, "    residual(s->z, s->buf[%d], %d);\n}\n\n", last, m->Z);
}

static void emit_api(FILE *f, const ExModel *m, const char *name, int encoder) {
    const long F = (long)m->C * m->H * m->W, HW = (long)m->H * m->W;
    fprintf(f, "static const act_t *decode(%s_state *s) {\n", name);
    int out = emit_chain(f, m->dec, m->n_dec, "s->z", NULL);
    fprintf(f, "    return s->buf[%d];\n}\n\n", out);
    emit_step(f, m, name);
    fprintf(f, "void %s_init(%s_state *s, unsigned long long seed) {\n    memset(s, 0, sizeof *s);\n"
            "    memcpy(s->z, START_Z, sizeof s->z);\n    s->rng = seed ? seed : 0x9E3779B97F4A7C15ULL;\n}\n\n", name, name);
    fprintf(f, "void %s_frame(%s_state *s, float *out) {\n    const act_t *y = decode(s);\n    long i;\n"
            "    for (i = 0; i < %ld; i++) out[i] = act_to_float(y[i]);\n}\n\n", name, name, F);
    fprintf(f, "void %s_frame_rgba(%s_state *s, unsigned char *rgba) {\n    const act_t *y = decode(s);\n    long i;\n"
            "    for (i = 0; i < %ld; i++) {\n", name, name, HW);
    if (m->C == 1) fprintf(f, "        rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = act_to_u8(y[i]);\n");
    else
        fprintf(f, "        rgba[4 * i] = act_to_u8(y[i]);\n        rgba[4 * i + 1] = act_to_u8(y[%ld + i]);\n"
                "        rgba[4 * i + 2] = act_to_u8(y[%ld + i]);\n", HW, 2 * HW);
    fprintf(f, "        rgba[4 * i + 3] = 255;\n    }\n}\n\n");
    fprintf(f, "void %s_set_temperature(%s_state *s, float temperature) { s->temperature = temperature; }\n\n", name,
            name);
    fprintf(f, "void %s_set_latent(%s_state *s, const float *z) {\n    int i;\n"
            "    for (i = 0; i < %d; i++) s->z[i] = act_from_float(z[i]);\n}\n\n", name, name, m->Z);
    fprintf(f, "void %s_get_latent(const %s_state *s, float *z) {\n    int i;\n"
            "    for (i = 0; i < %d; i++) z[i] = act_to_float(s->z[i]);\n}\n\n", name, name, m->Z);
    fprintf(f, "size_t %s_state_bytes(void) { return sizeof(%s_state); }\n", name, name);
    if (!encoder) return;
    fprintf(f, "\nvoid %s_encode(%s_state *s, const float *frame) {\n    long i;\n"
            "    for (i = 0; i < %ld; i++) s->buf[1][i] = act_from_float(frame[i]);\n", name, name, F);
    // the chain starts from buf[1] so that its first output (buf[0]) does not overwrite it
    emit_chain(f, m->enc, m->n_enc, "s->buf[1]", "s->z");
    fprintf(f, "}\n");
}

static void emit_c(FILE *f, const ExModel *m, ExFormat fmt, const char *name, int encoder, const char *file) {
    emit_block(f, m, fmt, file, name, encoder);
    fprintf(f, "#include \"%s.h\"\n\n#include <math.h>\n#include <stdint.h>\n#include <string.h>\n\n", name);
    fprintf(f, "enum { ACT_NONE = 0, ACT_RELU = 1, ACT_SIGMOID = 2 };\n\n");
    if (fmt != FMT_FLOAT) {
        int64_t tab[257];
        for (int i = 0; i <= 256; i++) tab[i] = q16_of(1.0 / (1.0 + exp(-(i / 16.0 - 8.0))));
        emit_ints(f, "static const int32_t SIGMOID_Q16", tab, 257);
        fputs(RT_fixed, f);
    }
    fputs(fmt == FMT_FLOAT ? RT_float : fmt == FMT_Q16 ? RT_q16 : RT_int8, f);
    fputs(RT_core, f);
    if (!m->mlp) fputs(RT_dyn_conv, f);
    if (m->mlp) fputs(RT_mlp, f);
    fputs(m->vae ? RT_vae : RT_residual, f);
    fprintf(f, "\n/* ---- weights (PyTorch state_dict order and names) */\n");
    for (int i = 0; i < m->n_dec; i++) emit_layer(f, &m->dec[i], fmt);
    for (int i = 0; i < m->n_dyn; i++) emit_layer(f, &m->dyn_l[i], fmt);
    for (int i = 0; encoder && i < m->n_enc; i++) emit_layer(f, &m->enc[i], fmt);
    if (m->mlp) {
        emit_floats(f, "static const float LN_W", m->ln_w, (size_t)(m->Z + m->A));
        emit_floats(f, "static const float LN_B", m->ln_b, (size_t)(m->Z + m->A));
    }
    if (fmt == FMT_FLOAT) emit_floats(f, "static const float START_Z", m->start_z, (size_t)m->Z);
    else {
        int64_t *q = xmalloc((size_t)m->Z * sizeof(int64_t));
        for (int i = 0; i < m->Z; i++) q[i] = q16_of(m->start_z[i]);
        emit_ints(f, "static const int32_t START_Z", q, (size_t)m->Z);
        free(q);
    }
    fprintf(f, "\n/* ---- the emulator */\n");
    emit_api(f, m, name, encoder);
}

int export_write_c(const ExModel *m, ExFormat fmt, const char *dir, const char *name, int encoder, Err *err) {
    for (int part = 0; part < 2; part++) {
        char path[2048], file[300];
        snprintf(file, sizeof file, "%s.%s", name, part ? "c" : "h");
        snprintf(path, sizeof path, "%s/%s", dir, file);
        FILE *f = fopen(path, "w");
        if (!f) return err_set(err, "%s: %s", path, strerror(errno));
        if (part) emit_c(f, m, fmt, name, encoder, file);
        else emit_h(f, m, fmt, name, encoder, file);
        if (ferror(f) | fclose(f)) return err_set(err, "%s: write error", path);
    }
    return 0;
}
