/*
 * sql_common.c -- the logic the SQLite and PostgreSQL storages share: argument
 * and row checks, the first-distribution cache, the child-row write walk, the
 * trial-record assembler and the study-list scan (see sql_common.h).
 */
#include "storage/sql_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/distribution.h"
#include "core/errors.h"
#include "util/buf.h"

int loupe__check_attrs(loupe_storage *s, const char *kind, size_t n, const loupe_attr *attrs) {
    if (n && !attrs) return loupe__error(s, LOUPE_EINVAL, "%s attributes array is NULL", kind);
    for (size_t i = 0; i < n; i++)
        if (!attrs[i].key || !attrs[i].json)
            return loupe__error(s, LOUPE_EINVAL,
                                "%s attribute %zu lacks a key or value; give every attribute a key "
                                "and a JSON value.",
                                kind, i);
    return LOUPE_OK;
}

int loupe__check_params(loupe_storage *s, size_t n, const loupe_param *params) {
    if (n && !params) return loupe__error(s, LOUPE_EINVAL, "params array is NULL");
    for (size_t i = 0; i < n; i++) {
        const loupe_param *p = &params[i];
        if (!p->name)
            return loupe__error(s, LOUPE_EINVAL, "A param has no name; give every param a name.");
        if ((unsigned)p->dist.kind > (unsigned)LOUPE_DIST_CATEGORICAL)
            return loupe__error(s, LOUPE_EINVAL,
                                "Param '%s' has an unknown distribution kind %d; use "
                                "LOUPE_DIST_FLOAT, LOUPE_DIST_INT or LOUPE_DIST_CATEGORICAL.",
                                p->name, (int)p->dist.kind);
        if (p->dist.kind == LOUPE_DIST_CATEGORICAL && p->dist.n_choices > 0 && !p->dist.choices)
            return loupe__error(s, LOUPE_EINVAL,
                                "Param '%s' is categorical with %zu choices but no choices array.",
                                p->name, p->dist.n_choices);
        if (isnan(p->internal))
            return loupe__error(s, LOUPE_EINVAL,
                                "Param '%s' has the value NaN, which Optuna's schema cannot store.",
                                p->name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(params[j].name, p->name) == 0)
                return loupe__error(s, LOUPE_EINVAL,
                                    "Param '%s' is given twice in one write; give each name once.",
                                    p->name);
    }
    return LOUPE_OK;
}

int loupe__check_values(loupe_storage *s, size_t n, const double *values) {
    if (n && !values) return loupe__error(s, LOUPE_EINVAL, "values array is NULL");
    for (size_t i = 0; i < n; i++)
        if (isnan(values[i]))
            return loupe__error(s, LOUPE_EINVAL,
                                "Objective value %zu is NaN; Optuna stores no NaN values (tell the "
                                "trial FAIL instead).",
                                i);
    return LOUPE_OK;
}

int loupe__check_update(loupe_storage *s, const loupe__trial_update *u) {
    if (!u) return loupe__error(s, LOUPE_EINVAL, "no update given");
    int rc;
    if ((rc = loupe__check_params(s, u->n_params, u->params)) ||
        (rc = loupe__check_attrs(s, "Trial user", u->n_user_attrs, u->user_attrs)) ||
        (rc = loupe__check_attrs(s, "Trial system", u->n_system_attrs, u->system_attrs)))
        return rc;
    if (u->n_intermediate && !u->intermediate)
        return loupe__error(s, LOUPE_EINVAL, "intermediate values array is NULL");
    if (u->set_state && (unsigned)u->state > LOUPE_WAITING)
        return loupe__error(s, LOUPE_EINVAL,
                            "Unknown trial state %d; use a loupe_trial_state value.",
                            (int)u->state);
    if (!u->set_state && u->n_values > 0)
        return loupe__error(s, LOUPE_EINVAL,
                            "Trial values are written together with a state change; set set_state "
                            "and state.");
    if (u->set_state) return loupe__check_values(s, u->n_values, u->values);
    return LOUPE_OK;
}

