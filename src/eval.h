/*
 * eval.h - what ./eval's modes share: src/eval.c (--compare and the rollout evaluation) and
 * src/eval_recon.c (--recon).
 */
#ifndef NEMU_EVAL_H
#define NEMU_EVAL_H

#include <stddef.h>
#include <stdio.h>
#include "src/emu_run.h"   // readable, resolve_run

#define EVAL_BATCH 64          // rollouts (--recon: frames) per batch through the models
#define RECON_MAX_FRAMES 256   // --recon: frames of one picture

void usage(FILE *f);                 // ./eval --help
int eval_recon_main(int argc, char **argv);   // ./eval --recon ...

#endif
