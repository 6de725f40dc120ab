/*
 * config.c - the strict INI config (see config.h): the file parser (includes, --set), the
 * cross-key rules and the output (config_write, hash, equality). They walk one table of
 * keys, KEYS[], which lives with the per-value parsing and text in config_keys.c.
 *
 * Flow of config_load: defaults -> the file's lines in order (includes recurse, each file
 * tracks its own keys for the duplicate check) -> run.name from the file stem unless set
 * -> each --set -> finalize (dynamics.epochs/lr inherit train.* unless set) -> cross-key
 * rules. config_set re-runs finalize and the rules after each assignment.
 */
#include "base/path.h"   // path_kind
#include "src/config.h"
#include "src/config_keys.h"
#include "base/err.h"
#include "base/alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------- rules

// dynamics.epochs/lr follow train.* unless set.
static void finalize(Config *c) {
    if (!c->src[K_DYN_EPOCHS].set) c->dynamics.epochs = c->train.epochs;
    if (!c->src[K_DYN_LR].set) c->dynamics.lr = c->train.lr;
}

static const char *stage_name(const Config *c) {
    static const char *const names[] = {"autoencoder", "dynamics", "both"};
    return names[c->train.stage];
}

// Why key k has no effect under c (NULL: it has one). Only rules that depend on other
// keys' values; train.epochs/lr vs dynamics.epochs/lr depend on what was set and are
// handled in check_rules and config_write.
static const char *no_effect(const Config *c, int k, char *buf, size_t cap) {
    const char *sec = KEYS[k].section;
    if (strcmp(sec, "dynamics") == 0 && c->train.stage == STAGE_AUTOENCODER)
        return "has no effect while train.stage = autoencoder";
    switch (k) {
    case K_DATA_GEN_EPISODES: case K_DATA_GEN_STEPS: case K_DATA_GEN_SEED: case K_DATA_GEN_FRAME_SKIP: {
        char files[CFG_MAX_FILES][CFG_STR];
        int any = 0, n = cfg_data_files(c, files);   // a built-in game records at least one file
        for (int i = 0; i < n; i++) any |= cfg_data_generate(c, i) != GEN_NONE;
        if (!any) return "has no effect while data.generate = none";
        break;
    }
    case K_MODEL_LATENT_DIM:
        if (c->model.latent == LATENT_SPATIAL)
            return "has no effect while model.latent = spatial (z has latent_channels x H/2^stages x "
                   "W/2^stages floats)";
        break;
    case K_DYN_EVENT_SHARE:
        if (c->dynamics.event_weight == 1) return "has no effect while dynamics.event_weight = 1";
        break;
    case K_MODEL_LATENT_CHANNELS:
        if (c->model.latent == LATENT_FLAT) return "has no effect while model.latent = flat (set latent_dim)";
        break;
    case K_MODEL_LATENT_NOISE: case K_MODEL_OUTPUT_BIAS: case K_TRAIN_CHANGED_WEIGHT: case K_TRAIN_PERCEPTUAL_WEIGHT:
    case K_TRAIN_WEIGHT_MAP_GAIN:
        if (c->train.stage == STAGE_DYNAMICS)
            return "has no effect while train.stage = dynamics (it is used when training the autoencoder)";
        break;
    case K_TRAIN_WEIGHT_MAP:
        if (c->train.stage == STAGE_DYNAMICS)
            return "has no effect while train.stage = dynamics (it is used when training the autoencoder)";
        if (c->train.weight_map_gain == 0)
            return "has no effect while train.weight_map_gain = 0 (set the weight of the map's white pixels)";
        break;
    case K_TRAIN_PERCEPTUAL_MODEL:
        if (c->train.stage == STAGE_DYNAMICS)
            return "has no effect while train.stage = dynamics (it is used when training the autoencoder)";
        if (c->train.perceptual_weight == 0)
            return "has no effect while train.perceptual_weight = 0 (set the weight of the perceptual term)";
        break;
    case K_MODEL_AUTOENCODER:
        if (c->train.stage != STAGE_DYNAMICS) {
            snprintf(buf, cap, "has no effect while train.stage = %s (%s)", stage_name(c),
                     c->train.stage == STAGE_BOTH ? "the dynamics stage uses the autoencoder trained in this run"
                                                  : "it names the autoencoder a dynamics stage encodes with");
            return buf;
        }
        break;
    case K_DYN_CHANGED_WEIGHT:
        if (c->dynamics.loss == DYN_LOSS_LATENT)
            return "has no effect while dynamics.loss = latent (it weighs the pixel loss)";
        break;
    case K_DYN_BLOCKS:
        if (c->model.latent == LATENT_FLAT)
            return "has no effect while model.latent = flat (the dynamics is the MLP; blocks are the conv "
                   "dynamics' of a spatial latent)";
        break;
    case K_DYN_HYPOTHESES:
        if (c->model.latent == LATENT_FLAT)
            return "needs model.latent = spatial (the hypotheses are a head of the conv dynamics)";
        if (c->dynamics.type == DYN_VAE && c->dynamics.hypotheses > 1)
            return "cannot be combined with dynamics.type = vae (two ways to sample a future; choose one)";
        break;
    case K_DYN_HYP_FEED:
        if (c->dynamics.hypotheses == 1) return "has no effect while dynamics.hypotheses = 1";
        if (c->dynamics.rollout_steps == 1)
            return "has no effect while dynamics.rollout_steps = 1 (no step is taken from the fed candidate)";
        if (c->dynamics.hyp_feed == HYP_FEED_MOST_PROBABLE && c->dynamics.loss == DYN_LOSS_PIXEL)
            return "most_probable cannot be combined with dynamics.loss = pixel (the pixel loss fits the frame "
                   "drawn from the fed candidate, not the nearest)";
        break;
    case K_DYN_HYP_CHOICE:
        if (c->dynamics.hypotheses == 1) return "has no effect while dynamics.hypotheses = 1";
        break;
    case K_DYN_HISTORY:
        if (c->model.latent == LATENT_FLAT && c->dynamics.history > 0)
            return "needs model.latent = spatial (the history enters the conv dynamics as input planes)";
        break;
    case K_DYN_COMPOSE:
        if (c->train.stage == STAGE_AUTOENCODER)
            return "has no effect while train.stage = autoencoder (it draws the dynamics' predicted frames)";
        break;
    case K_DYN_BETA:
        if (c->dynamics.type == DYN_DETERMINISTIC)
            return "has no effect while dynamics.type = deterministic (it weighs the vae's KL term)";
        break;
    case K_DYN_SAMPLING_START: case K_DYN_SAMPLING_END:
        if (c->dynamics.rollout_steps == 1)
            return "has no effect while dynamics.rollout_steps = 1 (scheduled sampling feeds "
                   "predictions back within a multi-step rollout)";
        break;
    case K_EVAL_TEMPERATURE: case K_EVAL_SAMPLES:
        if (c->train.stage == STAGE_AUTOENCODER ||
            (c->dynamics.type == DYN_DETERMINISTIC && c->dynamics.hypotheses == 1))
            return "has no effect while dynamics.type = deterministic with dynamics.hypotheses = 1";
        break;
    }
    return NULL;
}