int loupe__check_guard_arg(loupe_storage *s, const loupe_attr *guard) {
    if (guard && !guard->key) return loupe__error(s, LOUPE_EINVAL, "the guard attribute has no key");
    return LOUPE_OK;
}

int loupe__guard_holds(loupe_storage *s, const loupe_attr *guard, const char *stored) {
    if (stored ? guard->json && strcmp(stored, guard->json) == 0 : guard->json == NULL)
        return LOUPE_OK;
    return loupe__error(s, LOUPE_ECONFLICT,
                        "Study attribute '%s' changed since it was read (another writer saved "
                        "first); nothing was written: read it again and retry.",
                        guard->key);
}

int loupe__check_template(loupe_storage *s, const loupe_frozen_trial *tmpl) {
    if (!tmpl) return LOUPE_OK;
    if ((unsigned)tmpl->state > LOUPE_WAITING)
        return loupe__error(s, LOUPE_EINVAL,
                            "Unknown trial state %d; use a loupe_trial_state value.",
                            (int)tmpl->state);
    int rc;
    if ((rc = loupe__check_params(s, tmpl->n_params, tmpl->params)) ||
        (rc = loupe__check_attrs(s, "Trial user", tmpl->n_user_attrs, tmpl->user_attrs)) ||
        (rc = loupe__check_attrs(s, "Trial system", tmpl->n_system_attrs, tmpl->system_attrs)) ||
        (rc = loupe__check_values(s, tmpl->n_values, tmpl->values)))
        return rc;
    if (tmpl->n_intermediate && !tmpl->intermediate)
        return loupe__error(s, LOUPE_EINVAL, "intermediate values array is NULL");
    return LOUPE_OK;
}

int loupe__check_study_args(loupe_storage *s, const char *name, size_t n_directions,
                            const loupe_direction *directions) {
    if (!name || !*name) return loupe__error(s, LOUPE_EINVAL, "A study needs a non-empty name.");
    if (strlen(name) > 512)
        return loupe__error(s, LOUPE_EINVAL,
                            "Study name is %zu bytes long; Optuna's schema allows 512.",
                            strlen(name));
    if (n_directions == 0 || !directions)
        return loupe__error(s, LOUPE_EINVAL, "A study needs at least one direction.");
    for (size_t i = 0; i < n_directions; i++)
        if ((unsigned)directions[i] > LOUPE_MAXIMIZE)
            return loupe__error(s, LOUPE_EINVAL,
                                "Direction %zu has the unknown value %d; use LOUPE_MINIMIZE or "
                                "LOUPE_MAXIMIZE.",
                                i, (int)directions[i]);
    return LOUPE_OK;
}

/* ------------------------------------------------------------ distribution memo */

uint64_t loupe__str_hash(const char *p) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return h;
}

void loupe__dist_memo_free(loupe__dist_memo *m) {
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].json) {
            free(m->slots[i].json);
            loupe__distribution_free(&m->slots[i].dist);
        }
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static int memo_grow(loupe__dist_memo *m) {
    size_t ncap = m->cap ? m->cap * 2 : 32;
    loupe__dist_memo_entry *ns = calloc(ncap, sizeof *ns);
    if (!ns) return -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].json) continue;
        size_t j = loupe__str_hash(m->slots[i].json) & (ncap - 1);
        while (ns[j].json) j = (j + 1) & (ncap - 1);
        ns[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return 0;
}

