/* MCUboot image parsing/verification and the slot trailer (see ek_slots.h for the strategy). */
#include "ek_slots.h"
#include <string.h>
#include "ek_ed25519.h"
#include "ek_sha256.h"

static const uint8_t BOOT_MAGIC[16] = {0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f,
                                       0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80};
/* DER SubjectPublicKeyInfo prefix of an Ed25519 key: imgtool's KEYHASH is SHA-256 of it. */
static const uint8_t ED25519_SPKI[12] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

#define TR_SEQ 0
#define TR_TRIAL 16
#define TR_OK 32
#define TR_MAGIC 48
#define TR_LEN 64

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

uint32_t ek_slot_base(int slot) { return slot ? EK_SLOT1_BASE : EK_SLOT0_BASE; }

int ek_slot_of(uint32_t addr) {
    if (addr >= EK_SLOT0_BASE && addr < EK_SLOT0_BASE + EK_SLOT_SIZE) return 0;
    if (addr >= EK_SLOT1_BASE && addr < EK_SLOT1_BASE + EK_SLOT_SIZE) return 1;
    return -1;
}

int ek_image_parse(uint32_t base, ek_image *im, const char **why) {
    const uint8_t *h = ek_flash_ptr(base);
    memset(im, 0, sizeof *im);
    im->base = base;
    if (rd32(h) != EK_IMAGE_MAGIC) { *why = "no image (bad header magic)"; return -1; }
    uint32_t load = rd32(h + 4), flags = rd32(h + 16), img_size = rd32(h + 12);
    uint16_t hdr = rd16(h + 8), prot = rd16(h + 10);
    if (hdr != EK_IMAGE_HEADER_SIZE) { *why = "bad header size"; return -1; }
    if (!(flags & EK_IMAGE_F_ROM_FIXED) || load != base) { *why = "image not built for this slot"; return -1; }
    if (img_size > EK_IMAGE_MAX || hdr + img_size + prot + 4u > EK_IMAGE_MAX) { *why = "image too large"; return -1; }
    im->ver_major = h[20]; im->ver_minor = h[21]; im->ver_rev = rd16(h + 22); im->ver_build = rd32(h + 24);
    uint32_t off = hdr + img_size, end;
    /* Protected TLV area (hashed), then the unprotected one. */
    for (int area = 0; area < 2; area++) {
        const uint8_t *info = ek_flash_ptr(base + off);
        uint16_t magic = rd16(info), tot = rd16(info + 2);
        if (area == 0 && magic != EK_TLV_PROT_INFO_MAGIC) {
            if (prot) { *why = "protected TLV area missing"; return -1; }
            im->hash_len = off;
            continue;
        }
        if (area == 0 && tot != prot) { *why = "protected TLV size mismatch"; return -1; }
        if (area == 1 && magic != EK_TLV_INFO_MAGIC) { *why = "TLV area missing (unsigned?)"; return -1; }
        if (tot < 4 || off + tot > EK_IMAGE_MAX) { *why = "TLV area out of bounds"; return -1; }
        end = off + tot;
        for (off += 4; off + 4 <= end;) {
            const uint8_t *t = ek_flash_ptr(base + off);
            uint16_t type = rd16(t), len = rd16(t + 2);
            if (off + 4u + len > end) { *why = "TLV out of bounds"; return -1; }
            const uint8_t *v = t + 4;
            if (area == 0 && type == EK_TLV_BOARD) { im->board = v; im->board_len = len; }
            if (area == 1 && type == EK_TLV_SHA256 && len == 32) im->sha256 = v;
            if (area == 1 && type == EK_TLV_KEYHASH && len == 32) im->keyhash = v;
            if (area == 1 && type == EK_TLV_ED25519 && len == 64) im->sig = v;
            off += 4u + len;
        }
        if (off != end) { *why = "TLV area malformed"; return -1; }
        if (area == 0) im->hash_len = end;
    }
    im->total_len = off;
    if (!im->sha256) { *why = "no SHA-256 TLV"; return -1; }
    return 0;
}

