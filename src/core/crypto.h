/*
 * The cryptography civgrid needs, all from libsodium: argon2id password hashes (the PHC string
 * format, so parameters travel with the hash), random tokens for sessions, SHA-256 for the audit
 * log's hash chain and for storing tokens (the database keeps a token's hash, never the token),
 * and constant-time comparison. cg_crypto_init() must be called once before any other function.
 */
#ifndef CG_CORE_CRYPTO_H
#define CG_CORE_CRYPTO_H

#include <stddef.h>

#include "core/err.h"

#define CG_PASSWORD_HASH_MAX 128 /* crypto_pwhash_STRBYTES */
#define CG_TOKEN_CHARS       43  /* 32 random bytes, base64url without padding */
#define CG_SHA256_HEX        65  /* 64 hex digits and a NUL */

int cg_crypto_init(cg_err *err);
/* argon2id with libsodium's interactive limits (fast enough for a login, slow for an attacker). */
int cg_password_hash(const char *password, char out[CG_PASSWORD_HASH_MAX], cg_err *err);
/* 1 when the password matches the stored hash, 0 otherwise (also for a malformed hash). */
int cg_password_verify(const char *stored_hash, const char *password);
/* A fresh random token (base64url, CG_TOKEN_CHARS characters). */
void cg_token_new(char out[CG_TOKEN_CHARS + 1]);
void cg_sha256_hex(const void *data, size_t len, char out[CG_SHA256_HEX]);
/* Constant-time equality of two equal-length strings; 0 when lengths differ. */
int cg_secure_equal(const char *a, const char *b);

#endif