int loupe__dist_memo_get(loupe_storage *s, loupe__dist_memo *m, const char *json,
                         int64_t trial_id, const char *name, const char *where,
                         const loupe_distribution **out) {
    if (!json)
        return loupe__error(s, LOUPE_ECORRUPT,
                            "param '%s' of trial_id %lld in %s has no distribution_json", name,
                            (long long)trial_id, where);
    if ((m->n + 1) * 2 > m->cap && memo_grow(m))
        return loupe__error(s, LOUPE_ENOMEM, "out of memory");
    size_t j = loupe__str_hash(json) & (m->cap - 1);
    while (m->slots[j].json) {
        if (strcmp(m->slots[j].json, json) == 0) {
            *out = &m->slots[j].dist;
            return LOUPE_OK;
        }
        j = (j + 1) & (m->cap - 1);
    }
    char err[256];
    loupe_distribution d;
    int rc = loupe__distribution_from_json(json, &d, err, sizeof err);
    if (rc == LOUPE_ENOMEM) return loupe__error(s, LOUPE_ENOMEM, "out of memory");
    if (rc)
        return loupe__error(s, LOUPE_ECORRUPT,
                            "param '%s' of trial_id %lld in %s has an unreadable "
                            "distribution_json: %s",
                            name, (long long)trial_id, where, err);
    char *copy = strdup(json);
    if (!copy) {
        loupe__distribution_free(&d);
        return loupe__error(s, LOUPE_ENOMEM, "out of memory");
    }
    m->slots[j].json = copy;
    m->slots[j].dist = d;
    m->n++;
    *out = &m->slots[j].dist;
    return LOUPE_OK;
}

/* ------------------------------------------------------------ first distributions */

static uint64_t dist_cache_hash(int64_t study_id, const char *name) {
    uint64_t h = 1469598103934665603ull ^ (uint64_t)study_id; /* FNV-1a seeded by the study */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return h;
}

static void dist_cache_entry_free(loupe__dist_cache_entry *d) {
    if (!d) return;
    free(d->name);
    loupe__distribution_free(&d->dist);
    free(d);
}

const loupe_distribution *loupe__dist_cache_find(const loupe__dist_cache *c, int64_t study_id,
                                                 const char *name) {
    uint64_t h = dist_cache_hash(study_id, name);
    for (size_t i = 0; i < c->n; i++) {
        loupe__dist_cache_entry *d = c->e[i];
        if (d->hash == h && d->study_id == study_id && strcmp(d->name, name) == 0) return &d->dist;
    }
    return NULL;
}

int loupe__dist_cache_add(loupe_storage *s, loupe__dist_cache *c, int64_t study_id,
                          const char *name, const char *json, const loupe_distribution **out) {
    *out = NULL;
    loupe__dist_cache_entry *d = calloc(1, sizeof *d);
    if (!d || !(d->name = strdup(name))) {
        free(d);
        return loupe__error(s, LOUPE_ENOMEM, "out of memory");
    }
    char err[256];
    int rc = loupe__distribution_from_json(json, &d->dist, err, sizeof err);
    if (rc) {
        dist_cache_entry_free(d);
        return rc == LOUPE_ENOMEM ? loupe__error(s, LOUPE_ENOMEM, "out of memory")
                                  : loupe__error(s, LOUPE_ECORRUPT,
                                                 "the stored distribution of param '%s' in study "
                                                 "%lld is unreadable: %s",
                                                 name, (long long)study_id, err);
    }
    d->study_id = study_id;
    d->hash = dist_cache_hash(study_id, name);
    if (c->n == c->alloc) {
        size_t na = c->alloc ? c->alloc * 2 : 16;
        loupe__dist_cache_entry **p = realloc(c->e, na * sizeof *p);
        if (!p) {
            dist_cache_entry_free(d);
            return loupe__error(s, LOUPE_ENOMEM, "out of memory");
        }
        c->e = p;
        c->alloc = na;
    }
    c->e[c->n++] = d;
    *out = &d->dist;
    return LOUPE_OK;
}

void loupe__dist_cache_forget_study(loupe__dist_cache *c, int64_t study_id) {
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (c->e[i]->study_id == study_id)
            dist_cache_entry_free(c->e[i]);
        else
            c->e[k++] = c->e[i];
    }
    c->n = k;
}

void loupe__dist_cache_free(loupe__dist_cache *c) {
    for (size_t i = 0; i < c->n; i++) dist_cache_entry_free(c->e[i]);
    free(c->e);
    memset(c, 0, sizeof *c);
}

/* ------------------------------------------------------------ trial reads */

loupe__trial_rec *loupe__rec_seek(const loupe__rec_vec *recs, size_t *pos, int64_t trial_id) {
    while (*pos < recs->len && recs->items[*pos]->t.trial_id < trial_id) (*pos)++;
    return *pos < recs->len && recs->items[*pos]->t.trial_id == trial_id ? recs->items[*pos] : NULL;
}

