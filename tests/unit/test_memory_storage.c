/*
 * test_memory_storage.c -- what only the ":memory:" storage is tested for:
 * its indexes keep ids, numbers and WAITING claims right over many trials.
 * The storage contract it shares with SQLite (every op, error paths, all-or-
 * nothing updates, snapshot reads) runs on both in test_storage_contract.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/trial_rec.h"
#include "storage/storage.h"
#include "storage_testutil.h"

/* Many trials and waiting trials: ids, numbers and claims stay right (a size
 * that would take minutes of SQLite transactions). */
static void test_many_trials(void **state) {
    (void)state;
    loupe_storage *s = TU_MEMORY.open_fresh();
    int64_t a = tu_mk_study(s, "many-a"), b = tu_mk_study(s, "many-b");
    enum { N = 20000 };
    for (int i = 0; i < N; i++) {
        int64_t num;
        if (i % 3 == 0)
            tu_mk_waiting(s, i % 2 ? a : b);
        else
            tu_mk_trial(s, i % 2 ? a : b, &num);
    }
    int64_t prev = -1, tid, count = 0;
    while (s->ops->claim_waiting_trial(s, a, &tid) == LOUPE_OK) {
        assert_true(tid > prev); /* oldest first */
        prev = tid;
        count++;
    }
    /* i odd and i % 3 == 0: i = 3, 9, 15, ... */
    assert_int_equal(count, (N + 3) / 6);
    loupe__trial_rec *r = NULL;
    assert_int_equal(s->ops->trial_id_by_number(s, b, N / 2 - 1, &tid), LOUPE_OK);
    r = tu_read_trial(s, tid);
    assert_int_equal(r->t.number, N / 2 - 1);
    assert_int_equal(r->t.study_id, b);
    loupe__trial_rec_release(r);
    s->ops->close(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_trials),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
