/*
 * The cryptography civgrid needs, all from libsodium (see crypto.h). Nothing here is invented:
 * argon2id through crypto_pwhash_str (the PHC string carries salt and limits, so a later change
 * of limits still verifies old hashes), tokens from the system's CSPRNG, SHA-256 for the audit
 * chain and stored token hashes, and sodium_memcmp for comparisons whose timing must not tell an
 * attacker how many leading bytes matched.
 */
#include "core/crypto.h"

#include <assert.h>
#include <sodium.h>
#include <string.h>

/* crypto.h promises these sizes without including sodium.h. */
_Static_assert(CG_PASSWORD_HASH_MAX == crypto_pwhash_STRBYTES, "password hash size");
_Static_assert(CG_SHA256_HEX == 2 * crypto_hash_sha256_BYTES + 1, "sha256 hex size");

int cg_crypto_init(cg_err *err)
{
    /* 0: initialised now, 1: already initialised (both fine), -1: no usable random source. */
    if (sodium_init() < 0)
        return cg_err_set(err, CG_EINTERNAL, "",
                          "libsodium could not be initialised (no random source?)");
    return 0;
}

int cg_password_hash(const char *password, char out[CG_PASSWORD_HASH_MAX], cg_err *err)
{
    if (crypto_pwhash_str_alg(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return cg_err_set(err, CG_ENOMEM, "password",
                          "hashing a password failed (argon2id needs 64 MiB of memory)");
    return 0;
}

int cg_password_verify(const char *stored_hash, const char *password)
{
    /* crypto_pwhash_str_verify reads a NUL-terminated string of at most STRBYTES bytes. */
    if (!stored_hash || !password ||
        strnlen(stored_hash, CG_PASSWORD_HASH_MAX) >= CG_PASSWORD_HASH_MAX)
        return 0;
    return crypto_pwhash_str_verify(stored_hash, password, strlen(password)) == 0;
}

void cg_token_new(char out[CG_TOKEN_CHARS + 1])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, CG_TOKEN_CHARS + 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    assert(strlen(out) == CG_TOKEN_CHARS);
}

void cg_sha256_hex(const void *data, size_t len, char out[CG_SHA256_HEX])
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, data, len);
    sodium_bin2hex(out, CG_SHA256_HEX, digest, sizeof digest);
}

int cg_secure_equal(const char *a, const char *b)
{
    size_t n = strlen(a);
    if (n != strlen(b))
        return 0;
    return sodium_memcmp(a, b, n) == 0;
}
