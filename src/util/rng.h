/* rng.h -- a small seeded pseudo-random generator (xoshiro256**, seeded by splitmix64). */
#ifndef LOUPE_UTIL_RNG_H
#define LOUPE_UTIL_RNG_H

#include <stdint.h>

typedef struct loupe__rng {
    uint64_t s[4];
} loupe__rng;

void loupe__rng_seed(loupe__rng *r, uint64_t seed);
uint64_t loupe__rng_next(loupe__rng *r);
/* Uniform in [0, 1). */
double loupe__rng_uniform(loupe__rng *r);
/* Uniform in [low, high). */
double loupe__rng_uniform_range(loupe__rng *r, double low, double high);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t loupe__rng_below(loupe__rng *r, uint64_t n);
/* Standard normal (Box-Muller). */
double loupe__rng_normal(loupe__rng *r);
/* A seed from the clock and the process id, for unseeded samplers. */
uint64_t loupe__rng_entropy_seed(void);

#endif
