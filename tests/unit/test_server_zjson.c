/* test_server_zjson.c -- the dashboard's compressed trial JSON: blocks round-trip
 * byte for byte and splice into one deflate stream; a watcher that seals
 * everything it can serves exactly what one that keeps all JSON uncompressed
 * serves (every trial, head and tail, the best trial pinned), including after a
 * note re-renders a sealed trial and after new trials arrive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#ifdef LOUPE_HAVE_SERVER
#include "loupe.h"
#include "server/view.h"
#include "server/zjson.h"
#include "testutil.h"

static loupe__blob *text_blob(size_t k) {
    char s[256];
    int n = snprintf(s, sizeof s, "{\"trial_id\": %zu, \"params\": [%zu.5, \"%0*d\"]}", k + 1, k * 7, (int)(k % 40) + 1, 0);
    return loupe__blob_new(s, (size_t)n);
}

static void test_block_round_trip(void **state) {
    (void)state;
    loupe__blob *t[2][LOUPE__ZB];
    loupe__buf joined[2];
    loupe__zctx zc = {0};
    loupe__zblock *z[2];
    for (int b = 0; b < 2; b++) {
        loupe__buf_init(&joined[b], 0);
        for (size_t k = 0; k < LOUPE__ZB; k++) {
            t[b][k] = text_blob((size_t)b * LOUPE__ZB + k);
            if (k) loupe__buf_puts(&joined[b], ", ");
            loupe__buf_append(&joined[b], t[b][k]->data, t[b][k]->len);
        }
        z[b] = loupe__zblock_seal(&zc, t[b]);
        assert_non_null(z[b]);
        assert_int_equal(z[b]->raw_len, joined[b].len);
        assert_true(z[b]->zlen < z[b]->raw_len / 2); /* the repetitive text shrinks */
        assert_int_equal(z[b]->crc, (uint32_t)crc32(0L, (const unsigned char *)joined[b].data, (uInt)joined[b].len));
        /* the whole text, and each trial alone */
        char *text = malloc(z[b]->raw_len);
        loupe__zread zr = {0};
        assert_int_equal(loupe__zblock_inflate(&zr, z[b], text), 0);
        assert_memory_equal(text, joined[b].data, joined[b].len);
        loupe__zread_free(&zr);
        free(text);
        for (size_t k = 0; k < LOUPE__ZB; k++) {
            assert_int_equal(loupe__zblock_trial_len(z[b], k), t[b][k]->len);
            loupe__blob *one = loupe__zblock_trial(z[b], k);
            assert_non_null(one);
            assert_true(loupe__blob_equal(one, t[b][k]));
            loupe__blob_release(one);
        }
    }
    /* two blocks back to back plus a final empty block are one valid raw
     * deflate stream: what a gzip response splices together */
    size_t zl = z[0]->zlen + z[1]->zlen;
    unsigned char *cat = malloc(zl + 2);
    memcpy(cat, z[0]->z, z[0]->zlen);
    memcpy(cat + z[0]->zlen, z[1]->z, z[1]->zlen);
    cat[zl] = 0x03; /* a final fixed-Huffman block holding only end-of-block */
    cat[zl + 1] = 0x00;
    size_t want = joined[0].len + joined[1].len;
    char *out = malloc(want + 16);
    z_stream zs = {0};
    assert_int_equal(inflateInit2(&zs, -15), Z_OK);
    zs.next_in = cat;
    zs.avail_in = (uInt)(zl + 2);
    zs.next_out = (unsigned char *)out;
    zs.avail_out = (uInt)(want + 16);
    assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
    assert_int_equal(zs.total_out, want);
    assert_memory_equal(out, joined[0].data, joined[0].len);
    assert_memory_equal(out + joined[0].len, joined[1].data, joined[1].len);
    inflateEnd(&zs);
    /* a damaged block is refused, not half read */
    z[0]->z[0] ^= 0xff;
    z[0]->z[1] ^= 0xff;
    char *text = malloc(z[0]->raw_len);
    loupe__zread zr = {0};
    assert_int_equal(loupe__zblock_inflate(&zr, z[0], text), -1);
    loupe__zread_free(&zr);
    free(text);
    free(out);
    free(cat);
    for (int b = 0; b < 2; b++) {
        for (size_t k = 0; k < LOUPE__ZB; k++) loupe__blob_release(t[b][k]);
        loupe__zblock_release(z[b]);
        loupe__buf_free(&joined[b]);
    }
    loupe__zctx_free(&zc);
}