static const char *where_of(const Config *c, int k) {
    return c->src[k].set ? c->src[k].where : "default";
}

static int rule_err(const Config *c, int k, Err *err, const char *msg) {
    return err_set(err, "%s: [%s] %s: %s", where_of(c, k), KEYS[k].section, KEYS[k].key, msg);
}

// ---------------------------------------------------------------- data.path as a list of files

// Splits data.path at commas into trimmed names; returns the count, or -1 with why in msg (an
// empty name, a file twice, more than CFG_MAX_FILES).
static int split_files(const char *path, char files[][CFG_STR], char *msg, size_t cap) {
    char buf[CFG_STR];
    snprintf(buf, sizeof buf, "%s", path);
    int n = 0;
    for (char *p = buf;;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = 0;
        char *name = cfg_trim(p);
        if (!*name) return snprintf(msg, cap, "an empty file name in the list '%s'", path), -1;
        if (n == CFG_MAX_FILES) return snprintf(msg, cap, "more than %d files in the list", CFG_MAX_FILES), -1;
        for (int i = 0; i < n; i++)
            if (!strcmp(files[i], name)) return snprintf(msg, cap, "%s is listed twice", name), -1;
        snprintf(files[n++], CFG_STR, "%s", name);
        if (!comma) break;
        p = comma + 1;
    }
    return n;
}

int cfg_data_files(const Config *c, char files[][CFG_STR]) {
    char msg[CFG_STR + 64];
    int n = split_files(c->data.path, files, msg, sizeof msg);
    CHECK(n > 0, "data.path: %s (config_load checks it)", msg);
    return n;
}

