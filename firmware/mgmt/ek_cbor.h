/* Just enough CBOR (RFC 8949) for SMP: definite-length maps/arrays, unsigned/negative ints,
 * byte and text strings, bools, null. The decoder is bounds-checked and depth-limited (it reads
 * untrusted bytes from the link); the encoder writes into a fixed buffer and flags overflow. */
#ifndef EK_CBOR_H
#define EK_CBOR_H
#include <stddef.h>
#include <stdint.h>

enum { EK_CBOR_UINT, EK_CBOR_NINT, EK_CBOR_BYTES, EK_CBOR_TEXT, EK_CBOR_ARRAY, EK_CBOR_MAP,
       EK_CBOR_TAG, EK_CBOR_SIMPLE };

typedef struct {
    const uint8_t *p, *end;
    int err;
} ek_cbor_dec;

typedef struct {
    int major;
    uint64_t val;          /* value, length or count; for SIMPLE: 20 false, 21 true, 22 null */
    const uint8_t *data;   /* bytes/text payload */
} ek_cbor_item;

/* Read one head (and a string's payload); 0 on success, -1 on malformed/truncated input. */
int ek_cbor_next(ek_cbor_dec *d, ek_cbor_item *it);
/* Skip one whole item (nested up to a small depth). */
int ek_cbor_skip(ek_cbor_dec *d);

typedef struct {
    uint8_t *buf;
    size_t len, cap;
    int overflow;
} ek_cbor_enc;

void ek_cbor_map(ek_cbor_enc *e, uint32_t pairs);
void ek_cbor_array(ek_cbor_enc *e, uint32_t n);
void ek_cbor_uint(ek_cbor_enc *e, uint64_t v);
void ek_cbor_int(ek_cbor_enc *e, int64_t v);
void ek_cbor_bytes(ek_cbor_enc *e, const void *p, size_t n);
void ek_cbor_text(ek_cbor_enc *e, const char *s);
void ek_cbor_bool(ek_cbor_enc *e, int b);
#endif