int loupe__check_updatable(loupe_storage *s, const char *where, int64_t trial_id, int64_t number,
                           const char *state_text, int *state) {
    *state = loupe__parse_state(state_text);
    if (*state < 0)
        return loupe__error(s, LOUPE_ECORRUPT,
                            "trials row trial_id=%lld in %s has the unknown state '%.40s'",
                            (long long)trial_id, where, state_text ? state_text : "NULL");
    if (loupe_trial_state_is_finished(*state))
        return loupe__error(s, LOUPE_EFINISHED,
                            "Trial#%lld has already finished and can not be updated.",
                            (long long)number);
    return LOUPE_OK;
}

int loupe__state_change_kind(const loupe__trial_update *u, int stored_state) {
    if (u->state == LOUPE_RUNNING) return stored_state == LOUPE_WAITING ? 1 : -1;
    return loupe_trial_state_is_finished(u->state) ? 2 : 0;
}

int loupe__param_taken(loupe_storage *s, int64_t number, const char *name) {
    return loupe__error(s, LOUPE_EINVAL,
                        "Trial#%lld already has a param named '%s'; a param is set once per trial "
                        "(suggest it again to read the stored value).",
                        (long long)number, name);
}

int loupe__param_compatible(loupe_storage *s, const loupe_param *p,
                            const loupe_distribution *first) {
    char err[512];
    if (first && loupe__distribution_compatible(first, &p->dist, err, sizeof err))
        return loupe__error(s, LOUPE_EINCOMPAT, "Param '%s': %s", p->name, err);
    return LOUPE_OK;
}

int loupe__write_children(loupe_storage *s, const loupe__child_writer *w, void *db,
                          int64_t trial_id, const loupe_frozen_trial *t,
                          const loupe__trial_update *u) {
    size_t n_params = t ? t->n_params : u->n_params;
    const loupe_param *params = t ? t->params : u->params;
    size_t n_ua = t ? t->n_user_attrs : u->n_user_attrs;
    const loupe_attr *ua = t ? t->user_attrs : u->user_attrs;
    size_t n_sa = t ? t->n_system_attrs : u->n_system_attrs;
    const loupe_attr *sa = t ? t->system_attrs : u->system_attrs;
    size_t n_inter = t ? t->n_intermediate : u->n_intermediate;
    const loupe_intermediate *inter = t ? t->intermediate : u->intermediate;
    size_t n_values = t ? t->n_values : u->set_state ? u->n_values : 0;
    const double *values = t ? t->values : u->values;

    loupe__buf b;
    loupe__buf_init(&b, 0);
    int rc = LOUPE_OK;
    for (size_t i = 0; !rc && i < n_params; i++) {
        loupe__buf_reset(&b);
        loupe__distribution_write_json(&b, &params[i].dist);
        if (b.failed || !b.data)
            rc = loupe__error(s, LOUPE_ENOMEM, "out of memory");
        else
            rc = w->param(db, trial_id, &params[i], b.data, b.len);
    }
    loupe__buf_free(&b);
    for (size_t i = 0; !rc && i < n_ua; i++)
        rc = w->attr(db, trial_id, 0, &ua[i], "writing a trial user attribute");
    for (size_t i = 0; !rc && i < n_sa; i++)
        rc = w->attr(db, trial_id, 1, &sa[i], "writing a trial system attribute");
    for (size_t i = 0; !rc && i < n_inter; i++)
        rc = w->keyed(db, trial_id, 0, inter[i].step, inter[i].value,
                      "writing an intermediate value");
    for (size_t i = 0; !rc && i < n_values; i++)
        rc = w->keyed(db, trial_id, 1, (int64_t)i, values[i], "writing a trial value");
    return rc;
}

const char *loupe__value_type(double v, int allow_nan, int *value_null) {
    *value_null = (isnan(v) && allow_nan) || isinf(v);
    if (!*value_null) return "FINITE";
    return isnan(v) ? "NAN" : v > 0 ? "INF_POS" : "INF_NEG";
}

