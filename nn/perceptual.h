/*
 * perceptual.h - the perceptual (feature-matching) term of the autoencoder loss, roadmap 2.1
 * (train.perceptual_weight, train.perceptual_model):
 *
 *   perceptual(r, x) = (1/S) sum_{s<S} mean( (phi_s(r) - phi_s(x))^2 )
 *
 * phi_s is the output of conv stage s (Conv2d k4 s2 p1 + ReLU) of a FROZEN encoder: the conv
 * stages of an autoencoder checkpoint trained earlier on the same game (not its latent layer).
 * No pretrained VGG can be downloaded here; an encoder that learned this game's frames is a
 * feature extractor that already responds to its blocks, edges and digits, at 1/2, 1/4, ...
 * of the resolution. The mean is over the B x ch_s x H_s x W_s features of each stage, so every
 * stage weighs the same whatever its size. x is the frame, r its reconstruction.
 *
 * Memory: the frozen weights (a copy), the features of r and of x at every stage, two
 * gradient buffers and a conv workspace, allocated once for batches up to max_B; forward and
 * backward allocate nothing. The backward pass computes the input gradient only (no weight
 * gradient: the extractor is frozen). Tested by finite differences and against PyTorch
 * (tests/test_perceptual.c, tests/make_perceptual_fixtures.py).
 */
#ifndef NEMU_PERCEPTUAL_H
#define NEMU_PERCEPTUAL_H

#include "nn/model.h"

typedef struct {
    int S, max_B, C, H, W;
    ConvShape enc[AE_MAX_STAGES];
    float *w[AE_MAX_STAGES], *b[AE_MAX_STAGES];   // frozen copies of encoder_conv.{2s}.weight/bias
    float *fr[AE_MAX_STAGES], *fx[AE_MAX_STAGES]; // features of the reconstruction and of the frame
    float *d[2];                                  // dL/dphi ping-pong, the largest stage each
    float *work;                                  // conv workspace
    float *mem;                                   // the one allocation all of the above lie in
    size_t floats;
    const float *r;                               // the reconstruction of the last perc_forward
    int last_B;
} Perceptual;

// Copies the conv stages of a (loaded) autoencoder; the autoencoder may be freed afterwards.
void perc_init(Perceptual *p, const AE *frozen, int max_B);
void perc_free(Perceptual *p);
// r, x [B,C,H,W]: the reconstruction and the frame. Returns the perceptual term (summed in double); keeps r
// (it must stay valid until perc_backward) and the features.
double perc_forward(Perceptual *p, const float *r, const float *x, int B);
// drecon [B,C,H,W] += scale * d perceptual / d r, for the last perc_forward.
void perc_backward(Perceptual *p, float *drecon, int B, float scale);
size_t perc_bytes(const Perceptual *p);

#endif
