/* Prints the parameters of a Python training script as JSON, using mlreef.h.
 *
 *   cargo build -p mlreef-ffi && cc -Iinclude examples/c/params.c -Ltarget/debug -lmlreef -Wl,-rpath,target/debug -o params
 *   ./params examples/train.py
 */
#include "mlreef.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s SCRIPT.py\n", argv[0]);
        return 2;
    }
    char *json = NULL;
    mlreef_error *error = NULL;
    mlreef_result result = mlreef_params_extract_file(argv[1], strlen(argv[1]), NULL, 0, &json, &error);
    if (result != MLREEF_OK) {
        fprintf(stderr, "error %u: %s\n", (unsigned)result, mlreef_error_message(error));
        mlreef_error_free(error);
        return 1;
    }
    printf("%s\n", json);
    mlreef_string_free(json);
    return 0;
}