int loupe__value_read(const char *type, int value_null, double raw, int allow_nan, double *out) {
    if (!type) return -1;
    if (strcmp(type, "FINITE") == 0) {
        if (value_null) return -1;
        *out = raw;
        return 0;
    }
    if (!value_null) return -1;
    if (strcmp(type, "INF_POS") == 0)
        *out = INFINITY;
    else if (strcmp(type, "INF_NEG") == 0)
        *out = -INFINITY;
    else if (allow_nan && strcmp(type, "NAN") == 0)
        *out = NAN;
    else
        return -1;
    return 0;
}

const char *const loupe__child_read_what[LOUPE__CHILD_TABLES] = {
    "reading params", "reading trial values", "reading intermediate values",
    "reading trial attributes", "reading trial attributes"};

void loupe__rec_read_reset(loupe__rec_read *b) {
    loupe__rec_vec_clear(&b->recs);
    loupe__dist_memo_free(&b->memo);
    memset(b->pos, 0, sizeof b->pos);
}

int loupe__rec_read_trial(loupe__rec_read *b, int64_t trial_id, int has_number, int64_t number,
                          const char *state_text, loupe__trial_rec **out) {
    *out = NULL;
    int state = loupe__parse_state(state_text);
    if (state < 0)
        return loupe__error(b->s, LOUPE_ECORRUPT,
                            "trials row trial_id=%lld in %s has the unknown state '%.40s' "
                            "(Optuna writes RUNNING, COMPLETE, PRUNED, FAIL or WAITING)",
                            (long long)trial_id, b->where, state_text ? state_text : "NULL");
    if (!has_number)
        return loupe__error(b->s, LOUPE_ECORRUPT, "trials row trial_id=%lld in %s has no number",
                            (long long)trial_id, b->where);
    loupe__trial_rec *r = loupe__trial_rec_new();
    if (!r) return loupe__error(b->s, LOUPE_ENOMEM, "out of memory");
    r->t.trial_id = trial_id;
    r->t.number = number;
    r->t.study_id = b->study_id;
    r->t.state = (loupe_trial_state)state;
    *out = r;
    return LOUPE_OK;
}

int loupe__rec_read_push(loupe__rec_read *b, loupe__trial_rec *rec) {
    if (!loupe__rec_vec_push(&b->recs, rec)) return LOUPE_OK;
    loupe__trial_rec_release(rec);
    return loupe__error(b->s, LOUPE_ENOMEM, "out of memory");
}

int loupe__rec_read_param(loupe__rec_read *b, int64_t trial_id, const char *name, int has_value,
                          double value, const char *dist_json) {
    loupe__trial_rec *r = loupe__rec_seek(&b->recs, &b->pos[LOUPE__CHILD_PARAMS], trial_id);
    if (!r) return LOUPE_OK;
    if (!name) name = "";
    if (!has_value)
        return loupe__error(b->s, LOUPE_ECORRUPT, "param '%s' of trial_id %lld in %s has no value",
                            name, (long long)trial_id, b->where);
    const loupe_distribution *d = NULL;
    int rc = loupe__dist_memo_get(b->s, &b->memo, dist_json, trial_id, name, b->memo_where, &d);
    if (rc) return rc;
    if (loupe__trial_rec_add_param(r, name, value, d))
        return loupe__error(b->s, LOUPE_ENOMEM, "out of memory");
    return LOUPE_OK;
}

int loupe__rec_read_value(loupe__rec_read *b, int64_t trial_id, int64_t objective,
                          const char *type, int value_null, double raw) {
    loupe__trial_rec *r = loupe__rec_seek(&b->recs, &b->pos[LOUPE__CHILD_VALUES], trial_id);
    if (!r) return LOUPE_OK;
    double v;
    if (objective < 0 || objective > 100000 || loupe__value_read(type, value_null, raw, 0, &v))
        return loupe__error(b->s, LOUPE_ECORRUPT,
                            "trial_values row of trial_id %lld (objective %lld) in %s is not in "
                            "Optuna's form (value_type FINITE with a value, or INF_POS / INF_NEG "
                            "with NULL)",
                            (long long)trial_id, (long long)objective, b->where);
    if (loupe__trial_rec_set_value(r, (size_t)objective, v))
        return loupe__error(b->s, LOUPE_ENOMEM, "out of memory");
    return LOUPE_OK;
}

