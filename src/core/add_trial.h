/* add_trial.h -- creating a trial from a template (a snapshot), for copying studies. */
#ifndef LOUPE_CORE_ADD_TRIAL_H
#define LOUPE_CORE_ADD_TRIAL_H

#include <stdint.h>

#include "loupe.h"

/*
 * Adds a trial to study that equals tmpl: state, values, params (with their
 * distributions), user and system attrs, intermediate values and datetimes,
 * written in one transaction (like Optuna's storage add_trial / copy). The
 * template's number, trial_id and study_id are ignored: the new trial gets the
 * next number. *trial_id and *number (may be NULL) receive the new ids.
 * Errors on the study's storage.
 */
int loupe__study_add_trial(loupe_study *study, const loupe_frozen_trial *tmpl, int64_t *trial_id,
                           int64_t *number);

#endif
