/* Standard Ed25519 verification (RFC 8032, SHA-512) on Monocypher 4's EdDSA building blocks. */
#ifndef EK_ED25519_H
#define EK_ED25519_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t h[8];
    uint64_t len;
    uint8_t buf[128];
    size_t fill;
} ek_sha512_ctx;

void ek_sha512_init(ek_sha512_ctx *c);
void ek_sha512_update(ek_sha512_ctx *c, const void *data, size_t n);
void ek_sha512_final(ek_sha512_ctx *c, uint8_t out[64]);

/* 0 when sig is a valid Ed25519 signature of msg under pub, -1 otherwise. */
int ek_ed25519_verify(const uint8_t sig[64], const uint8_t pub[32], const uint8_t *msg, size_t n);
#endif