CfgGenerate cfg_data_generate(const Config *c, int i) {
    char files[CFG_MAX_FILES][CFG_STR];
    int n = cfg_data_files(c, files);
    CHECK(i >= 0 && i < n, "file %d of %d", i, n);
    if (n == 1) return c->data.generate;
    return c->data.n_gen == n ? c->data.gen_list[i] : GEN_NONE;
}

// data.path's list and data.generate's list agree (one game per file, or none).
static int check_files(const Config *c, Err *err) {
    char files[CFG_MAX_FILES][CFG_STR], msg[2 * CFG_STR + 128];
    int n = split_files(c->data.path, files, msg, sizeof msg);
    if (n < 0) return rule_err(c, K_DATA_PATH, err, msg);
    if (c->data.n_gen > 1 && c->data.n_gen != n) {
        snprintf(msg, sizeof msg, "names %d games but data.path (at %s) lists %d file%s: give one game per file, "
                 "in order, or none", c->data.n_gen, where_of(c, K_DATA_PATH), n, n > 1 ? "s" : "");
        return rule_err(c, K_DATA_GENERATE, err, msg);
    }
    if (n > 1 && c->data.n_gen == 1 && c->src[K_DATA_GENERATE].set && c->data.generate != GEN_NONE) {
        snprintf(msg, sizeof msg, "names one game for the %d files of data.path (at %s): give one per file, in "
                 "order (e.g. tetris, scroller, maze), or none", n, where_of(c, K_DATA_PATH));
        return rule_err(c, K_DATA_GENERATE, err, msg);
    }
    return 0;
}

static int check_rules(const Config *c, Err *err) {
    char buf[256], msg[512];
    if (check_files(c, err) < 0) return -1;
    for (int k = 0; k < N_KEYS; k++) {
        const char *why = c->src[k].set ? no_effect(c, k, buf, sizeof buf) : NULL;
        if (why) return rule_err(c, k, err, why);
    }
    // train.epochs/lr under stage = dynamics when dynamics.epochs/lr is set too
    static const int pairs[2][2] = {{K_TRAIN_EPOCHS, K_DYN_EPOCHS}, {K_TRAIN_LR, K_DYN_LR}};
    for (int i = 0; i < 2; i++) {
        int t = pairs[i][0], dk = pairs[i][1];
        if (c->train.stage == STAGE_DYNAMICS && c->src[t].set && c->src[dk].set) {
            snprintf(msg, sizeof msg, "has no effect while train.stage = dynamics and dynamics.%s "
                     "is set (at %s)", KEYS[dk].key, c->src[dk].where);
            return rule_err(c, t, err, msg);
        }
    }
    // H and W divisible by 2^stages: cite height/width if set there, else stages
    int f = 1 << c->model.stages;
    int hw[2] = {K_DATA_HEIGHT, K_DATA_WIDTH};
    for (int i = 0; i < 2; i++) {
        int v = *cint_at(c, hw[i]);
        if (v % f == 0) continue;
        int k = c->src[hw[i]].set ? hw[i] : K_MODEL_STAGES;
        snprintf(msg, sizeof msg, "data.%s = %d is not divisible by 2^model.stages = %d "
                 "(model.stages = %d at %s)", KEYS[hw[i]].key, v, f, c->model.stages,
                 where_of(c, K_MODEL_STAGES));
        return rule_err(c, k, err, msg);
    }
    if (c->train.stage == STAGE_DYNAMICS && !c->model.autoencoder[0])
        return rule_err(c, K_TRAIN_STAGE, err, "dynamics needs [model] autoencoder = <checkpoint "
                        "of the autoencoder to encode with> (or use stage = both)");
    if (c->train.perceptual_weight > 0 && c->train.stage != STAGE_DYNAMICS && !c->train.perceptual_model[0])
        return rule_err(c, K_TRAIN_PERCEPTUAL_WEIGHT, err, "needs train.perceptual_model = <an autoencoder "
                        "checkpoint trained earlier on the same frames, e.g. runs/sp_ae/ae_best.h5: its conv stages "
                        "are the frozen feature extractor>");
    if (c->train.weight_map_gain > 0 && c->train.stage != STAGE_DYNAMICS && !c->train.weight_map[0])
        return rule_err(c, K_TRAIN_WEIGHT_MAP_GAIN, err, "needs train.weight_map = <a grey PNG the size of the "
                        "data's frames as stored, white where the loss should weigh more, e.g. "
                        "configs/tetris_hud_mask.png>");
    if (c->train.weight_map_gain > 0 && c->train.stage != STAGE_DYNAMICS) {
        char files[CFG_MAX_FILES][CFG_STR];
        if (cfg_data_files(c, files) > 1)
            return rule_err(c, K_TRAIN_WEIGHT_MAP, err, "one map for several games' frames (data.path lists "
                            "several files): train one game's autoencoder with it");
    }
    if ((c->dynamics.type == DYN_VAE || c->dynamics.hypotheses > 1) && c->train.stage != STAGE_AUTOENCODER &&
        c->eval.samples > 1 && c->eval.temperature == 0) {
        snprintf(msg, sizeof msg, "%d samples have no effect while eval.temperature = 0 (at %s): "
                 "every sample is the same rollout", c->eval.samples, where_of(c, K_EVAL_TEMPERATURE));
        return rule_err(c, K_EVAL_SAMPLES, err, msg);
    }
    return 0;
}

