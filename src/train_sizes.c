/*
 * train_sizes.c - the model sizes of a dynamics stage (src/train.h): its autoencoder
 * checkpoint decides them, so a size key the user left out takes the checkpoint's value before
 * anything prints or records the config (issue #16 class 8: config.ini recorded the defaults
 * while the run used the checkpoint's sizes). A key the user set to another value is refused
 * later by check_model_keys, naming where it was set.
 */
#include <string.h>
#include <unistd.h>

#include "src/train.h"

void adopt_autoencoder_sizes(Config *c) {
    if (c->train.stage != STAGE_DYNAMICS || access(c->model.autoencoder, R_OK) != 0) return;
    CkptMeta meta;
    AEConfig ac;
    Err err;
    // an unreadable or foreign file: the autoencoder's load names the cause before any work
    if (checkpoint_read_meta(c->model.autoencoder, &meta, &err) < 0 || ckpt_meta_to_ae_config(&meta, &ac, &err) < 0)
        return;
    const int spatial = ac.latent_channels > 0;
    if (spatial != (c->model.latent == LATENT_SPATIAL)) return;   // refused by check_latent_family
    const char *keys[3] = {spatial ? "model.latent_channels" : "model.latent_dim", "model.stages",
                           "model.base_channels"};
    int *mine[3] = {spatial ? &c->model.latent_channels : &c->model.latent_dim, &c->model.stages,
                    &c->model.base_channels};
    const int theirs[3] = {spatial ? ac.latent_channels : ac.latent_dim, ac.stages, ac.base_channels};
    for (int k = 0; k < 3; k++)
        if (!config_source(c, keys[k])) *mine[k] = theirs[k];
}
