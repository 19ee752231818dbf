/* SMP command groups: OS (0) echo/reset/params, image (1) state/upload/erase, file (8) download
 * and sha256 of the app's files (read-only: the capture storage), edgekit (100) self-test. Slot rules (ek_slots.h): uploads, tests and erases only touch the inactive slot,
 * and only while the running image is confirmed, so the last good image always survives. */
#include <string.h>
#include "ek_mgmt.h"
#include "ek_sha256.h"
#include "ek_slots.h"
#include "ek_smp.h"

enum { GROUP_OS = 0, GROUP_IMAGE = 1, GROUP_FS = 8, GROUP_EDGEKIT = 100 };
#define FS_CHUNK 768   /* download bytes per response: the reply map fits the 1 KiB response buffer */

static struct {
    int active;
    uint32_t base, len, off;
    uint8_t sha[32];
    int has_sha;
} up;

static struct { int done, ok; int32_t detail; } selftest;
static int verified[2] = {-1, -1};   /* cached ek_image_verify result per slot; -1 unknown */

#ifdef EK_MGMT_HOST
int ek_mgmt_host_running_slot = 0;   /* the host test harness says where "we" run */
static int running_slot(void) { return ek_mgmt_host_running_slot; }
#else
static int running_slot(void) { return ek_slot_of((uint32_t)(uintptr_t)&ek_mgmt_rx_frame); }
#endif

void ek_mgmt_selftest_done(int ok, int32_t detail) {
    selftest.done = 1; selftest.ok = ok; selftest.detail = detail;
}

int ek_mgmt_confirm_running(void) {
    int s = running_slot();
    ek_trailer t;
    if (s < 0) return -1;
    ek_trailer_read(ek_slot_base(s), &t);
    return t.ok ? 0 : ek_trailer_set_ok(ek_slot_base(s));
}

static int slot_verified(int s, const ek_image *im) {
    const char *why;
    if (verified[s] < 0) verified[s] = ek_image_verify(im, &why) == 0;
    return verified[s];
}

static int running_confirmed(void) {
    ek_trailer t;
    int s = running_slot();
    if (s < 0) return 0;
    ek_trailer_read(ek_slot_base(s), &t);
    return t.ok;
}

static void put_version(ek_cbor_enc *e, const ek_image *im) {
    char buf[48], *p = buf;
    uint32_t parts[4] = {im->ver_major, im->ver_minor, im->ver_rev, im->ver_build};
    int n = im->ver_build ? 4 : 3;
    for (int i = 0; i < n; i++) {
        char tmp[11];
        int k = 0;
        uint32_t v = parts[i];
        do { tmp[k++] = (char)('0' + v % 10); v /= 10; } while (v);
        while (k) *p++ = tmp[--k];
        if (i + 1 < n) *p++ = '.';
    }
    *p = 0;
    ek_cbor_text(e, buf);
}

static int image_state(ek_cbor_enc *e) {
    ek_image im[2];
    int ok[2], n = 0, run = running_slot();
    const char *why;
    for (int s = 0; s < 2; s++) n += ok[s] = ek_image_parse(ek_slot_base(s), &im[s], &why) == 0;
    ek_cbor_map(e, 2);
    ek_cbor_text(e, "images");
    ek_cbor_array(e, (uint32_t)n);
    for (int s = 0; s < 2; s++) {
        if (!ok[s]) continue;
        ek_trailer t;
        ek_trailer_read(ek_slot_base(s), &t);
        ek_cbor_map(e, 8);
        ek_cbor_text(e, "slot"); ek_cbor_uint(e, (uint64_t)s);
        ek_cbor_text(e, "version"); put_version(e, &im[s]);
        ek_cbor_text(e, "hash"); ek_cbor_bytes(e, im[s].sha256, 32);
        ek_cbor_text(e, "bootable"); ek_cbor_bool(e, slot_verified(s, &im[s]));
        ek_cbor_text(e, "pending"); ek_cbor_bool(e, t.magic && !t.trial && !t.ok);
        ek_cbor_text(e, "confirmed"); ek_cbor_bool(e, t.ok);
        ek_cbor_text(e, "active"); ek_cbor_bool(e, s == run);
        ek_cbor_text(e, "permanent"); ek_cbor_bool(e, 0);   /* no swap: nothing is "made permanent" */
    }
    ek_cbor_text(e, "splitStatus"); ek_cbor_uint(e, 0);
    return 0;
}

