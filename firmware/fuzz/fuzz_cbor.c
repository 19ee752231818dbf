/* libFuzzer harness: the CBOR decoder (firmware/mgmt/ek_cbor.c) and the SMP request decoder on
 * top of it (parse_request in ek_smp.c). Input: one CBOR request body as it arrives after the
 * 8-byte SMP header. Checked beyond ASan/UBSan:
 *   - every decoded string lies inside the input and the decoder never moves backwards;
 *   - a decoded request's byte/text fields point inside the input;
 *   - round trip: each decoded scalar head re-encoded with the encoder decodes to the same
 *     value, and the encoder flags overflow (writing nothing past cap) when the buffer is short. */
#include "fuzz_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what) {
    if (!cond) { fprintf(stderr, "fuzz_cbor: invariant broken: %s\n", what); abort(); }
}

static int in_input(const uint8_t *p, size_t n, const uint8_t *data, size_t size) {
    return n == 0 || (p && p >= data && (size_t)(p - data) <= size && n <= size - (size_t)(p - data));
}

/* Re-encode one decoded item's head (strings with their payload); 0 when not encodable here. */
static int encode_item(ek_cbor_enc *e, const ek_cbor_item *it) {
    switch (it->major) {
    case EK_CBOR_UINT: ek_cbor_uint(e, it->val); return 1;
    case EK_CBOR_NINT: if (it->val > INT64_MAX) return 0; ek_cbor_int(e, -1 - (int64_t)it->val); return 1;
    case EK_CBOR_BYTES: ek_cbor_bytes(e, it->data, (size_t)it->val); return 1;
    case EK_CBOR_ARRAY: if (it->val > UINT32_MAX) return 0; ek_cbor_array(e, (uint32_t)it->val); return 1;
    case EK_CBOR_MAP: if (it->val > UINT32_MAX) return 0; ek_cbor_map(e, (uint32_t)it->val); return 1;
    case EK_CBOR_SIMPLE: if (it->val != 20 && it->val != 21) return 0; ek_cbor_bool(e, it->val == 21); return 1;
    default: return 0;   /* text needs NUL-free input (ek_cbor_text takes a C string); tags: no encoder */
    }
}

static void round_trip(const ek_cbor_item *it) {
    static uint8_t buf[1 << 16], small[1 << 16];
    ek_cbor_enc e = {buf, 0, sizeof buf, 0};
    if (it->major == EK_CBOR_BYTES && it->val > sizeof buf - 9) return;
    if (!encode_item(&e, it)) return;
    check(!e.overflow && e.len >= 1 && e.len <= 9 + (it->major == EK_CBOR_BYTES ? it->val : 0), "encoded length");
    ek_cbor_dec d = {buf, buf + e.len, 0};
    ek_cbor_item back;
    check(ek_cbor_next(&d, &back) == 0 && d.p == d.end, "re-encoded item does not decode");
    check(back.major == it->major && back.val == it->val, "round trip changed the item");
    check(it->major != EK_CBOR_BYTES || memcmp(back.data, it->data, (size_t)it->val) == 0, "bytes changed");
    /* One byte short: overflow flagged, nothing written past cap. */
    memset(small, 0xA5, e.len);
    ek_cbor_enc s = {small, 0, e.len - 1, 0};
    encode_item(&s, it);
    check(s.overflow && s.len <= e.len - 1 && small[e.len - 1] == 0xA5, "overflow not flagged");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ek_cbor_dec d = {data, data + size, 0};
    ek_cbor_item it;
    while (d.p < d.end) {   /* flat walk over every head */
        const uint8_t *before = d.p;
        if (ek_cbor_next(&d, &it)) break;
        check(d.p > before && d.p <= d.end, "decoder position");
        check(it.major <= EK_CBOR_SIMPLE, "major type");
        if (it.major == EK_CBOR_BYTES || it.major == EK_CBOR_TEXT)
            check(in_input(it.data, (size_t)it.val, data, size), "string outside the input");
        round_trip(&it);
    }
    ek_cbor_dec s = {data, data + size, 0};   /* nested skip, item by item */
    while (s.p < s.end && ek_cbor_skip(&s) == 0) check(s.p <= s.end, "skip position");

    ek_req r;
    if (parse_request(data, size, &r) == 0) {
        check(!r.has_data || in_input(r.data, r.data_len, data, size), "data outside the input");
        check(in_input(r.sha, r.sha_len, data, size) && in_input(r.hash, r.hash_len, data, size), "sha/hash");
        check(!r.has_d || in_input((const uint8_t *)r.d, r.d_len, data, size), "d outside the input");
    }
    return 0;
}
