/*
 * distribution.c -- Optuna's parameter distributions: construction checks (with
 * Optuna's messages), compatibility, containment, and the distribution_json
 * text in Python's exact key order (see distribution.h).
 */
#include "distribution.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/trial_rec.h"
#include "util/pyjson.h"

/* A finite double as Python's Decimal(str(v)) sees it: mantissa * 10^exp. */
typedef struct decimal_value {
    __int128 mantissa;
    int exp;
} decimal_value;

static int to_decimal(double v, decimal_value *out) {
    loupe__buf b;
    loupe__buf_init(&b, 64);
    loupe__pyjson_double(&b, v);
    if (b.failed) {
        loupe__buf_free(&b);
        return -1;
    }
    __int128 m = 0;
    int exp = 0, neg = 0, after_dot = 0, digits = 0, rc = 0;
    for (const char *p = b.data; *p; p++) {
        if (*p == '-') neg = 1;
        else if (*p == '.') after_dot = 1;
        else if (*p >= '0' && *p <= '9') {
            if (++digits > 30) rc = -1;
            m = m * 10 + (*p - '0');
            if (after_dot) exp--;
        } else if (*p == 'e') {
            exp += atoi(p + 1);
            break;
        } else rc = -1; /* NaN, Infinity */
    }
    loupe__buf_free(&b);
    out->mantissa = neg ? -m : m;
    out->exp = exp;
    return rc;
}

/* Rescales a to exponent exp (exp <= a->exp); -1 on overflow. */
static int rescale(decimal_value *a, int exp) {
    for (; a->exp > exp; a->exp--) {
        if (a->mantissa > ((__int128)1 << 120) || a->mantissa < -((__int128)1 << 120)) return -1;
        a->mantissa *= 10;
    }
    return 0;
}

/* Lowers high onto the grid low + k*step exactly as Optuna does it, in decimal
 * arithmetic on the values' shortest representations (so 0..1 step 0.3 gives
 * 0.9, not 0.8999999999999999). Falls back to binary arithmetic for values too
 * far apart in magnitude. */
static double adjust_high(double low, double high, double step) {
    decimal_value l, h, st;
    if (to_decimal(low, &l) == 0 && to_decimal(high, &h) == 0 && to_decimal(step, &st) == 0) {
        int e = l.exp < h.exp ? l.exp : h.exp;
        if (st.exp < e) e = st.exp;
        if (rescale(&l, e) == 0 && rescale(&h, e) == 0 && rescale(&st, e) == 0 && st.mantissa > 0) {
            __int128 r = h.mantissa - l.mantissa;
            if (r % st.mantissa == 0) return high;
            __int128 adjusted = (r / st.mantissa) * st.mantissa + l.mantissa;
            char text[64];
            int neg = adjusted < 0;
            unsigned __int128 u = neg ? (unsigned __int128)(-adjusted) : (unsigned __int128)adjusted;
            char digits[48];
            int n = 0;
            do {
                digits[n++] = (char)('0' + (int)(u % 10));
                u /= 10;
            } while (u);
            int pos = 0;
            if (neg) text[pos++] = '-';
            while (n > 0) text[pos++] = digits[--n];
            snprintf(text + pos, sizeof text - (size_t)pos, "e%d", e);
            return strtod(text, NULL);
        }
    }
    double k = floor((high - low) / step);
    return k * step + low;
}