static uint32_t next_seq(void) {
    ek_trailer a, b;
    ek_trailer_read(EK_SLOT0_BASE, &a);
    ek_trailer_read(EK_SLOT1_BASE, &b);
    return (a.seq > b.seq ? a.seq : b.seq) + 1;
}

static int state_write(const ek_req *r, ek_cbor_enc *e, const char **rsn) {
    int run = running_slot(), other = !run;
    ek_image im;
    const char *why;
    if (run < 0) { *rsn = "not booted from a slot"; return EK_ERR_EBADSTATE; }
    if (r->confirm && (!r->hash || (ek_image_parse(ek_slot_base(run), &im, &why) == 0 &&
                                    r->hash_len == 32 && memcmp(im.sha256, r->hash, 32) == 0))) {
        if (ek_mgmt_confirm_running()) { *rsn = "flash write failed"; return EK_ERR_EUNKNOWN; }
        return image_state(e);
    }
    if (!r->hash || r->hash_len != 32) { *rsn = "hash required"; return EK_ERR_EINVAL; }
    if (ek_image_parse(ek_slot_base(run), &im, &why) == 0 && memcmp(im.sha256, r->hash, 32) == 0)
        return image_state(e);   /* testing the running image: nothing to do */
    if (ek_image_parse(ek_slot_base(other), &im, &why) || memcmp(im.sha256, r->hash, 32) != 0) {
        *rsn = "no image with that hash"; return EK_ERR_ENOENT;
    }
    if (!running_confirmed()) { *rsn = "running image not confirmed yet"; return EK_ERR_EBUSY; }
    if (ek_image_verify(&im, &why)) { verified[other] = 0; *rsn = why; return EK_ERR_EBADSTATE; }
    if (ek_trailer_set_pending(ek_slot_base(other), next_seq()) ||
        (r->confirm && ek_trailer_set_ok(ek_slot_base(other)))) {
        *rsn = "flash write failed"; return EK_ERR_EUNKNOWN;
    }
    return image_state(e);
}