// ---------------------------------------------------------------- the parser

#define MAX_DEPTH 16

typedef struct {
    Config *cfg;
    Err *err;
    char *real[MAX_DEPTH];   // realpath of each file being read, for cycle detection
    char *shown[MAX_DEPTH];  // the path as messages show it
    int depth;
} Parser;

// Reads one file; `from` is "file:line" of the include line (NULL for the top file).
static int parse_file(Parser *p, const char *path, const char *from) {
    const char *kind = path_kind(path);   // a FIFO or device would block fopen, a folder read as empty
    if (kind && from) return err_set(p->err, "%s: include '%s': is %s; expected a config file", from, path, kind);
    if (kind) return err_set(p->err, "config '%s': is %s; expected a config file", path, kind);
    char *real = realpath(path, NULL);
    FILE *f = real ? fopen(path, "r") : NULL;
    if (!f) {
        int e = errno;
        free(real);
        if (from) return err_set(p->err, "%s: include: cannot open '%s': %s", from, path, strerror(e));
        return err_set(p->err, "cannot open config '%s': %s", path, strerror(e));
    }
    for (int i = 0; i < p->depth; i++) {
        if (strcmp(p->real[i], real) != 0) continue;
        char chain[1024];
        size_t n = 0;
        chain[0] = '\0';
        for (int j = i; j < p->depth && n < sizeof chain; j++)
            n += (size_t)snprintf(chain + n, sizeof chain - n, "%s -> ", p->shown[j]);
        if (n < sizeof chain) snprintf(chain + n, sizeof chain - n, "%s", path);
        free(real);
        fclose(f);
        return err_set(p->err, "%s: include cycle: %s", from, chain);
    }
    if (p->depth == MAX_DEPTH) {
        free(real);
        fclose(f);
        return err_set(p->err, "%s: include: nested more than %d deep", from, MAX_DEPTH);
    }
    p->real[p->depth] = real;
    p->shown[p->depth] = xstrdup(path);
    p->depth++;

    int seen_line[N_KEYS] = {0};   // line where each key was set in this file (duplicates)
    int section = -1, lineno = 0, rc = 0;
    char *line = NULL, where[CFG_STR + 32];
    size_t cap = 0;
    ssize_t len;
    while (rc == 0 && (len = getline(&line, &cap, f)) != -1) {
        lineno++;
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        if (strlen(line) != (size_t)len) {   // a NUL would cut the line short without a word
            rc = err_set(p->err, "%s: NUL byte at column %zu; expected text", where, strlen(line) + 1);
            break;
        }
        // a UTF-8 byte order mark (some Windows editors write one) is accepted and skipped
        char *s = cfg_trim(lineno == 1 && !strncmp(line, "\xEF\xBB\xBF", 3) ? line + 3 : line);
        if (*s == '#' || *s == ';' || *s == '\0') continue;
        for (char *q = s + 1; *q; q++)   // trailing comment: # or ; after whitespace
            if ((*q == '#' || *q == ';') && (q[-1] == ' ' || q[-1] == '\t')) { *q = '\0'; break; }
        s = cfg_trim(s);
        if (*s == '[') {
            size_t n = strlen(s);
            if (s[n - 1] != ']') { rc = err_set(p->err, "%s: expected '[section]', found '%s'", where, s); break; }
            s[n - 1] = '\0';
            char *name = cfg_trim(s + 1);
            section = cfg_find_section(name);
            if (section < 0)
                rc = err_set(p->err, "%s: unknown section [%s] (sections: run, data, model, train, "
                             "dynamics, eval)", where, name);
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) { rc = err_set(p->err, "%s: expected 'key = value' or '[section]', found '%s'", where, s); break; }
        *eq = '\0';
        char *key = cfg_trim(s), *val = cfg_trim(eq + 1);
        if (strcmp(key, "include") == 0) {
            if (!*val) { rc = err_set(p->err, "%s: include: expected a file name", where); break; }
            char inc[2 * CFG_STR];
            const char *slash = strrchr(path, '/');
            if (val[0] == '/' || !slash) snprintf(inc, sizeof inc, "%s", val);
            else snprintf(inc, sizeof inc, "%.*s/%s", (int)(slash - path), path, val);
            rc = parse_file(p, inc, where);
            continue;
        }
        if (section < 0) { rc = err_set(p->err, "%s: key '%s' before any [section]", where, key); break; }
        int k = cfg_find_key(SECTIONS[section], key);
        if (k < 0) {
            char keys[512];
            size_t n = 0;
            keys[0] = '\0';
            for (int j = 0; j < N_KEYS && n < sizeof keys; j++)
                if (strcmp(KEYS[j].section, SECTIONS[section]) == 0)
                    n += (size_t)snprintf(keys + n, sizeof keys - n, "%s%s", n ? ", " : "", KEYS[j].key);
            rc = err_set(p->err, "%s: [%s] unknown key '%s' (keys: %s)", where, SECTIONS[section], key, keys);
            break;
        }
        if (seen_line[k]) {
            rc = err_set(p->err, "%s: [%s] %s: set twice in this file (first at line %d)", where,
                         KEYS[k].section, KEYS[k].key, seen_line[k]);
            break;
        }
        seen_line[k] = lineno;
        rc = cfg_set_value(p->cfg, k, val, where, p->err);
    }
    if (rc == 0 && ferror(f)) rc = err_set(p->err, "%s: read error: %s", path, strerror(errno));
    free(line);
    fclose(f);
    p->depth--;
    free(p->real[p->depth]);
    free(p->shown[p->depth]);
    return rc;
}

