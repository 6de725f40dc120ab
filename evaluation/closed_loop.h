/*
 * closed_loop.h - how a closed-loop rollout of ./eval and ./play steps and draws (one struct
 * for both, from the run's dynamics.compose / deadband / reencode or their command-line
 * overrides), and the re-encoding step.
 *
 *   compose   > 0: a predicted frame keeps the real start frame's pixels wherever the decoded
 *             prediction is within this of the decoded start frame (emu_compose,
 *             evaluation/emulation.h); 0: the decoder draws every pixel
 *   deadband  > 0: after each step, latent cells that changed by an RMS below it keep their
 *             value (latent_deadband, evaluation/deadband.h)
 *   reencode  N > 0: after every N-th step, the state becomes the encoding of the frame as it
 *             is drawn: z <- encode(draw(z)), draw = decode, then compose when compose > 0
 *
 * Why re-encode: a dynamics model's small errors add up in closed loop and carry the latent
 * off the encoder's range (speckles over the board, then noise). Encoding the frame as drawn
 * puts the state back on latents the encoder makes, so the model steps from what it shows.
 * With compose > 0 the drawn frame keeps the start frame's real pixels where nothing moved,
 * so the autoencoder's own loss (encode(decode(z)) is not z) does not erode the static board
 * step after step, as it does with compose = 0 (README, Play). The history of a history run
 * (dynamics.history) keeps the latents as they were stepped.
 */
#ifndef NEMU_CLOSED_LOOP_H
#define NEMU_CLOSED_LOOP_H

#include "nn/model.h"

// ./eval --hyp-oracle: which choice among a hypotheses model's candidates the truth makes
typedef enum { HYP_ORACLE_OFF, HYP_ORACLE_FRAME, HYP_ORACLE_CELL } HypOracle;

typedef struct {
    float compose;   // dynamics.compose
    float deadband;  // dynamics.deadband
    int reencode;    // dynamics.reencode: every this many steps (0: never)
    HypOracle hyp_oracle;   // ./eval --hyp-oracle: rollout_eval feeds the candidate nearest the
                            // encoded true next frame (FRAME), or each grid cell's nearest (CELL);
                            // it needs the truth: the emulator and ./play ignore it
} ClosedLoop;

// 1 when step t (1-based, steps since the rollout's start) re-encodes.
static inline int closed_loop_reencodes(const ClosedLoop *cl, long t) { return cl->reencode > 0 && t % cl->reencode == 0; }

// z [n, Z] in place: z <- encode(draw(z)), n <= ae->max_B. x0, d0 [n, C, H, W]: the start frames
// and decode(encode(start)), read when compose > 0; frames [n, C, H, W]: scratch (on return, the
// drawn frames).
void closed_loop_reencode(AE *ae, float *z, int n, const float *x0, const float *d0, float compose, float *frames);

#endif
