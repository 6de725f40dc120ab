/*
 * train_weight_map.c - ./train's weight map (train.weight_map, train.weight_map_gain): a PNG
 * the size of the data's frames as stored (grey; an RGB one is taken as its luma), converted
 * and resized exactly as the frames are (data/preprocess.h: Pillow's "L" and BILINEAR), that
 * weighs the autoencoder's L1 per pixel: w = 1 + gain x value / 255, in every channel, times
 * the weight of train.changed_weight (nn/wloss.h). The checks before any work, and the map.
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "data/png.h"
#include "data/preprocess.h"
#include "nn/wloss.h"
#include "src/train.h"

static int weight_map_on(const Config *c) { return c->train.weight_map_gain > 0 && c->train.stage != STAGE_DYNAMICS; }

static const char *where(const Config *c) {
    const char *at = config_source(c, "train.weight_map");
    return at ? at : "default";
}

void check_weight_map_file(const Config *c) {
    if (!weight_map_on(c)) return;
    Image img;
    Err err;
    if (png_read(c->train.weight_map, &img, &err) < 0) die("train.weight_map (%s): %s", where(c), err.msg);
    image_free(&img);
}

float *weight_map_build(const Config *c, const Dataset *ds) {
    if (!weight_map_on(c)) return NULL;
    Image img;
    Err err;
    if (png_read(c->train.weight_map, &img, &err) < 0) die("train.weight_map (%s): %s", where(c), err.msg);
    if (img.w != ds->src_w || img.h != ds->src_h) {
        int w = img.w, h = img.h;
        image_free(&img);
        die("train.weight_map = %s (%s) is %dx%d (WxH) but the frames of %s are %dx%d as stored: draw the map on a "
            "frame of the data, before any resizing", c->train.weight_map, where(c), w, h, c->data.path, ds->src_w,
            ds->src_h);
    }
    Preprocessor pp;
    const Preprocess p = {ds->H, ds->W, 1};
    if (preprocessor_init(&pp, img.h, img.w, img.c, &p, &err) < 0) {
        image_free(&img);
        die("train.weight_map = %s: %s", c->train.weight_map, err.msg);
    }
    const size_t P = (size_t)ds->H * ds->W;
    uint8_t *grey = xmalloc(P), *scratch = xmalloc(preprocessor_scratch_bytes(&pp));
    preprocess_frame(&pp, img.px, grey, scratch);
    float *w = xmalloc_floats((size_t)ds->C * P);
    weight_map_weights(grey, ds->C, ds->H, ds->W, (float)c->train.weight_map_gain, w);
    size_t marked = 0;
    for (size_t i = 0; i < P; i++) marked += grey[i] > 0;
    printf("train.weight_map = %s: %zu of %zu pixels weigh more (up to 1 + %g), resized to %dx%d as the frames\n",
           c->train.weight_map, marked, P, c->train.weight_map_gain, ds->W, ds->H);
    free(grey), free(scratch);
    preprocessor_free(&pp);
    image_free(&img);
    return w;
}
