/* Fallback when an app build links the SMP server without Monocypher (firmware/crypto +
 * build/monocypher, see edgekit.flash.build.mgmt_sources): the server then cannot check the
 * Ed25519 signature itself and leaves it to the bootloader, which always links the real
 * ek_ed25519_verify (strong symbol) and never boots an image whose signature fails. Hash, key
 * hash, slot, size and board checks still run in the app. */
#include <stddef.h>
#include <stdint.h>

__attribute__((weak)) int ek_ed25519_verify(const uint8_t sig[64], const uint8_t pub[32], const uint8_t *msg, size_t n) {
    (void)sig; (void)pub; (void)msg; (void)n;
    return 0;
}
