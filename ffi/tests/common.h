/* Helpers shared by the C tests: a CHECK macro that reports and counts failures. */
#ifndef SCANGIT_TEST_COMMON_H
#define SCANGIT_TEST_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scangit.h"

static int failures = 0;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                      \
            fprintf(stderr, " [last error: %s]\n", scangit_last_error_message()); \
            failures++;                                                        \
        }                                                                      \
    } while (0)

#define CHECK_STATUS(expr, want)                                               \
    do {                                                                       \
        int got_ = (expr);                                                     \
        CHECK(got_ == (want), "%s returned %s, want %s", #expr,                \
              scangit_status_name(got_), scangit_status_name(want));           \
    } while (0)

static int finish(const char *name) {
    if (failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, failures);
        return 1;
    }
    printf("%s: ok\n", name);
    return 0;
}

#endif