static int apply_set(Config *c, const char *assignment, Err *err) {
    char buf[1024], where[CFG_STR + 64];
    snprintf(where, sizeof where, "--set %s", assignment);
    if (strlen(assignment) >= sizeof buf) return err_set(err, "--set: assignment too long");
    strcpy(buf, assignment);
    char *eq = strchr(buf, '=');
    char *dot = eq ? memchr(buf, '.', (size_t)(eq - buf)) : NULL;
    if (!eq || !dot) return err_set(err, "%s: expected section.key=value", where);
    *eq = '\0';
    *dot = '\0';
    char *sec = cfg_trim(buf), *key = cfg_trim(dot + 1), *val = cfg_trim(eq + 1);
    if (cfg_find_section(sec) < 0)
        return err_set(err, "%s: unknown section [%s] (sections: run, data, model, train, dynamics, eval)",
                       where, sec);
    int k = cfg_find_key(sec, key);
    if (k < 0) return err_set(err, "%s: [%s] unknown key '%s'", where, sec, key);
    return cfg_set_value(c, k, val, where, err);
}

int config_set(Config *cfg, const char *assignment, Err *err) {
    if (apply_set(cfg, assignment, err)) return -1;
    finalize(cfg);
    return check_rules(cfg, err);
}

int config_load(Config *cfg, const char *path, int n_sets, char **sets, Err *err) {
    config_defaults(cfg);
    if (path) {
        Parser p = {.cfg = cfg, .err = err};
        if (parse_file(&p, path, NULL)) return -1;
        if (!cfg->src[K_RUN_NAME].set) {   // the file's stem
            const char *base = strrchr(path, '/');
            base = base ? base + 1 : path;
            const char *ext = strrchr(base, '.');
            size_t n = ext && ext != base ? (size_t)(ext - base) : strlen(base);
            char stem[CFG_STR];
            snprintf(stem, sizeof stem, "%.*s", (int)n, base);
            if (!cfg_valid_name(stem))
                return err_set(err, "%s: [run] name: the file stem '%s' is not a valid run name "
                               "(letters, digits, '.', '_', '-'); set [run] name", path, stem);
            strcpy(cfg->run.name, stem);
        }
    } else {
        strcpy(cfg->run.name, "nemu");
    }
    for (int i = 0; i < n_sets; i++)
        if (apply_set(cfg, sets[i], err)) return -1;
    finalize(cfg);
    return check_rules(cfg, err);
}

