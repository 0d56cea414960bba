/*
 * A bounded ZIP reader over a memory buffer: see zip.h. The archive is walked from its end of
 * central directory record (searched in the last 64 KiB + 22 bytes, where the format puts it);
 * each central directory header is checked to lie within the directory, each local header and
 * its data within the archive, and each declared size within the limits before the output is
 * allocated. zlib inflates raw deflate into exactly the declared size: more output than declared
 * is an error, as is less, or a CRC-32 that does not match.
 */
#include "core/zip.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define SIG_EOCD          0x06054b50u
#define SIG_CENTRAL       0x02014b50u
#define SIG_LOCAL         0x04034b50u
#define EOCD_SIZE         22
#define CENTRAL_SIZE      46
#define LOCAL_SIZE        30
#define DEFAULT_ENTRIES   1024
#define DEFAULT_ENTRY_MAX (64u * 1024 * 1024)
#define DEFAULT_TOTAL_MAX (256u * 1024 * 1024)

static uint32_t u16(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void cg_zip_entries_free(cg_zip_entry *e, size_t n)
{
    if (!e)
        return;
    for (size_t i = 0; i < n; i++)
        free(e[i].data);
    free(e);
}

/* Inflates or copies one entry's data into a fresh buffer of exactly `size` bytes. */
static int entry_read(const unsigned char *data, size_t comp, size_t size, uint32_t method,
                      uint32_t crc, const char *name, char **out, cg_err *err)
{
    char *buf = malloc(size + 1);
    if (!buf)
        return cg_err_set(err, CG_ENOMEM, "zip", "out of memory for '%s' (%zu bytes)", name, size);
    if (method == 0) {
        if (comp != size) {
            free(buf);
            return cg_err_set(err, CG_EINVAL, "zip",
                              "'%s' is stored with %zu bytes but declares %zu", name, comp, size);
        }
        memcpy(buf, data, size);
    } else {
        z_stream z;
        memset(&z, 0, sizeof z);
        if (inflateInit2(&z, -MAX_WBITS) != Z_OK) {
            free(buf);
            return cg_err_set(err, CG_ENOMEM, "zip", "cannot start inflating '%s'", name);
        }
        /* zlib counts in uInt: the limits keep sizes far below 4 GiB. */
        z.next_in = (Bytef *)data;
        z.avail_in = (uInt)comp;
        z.next_out = (Bytef *)buf;
        z.avail_out = (uInt)size + 1; /* one spare byte: output past the declared size shows */
        int rc = inflate(&z, Z_FINISH);
        size_t produced = z.total_out;
        inflateEnd(&z);
        if (rc != Z_STREAM_END || produced != size) {
            free(buf);
            return cg_err_set(err, CG_EINVAL, "zip",
                              rc == Z_STREAM_END || rc == Z_BUF_ERROR
                                  ? "'%s' inflates to a size other than the %zu bytes it declares"
                                  : "'%s' is not valid deflate data (declared %zu bytes)",
                              name, size);
        }
    }
    if ((uint32_t)crc32(0L, (const Bytef *)buf, (uInt)size) != crc) {
        free(buf);
        return cg_err_set(err, CG_EINVAL, "zip",
                          "'%s' fails its CRC-32 check: the archive is damaged", name);
    }
    buf[size] = '\0';
    *out = buf;
    return 0;
}

int cg_zip_extract(const void *zip, size_t len, const cg_zip_limits *limits, cg_zip_want_fn want,
                   void *ctx, cg_zip_entry **out, size_t *n_out, cg_err *err)
{
    const unsigned char *z = zip;
    size_t max_entries = limits && limits->max_entries ? limits->max_entries : DEFAULT_ENTRIES;
    size_t max_entry =
        limits && limits->max_entry_bytes ? limits->max_entry_bytes : DEFAULT_ENTRY_MAX;
    size_t max_total =
        limits && limits->max_total_bytes ? limits->max_total_bytes : DEFAULT_TOTAL_MAX;
    *out = NULL;
    *n_out = 0;
    if (len < EOCD_SIZE)
        return cg_err_set(err, CG_EINVAL, "zip", "not a ZIP archive (%zu bytes)", len);
    /* The end record is the last one with its signature whose comment reaches the end. */
    size_t eocd = (size_t)-1;
    size_t lowest = len > EOCD_SIZE + 65535 ? len - EOCD_SIZE - 65535 : 0;
    for (size_t at = len - EOCD_SIZE + 1; at-- > lowest;)
        if (u32(z + at) == SIG_EOCD && at + EOCD_SIZE + u16(z + at + 20) == len) {
            eocd = at;
            break;
        }
    if (eocd == (size_t)-1)
        return cg_err_set(err, CG_EINVAL, "zip",
                          "not a ZIP archive (no end of central directory record)");
    const unsigned char *e = z + eocd;
    uint32_t disk = u16(e + 4), cd_disk = u16(e + 6), n_here = u16(e + 8), n_total = u16(e + 10);
    uint32_t cd_size = u32(e + 12), cd_offset = u32(e + 16);
    if (n_total == 0xffff || cd_size == 0xffffffffu || cd_offset == 0xffffffffu)
        return cg_err_set(err, CG_EUNSUPPORTED, "zip", "ZIP64 archives are not supported");
    if (disk != 0 || cd_disk != 0 || n_here != n_total)
        return cg_err_set(err, CG_EUNSUPPORTED, "zip",
                          "archives split over several files are not "
                          "supported");
    if (n_total > max_entries)
        return cg_err_set(err, CG_ELIMIT, "zip", "the archive has %u entries, more than %zu",
                          n_total, max_entries);
    if ((size_t)cd_offset > eocd || (size_t)cd_size > eocd - cd_offset)
        return cg_err_set(err, CG_EINVAL, "zip",
                          "the central directory lies outside the archive: it is damaged");

    cg_zip_entry *entries = calloc(n_total ? n_total : 1, sizeof *entries);
    if (!entries)
        return cg_err_set(err, CG_ENOMEM, "zip", "out of memory");
    size_t n = 0, total = 0, at = cd_offset, end = (size_t)cd_offset + cd_size;
    for (uint32_t i = 0; i < n_total; i++) {
        if (end - at < CENTRAL_SIZE || u32(z + at) != SIG_CENTRAL) {
            cg_err_set(err, CG_EINVAL, "zip", "central directory entry %u is damaged", i);
            goto fail;
        }
        const unsigned char *c = z + at;
        uint32_t flags = u16(c + 8), method = u16(c + 10), crc = u32(c + 16);
        uint32_t comp = u32(c + 20), size = u32(c + 24);
        uint32_t name_len = u16(c + 28), extra_len = u16(c + 30), comment_len = u16(c + 32);
        uint32_t local = u32(c + 42);
        if (end - at - CENTRAL_SIZE < (size_t)name_len + extra_len + comment_len) {
            cg_err_set(err, CG_EINVAL, "zip", "central directory entry %u is damaged", i);
            goto fail;
        }
        char name[256];
        if (name_len == 0 || name_len >= sizeof name || memchr(c + CENTRAL_SIZE, 0, name_len)) {
            cg_err_set(err, CG_EINVAL, "zip", "entry %u has no usable name", i);
            goto fail;
        }
        memcpy(name, c + CENTRAL_SIZE, name_len);
        name[name_len] = '\0';
        at += CENTRAL_SIZE + (size_t)name_len + extra_len + comment_len;
        if (name[name_len - 1] == '/' || !want(ctx, name))
            continue;
        if (flags & 1u) {
            cg_err_set(err, CG_EUNSUPPORTED, "zip", "'%s' is encrypted", name);
            goto fail;
        }
        if (method != 0 && method != 8) {
            cg_err_set(err, CG_EUNSUPPORTED, "zip",
                       "'%s' uses compression method %u (only stored and deflate are supported)",
                       name, method);
            goto fail;
        }
        if (comp == 0xffffffffu || size == 0xffffffffu || local == 0xffffffffu) {
            cg_err_set(err, CG_EUNSUPPORTED, "zip", "ZIP64 entries are not supported ('%s')", name);
            goto fail;
        }
        if (size > max_entry || size > max_total - total) {
            cg_err_set(err, CG_ELIMIT, "zip",
                       "'%s' unpacks to %u bytes, over the limit (%zu per file, %zu in all)", name,
                       size, max_entry, max_total);
            goto fail;
        }
        if ((size_t)local > len || len - local < LOCAL_SIZE || u32(z + local) != SIG_LOCAL) {
            cg_err_set(err, CG_EINVAL, "zip", "the local header of '%s' is damaged", name);
            goto fail;
        }
        size_t data = (size_t)local + LOCAL_SIZE + u16(z + local + 26) + u16(z + local + 28);
        if (data > len || len - data < comp) {
            cg_err_set(err, CG_EINVAL, "zip", "the data of '%s' runs past the end of the archive",
                       name);
            goto fail;
        }
        cg_zip_entry *out_entry = &entries[n];
        memcpy(out_entry->name, name, name_len + 1);
        if (entry_read(z + data, comp, size, method, crc, name, &out_entry->data, err) != 0)
            goto fail;
        out_entry->len = size;
        total += size;
        n++;
    }
    *out = entries;
    *n_out = n;
    return 0;
fail:
    cg_zip_entries_free(entries, n);
    return -1;
}
