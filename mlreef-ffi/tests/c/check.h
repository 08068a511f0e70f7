/* What the C tests share: CHECK counts a check and reports a failed one without stopping, and
 * checks_done() ends the test with "ok N checks" (exit 0) or the number that failed (exit 1). */
#ifndef MLREEF_TEST_CHECK_H
#define MLREEF_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int checks = 0;
static int failures = 0;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        checks++;                                                                     \
        if (!(cond)) {                                                                \
            failures++;                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                             \
    } while (0)

#define LEN(s) strlen(s)

static int checks_done(void) {
    if (failures) {
        fprintf(stderr, "%d of %d checks failed\n", failures, checks);
        return 1;
    }
    printf("ok %d checks\n", checks);
    return 0;
}

#endif
