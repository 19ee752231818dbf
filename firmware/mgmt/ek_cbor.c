/* Minimal CBOR for the SMP server (see ek_cbor.h). Written for edgekit. */
#include "ek_cbor.h"
#include <string.h>

int ek_cbor_next(ek_cbor_dec *d, ek_cbor_item *it) {
    if (d->err || d->p >= d->end) return d->err = -1;
    uint8_t ib = *d->p++;
    int info = ib & 31, n;
    it->major = ib >> 5;
    it->data = NULL;
    if (info < 24) { it->val = (uint64_t)info; n = 0; }
    else if (info <= 27) n = 1 << (info - 24);
    else return d->err = -1;   /* indefinite lengths and reserved values are not used by SMP */
    if (n) {
        if (d->end - d->p < n) return d->err = -1;
        it->val = 0;
        for (int i = 0; i < n; i++) it->val = it->val << 8 | *d->p++;
    }
    if (it->major == EK_CBOR_BYTES || it->major == EK_CBOR_TEXT) {
        if (it->val > (uint64_t)(d->end - d->p)) return d->err = -1;
        it->data = d->p;
        d->p += it->val;
    }
    if (it->major == EK_CBOR_SIMPLE && n > 1) return d->err = -1;   /* no floats */
    return 0;
}

static int skip_depth(ek_cbor_dec *d, int depth) {
    ek_cbor_item it;
    if (depth > 8 || ek_cbor_next(d, &it)) return d->err = -1;
    if (it.major == EK_CBOR_ARRAY || it.major == EK_CBOR_MAP) {
        uint64_t n = it.major == EK_CBOR_MAP ? it.val * 2 : it.val;
        if (n > (uint64_t)(d->end - d->p)) return d->err = -1;   /* each item is >= 1 byte */
        for (uint64_t i = 0; i < n; i++)
            if (skip_depth(d, depth + 1)) return -1;
    } else if (it.major == EK_CBOR_TAG) {
        return skip_depth(d, depth + 1);
    }
    return 0;
}

int ek_cbor_skip(ek_cbor_dec *d) { return skip_depth(d, 0); }

static void put(ek_cbor_enc *e, const void *p, size_t n) {
    if (e->overflow || e->cap - e->len < n) { e->overflow = 1; return; }
    memcpy(e->buf + e->len, p, n);
    e->len += n;
}

static void head(ek_cbor_enc *e, int major, uint64_t v) {
    uint8_t b[9];
    int n;
    if (v < 24) { b[0] = (uint8_t)(major << 5 | v); put(e, b, 1); return; }
    if (v <= 0xff) { b[0] = 24; n = 1; }
    else if (v <= 0xffff) { b[0] = 25; n = 2; }
    else if (v <= 0xffffffffu) { b[0] = 26; n = 4; }
    else { b[0] = 27; n = 8; }
    b[0] |= (uint8_t)(major << 5);
    for (int i = 0; i < n; i++) b[1 + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    put(e, b, 1 + n);
}

void ek_cbor_map(ek_cbor_enc *e, uint32_t pairs) { head(e, EK_CBOR_MAP, pairs); }
void ek_cbor_array(ek_cbor_enc *e, uint32_t n) { head(e, EK_CBOR_ARRAY, n); }
void ek_cbor_uint(ek_cbor_enc *e, uint64_t v) { head(e, EK_CBOR_UINT, v); }
void ek_cbor_int(ek_cbor_enc *e, int64_t v) {
    if (v >= 0) head(e, EK_CBOR_UINT, (uint64_t)v);
    else head(e, EK_CBOR_NINT, (uint64_t)(-(v + 1)));
}
void ek_cbor_bytes(ek_cbor_enc *e, const void *p, size_t n) { head(e, EK_CBOR_BYTES, n); put(e, p, n); }
void ek_cbor_text(ek_cbor_enc *e, const char *s) { size_t n = strlen(s); head(e, EK_CBOR_TEXT, n); put(e, s, n); }
void ek_cbor_bool(ek_cbor_enc *e, int b) { uint8_t v = b ? 0xf5 : 0xf4; put(e, &v, 1); }
