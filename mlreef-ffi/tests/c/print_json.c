/* Prints the JSON that mlreef.h gives for one path, every option left to its default:
 *
 *   print_json params SCRIPT         mlreef_params_extract_file(SCRIPT, no repo)
 *   print_json requirements FILE     mlreef_requirements_parse(no text, {"path": FILE})
 *
 * mlreef-ffi/tests/agree.rs builds it and compares its output with the core, the CLI (and the
 * Python tests with Python). Exit status 0 with the JSON on stdout, 1 with "error N: message"
 * on stderr, 2 on a usage error. */
#include "mlreef.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* `{"path": "<path as a JSON string>"}`, freed by the caller. */
static char *path_options(const char *path) {
    size_t size = strlen(path) * 6 + 16;
    char *json = malloc(size);
    if (json == NULL) {
        return NULL;
    }
    size_t at = 0;
    at += (size_t)snprintf(json + at, size - at, "{\"path\": \"");
    for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
        if (*c == '"' || *c == '\\') {
            json[at++] = '\\';
            json[at++] = (char)*c;
        } else if (*c < 0x20) {
            at += (size_t)snprintf(json + at, size - at, "\\u%04x", *c);
        } else {
            json[at++] = (char)*c;
        }
    }
    snprintf(json + at, size - at, "\"}");
    return json;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: print_json params|requirements PATH\n");
        return 2;
    }
    const char *what = argv[1];
    const char *path = argv[2];
    char *out = NULL;
    mlreef_error *error = NULL;
    mlreef_result result;
    if (strcmp(what, "params") == 0) {
        result = mlreef_params_extract_file(path, strlen(path), NULL, 0, &out, &error);
    } else if (strcmp(what, "requirements") == 0) {
        char *options = path_options(path);
        if (options == NULL) {
            return 1;
        }
        result = mlreef_requirements_parse(NULL, 0, options, strlen(options), &out, &error);
        free(options);
    } else {
        fprintf(stderr, "usage: print_json params|requirements PATH\n");
        return 2;
    }
    if (result != MLREEF_OK) {
        fprintf(stderr, "error %u: %s\n", (unsigned)result, mlreef_error_message(error));
        mlreef_error_free(error);
        return 1;
    }
    puts(out);
    mlreef_string_free(out);
    return 0;
}
