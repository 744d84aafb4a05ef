/*
 * mimetype.c -- Python's mimetypes.guess_type(filename) (strict mode, Python
 * 3.11 with Debian's /etc/mime.types) for the file types artifacts commonly
 * have, so artifact metadata written by loupe equals what optuna writes.
 * The algorithm follows Python's: suffix aliases (".tgz" -> ".tar.gz"), then
 * a case-sensitive encoding suffix (".gz", ".Z", ".bz2", ".xz", ".br"), then
 * the type of the remaining extension (case-insensitive).
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "hitl/hitl.h"

typedef struct pair {
    const char *ext;
    const char *value;
} pair;

/* Answers of Python 3.11.2's mimetypes on Debian bookworm (checked with
 * python3 -c "import mimetypes; print(mimetypes.guess_type('a.ext'))"). */
static const pair types[] = {
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".jpe", "image/jpeg"},
    {".gif", "image/gif"},
    {".webp", "image/webp"},
    {".svg", "image/svg+xml"},
    {".bmp", "image/bmp"},
    {".ico", "image/vnd.microsoft.icon"},
    {".tif", "image/tiff"},
    {".tiff", "image/tiff"},
    {".avif", "image/avif"},
    {".wav", "audio/x-wav"},
    {".mp3", "audio/mpeg"},
    {".ogg", "audio/ogg"},
    {".oga", "audio/ogg"},
    {".flac", "audio/flac"},
    {".m4a", "audio/mp4"},
    {".aac", "audio/aac"},
    {".mp4", "video/mp4"},
    {".webm", "video/webm"},
    {".mov", "video/quicktime"},
    {".txt", "text/plain"},
    {".csv", "text/csv"},
    {".tsv", "text/tab-separated-values"},
    {".json", "application/json"},
    {".html", "text/html"},
    {".htm", "text/html"},
    {".md", "text/markdown"},
    {".xml", "application/xml"},
    {".js", "text/javascript"},
    {".mjs", "text/javascript"},
    {".css", "text/css"},
    {".pdf", "application/pdf"},
    {".tar", "application/x-tar"},
    {".zip", "application/zip"},
    {".gz", "application/gzip"}, /* reached only when ".GZ" is not an encoding (case) */
    {".bin", "application/octet-stream"},
    /* ".jsonl" is unknown to Python: it falls back to the default type. */
};

static const pair suffixes[] = {
    {".svgz", ".svg.gz"}, {".tgz", ".tar.gz"}, {".taz", ".tar.gz"},
    {".tz", ".tar.gz"},   {".tbz2", ".tar.bz2"}, {".txz", ".tar.xz"},
};

static const pair encodings[] = {
    {".gz", "gzip"}, {".Z", "compress"}, {".bz2", "bzip2"}, {".xz", "xz"}, {".br", "br"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* posixpath.splitext: the extension starts at the last '.' of the last path
 * component, unless only dots precede it there. Returns its offset, or len. */
static size_t splitext(const char *s, size_t len) {
    size_t start = 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '/') start = i + 1;
    size_t dot = len;
    for (size_t i = len; i > start; i--) {
        if (s[i - 1] == '.') {
            dot = i - 1;
            break;
        }
    }
    if (dot == len) return len;
    for (size_t i = start; i < dot; i++)
        if (s[i] != '.') return dot;
    return len;
}

static const char *lookup(const pair *table, size_t n, const char *ext, size_t len, int nocase) {
    for (size_t i = 0; i < n; i++) {
        if (strlen(table[i].ext) != len) continue;
        if (nocase ? strncasecmp(table[i].ext, ext, len) == 0 : memcmp(table[i].ext, ext, len) == 0)
            return table[i].value;
    }
    return NULL;
}

void loupe__guess_type(const char *filename, const char **mimetype, const char **encoding) {
    *mimetype = NULL;
    *encoding = NULL;
    if (!filename) return;
    /* Python first strips a URL scheme; only "data:" changes the answer. */
    if (strncasecmp(filename, "data:", 5) == 0) {
        const char *url = filename + 5;
        const char *comma = strchr(url, ',');
        if (!comma) return;
        /* A file name has no '/', so the media type Python reads is never a
         * valid "type/subtype": it falls back to text/plain. */
        *mimetype = "text/plain";
        return;
    }
    /* Any other "scheme:" prefix (text before the first ':' without '/') is
     * dropped by Python before the extension is taken. */
    const char *colon = strchr(filename, ':');
    if (colon && colon > filename && memchr(filename, '/', (size_t)(colon - filename)) == NULL)
        filename = colon + 1;
    /* base + ext, kept in a small buffer because suffix aliases rewrite it. */
    char name[1024];
    size_t len = strlen(filename);
    if (len >= sizeof name - 16) {
        /* Only the tail matters for the extension. */
        filename += len - (sizeof name - 16 - 1);
        len = sizeof name - 16 - 1;
    }
    memcpy(name, filename, len);
    name[len] = '\0';

    size_t dot = splitext(name, len);
    for (;;) {
        const char *alias = lookup(suffixes, COUNT(suffixes), name + dot, len - dot, 0);
        if (!alias) break;
        size_t alen = strlen(alias);
        memcpy(name + dot, alias, alen + 1);
        len = dot + alen;
        dot = splitext(name, len);
    }
    const char *enc = lookup(encodings, COUNT(encodings), name + dot, len - dot, 0);
    if (enc) {
        *encoding = enc;
        len = dot;
        name[len] = '\0';
        dot = splitext(name, len);
    }
    if (dot < len) *mimetype = lookup(types, COUNT(types), name + dot, len - dot, 1);
}

void loupe_artifact_guess_type(const char *filename, const char **mimetype,
                               const char **encoding) {
    const char *m, *e;
    loupe__guess_type(filename, &m, &e);
    if (mimetype) *mimetype = m;
    if (encoding) *encoding = e;
}