/* Adds n COMPLETE trials; the one numbered best_number gets the lowest value.
 * A two-objective study gets (x, y) as values: its Pareto front is spread over
 * many blocks. */
static void add_trials(loupe_study *st, int n, int64_t best_number) {
    for (int i = 0; i < n; i++) {
        loupe_trial *t = NULL;
        assert_int_equal(loupe_study_ask(st, &t), LOUPE_OK);
        double x = 0, y = 0;
        assert_int_equal(loupe_trial_suggest_float(t, "x", -10, 10, 0, 0, &x), LOUPE_OK);
        assert_int_equal(loupe_trial_suggest_float(t, "y", -10, 10, 0, 0, &y), LOUPE_OK);
        const loupe_frozen_trial *f = NULL;
        assert_int_equal(loupe_trial_snapshot(t, &f), LOUPE_OK);
        double v[2] = {f->number == best_number ? -1.0 : x * x + y * y, y};
        if (loupe_study_n_objectives(st) == 2) v[0] = x;
        assert_int_equal(loupe_trial_tell(t, LOUPE_COMPLETE, loupe_study_n_objectives(st), v, 0), LOUPE_OK);
        loupe_trial_free(t);
    }
}

static loupe__views *start_views(const char *url, size_t budget) {
    loupe__views_config cfg = {0};
    cfg.url = url;
    cfg.quiet = 1;
    cfg.poll_ms = 5;
    cfg.json_budget = budget;
    loupe__views *v = NULL;
    char err[512];
    if (loupe__views_start(&cfg, &v, err, sizeof err)) fail_msg("views: %s", err);
    return v;
}

/* Both watchers serve the same bytes; returns how many blocks b has sealed. */
static size_t compare(loupe__views *a, loupe__views *b, int64_t sid, size_t n_expected) {
    assert_int_equal(loupe__views_sync(a), 0);
    assert_int_equal(loupe__views_sync(b), 0);
    loupe__snap *sa = loupe__views_study(a, sid, 1), *sb = loupe__views_study(b, sid, 1);
    assert_non_null(sa);
    assert_non_null(sb);
    assert_int_equal(sa->n_trials, n_expected);
    assert_int_equal(sb->n_trials, n_expected);
    assert_true(loupe__blob_equal(sa->head, sb->head));
    assert_true(loupe__blob_equal(sa->tail, sb->tail));
    size_t sealed = 0;
    for (size_t k = 0; k < sb->n_blocks; k++) sealed += sb->blocks[k] != NULL;
    for (size_t k = 0; k < sa->n_blocks; k++) assert_null(sa->blocks[k]); /* under its budget */
    for (size_t i = 0; i < n_expected; i++) {
        loupe__blob *ta = loupe__snap_trial(sa, i), *tb = loupe__snap_trial(sb, i);
        assert_non_null(tb);
        assert_true(loupe__blob_equal(ta, tb));
        loupe__blob_release(ta);
        loupe__blob_release(tb);
        char *ja = loupe__views_trial_json(a, sid, (int64_t)i), *jb = loupe__views_trial_json(b, sid, (int64_t)i);
        assert_non_null(jb);
        assert_string_equal(ja, jb);
        free(ja);
        free(jb);
    }
    loupe__blob *la = loupe__views_studies(a), *lb = loupe__views_studies(b);
    assert_true(loupe__blob_equal(la, lb));
    loupe__blob_release(la);
    loupe__blob_release(lb);
    loupe__snap_release(sa);
    loupe__snap_release(sb);
    return sealed;
}

