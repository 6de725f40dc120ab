/*
 * init.h - PyTorch's default initialisations, driven by an explicit Rng.
 * (Values differ from torch's RNG stream; the distributions are the same.)
 */
#ifndef NEMU_INIT_H
#define NEMU_INIT_H

#include <stddef.h>
#include "base/rng.h"

// kaiming_uniform_(a=sqrt(5)) as nn.Linear/nn.Conv2d reset_parameters: U(-1/sqrt(fan_in), +).
// fan_in: Linear IN; Conv2d C*K*K; ConvTranspose2d weight [C,OC,K,K] -> OC*K*K (torch uses dim 1).
void init_kaiming_uniform(float *w, size_t n, int fan_in, Rng *rng);
// Bias rule of the same modules: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
void init_bias_uniform(float *b, size_t n, int fan_in, Rng *rng);
// nn.init.orthogonal_(w, gain) for w [rows, cols] (QR of a normal matrix, sign-fixed).
void init_orthogonal(float *w, int rows, int cols, float gain, Rng *rng);
void init_constant(float *x, size_t n, float value);

#endif
