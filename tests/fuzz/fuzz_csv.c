/*
 * Fuzz target for the CSV reader (src/core/csv.c), which reads user files in
 * `civgrid locate --csv`: every input must end in records, end of input or a clean error, and
 * every field returned must be a NUL-terminated string inside the record.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    FILE *in = fmemopen((void *)data, size, "rb");
    if (!in)
        return 0;
    cg_csv_reader r;
    cg_csv_reader_init(&r, in);
    r.max_bytes = 4096;
    size_t total = 0;
    while (cg_csv_next(&r) == 1) {
        for (size_t i = 0; i < r.n_fields; i++)
            total += strlen(cg_csv_field(&r, i));
        if (total > size * 2 + 64)
            __builtin_trap(); /* more field bytes than the input could hold */
    }
    cg_csv_reader_free(&r);
    fclose(in);
    return 0;
}