static void test_sealed_views_serve_the_same(void **state) {
    (void)state;
    char url[1024];
    tu_sqlite_url(url, sizeof url, "zjson.db");
    loupe_storage *s = NULL;
    assert_int_equal(loupe_storage_open(url, LOUPE_OPEN_NOSYNC, &s), LOUPE_OK);
    loupe_direction d = LOUPE_MINIMIZE;
    loupe_study *st = NULL;
    assert_int_equal(loupe_study_create(s, "z", 1, &d, 0, &st), LOUPE_OK);
    int64_t sid = loupe_study_id(st);
    /* number 70 (block 1) is the best: its JSON stays at hand for the tail */
    add_trials(st, 300, 70);
    loupe_trial *running = NULL; /* a straggler keeps block 4 open */
    assert_int_equal(loupe_study_ask(st, &running), LOUPE_OK);
    add_trials(st, 20, -1);

    loupe__views *plain = start_views(url, 0), *sealing = start_views(url, 1);
    /* 321 trials: blocks 0..3 ((b + 2) * 64 <= 321) are sealed */
    assert_int_equal(compare(plain, sealing, sid, 321), 4);

    /* a note on a sealed trial re-renders it inside its block */
    loupe_trial_list *l = NULL;
    assert_int_equal(loupe_study_get_trials(st, 0, &l), LOUPE_OK);
    int64_t tid = loupe_trial_list_at(l, 10)->trial_id;
    loupe_trial_list_free(l);
    assert_int_equal(loupe_note_save(st, tid, 0, "sealed note", NULL, NULL), LOUPE_OK);
    assert_int_equal(compare(plain, sealing, sid, 321), 4);
    char *j = loupe__views_trial_json(sealing, sid, 10);
    assert_non_null(strstr(j, "\"body\": \"sealed note\""));
    free(j);

    /* more trials: blocks 5 and 6 get sealed, block 4 waits for its running trial */
    add_trials(st, 200, -1);
    assert_int_equal(compare(plain, sealing, sid, 521), 6);
    double v = 5;
    assert_int_equal(loupe_trial_tell(running, LOUPE_COMPLETE, 1, &v, 0), LOUPE_OK);
    loupe_trial_free(running);
    assert_int_equal(compare(plain, sealing, sid, 521), 7); /* (b + 2) * 64 <= 521: b <= 6 */

    loupe__views_stop(plain);
    loupe__views_stop(sealing);
    loupe_study_close(st);
    loupe_storage_close(s);
}

/* Several objectives: the best trials of the tail are the Pareto front, whose
 * members sit in sealed blocks and keep their JSON at hand. */
static void test_sealed_front(void **state) {
    (void)state;
    char url[1024];
    tu_sqlite_url(url, sizeof url, "zjson-front.db");
    loupe_storage *s = NULL;
    assert_int_equal(loupe_storage_open(url, LOUPE_OPEN_NOSYNC, &s), LOUPE_OK);
    loupe_direction d[2] = {LOUPE_MINIMIZE, LOUPE_MAXIMIZE};
    loupe_study *st = NULL;
    assert_int_equal(loupe_study_create(s, "front", 2, d, 0, &st), LOUPE_OK);
    int64_t sid = loupe_study_id(st);
    add_trials(st, 400, -1);
    loupe__views *plain = start_views(url, 0), *sealing = start_views(url, 1);
    assert_int_equal(compare(plain, sealing, sid, 400), 5); /* (b + 2) * 64 <= 400: b <= 4 */
    loupe__snap *sn = loupe__views_study(sealing, sid, 1);
    assert_non_null(strstr(sn->tail->data, "\"best_trials\": [{\"trial_id\""));
    loupe__snap_release(sn);
    add_trials(st, 100, -1); /* the front moves on; the tails still agree */
    assert_int_equal(compare(plain, sealing, sid, 500), 6);
    loupe__views_stop(plain);
    loupe__views_stop(sealing);
    loupe_study_close(st);
    loupe_storage_close(s);
}
#endif

int main(void) {
#ifdef LOUPE_HAVE_SERVER
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_round_trip),
        cmocka_unit_test(test_sealed_views_serve_the_same),
        cmocka_unit_test(test_sealed_front),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
#else
    return 0;
#endif
}