int loupe__rec_read_intermediate(loupe__rec_read *b, int64_t trial_id, int64_t step,
                                 const char *type, int value_null, double raw) {
    loupe__trial_rec *r = loupe__rec_seek(&b->recs, &b->pos[LOUPE__CHILD_INTER], trial_id);
    if (!r) return LOUPE_OK;
    double v;
    if (loupe__value_read(type, value_null, raw, 1, &v))
        return loupe__error(b->s, LOUPE_ECORRUPT,
                            "trial_intermediate_values row of trial_id %lld (step %lld) in %s is "
                            "not in Optuna's form (type FINITE with a value, or INF_POS / INF_NEG "
                            "/ NAN with NULL)",
                            (long long)trial_id, (long long)step, b->where);
    if (loupe__trial_rec_put_intermediate(r, step, v))
        return loupe__error(b->s, LOUPE_ENOMEM, "out of memory");
    return LOUPE_OK;
}

int loupe__rec_read_attr(loupe__rec_read *b, int system, int64_t trial_id, const char *key,
                         const char *json) {
    size_t *pos = &b->pos[system ? LOUPE__CHILD_SATTRS : LOUPE__CHILD_UATTRS];
    loupe__trial_rec *r = loupe__rec_seek(&b->recs, pos, trial_id);
    if (!r) return LOUPE_OK;
    if (!key) key = "";
    if (!json) json = "null";
    if (system ? loupe__trial_rec_add_system_attr(r, key, json)
               : loupe__trial_rec_add_user_attr(r, key, json))
        return loupe__error(b->s, LOUPE_ENOMEM, "out of memory");
    return LOUPE_OK;
}

int loupe__rec_read_finish(loupe__rec_read *b, int rc, loupe__rec_vec *out) {
    size_t i = 0;
    for (; !rc && i < b->recs.len; i++) {
        if (loupe__rec_vec_push(out, b->recs.items[i])) {
            rc = loupe__error(b->s, LOUPE_ENOMEM, "out of memory");
            break;
        }
    }
    /* the references moved into out stay; the rest are released */
    for (size_t j = i; j < b->recs.len; j++) loupe__trial_rec_release(b->recs.items[j]);
    free(b->recs.items);
    memset(&b->recs, 0, sizeof b->recs);
    loupe__dist_memo_free(&b->memo);
    return rc;
}

int loupe__rec_read_one(loupe_storage *s, int rc, loupe__rec_vec *v, int64_t trial_id,
                        loupe__trial_rec **out) {
    if (!rc && v->len == 0)
        rc = loupe__error(s, LOUPE_ENOTFOUND, "No trial with id %lld", (long long)trial_id);
    if (!rc) {
        *out = v->items[0];
        v->items[0] = NULL;
        v->len = 0;
    }
    loupe__rec_vec_free(v);
    return rc;
}

/* ------------------------------------------------------------ enum texts and study records */

const char *const loupe__state_names[5] = {"RUNNING", "COMPLETE", "PRUNED", "FAIL", "WAITING"};
const char *const loupe__direction_names[3] = {"NOT_SET", "MINIMIZE", "MAXIMIZE"};

static int name_index(const char *const *names, int n, const char *text) {
    if (!text) return -1;
    for (int i = 0; i < n; i++)
        if (strcmp(text, names[i]) == 0) return i;
    return -1;
}

int loupe__parse_state(const char *text) { return name_index(loupe__state_names, 5, text); }

int loupe__parse_direction(const char *text) {
    return name_index(loupe__direction_names, 3, text);
}