int loupe__distribution_check(loupe_distribution *d, char *err, size_t errcap) {
    switch (d->kind) {
    case LOUPE_DIST_FLOAT:
        if (!isfinite(d->low) || !isfinite(d->high)) {
            snprintf(err, errcap, "The `low` and `high` values must be finite numbers (low=%g, high=%g).",
                     d->low, d->high);
            return LOUPE_EINVAL;
        }
        if (d->log && d->step != 0) {
            snprintf(err, errcap, "The parameter `step` is not supported when `log` is true.");
            return LOUPE_EINVAL;
        }
        if (d->low > d->high) {
            snprintf(err, errcap,
                     "The `low` value must be smaller than or equal to the `high` value (low=%.17g, high=%.17g).",
                     d->low, d->high);
            return LOUPE_EINVAL;
        }
        if (d->log && d->low <= 0.0) {
            snprintf(err, errcap,
                     "The `low` value must be larger than 0 for a log distribution (low=%.17g, high=%.17g).",
                     d->low, d->high);
            return LOUPE_EINVAL;
        }
        if (d->step < 0 || isnan(d->step) || isinf(d->step)) {
            snprintf(err, errcap, "The `step` value must be non-zero positive value, but step=%g.", d->step);
            return LOUPE_EINVAL;
        }
        if (d->step > 0) d->high = adjust_high(d->low, d->high, d->step);
        d->n_choices = 0;
        d->choices = NULL;
        return LOUPE_OK;
    case LOUPE_DIST_INT:
        if (d->low != floor(d->low) || d->high != floor(d->high) || d->step != floor(d->step) ||
            fabs(d->low) > 9007199254740992.0 || fabs(d->high) > 9007199254740992.0) {
            snprintf(err, errcap, "The `low`, `high` and `step` of an int parameter must be integers.");
            return LOUPE_EINVAL;
        }
        if (d->log && d->step != 1) {
            snprintf(err, errcap,
                     "Samplers and other components in Optuna only accept step is 1 when `log` argument is True.");
            return LOUPE_EINVAL;
        }
        if (d->low > d->high) {
            snprintf(err, errcap,
                     "The `low` value must be smaller than or equal to the `high` value (low=%.0f, high=%.0f).",
                     d->low, d->high);
            return LOUPE_EINVAL;
        }
        if (d->log && d->low < 1) {
            snprintf(err, errcap,
                     "The `low` value must be equal to or greater than 1 for a log distribution (low=%.0f, high=%.0f).",
                     d->low, d->high);
            return LOUPE_EINVAL;
        }
        if (d->step <= 0) {
            snprintf(err, errcap, "The `step` value must be non-zero positive value, but step=%.0f.", d->step);
            return LOUPE_EINVAL;
        }
        d->high = d->low + floor((d->high - d->low) / d->step) * d->step;
        d->n_choices = 0;
        d->choices = NULL;
        return LOUPE_OK;
    case LOUPE_DIST_CATEGORICAL:
        if (d->n_choices == 0 || !d->choices) {
            snprintf(err, errcap, "The `choices` must contain one or more elements.");
            return LOUPE_EINVAL;
        }
        d->low = d->high = d->step = 0;
        d->log = 0;
        return LOUPE_OK;
    }
    snprintf(err, errcap, "Unknown distribution kind %d.", (int)d->kind);
    return LOUPE_EINVAL;
}

/* The numeric value of a JSON choice if it is a number or bool (Python's ==
 * treats True == 1 == 1.0); returns 0 for strings and null. */
static int choice_number(const char *json, double *out) {
    if (strcmp(json, "true") == 0) return *out = 1.0, 1;
    if (strcmp(json, "false") == 0) return *out = 0.0, 1;
    if (strcmp(json, "NaN") == 0) return *out = NAN, 1;
    if (strcmp(json, "Infinity") == 0) return *out = INFINITY, 1;
    if (strcmp(json, "-Infinity") == 0) return *out = -INFINITY, 1;
    if (json[0] == '-' || (json[0] >= '0' && json[0] <= '9')) {
        char *end;
        *out = strtod(json, &end);
        return *end == '\0';
    }
    return 0;
}

static int choice_equal(const char *a, const char *b) {
    if (strcmp(a, b) == 0) return 1;
    double x, y;
    if (choice_number(a, &x) && choice_number(b, &y)) return x == y || (isnan(x) && isnan(y));
    return 0;
}

