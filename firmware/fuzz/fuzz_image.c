/* libFuzzer harness: what the bootloader reads from a slot (firmware/bootloader/boot_main.c's
 * decision on firmware/mgmt/ek_slots.c): trailer, the 32-byte MCUboot header, protected and
 * unprotected TLV areas, then SHA-256, key hash, Ed25519 signature and board checks.
 * Input: the bytes of slot 0 from its base (an image as `edgekit flash` uploads it); the rest of
 * the slot is erased flash (0xFF) and its trailer says confirmed, so every input is a boot
 * candidate. boot_main() itself jumps into the image and only runs on the M7 twin, so this
 * harness makes the same calls in the same order (bootable? parse, verify) on the host. */
#include <stdio.h>
#include <stdlib.h>
#include "ek_slots.h"
#include "fuzz_flash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what) {
    if (!cond) { fprintf(stderr, "fuzz_image: invariant broken: %s\n", what); abort(); }
}

static int inside(const uint8_t *p, size_t n, const uint8_t *lo, const uint8_t *hi) {
    return p >= lo && p + n <= hi;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int inited;
    if (!inited) { fuzz_flash_init(); inited = 1; }
    fuzz_flash_restore();
    if (size > EK_IMAGE_MAX) size = EK_IMAGE_MAX;
    fuzz_flash_load(EK_SLOT0_BASE, data, size);

    ek_trailer tr;
    ek_image im;
    const char *why = NULL;
    ek_trailer_read(EK_SLOT0_BASE, &tr);
    check(ek_trailer_bootable(&tr), "pristine trailer must be bootable");
    if (ek_image_parse(EK_SLOT0_BASE, &im, &why)) {
        check(why != NULL, "parse failed without a reason");
        return 0;
    }
    /* A parsed image lies inside its slot and its TLV values inside their areas. */
    const uint8_t *base = ek_flash_ptr(EK_SLOT0_BASE);
    check(im.hash_len >= EK_IMAGE_HEADER_SIZE && im.hash_len <= im.total_len, "hash_len");
    check(im.total_len <= EK_IMAGE_MAX, "total_len beyond the slot");
    check(inside(im.sha256, 32, base + im.hash_len, base + im.total_len), "SHA-256 TLV outside the TLV area");
    check(!im.keyhash || inside(im.keyhash, 32, base + im.hash_len, base + im.total_len), "key hash TLV");
    check(!im.sig || inside(im.sig, 64, base + im.hash_len, base + im.total_len), "signature TLV");
    check(!im.board || inside(im.board, im.board_len, base, base + im.hash_len), "board TLV outside the signed part");
    why = NULL;
    int bad = ek_image_verify(&im, &why);
    check(!bad || why != NULL, "verify failed without a reason");
    return 0;
}
