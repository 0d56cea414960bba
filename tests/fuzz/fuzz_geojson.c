/*
 * libFuzzer target for the GeoJSON reader: any bytes go to cg_geojson_read (GCJ-02 for inputs of
 * odd length, so the conversion path is fuzzed too), and every geometry read is written back
 * with cg_geojson_write_mpoly and every string property with cg_json_write_string; both outputs
 * must parse as JSON again. Seeds: tests/fuzz/corpus/geojson/ (the tests/data fixtures and
 * regression inputs).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/buf.h"
#include "geo/geojson.h"

static void must_parse(const cg_buf *b)
{
    json_t *j = json_loadb(b->data, b->len, JSON_DECODE_ANY, NULL);
    if (!j)
        abort();
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cg_geojson_read_opts opts = {size % 2 ? CG_CRS_GCJ02 : CG_CRS_WGS84, 10000, 100000};
    cg_feature *fs;
    size_t n;
    cg_err err;
    if (cg_geojson_read((const char *)data, size, &opts, &fs, &n, &err) != 0)
        return 0;
    cg_buf b;
    cg_buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        if (fs[i].has_geom) {
            cg_buf_reset(&b);
            cg_geojson_write_mpoly(&b, &fs[i].geom, opts.crs, 7);
            must_parse(&b);
        }
        const char *key;
        json_t *value;
        json_object_foreach(fs[i].props, key, value)
        {
            cg_buf_reset(&b);
            cg_json_write_string(&b, key);
            must_parse(&b);
            if (json_is_string(value)) {
                cg_buf_reset(&b);
                cg_json_write_string(&b, json_string_value(value));
                must_parse(&b);
            }
        }
    }
    cg_buf_free(&b);
    cg_features_free(fs, n);
    return 0;
}