static int upload(const ek_req *r, ek_cbor_enc *e, const char **rsn) {
    int run = running_slot();
    if (!r->has_off || !r->has_data) { *rsn = "off and data required"; return EK_ERR_EINVAL; }
    if (r->off == 0) {
        int resume = up.active && r->has_len && r->len == up.len && up.has_sha && r->sha &&
                     r->sha_len == 32 && memcmp(r->sha, up.sha, 32) == 0;
        if (!resume) {
            if (!r->has_len) { *rsn = "len required"; return EK_ERR_EINVAL; }
            if (r->has_image && r->image != 0) { *rsn = "only image 0"; return EK_ERR_EINVAL; }
            if (r->len > EK_IMAGE_MAX) { *rsn = "image larger than a slot"; return EK_ERR_ENOMEM; }
            if (r->len < EK_IMAGE_HEADER_SIZE) { *rsn = "image too small"; return EK_ERR_EINVAL; }
            if (run < 0) { *rsn = "not booted from a slot"; return EK_ERR_EBADSTATE; }
            if (!running_confirmed()) { *rsn = "running image not confirmed yet"; return EK_ERR_EBUSY; }
            memset(&up, 0, sizeof up);
            up.base = ek_slot_base(!run);
            up.len = (uint32_t)r->len;
            if (r->sha && r->sha_len == 32) { memcpy(up.sha, r->sha, 32); up.has_sha = 1; }
            verified[!run] = -1;
            /* The same upload cut by a power loss: continue from the board's flash record. */
            uint32_t at = up.has_sha ? ek_upload_resume_offset(up.base, up.len, up.sha) : EK_UPLOAD_NONE;
            if (at != EK_UPLOAD_NONE) {
                up.off = at;
            } else if (ek_trailer_erase(up.base) || ek_flash_erase(up.base, EK_IMAGE_HEADER_SIZE) ||
                       (up.has_sha && ek_upload_record_write(up.base, up.len, up.sha))) {
                /* Trailer first: from here on the slot is not bootable until it is set for test. */
                *rsn = "flash erase failed"; return EK_ERR_EUNKNOWN;
            }
            up.active = 1;
        }
    }
    if (!up.active) { *rsn = "no upload in progress"; return EK_ERR_EINVAL; }
    if (r->off == up.off) {
        if (up.off + r->data_len > up.len) { *rsn = "data beyond len"; return EK_ERR_EINVAL; }
        if (r->data_len && ek_flash_write(up.base + up.off, r->data, r->data_len)) {
            *rsn = "flash write failed"; return EK_ERR_EUNKNOWN;
        }
        up.off += (uint32_t)r->data_len;
        if (up.has_sha && ek_upload_checkpoint(up.base, up.off - (uint32_t)r->data_len, up.off, up.len)) {
            *rsn = "flash write failed"; return EK_ERR_EUNKNOWN;
        }
    }
    /* Any other offset: answer with ours so the client resumes from there. */
    int done = up.off == up.len, match = 1;
    if (done) {
        ek_image im;
        const char *why;
        up.active = 0;
        if (up.has_sha) {
            uint8_t d[32];
            ek_sha256(ek_flash_ptr(up.base), up.len, d);
            match = memcmp(d, up.sha, 32) == 0;
            if (!match) { *rsn = "upload corrupted (sha mismatch)"; return EK_ERR_ECORRUPT; }
        }
        int s = ek_slot_of(up.base);
        int bad = ek_image_parse(up.base, &im, &why);
        if (!bad && im.total_len != up.len) { bad = 1; why = "truncated (TLVs end past the upload)"; }
        if (!bad) bad = !(verified[s] = ek_image_verify(&im, &why) == 0);
        if (bad) {
            static char msg[64] = "image rejected: ";
            strncpy(msg + 16, why, sizeof msg - 17);
            *rsn = msg;
            return EK_ERR_EBADSTATE;
        }
    }
    ek_cbor_map(e, done && up.has_sha ? 2 : 1);
    ek_cbor_text(e, "off"); ek_cbor_uint(e, up.off);
    if (done && up.has_sha) { ek_cbor_text(e, "match"); ek_cbor_bool(e, match); }
    return 0;
}

static int erase(ek_cbor_enc *e, const char **rsn) {
    int run = running_slot();
    if (run < 0) { *rsn = "not booted from a slot"; return EK_ERR_EBADSTATE; }
    if (!running_confirmed()) { *rsn = "running image not confirmed yet"; return EK_ERR_EBUSY; }
    up.active = 0;
    verified[!run] = -1;
    if (ek_trailer_erase(ek_slot_base(!run)) || ek_flash_erase(ek_slot_base(!run), EK_IMAGE_HEADER_SIZE)) {
        *rsn = "flash erase failed"; return EK_ERR_EUNKNOWN;
    }
    ek_cbor_map(e, 0);
    return 0;
}

__attribute__((weak)) int32_t ek_mgmt_file_size(const char *name) { (void)name; return -1; }
__attribute__((weak)) int ek_mgmt_file_read(const char *name, uint32_t off, void *buf, size_t len) {
    (void)name; (void)off; (void)buf; (void)len;
    return -1;
}

/* Offset-based reads (download, command 0) and sha256 of a range (command 2): a client resumes
 * at any offset and checks what it has. */
