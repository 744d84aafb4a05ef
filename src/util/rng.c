/* rng.c -- xoshiro256** seeded by splitmix64 (see rng.h). */
#include "rng.h"

#include <math.h>
#include <time.h>
#include <unistd.h>

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void loupe__rng_seed(loupe__rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t loupe__rng_next(loupe__rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double loupe__rng_uniform(loupe__rng *r) { return (double)(loupe__rng_next(r) >> 11) * 0x1.0p-53; }

double loupe__rng_uniform_range(loupe__rng *r, double low, double high) {
    double v = low + (high - low) * loupe__rng_uniform(r);
    return v < high ? v : low; /* guard against rounding up to high */
}

uint64_t loupe__rng_below(loupe__rng *r, uint64_t n) {
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = loupe__rng_next(r);
    while (x >= limit);
    return x % n;
}

double loupe__rng_normal(loupe__rng *r) {
    double u1;
    do u1 = loupe__rng_uniform(r);
    while (u1 <= 0.0);
    double u2 = loupe__rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

uint64_t loupe__rng_entropy_seed(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec ^
                 ((uint64_t)getpid() << 32);
    return splitmix64(&x);
}
