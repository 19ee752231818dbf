/* SHA-256 (FIPS 180-4), incremental; small and table-light for the bootloader and the SMP server. */
#ifndef EK_SHA256_H
#define EK_SHA256_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t len;      /* bytes hashed so far */
    uint8_t buf[64];
    size_t fill;
} ek_sha256_ctx;

void ek_sha256_init(ek_sha256_ctx *c);
void ek_sha256_update(ek_sha256_ctx *c, const void *data, size_t n);
void ek_sha256_final(ek_sha256_ctx *c, uint8_t out[32]);
void ek_sha256(const void *data, size_t n, uint8_t out[32]);
#endif