int ek_image_verify(const ek_image *im, const char **why) {
    uint8_t digest[32], kh[32];
    const uint8_t *pub = ek_flash_ptr(EK_PUBKEY_ADDR);
    const char *board = (const char *)ek_flash_ptr(EK_BOARD_ADDR);
    size_t blen = 0;
    while (blen < 31 && board[blen]) blen++;
    ek_sha256_ctx c;
    ek_sha256(ek_flash_ptr(im->base), im->hash_len, digest);
    if (memcmp(digest, im->sha256, 32) != 0) { *why = "hash mismatch (corrupted or truncated)"; return -1; }
    if (!im->sig) { *why = "unsigned image"; return -1; }
    if (im->keyhash) {
        ek_sha256_init(&c);
        ek_sha256_update(&c, ED25519_SPKI, sizeof ED25519_SPKI);
        ek_sha256_update(&c, pub, 32);
        ek_sha256_final(&c, kh);
        if (memcmp(kh, im->keyhash, 32) != 0) { *why = "signed with another key"; return -1; }
    }
    if (ek_ed25519_verify(im->sig, pub, digest, 32) != 0) { *why = "bad signature"; return -1; }
    if (!im->board || im->board_len != blen || memcmp(im->board, board, blen) != 0) {
        *why = "image built for another board"; return -1;
    }
    return 0;
}

void ek_trailer_read(uint32_t base, ek_trailer *t) {
    const uint8_t *p = ek_flash_ptr(base + EK_SLOT_SIZE - TR_LEN);
    t->magic = memcmp(p + TR_MAGIC, BOOT_MAGIC, 16) == 0;
    t->seq = t->magic ? rd32(p + TR_SEQ) : 0;
    t->trial = p[TR_TRIAL] == 0x01;
    t->ok = p[TR_OK] == 0x01;
}

int ek_trailer_erase(uint32_t base) { return ek_flash_erase(base + EK_SLOT_SIZE - EK_TRAILER_SIZE, EK_TRAILER_SIZE); }

int ek_trailer_set_pending(uint32_t base, uint32_t seq) {
    uint8_t s[4] = {(uint8_t)seq, (uint8_t)(seq >> 8), (uint8_t)(seq >> 16), (uint8_t)(seq >> 24)};
    uint32_t tr = base + EK_SLOT_SIZE - TR_LEN;
    if (ek_trailer_erase(base)) return -1;
    if (ek_flash_write(tr + TR_SEQ, s, 4)) return -1;
    return ek_flash_write(tr + TR_MAGIC, BOOT_MAGIC, 16);   /* last: makes seq count */
}

static int set_flag(uint32_t base, uint32_t field) {
    uint8_t one = 0x01;
    return ek_flash_write(base + EK_SLOT_SIZE - TR_LEN + field, &one, 1);
}

int ek_trailer_set_trial(uint32_t base) { return set_flag(base, TR_TRIAL); }
int ek_trailer_set_ok(uint32_t base) { return set_flag(base, TR_OK); }
int ek_trailer_bootable(const ek_trailer *t) { return t->ok || (t->magic && !t->trial); }

#define UP_MAGIC 0x50554b45u   /* "EKUP" */
#define UP_BLOCK 0x1000u
#define UP_PROGRESS 0x40u       /* progress bytes follow the 40-byte record */

static uint32_t up_sector(uint32_t base) { return base + EK_SLOT_SIZE - EK_TRAILER_SIZE; }

int ek_upload_record_write(uint32_t base, uint32_t len, const uint8_t sha[32]) {
    uint8_t rec[40] = {(uint8_t)UP_MAGIC, (uint8_t)(UP_MAGIC >> 8), (uint8_t)(UP_MAGIC >> 16), (uint8_t)(UP_MAGIC >> 24),
                       (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24)};
    memcpy(rec + 8, sha, 32);
    return ek_flash_write(up_sector(base), rec, sizeof rec);
}

uint32_t ek_upload_resume_offset(uint32_t base, uint32_t len, const uint8_t sha[32]) {
    const uint8_t *rec = ek_flash_ptr(up_sector(base)), *prog = rec + UP_PROGRESS;
    ek_trailer t;
    ek_trailer_read(base, &t);
    if (t.magic || rd32(rec) != UP_MAGIC || rd32(rec + 4) != len || memcmp(rec + 8, sha, 32) != 0) return EK_UPLOAD_NONE;
    uint32_t off = 0;
    for (uint32_t i = 0; off < len && prog[i] == 0x00; i++) off = (i + 1) * UP_BLOCK < len ? (i + 1) * UP_BLOCK : len;
    return off;
}

int ek_upload_checkpoint(uint32_t base, uint32_t from, uint32_t to, uint32_t len) {
    /* Blocks complete at `to` but not at `from`; the last (partial) block completes at len. */
    uint32_t first = from / UP_BLOCK, last = to == len ? (len + UP_BLOCK - 1) / UP_BLOCK : to / UP_BLOCK;
    static const uint8_t zeros[64];
    while (first < last) {
        uint32_t n = last - first > sizeof zeros ? (uint32_t)sizeof zeros : last - first;
        if (ek_flash_write(up_sector(base) + UP_PROGRESS + first, zeros, n)) return -1;
        first += n;
    }
    return 0;
}