static int choices_equal(const loupe_distribution *a, const loupe_distribution *b) {
    if (a->n_choices != b->n_choices) return 0;
    for (size_t i = 0; i < a->n_choices; i++)
        if (!choice_equal(a->choices[i], b->choices[i])) return 0;
    return 1;
}

int loupe__distribution_compatible(const loupe_distribution *old_d, const loupe_distribution *new_d,
                                   char *err, size_t errcap) {
    if (old_d->kind != new_d->kind) {
        snprintf(err, errcap, "Cannot set different distribution kind to the same parameter name.");
        return LOUPE_EINCOMPAT;
    }
    if (old_d->kind != LOUPE_DIST_CATEGORICAL && (!old_d->log) != (!new_d->log)) {
        snprintf(err, errcap, "Cannot set different log configuration to the same parameter name.");
        return LOUPE_EINCOMPAT;
    }
    if (old_d->kind == LOUPE_DIST_CATEGORICAL && !choices_equal(old_d, new_d)) {
        snprintf(err, errcap, "CategoricalDistribution does not support dynamic value space.");
        return LOUPE_EINCOMPAT;
    }
    return LOUPE_OK;
}

int loupe__distribution_equal(const loupe_distribution *a, const loupe_distribution *b) {
    if (a->kind != b->kind) return 0;
    if (a->kind == LOUPE_DIST_CATEGORICAL) return choices_equal(a, b);
    return a->low == b->low && a->high == b->high && a->step == b->step && !a->log == !b->log;
}

int loupe__distribution_contains(const loupe_distribution *d, double v) {
    if (isnan(v)) return 0;
    switch (d->kind) {
    case LOUPE_DIST_FLOAT:
        if (d->step > 0) {
            double k = (v - d->low) / d->step;
            return d->low <= v && v <= d->high && fabs(k - round(k)) < 1e-8;
        }
        return d->low <= v && v <= d->high;
    case LOUPE_DIST_INT:
        return v == floor(v) && d->low <= v && v <= d->high && fmod(v - d->low, d->step) == 0;
    case LOUPE_DIST_CATEGORICAL: return v == floor(v) && v >= 0 && v < (double)d->n_choices;
    }
    return 0;
}

int loupe__distribution_single(const loupe_distribution *d) {
    if (d->kind == LOUPE_DIST_CATEGORICAL) return d->n_choices == 1;
    return d->low == d->high;
}

static void write_int(loupe__buf *b, double v) { loupe__buf_printf(b, "%lld", (long long)v); }

void loupe__distribution_write_json(loupe__buf *b, const loupe_distribution *d) {
    switch (d->kind) {
    case LOUPE_DIST_FLOAT:
        loupe__buf_puts(b, "{\"name\": \"FloatDistribution\", \"attributes\": {\"step\": ");
        if (d->step > 0) loupe__pyjson_double(b, d->step);
        else loupe__buf_puts(b, "null");
        loupe__buf_puts(b, ", \"low\": ");
        loupe__pyjson_double(b, d->low);
        loupe__buf_puts(b, ", \"high\": ");
        loupe__pyjson_double(b, d->high);
        loupe__buf_puts(b, d->log ? ", \"log\": true}}" : ", \"log\": false}}");
        break;
    case LOUPE_DIST_INT:
        loupe__buf_puts(b, d->log ? "{\"name\": \"IntDistribution\", \"attributes\": {\"log\": true, \"step\": "
                                  : "{\"name\": \"IntDistribution\", \"attributes\": {\"log\": false, \"step\": ");
        write_int(b, d->step);
        loupe__buf_puts(b, ", \"low\": ");
        write_int(b, d->low);
        loupe__buf_puts(b, ", \"high\": ");
        write_int(b, d->high);
        loupe__buf_puts(b, "}}");
        break;
    case LOUPE_DIST_CATEGORICAL:
        loupe__buf_puts(b, "{\"name\": \"CategoricalDistribution\", \"attributes\": {\"choices\": [");
        for (size_t i = 0; i < d->n_choices; i++) {
            if (i) loupe__buf_puts(b, ", ");
            loupe__buf_puts(b, d->choices[i]);
        }
        loupe__buf_puts(b, "]}}");
        break;
    }
}

