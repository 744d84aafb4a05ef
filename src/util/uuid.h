/* uuid.h -- random version-4 UUIDs ("0d6546b5-e9b1-483a-baf3-cf2ee88d5325") from the OS's random source. */
#ifndef LOUPE_UTIL_UUID_H
#define LOUPE_UTIL_UUID_H

/* Writes a lowercase UUID4 (36 chars + NUL) into out. Returns 0, -1 if the OS
 * random source failed. */
int loupe__uuid4(char out[37]);
/* Non-zero if s is a well-formed lowercase or uppercase UUID (any version). */
int loupe__is_uuid(const char *s);

#endif