int loupe__attr_push(loupe_attr **arr, size_t *n, size_t *alloc, const char *key,
                     const char *json) {
    if (*n == *alloc) {
        size_t na = *alloc ? *alloc * 2 : 8;
        loupe_attr *p = realloc(*arr, na * sizeof *p);
        if (!p) return -1;
        *arr = p;
        *alloc = na;
    }
    char *k = strdup(key ? key : "");
    char *j = strdup(json ? json : "null");
    if (!k || !j) {
        free(k);
        free(j);
        return -1;
    }
    (*arr)[*n].key = k;
    (*arr)[*n].json = j;
    (*n)++;
    return 0;
}

int loupe__direction_push(loupe_storage *s, const char *where, loupe__study_info *info,
                          size_t *alloc, int64_t objective, const char *text) {
    int d = loupe__parse_direction(text);
    if (d < 0)
        return loupe__error(s, LOUPE_ECORRUPT,
                            "study_directions of study %lld in %s holds the unknown direction "
                            "'%.40s' (Optuna writes NOT_SET, MINIMIZE or MAXIMIZE)",
                            (long long)info->study_id, where, text ? text : "NULL");
    if (objective != (int64_t)info->n_directions)
        return loupe__error(s, LOUPE_ECORRUPT,
                            "study_directions of study %lld in %s has objective %lld where %zu "
                            "was expected (objectives must be 0, 1, ...)",
                            (long long)info->study_id, where, (long long)objective,
                            info->n_directions);
    if (info->n_directions == *alloc) {
        size_t na = *alloc ? *alloc * 2 : 2;
        loupe_direction *p = realloc(info->directions, na * sizeof *p);
        if (!p) return loupe__error(s, LOUPE_ENOMEM, "out of memory");
        info->directions = p;
        *alloc = na;
    }
    info->directions[info->n_directions++] = (loupe_direction)d;
    return LOUPE_OK;
}

void loupe__study_scan_clear(loupe__study_scan *c) {
    for (size_t i = 0; i < c->n; i++) loupe__study_info_free(&c->e[i].info);
    free(c->e);
    int bare = c->bare;
    memset(c, 0, sizeof *c);
    c->bare = bare;
}

loupe__study_scan_entry *loupe__study_scan_add(loupe__study_scan *c, int64_t study_id,
                                               const char *name) {
    if (c->n == c->alloc) {
        size_t na = c->alloc ? c->alloc * 2 : 8;
        loupe__study_scan_entry *p = realloc(c->e, na * sizeof *p);
        if (!p) return NULL;
        c->e = p;
        c->alloc = na;
    }
    loupe__study_scan_entry *e = &c->e[c->n];
    memset(e, 0, sizeof *e);
    e->n_trials = -1;
    e->start_us = -1;
    e->info.study_id = study_id;
    if (!(e->info.name = strdup(name ? name : ""))) return NULL;
    c->n++;
    return e;
}

loupe__study_scan_entry *loupe__study_scan_find(loupe__study_scan *c, size_t *pos,
                                                int64_t study_id) {
    while (*pos < c->n && c->e[*pos].info.study_id < study_id) (*pos)++;
    return *pos < c->n && c->e[*pos].info.study_id == study_id ? &c->e[*pos] : NULL;
}

int loupe__study_scan_attr(loupe__study_scan_entry *e, int system, const char *key,
                           const char *json) {
    return system ? loupe__attr_push(&e->info.system_attrs, &e->info.n_system_attrs,
                                     &e->sa_alloc, key, json)
                  : loupe__attr_push(&e->info.user_attrs, &e->info.n_user_attrs, &e->ua_alloc,
                                     key, json);
}

int loupe__study_scan_finish(loupe_storage *s, loupe__study_scan *c, loupe_study_list **out) {
    *out = NULL;
    loupe_study_list *list = loupe__study_list_new();
    int rc = list ? LOUPE_OK : LOUPE_ENOMEM;
    for (size_t i = 0; !rc && i < c->n; i++)
        if (loupe__study_list_push(list, &c->e[i].info, c->e[i].n_trials, c->e[i].start_us))
            rc = LOUPE_ENOMEM;
    loupe__study_scan_clear(c);
    if (rc) {
        if (list) loupe_study_list_free(list);
        return loupe__error(s, LOUPE_ENOMEM, "out of memory");
    }
    *out = list;
    return LOUPE_OK;
}