// ---------------------------------------------------------------- output

// Why config_write comments key k out (NULL: written as a setting).
static const char *write_comment_reason(const Config *c, int k, char *buf, size_t cap) {
    const char *why = no_effect(c, k, buf, cap);
    if (why) return why;
    if (k == K_RUN_NAME && !c->run.name[0]) return "default: the config file's stem";
    // dynamics.x equal to train.x is written as inherited (so a later --set train.x moves
    // it too); under stage = dynamics an unequal train.x is at its default (load refuses
    // both set) and has no effect
    int same_e = c->dynamics.epochs == c->train.epochs, same_l = c->dynamics.lr == c->train.lr;
    if (k == K_DYN_EPOCHS && same_e) return "the same as train.epochs";
    if (k == K_DYN_LR && same_l) return "the same as train.lr";
    if (c->train.stage == STAGE_DYNAMICS) {
        if (k == K_TRAIN_EPOCHS && !same_e) return "has no effect: dynamics.epochs is set";
        if (k == K_TRAIN_LR && !same_l) return "has no effect: dynamics.lr is set";
    }
    return NULL;
}

void config_write(const Config *cfg, FILE *f) {
    char val[CFG_STR + 16], exp[160], why[256];
    fprintf(f, "# nemu config, resolved: every key with defaults filled in.\n"
               "# Keys written as comments have no effect under this config.\n");
    const char *sec = "";
    for (int k = 0; k < N_KEYS; k++) {
        const KeyDef *d = &KEYS[k];
        if (strcmp(sec, d->section) != 0) {
            sec = d->section;
            fprintf(f, "\n[%s]\n", sec);
        }
        fprintf(f, "# %s; %s; default %s\n", d->help, cfg_expect_text(k, exp, sizeof exp),
                d->def_doc ? d->def_doc : d->def);
        cfg_value_text(cfg, k, val, sizeof val);
        const char *r = write_comment_reason(cfg, k, why, sizeof why);
        if (r) fprintf(f, "# %s = %s    (%s)\n", d->key, val, r);
        else fprintf(f, "%s = %s\n", d->key, val);
    }
}

char *config_to_string(const Config *cfg) {
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    CHECK(f, "open_memstream failed");
    config_write(cfg, f);
    fclose(f);
    return buf;
}

// FNV-1a 64 over "section.key=value\n" of every key whose value is not its default, so that a
// new key (at its default), a reworded help text or another key order leaves the hash of an
// unchanged config as it was. The rollout choices (F_ROLLOUT: dynamics.deadband, .reencode)
// are left out: a run's config.ini may set them after training without its checkpoints
// counting as trained with another config.
uint64_t config_hash(const Config *cfg) {
    uint64_t h = 1469598103934665603ULL;
    char v[CFG_STR + 16], line[CFG_STR + 128];
    for (int k = 0; k < N_KEYS; k++) {
        cfg_value_text(cfg, k, v, sizeof v);
        if ((KEYS[k].def && !strcmp(v, KEYS[k].def)) || (KEYS[k].flags & F_ROLLOUT)) continue;
        snprintf(line, sizeof line, "%s.%s=%s\n", KEYS[k].section, KEYS[k].key, v);
        for (const unsigned char *p = (const unsigned char *)line; *p; p++) {
            h ^= *p;
            h *= 1099511628211ULL;
        }
    }
    return h;
}

int config_equal(const Config *a, const Config *b) {
    char va[CFG_STR + 16], vb[CFG_STR + 16];
    for (int k = 0; k < N_KEYS; k++) {
        if (KEYS[k].type == KT_REAL) {
            if (*creal_at(a, k) != *creal_at(b, k)) return 0;
        } else if (strcmp(cfg_value_text(a, k, va, sizeof va), cfg_value_text(b, k, vb, sizeof vb)) != 0) {
            return 0;
        }
    }
    return 1;
}

const char *config_source(const Config *cfg, const char *section_dot_key) {
    const char *dot = strchr(section_dot_key, '.');
    CHECK(dot, "config_source: expected section.key, got '%s'", section_dot_key);
    char sec[32];
    snprintf(sec, sizeof sec, "%.*s", (int)(dot - section_dot_key), section_dot_key);
    int k = cfg_find_key(sec, dot + 1);
    CHECK(k >= 0, "config_source: unknown key '%s'", section_dot_key);
    return cfg->src[k].set ? cfg->src[k].where : NULL;
}
