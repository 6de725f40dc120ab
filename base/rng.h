/*
 * rng.h - the seeded RNG: xoshiro256** seeded by splitmix64. State is explicit; no globals,
 * no rand(), so a seed gives the same run everywhere.
 */
#ifndef NEMU_RNG_H
#define NEMU_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct { uint64_t s[4]; } Rng;
void rng_seed(Rng *r, uint64_t seed);
uint64_t rng_u64(Rng *r);
uint32_t rng_below(Rng *r, uint32_t n);  // uniform in [0, n), unbiased; n > 0
double rng_uniform(Rng *r);              // uniform in [0, 1), 53 bits
float rng_uniformf(Rng *r, float lo, float hi);
float rng_normal(Rng *r);                // standard normal (Box-Muller, no cached spare)
void rng_shuffle_int(Rng *r, int *a, size_t n);   // Fisher-Yates

#endif