static int file_cmd(const ek_req *r, ek_cbor_enc *e, const char **rsn) {
    static uint8_t buf[FS_CHUNK];
    char name[64];
    if (!r->name || r->name_len >= sizeof name) { *rsn = "name required"; return EK_ERR_EINVAL; }
    memcpy(name, r->name, r->name_len);
    name[r->name_len] = 0;
    int32_t size = ek_mgmt_file_size(name);
    if (size < 0) { *rsn = "no such file"; return EK_ERR_ENOENT; }
    uint64_t off = r->has_off ? r->off : 0;
    if (off > (uint64_t)size) { *rsn = "off beyond the file"; return EK_ERR_EINVAL; }
    if (r->cmd == 0) {
        if (!r->has_off) { *rsn = "off required"; return EK_ERR_EINVAL; }
        size_t n = (uint64_t)size - off < FS_CHUNK ? (size_t)((uint64_t)size - off) : FS_CHUNK;
        if (ek_mgmt_file_read(name, (uint32_t)off, buf, n) != (int)n) { *rsn = "read failed"; return EK_ERR_EUNKNOWN; }
        ek_cbor_map(e, off == 0 ? 3 : 2);
        ek_cbor_text(e, "off"); ek_cbor_uint(e, off);
        ek_cbor_text(e, "data"); ek_cbor_bytes(e, buf, n);
        if (off == 0) { ek_cbor_text(e, "len"); ek_cbor_uint(e, (uint64_t)size); }
        return 0;
    }
    if (r->type && !(r->type_len == 6 && memcmp(r->type, "sha256", 6) == 0)) {
        *rsn = "only sha256"; return EK_ERR_ENOTSUP;
    }
    uint64_t len = r->has_len && r->len < (uint64_t)size - off ? r->len : (uint64_t)size - off;
    ek_sha256_ctx c;
    uint8_t d[32];
    ek_sha256_init(&c);
    for (uint64_t at = 0; at < len;) {
        size_t n = len - at < FS_CHUNK ? (size_t)(len - at) : FS_CHUNK;
        if (ek_mgmt_file_read(name, (uint32_t)(off + at), buf, n) != (int)n) { *rsn = "read failed"; return EK_ERR_EUNKNOWN; }
        ek_sha256_update(&c, buf, n);
        at += n;
    }
    ek_sha256_final(&c, d);
    ek_cbor_map(e, 4);
    ek_cbor_text(e, "type"); ek_cbor_text(e, "sha256");
    ek_cbor_text(e, "off"); ek_cbor_uint(e, off);
    ek_cbor_text(e, "len"); ek_cbor_uint(e, len);
    ek_cbor_text(e, "output"); ek_cbor_bytes(e, d, 32);
    return 0;
}

int ek_mgmt_dispatch(const ek_req *r, ek_cbor_enc *e, const char **rsn) {
    int w = r->op == EK_OP_WRITE;
    if (r->group == GROUP_OS && r->cmd == 0 && w) {           /* echo */
        char buf[128];
        size_t n = r->d_len < sizeof buf - 1 ? r->d_len : sizeof buf - 1;
        memcpy(buf, r->d ? r->d : "", n);
        buf[n] = 0;
        ek_cbor_map(e, 1); ek_cbor_text(e, "r"); ek_cbor_text(e, buf);
        return 0;
    }
    if (r->group == GROUP_OS && r->cmd == 5 && w) { ek_cbor_map(e, 0); return 0; }   /* reset */
    if (r->group == GROUP_OS && r->cmd == 6 && !w) {                                 /* params */
        ek_cbor_map(e, 2);
        ek_cbor_text(e, "buf_size"); ek_cbor_uint(e, EK_MGMT_BUF);
        ek_cbor_text(e, "buf_count"); ek_cbor_uint(e, 1);
        return 0;
    }
    if (r->group == GROUP_IMAGE && r->cmd == 0) return w ? state_write(r, e, rsn) : image_state(e);
    if (r->group == GROUP_IMAGE && r->cmd == 1 && w) return upload(r, e, rsn);
    if (r->group == GROUP_IMAGE && r->cmd == 5 && w) return erase(e, rsn);
    if (r->group == GROUP_FS && (r->cmd == 0 || r->cmd == 2) && !w) return file_cmd(r, e, rsn);
    if (r->group == GROUP_EDGEKIT && r->cmd == 0 && !w) {
        ek_cbor_map(e, 4);
        ek_cbor_text(e, "done"); ek_cbor_bool(e, selftest.done);
        ek_cbor_text(e, "ok"); ek_cbor_bool(e, selftest.ok);
        ek_cbor_text(e, "detail"); ek_cbor_int(e, selftest.detail);
        ek_cbor_text(e, "slot"); ek_cbor_int(e, running_slot());
        return 0;
    }
    *rsn = "unsupported command";
    return EK_ERR_ENOTSUP;
}

void ek_mgmt_after_response(const ek_req *r) {
    if (r->group == GROUP_OS && r->cmd == 5 && r->op == EK_OP_WRITE) ek_mgmt_reset();
}
