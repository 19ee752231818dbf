/* The twin's flash layout (docs/CONTRACTS.md), MCUboot image parsing/verification and the
 * power-cut-safe slot trailer shared by the bootloader and the SMP server.
 *
 * Strategy: direct-XIP with revert (MCUboot's MCUBOOT_DIRECT_XIP_REVERT idea). Each image is
 * linked for the slot it runs from (header load_addr = slot base, flag ROM_FIXED), so booting
 * never copies or swaps: an upload only ever writes the *inactive* slot, the last good image is
 * never touched. The trailer (last bytes of each slot, each field written once after an erase):
 *   seq   u32  boot priority, written before magic when the image is set for test
 *   trial u8   written by the bootloader just before it trial-boots a pending image
 *   ok    u8   image confirmed (written by the app / SMP confirm)
 *   magic 16B  MCUboot's boot magic: the trailer (seq) is valid
 * A slot is bootable when (ok) or (magic and not trial); the bootable, verified slot with the
 * highest seq boots. A pending image boots once (trial); a reset before confirm finds
 * trial && !ok and falls back to the other slot. Every step is one small write, so a power cut
 * between any two leaves either the old or the new image bootable. */
#ifndef EK_SLOTS_H
#define EK_SLOTS_H
#include <stddef.h>
#include <stdint.h>

/* The flash map (EK_BOOT_*, EK_SLOT0/1_BASE, EK_SLOT_SIZE, EK_STORAGE_*, EK_FLASH_FILE_BASE,
 * EK_FLASH_END, EK_TRAILER_SIZE, EK_IMAGE_HEADER_SIZE): generated from the board's flash.layout
 * (boards/coral.yaml) by edgekit.flash.build.layout_dir. */
#include "ek_layout.h"
#define EK_IMAGE_MAX (EK_SLOT_SIZE - EK_TRAILER_SIZE)

/* Provisioning data in the bootloader region (read by the app's SMP server too). */
#define EK_PUBKEY_ADDR 0x00000200u        /* 32-byte Ed25519 public key */
#define EK_BOARD_ADDR 0x00000220u         /* NUL-terminated board name, <= 31 chars */

#define EK_IMAGE_MAGIC 0x96f3b83du
#define EK_IMAGE_F_ROM_FIXED 0x00000100u
#define EK_TLV_INFO_MAGIC 0x6907u
#define EK_TLV_PROT_INFO_MAGIC 0x6908u
#define EK_TLV_KEYHASH 0x01u
#define EK_TLV_SHA256 0x10u
#define EK_TLV_ED25519 0x24u
#define EK_TLV_BOARD 0xA0u                /* edgekit: board name, protected (signed) TLV */

typedef struct {
    uint32_t base;                /* slot base address */
    uint32_t hash_len;            /* header + body + protected TLVs: what the SHA-256 covers */
    uint32_t total_len;           /* hash_len + unprotected TLV area */
    uint8_t ver_major, ver_minor;
    uint16_t ver_rev;
    uint32_t ver_build;
    const uint8_t *sha256;        /* TLV values inside flash, NULL when absent */
    const uint8_t *keyhash;
    const uint8_t *sig;
    const uint8_t *board;
    uint16_t board_len;
} ek_image;

typedef struct {
    int magic, trial, ok;
    uint32_t seq;
} ek_trailer;

/* Flash access: reads are memory-mapped (ek_flash_ptr), writes go through ek_flash.c. */
const uint8_t *ek_flash_ptr(uint32_t addr);
int ek_flash_write(uint32_t addr, const void *data, size_t n);
int ek_flash_erase(uint32_t addr, size_t n);

/* Parse the header and TLVs in a slot; 0 or -1 with *why set to a short reason. */
int ek_image_parse(uint32_t slot_base, ek_image *im, const char **why);
/* Full check: SHA-256, key hash and Ed25519 signature with the bootloader's key, board name. */
int ek_image_verify(const ek_image *im, const char **why);

void ek_trailer_read(uint32_t slot_base, ek_trailer *t);
int ek_trailer_erase(uint32_t slot_base);
int ek_trailer_set_pending(uint32_t slot_base, uint32_t seq);
int ek_trailer_set_trial(uint32_t slot_base);
int ek_trailer_set_ok(uint32_t slot_base);
int ek_trailer_bootable(const ek_trailer *t);

/* Upload progress kept in the inactive slot's trailer sector (before the 64-byte trailer), so an
 * upload resumes after a power cut as after a link drop: a record {magic, len, sha} written when
 * the upload starts, then one progress byte per 4 KiB written (0x00 = bytes [0, min((i+1)*4K, len))
 * are in flash). Setting the slot for test or erasing it erases the sector and the record. */
#define EK_UPLOAD_NONE 0xFFFFFFFFu
int ek_upload_record_write(uint32_t slot_base, uint32_t len, const uint8_t sha[32]);
uint32_t ek_upload_resume_offset(uint32_t slot_base, uint32_t len, const uint8_t sha[32]);
int ek_upload_checkpoint(uint32_t slot_base, uint32_t from, uint32_t to, uint32_t len);

uint32_t ek_slot_base(int slot);
int ek_slot_of(uint32_t addr);   /* 0, 1 or -1 */
#endif
