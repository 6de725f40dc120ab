/*
 * finite.h - finiteness checks of a model's ParamArena (issue #16, class 4): a NaN or Inf in
 * a weight or in Adam's state must never pass as trained. checkpoint_load refuses such a file
 * and checkpoint_save refuses to write one, naming the tensor.
 *
 * Cost: one pass over params, m and v with a branch-free test per float (the exponent bits
 * all ones), ~12 MB for the 80x80 autoencoder; measured in bench/README.md (finiteness row):
 * well under 1% of an epoch, and it runs only when a checkpoint is read or written.
 */
#ifndef NEMU_FINITE_H
#define NEMU_FINITE_H

#include <stddef.h>
#include "nn/model.h"
#include "base/err.h"

// Index of the first NaN or Inf in x[0..n), or n when every value is finite.
size_t first_nonfinite(const float *x, size_t n);

// Checks the arena's params and, when with_adam, Adam's m and v. On the first tensor holding a
// non-finite value returns -1 with one line in err:
//   "<where>: tensor 'optimizer/exp_avg/fc_enc.weight' [32,12800] holds 3 non-finite values
//    (first: NaN at flat index 17); expected finite numbers"
int arena_check_finite(const ParamArena *a, int with_adam, const char *where, Err *err);

#endif
