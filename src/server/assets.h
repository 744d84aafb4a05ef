/*
 * assets.h -- the web app's built files (web/dist), embedded into the binary
 * at build time with .incbin by a generated assembly file and table
 * (src/server/embed_assets.cmake). Without a build the table is empty and the
 * dashboard serves a page that says how to build the web app.
 */
#ifndef LOUPE_SERVER_ASSETS_H
#define LOUPE_SERVER_ASSETS_H

#include <stddef.h>

typedef struct loupe__asset {
    const char *path;          /* relative to dist/, e.g. "assets/index-3f2a1b.js" */
    const unsigned char *data;
    size_t len;
    const unsigned char *gz;   /* the pre-compressed ".gz" file, or NULL */
    size_t gz_len;
} loupe__asset;

extern const loupe__asset loupe__assets[];
extern const size_t loupe__n_assets;

/* The asset at path, or NULL. */
const loupe__asset *loupe__asset_find(const char *path);
/* The Content-Type for a file name. */
const char *loupe__asset_mime(const char *path);
/* Non-zero for Vite's content-hashed file names (cache forever). */
int loupe__asset_is_hashed(const char *path);

#endif
