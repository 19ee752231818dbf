/* Ed25519 verify = SHA-512(R || A || M) reduced mod L, then Monocypher's check of
 * [8][S]B == [8]R + [8][h]A (it also rejects non-canonical S and invalid A). */
#include "ek_ed25519.h"
#include "monocypher.h"

int ek_ed25519_verify(const uint8_t sig[64], const uint8_t pub[32], const uint8_t *msg, size_t n) {
    ek_sha512_ctx c;
    uint8_t h[64], h_ram[32];
    ek_sha512_init(&c);
    ek_sha512_update(&c, sig, 32);
    ek_sha512_update(&c, pub, 32);
    ek_sha512_update(&c, msg, n);
    ek_sha512_final(&c, h);
    crypto_eddsa_reduce(h_ram, h);
    return crypto_eddsa_check_equation(sig, pub, h_ram) == 0 ? 0 : -1;
}
