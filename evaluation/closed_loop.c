/*
 * closed_loop.c - the re-encoding step of a closed-loop rollout (see closed_loop.h).
 */
#include "evaluation/closed_loop.h"

#include <stddef.h>

#include "evaluation/emulation.h"

void closed_loop_reencode(AE *ae, float *z, int n, const float *x0, const float *d0, float compose, float *frames) {
    const int C = ae->cfg.C, H = ae->cfg.H, W = ae->cfg.W;
    const size_t F = (size_t)C * H * W;
    ae_decode(ae, z, n, frames);
    for (int i = 0; i < n && compose > 0; i++) emu_compose(frames + i * F, x0 + i * F, d0 + i * F, C, H, W, compose);
    ae_encode(ae, frames, n, z);
}