char *loupe_distribution_to_json(const loupe_distribution *dist) {
    if (!dist) return NULL;
    loupe__buf b;
    loupe__buf_init(&b, 0);
    loupe__distribution_write_json(&b, dist);
    return loupe__buf_steal(&b);
}

/* Reads a numeric attribute; missing or null leaves *out unchanged and returns
 * 0 when optional, -1 when required. */
static int num_attr(yyjson_val *obj, const char *key, double *out, int required) {
    yyjson_val *v = yyjson_obj_get(obj, key);
    if (!v || yyjson_is_null(v)) return required ? -1 : 0;
    if (yyjson_is_num(v)) return *out = yyjson_get_num(v), 0;
    if (yyjson_is_bool(v)) return *out = yyjson_get_bool(v), 0;
    return -1;
}

static int bool_attr(yyjson_val *obj, const char *key, int *out) {
    yyjson_val *v = yyjson_obj_get(obj, key);
    if (!v || yyjson_is_null(v)) return 0;
    if (yyjson_is_bool(v)) return *out = yyjson_get_bool(v), 0;
    if (yyjson_is_num(v)) return *out = yyjson_get_num(v) != 0, 0;
    return -1;
}

static int read_choices(yyjson_val *arr, loupe_distribution *out) {
    if (!yyjson_is_arr(arr)) return -1;
    size_t n = yyjson_arr_size(arr);
    char **c = calloc(n ? n : 1, sizeof *c);
    if (!c) return -2;
    size_t idx, max;
    yyjson_val *item;
    yyjson_arr_foreach(arr, idx, max, item) {
        loupe__buf b;
        loupe__buf_init(&b, 0);
        loupe__pyjson_value(&b, item);
        c[idx] = loupe__buf_steal(&b);
        if (!c[idx]) {
            for (size_t j = 0; j < idx; j++) free(c[j]);
            free(c);
            return -2;
        }
    }
    out->choices = (const char *const *)c;
    out->n_choices = n;
    return 0;
}

