/*
 * hitl.h -- helpers shared by the HITL files (artifacts, notes, form widgets,
 * study copy): error reporting on a study's storage, attr lookup, UTF-8 checks,
 * the note codec, and the mimetype guesser. Internal to src/hitl.
 */
#ifndef LOUPE_HITL_HITL_H
#define LOUPE_HITL_HITL_H

#include <stddef.h>
#include <stdint.h>

#include "loupe.h"
#include "util/buf.h"

/* Sets the last error of the study's storage (what loupe_study_errmsg shows);
 * returns code. */
int loupe__hitl_error(loupe_study *study, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Resets the study's message to "not an error". */
void loupe__hitl_clear(loupe_study *study);

/* The JSON of key in attrs, or NULL. */
const char *loupe__attr_find(const loupe_attr *attrs, size_t n, const char *key);

/* Non-zero if s[0..len) is valid UTF-8 (no surrogates, no overlongs); else
 * *bad_offset gets the offset of the first bad byte. */
int loupe__utf8_valid(const char *s, size_t len, size_t *bad_offset);
/* The byte length of the first max_cp code points of valid UTF-8 s[0..len). */
size_t loupe__utf8_prefix(const char *s, size_t len, size_t max_cp);

/* Python's mimetypes.guess_type on a file name (see loupe_artifact_guess_type). */
void loupe__guess_type(const char *filename, const char **mimetype, const char **encoding);

/* ---- notes (note.c), also used by the study copy */

/* optuna-dashboard's SYSTEM_ATTR_MAX_LENGTH: characters per note chunk. */
#define LOUPE__NOTE_CHUNK 2045

/* Writes the version key and the chunk prefix of a note into ver_key and
 * prefix (64 bytes each). trial_id < 0 selects the study note. */
void loupe__note_keys(int64_t trial_id, char ver_key[64], char prefix[64]);
/*
 * Reads a note from a study's system attrs as optuna-dashboard does. *found is
 * set to 0 (and version 0, body "") when the version key is absent. *body is
 * malloc'd. Returns LOUPE_OK, LOUPE_ECORRUPT (message in err) or LOUPE_ENOMEM.
 */
int loupe__note_from_attrs(const loupe_attr *attrs, size_t n, int64_t trial_id, int *found,
                           int64_t *version, char **body, char *err, size_t errcap);
/* How many chunk indexes a save must cover to blank every old chunk: the
 * number of chunk keys, or more when a note has gaps (max index + 1). */
size_t loupe__note_chunk_count(const loupe_attr *attrs, size_t n, int64_t trial_id);

/* A list of attrs being built (keys and JSON values owned by the list). */
typedef struct loupe__attr_vec {
    loupe_attr *items;
    size_t len;
    size_t alloc;
} loupe__attr_vec;
/* Appends copies of key and json. LOUPE_OK or LOUPE_ENOMEM. */
int loupe__attr_vec_push(loupe__attr_vec *v, const char *key, const char *json);
/* Takes ownership of malloc'd key and json (freed on failure too). */
int loupe__attr_vec_push_owned(loupe__attr_vec *v, char *key, char *json);
void loupe__attr_vec_free(loupe__attr_vec *v);

/*
 * Appends the attrs that save a note of version `version` and body (valid
 * UTF-8) to out, as optuna-dashboard writes them: the version key, then the
 * chunks 0..k-1, then "" for each old chunk index k..old_chunks-1.
 */
int loupe__note_attrs(loupe__attr_vec *out, int64_t trial_id, int64_t version, const char *body,
                      size_t old_chunks);

/* ---- artifact lists (artifact.c), also used by the view */

loupe_artifact_list *loupe__artifact_list_new(void);
/* Appends the metadata stored under key (skipped when it is a deleted entry).
 * LOUPE_ECORRUPT or LOUPE_ENOMEM with a message in err. */
int loupe__artifact_list_add(loupe_artifact_list *list, const char *key, const char *json,
                             char *err, size_t errcap);

#endif
