/* add_trial.c -- creating a trial from a template through the storage vtable (see add_trial.h). */
#include "core/add_trial.h"

#include "core/errors.h"
#include "storage/storage.h"

int loupe__study_add_trial(loupe_study *study, const loupe_frozen_trial *tmpl, int64_t *trial_id,
                           int64_t *number) {
    if (!study) return LOUPE_EINVAL;
    loupe_storage *s = loupe_study_storage(study);
    loupe__error_clear(s);
    if (!tmpl) return loupe__error(s, LOUPE_EINVAL, "trial template is NULL");
    if ((unsigned)tmpl->state > LOUPE_WAITING)
        return loupe__error(s, LOUPE_EINVAL, "trial template has an invalid state %d",
                            (int)tmpl->state);
    size_t n_obj = loupe_study_n_objectives(study);
    if (tmpl->n_values > n_obj)
        return loupe__error(s, LOUPE_EINVAL,
                            "trial template has %zu values but study '%s' has %zu objectives",
                            tmpl->n_values, loupe_study_name(study), n_obj);
    if (tmpl->state == LOUPE_COMPLETE && tmpl->n_values != n_obj)
        return loupe__error(s, LOUPE_EINVAL,
                            "a COMPLETE trial template needs %zu values (one per objective), it "
                            "has %zu",
                            n_obj, tmpl->n_values);
    int64_t tid = -1, num = -1;
    int rc = s->ops->create_trial(s, loupe_study_id(study), tmpl, &tid, &num);
    if (rc) return rc;
    if (trial_id) *trial_id = tid;
    if (number) *number = num;
    return LOUPE_OK;
}
