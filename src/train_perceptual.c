/*
 * train_perceptual.c - ./train's perceptual term (roadmap 2.1, train.perceptual_weight and
 * train.perceptual_model; nn/perceptual.h): the checks before any work, and the frozen feature
 * extractor built from the named autoencoder checkpoint.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "nn/checkpoint.h"
#include "src/train.h"

static int perceptual_on(const Config *c) {
    return c->train.perceptual_weight > 0 && c->train.stage != STAGE_DYNAMICS;
}

void check_perceptual(const Trainer *tr) {
    const Config *c = &tr->cfg;
    if (!perceptual_on(c)) return;
    const char *p = c->train.perceptual_model;
    const char *at = config_source(c, "train.perceptual_model");
    if (access(p, R_OK) != 0) die("train.perceptual_model = %s (%s): %s", p, at ? at : "default", strerror(errno));
    Err err;
    CkptMeta meta;
    AEConfig ac;
    if (checkpoint_read_meta(p, &meta, &err) < 0) die("train.perceptual_model: %s", err.msg);
    if (strcmp(meta.model, "autoencoder") != 0)
        die("train.perceptual_model = %s is a %s checkpoint; expected an autoencoder (ae_best.h5 of a run)", p,
            meta.model[0] ? meta.model : "model-less");
    if (ckpt_meta_to_ae_config(&meta, &ac, &err) < 0) die("train.perceptual_model = %s: %s", p, err.msg);
    if (ac.H != tr->ds.H || ac.W != tr->ds.W || ac.C != tr->ds.C)
        die("train.perceptual_model = %s takes %dx%dx%d frames but the config's data are %dx%dx%d (data.height, "
            "width, channels): the frozen encoder must see the frames this autoencoder is trained on",
            p, ac.H, ac.W, ac.C, tr->ds.H, tr->ds.W, tr->ds.C);
}

static void make(const Trainer *tr, Perceptual *p, int max_B) {
    AE frozen;
    load_autoencoder(tr->cfg.train.perceptual_model, &tr->ds, &frozen, 1);
    perc_init(p, &frozen, max_B);
    ae_free(&frozen);
}

size_t perceptual_estimate(const Trainer *tr, int max_B) {
    if (!perceptual_on(&tr->cfg)) return 0;
    Perceptual p;
    make(tr, &p, max_B);
    size_t b = perc_bytes(&p);
    printf("  %-28s %8.1f MB\n", "perceptual (frozen encoder)", b / 1048576.0);
    perc_free(&p);
    return b;
}

int perceptual_open(const Trainer *tr, Perceptual *p, int max_B) {
    const Config *c = &tr->cfg;
    if (!perceptual_on(c)) return 0;
    make(tr, p, max_B);
    printf("perceptual term: L1 + %g x perceptual, on the %d frozen conv stages of %s (", c->train.perceptual_weight,
           p->S, c->train.perceptual_model);
    for (int s = 0; s < p->S; s++) printf("%s%d", s ? ", " : "", p->enc[s].OC);
    printf(" channels; %.1f MB)\n", perc_bytes(p) / 1048576.0);
    return 1;
}
