/*
 * bench_study.c -- a fresh in-memory study with the sampler of a SPEC §0.3
 * config id: the "one fresh study, one fresh sampler, one run seed" of a run
 * in Parts A and B (SPEC §0.1).
 */
#include <stdio.h>

#include "bench.h"

int bench_memory_study_new(const char *config, uint64_t seed, loupe_storage **storage,
                           loupe_study **study) {
    loupe_sampler *sampler = NULL;
    loupe_direction dir_min = LOUPE_MINIMIZE;
    *storage = NULL;
    *study = NULL;
    int r = loupe_storage_open(":memory:", LOUPE_OPEN_DEFAULT, storage);
    if (r) {
        fprintf(stderr, "loupe-bench: cannot open an in-memory storage: %s\n",
                *storage ? loupe_storage_errmsg(*storage) : loupe_strerror(r));
        goto fail;
    }
    if ((r = loupe_study_create(*storage, NULL, 1, &dir_min, LOUPE_CREATE_DEFAULT, study))) {
        fprintf(stderr, "loupe-bench: cannot create the study: %s\n", loupe_storage_errmsg(*storage));
        goto fail;
    }
    if ((r = bench_sampler_new(config, seed, &sampler))) {
        fprintf(stderr, "loupe-bench: cannot create sampler '%s' (seed %llu): %s\n", config,
                (unsigned long long)seed, loupe_strerror(r));
        goto fail;
    }
    loupe_study_set_sampler(*study, sampler); /* the study owns it now */
    return 0;
fail:
    loupe_study_close(*study);
    loupe_storage_close(*storage);
    *study = NULL;
    *storage = NULL;
    return r ? r : LOUPE_EINVAL;
}