int loupe__distribution_from_json(const char *json, loupe_distribution *out, char *err,
                                  size_t errcap) {
    memset(out, 0, sizeof *out);
    if (!json) {
        snprintf(err, errcap, "missing distribution_json");
        return LOUPE_ECORRUPT;
    }
    yyjson_doc *doc = loupe__pyjson_parse(json, strlen(json), err, errcap);
    if (!doc) return LOUPE_ECORRUPT;
    int rc = LOUPE_ECORRUPT;
    yyjson_val *root = yyjson_doc_get_root(doc);
    const char *name = yyjson_get_str(yyjson_obj_get(root, "name"));
    yyjson_val *a = yyjson_obj_get(root, "attributes");
    const char *type = yyjson_get_str(yyjson_obj_get(root, "type"));
    if (!name && type) { /* abbreviated {"type": "float", ...} */
        a = root;
        name = strcmp(type, "float") == 0 ? "FloatDistribution"
               : strcmp(type, "int") == 0 ? "IntDistribution"
               : strcmp(type, "categorical") == 0 ? "CategoricalDistribution" : NULL;
    }
    if (!name || !yyjson_is_obj(a)) goto bad;
    int bad_attr = 0;
    if (strcmp(name, "FloatDistribution") == 0) {
        out->kind = LOUPE_DIST_FLOAT;
        bad_attr = num_attr(a, "low", &out->low, 1) || num_attr(a, "high", &out->high, 1) ||
                   num_attr(a, "step", &out->step, 0) || bool_attr(a, "log", &out->log);
    } else if (strcmp(name, "UniformDistribution") == 0 || strcmp(name, "LogUniformDistribution") == 0) {
        out->kind = LOUPE_DIST_FLOAT;
        out->log = name[0] == 'L';
        bad_attr = num_attr(a, "low", &out->low, 1) || num_attr(a, "high", &out->high, 1);
    } else if (strcmp(name, "DiscreteUniformDistribution") == 0) {
        out->kind = LOUPE_DIST_FLOAT;
        bad_attr = num_attr(a, "low", &out->low, 1) || num_attr(a, "high", &out->high, 1) ||
                   num_attr(a, "q", &out->step, 1);
    } else if (strcmp(name, "IntDistribution") == 0 || strcmp(name, "IntUniformDistribution") == 0 ||
               strcmp(name, "IntLogUniformDistribution") == 0) {
        out->kind = LOUPE_DIST_INT;
        out->step = 1;
        out->log = strcmp(name, "IntLogUniformDistribution") == 0;
        bad_attr = num_attr(a, "low", &out->low, 1) || num_attr(a, "high", &out->high, 1) ||
                   num_attr(a, "step", &out->step, 0) || bool_attr(a, "log", &out->log);
        out->low = trunc(out->low);
        out->high = trunc(out->high);
        out->step = trunc(out->step);
    } else if (strcmp(name, "CategoricalDistribution") == 0) {
        out->kind = LOUPE_DIST_CATEGORICAL;
        int r = read_choices(yyjson_obj_get(a, "choices"), out);
        if (r == -2) {
            rc = LOUPE_ENOMEM;
            snprintf(err, errcap, "out of memory");
            goto done;
        }
        bad_attr = r != 0;
    } else {
        snprintf(err, errcap, "unknown distribution name '%s'", name);
        goto done;
    }
    if (bad_attr) goto bad;
    rc = LOUPE_OK;
    goto done;
bad:
    snprintf(err, errcap, "malformed distribution JSON: %.200s", json);
done:
    if (rc != LOUPE_OK) loupe__distribution_free(out);
    yyjson_doc_free(doc);
    return rc;
}

void loupe__distribution_external_json(loupe__buf *b, const loupe_distribution *d, double internal) {
    switch (d->kind) {
    case LOUPE_DIST_FLOAT: loupe__pyjson_double(b, internal); break;
    case LOUPE_DIST_INT: write_int(b, internal); break;
    case LOUPE_DIST_CATEGORICAL: {
        size_t i = (size_t)internal;
        loupe__buf_puts(b, internal >= 0 && i < d->n_choices ? d->choices[i] : "null");
        break;
    }
    }
}

int loupe_param_value_json(const loupe_param *param, char *buf, size_t cap) {
    if (!param || !buf || cap == 0) return -1;
    loupe__buf b;
    loupe__buf_init(&b, 0);
    loupe__distribution_external_json(&b, &param->dist, param->internal);
    int rc = -1;
    if (!b.failed && b.len < cap) {
        memcpy(buf, b.data, b.len + 1);
        rc = (int)b.len;
    }
    loupe__buf_free(&b);
    return rc;
}

int loupe__distribution_internal_from_json(const loupe_distribution *d, const char *json,
                                           double *internal) {
    char *norm = NULL;
    char err[160];
    if (loupe__pyjson_normalize(json, &norm, err, sizeof err)) return LOUPE_EINVAL;
    int rc = LOUPE_EINVAL;
    if (d->kind == LOUPE_DIST_CATEGORICAL) {
        for (size_t i = 0; i < d->n_choices; i++) {
            if (choice_equal(d->choices[i], norm)) {
                *internal = (double)i;
                rc = LOUPE_OK;
                break;
            }
        }
    } else {
        double v;
        if (choice_number(norm, &v)) {
            *internal = d->kind == LOUPE_DIST_INT ? trunc(v) : v;
            rc = LOUPE_OK;
        }
    }
    free(norm);
    return rc;
}
