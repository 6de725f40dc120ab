/*
 * eval.h - what ./eval's modes share: src/eval.c (--compare and the rollout evaluation) and
 * src/eval_recon.c (--recon).
 */
#ifndef NEMU_EVAL_H
#define NEMU_EVAL_H

#include <stddef.h>
#include <stdio.h>

#define EVAL_BATCH 64          // rollouts (--recon: frames) per batch through the models
#define RECON_MAX_FRAMES 256   // --recon: frames of one picture

void usage(FILE *f);                 // ./eval --help
int readable(const char *path);      // a non-empty path this process may read
// Run folder given by --run (checked), or the newest runs/*/ holding checkpoint ckpt, into run_dir.
void resolve_run(const char *opt_run, char *run_dir, size_t cap, const char *ckpt);
int eval_recon_main(int argc, char **argv);   // ./eval --recon ...

#endif
