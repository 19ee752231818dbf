/* SMP over serial (Zephyr smp_transport.rst): frames `06 09` / `04 14` + base64 + '\n'; the
 * decoded stream is BE16 length, SMP packet (8-byte header + CBOR map), CRC16/XMODEM. */
#include <string.h>
#include "ek_mgmt.h"
#include "ek_smp.h"

#define LINE_B64 124   /* base64 chars per line: 2 + 124 + 1 = 127 bytes on the wire */

static uint8_t rx[EK_MGMT_BUF];
static size_t rx_len;
static int rx_active;

uint16_t ek_crc16_xmodem(const uint8_t *p, size_t n) {
    uint16_t crc = 0;
    while (n--) {
        crc ^= (uint16_t)(*p++ << 8);
        for (int i = 0; i < 8; i++) crc = crc & 0x8000 ? (uint16_t)(crc << 1 ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64val(uint8_t c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decode one line (a whole number of 4-char groups) and append it to rx; -1 when malformed. */
static int b64_append(const uint8_t *s, size_t n) {
    if (n % 4) return -1;
    for (size_t i = 0; i < n; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            if (s[i + k] == '=' && k >= 2 && i + 4 == n) { v[k] = 0; pad++; continue; }
            if (pad || (v[k] = b64val(s[i + k])) < 0) return -1;
        }
        uint32_t w = (uint32_t)v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3];
        uint8_t out[3] = {(uint8_t)(w >> 16), (uint8_t)(w >> 8), (uint8_t)w};
        if (rx_len + 3 - pad > sizeof rx) return -1;
        memcpy(rx + rx_len, out, 3 - pad);
        rx_len += 3 - pad;
    }
    return 0;
}

static void send_packet(const uint8_t *pkt, size_t n) {
    static uint8_t raw[2 + 8 + 1024 + 2];
    uint8_t line[2 + LINE_B64 + 1];
    size_t total = n + 2, len = 0, i = 0;
    raw[0] = (uint8_t)(total >> 8); raw[1] = (uint8_t)total;
    memcpy(raw + 2, pkt, n);
    uint16_t crc = ek_crc16_xmodem(pkt, n);
    raw[2 + n] = (uint8_t)(crc >> 8); raw[3 + n] = (uint8_t)crc;
    total += 2;
    int first = 1;
    while (i < total) {
        line[0] = first ? 0x06 : 0x04; line[1] = first ? 0x09 : 0x14;
        first = 0;
        len = 2;
        for (; i < total && len < 2 + LINE_B64; i += 3) {
            uint32_t w = (uint32_t)raw[i] << 16 | (i + 1 < total ? raw[i + 1] << 8 : 0) | (i + 2 < total ? raw[i + 2] : 0);
            line[len++] = (uint8_t)B64[w >> 18 & 63];
            line[len++] = (uint8_t)B64[w >> 12 & 63];
            line[len++] = i + 1 < total ? (uint8_t)B64[w >> 6 & 63] : '=';
            line[len++] = i + 2 < total ? (uint8_t)B64[w & 63] : '=';
        }
        line[len++] = '\n';
        ek_mgmt_tx(line, len);
    }
}

static int parse_request(const uint8_t *p, size_t n, ek_req *r) {
    ek_cbor_dec d = {p, p + n, 0};
    ek_cbor_item it, v;
    memset(r, 0, sizeof *r);
    if (n == 0) return 0;   /* an empty body is an empty map for our purposes */
    if (ek_cbor_next(&d, &it) || it.major != EK_CBOR_MAP || it.val > 64) return -1;
    for (uint64_t i = 0; i < it.val; i++) {
        ek_cbor_item k;
        if (ek_cbor_next(&d, &k)) return -1;
        if (k.major != EK_CBOR_TEXT) { if (ek_cbor_skip(&d)) return -1; continue; }
        const ek_cbor_dec save = d;
        if (ek_cbor_next(&d, &v)) return -1;
#define KEY(s) (k.val == sizeof(s) - 1 && memcmp(k.data, s, sizeof(s) - 1) == 0)
        if (KEY("off") && v.major == EK_CBOR_UINT) { r->has_off = 1; r->off = v.val; }
        else if (KEY("len") && v.major == EK_CBOR_UINT) { r->has_len = 1; r->len = v.val; }
        else if (KEY("image") && v.major == EK_CBOR_UINT) { r->has_image = 1; r->image = v.val; }
        else if (KEY("data") && v.major == EK_CBOR_BYTES) { r->has_data = 1; r->data = v.data; r->data_len = (size_t)v.val; }
        else if (KEY("sha") && v.major == EK_CBOR_BYTES) { r->sha = v.data; r->sha_len = (size_t)v.val; }
        else if (KEY("hash") && v.major == EK_CBOR_BYTES) { r->hash = v.data; r->hash_len = (size_t)v.val; }
        else if (KEY("d") && v.major == EK_CBOR_TEXT) { r->has_d = 1; r->d = (const char *)v.data; r->d_len = (size_t)v.val; }
        else if (KEY("name") && v.major == EK_CBOR_TEXT) { r->name = (const char *)v.data; r->name_len = (size_t)v.val; }
        else if (KEY("type") && v.major == EK_CBOR_TEXT) { r->type = (const char *)v.data; r->type_len = (size_t)v.val; }
        else if (KEY("confirm") && v.major == EK_CBOR_SIMPLE) r->confirm = v.val == 21;
        else if (KEY("upgrade") && v.major == EK_CBOR_SIMPLE) r->upgrade = v.val == 21;
        else { d = save; if (ek_cbor_skip(&d)) return -1; }
#undef KEY
    }
    return d.err;
}

static void handle_packet(const uint8_t *p, size_t n) {
    static uint8_t out[8 + 1024];
    ek_req req;
    if (n < 8) return;
    size_t body = (size_t)(p[2] << 8 | p[3]);
    if (body != n - 8) return;
    int op = p[0] & 7;
    if (op != EK_OP_READ && op != EK_OP_WRITE) return;
    ek_cbor_enc enc = {out + 8, 0, sizeof out - 8, 0};
    const char *rsn = "";
    int rc;
    if (parse_request(p + 8, body, &req)) { rc = EK_ERR_EINVAL; rsn = "malformed CBOR"; }
    else {
        req.op = op;
        req.group = p[4] << 8 | p[5];
        req.cmd = p[7];
        rc = ek_mgmt_dispatch(&req, &enc, &rsn);
    }
    if (rc || enc.overflow) {
        if (!rc) { rc = EK_ERR_EMSGSIZE; rsn = "response too large"; }
        enc.len = 0; enc.overflow = 0;
        ek_cbor_map(&enc, 2);
        ek_cbor_text(&enc, "rc"); ek_cbor_uint(&enc, (uint64_t)rc);
        ek_cbor_text(&enc, "rsn"); ek_cbor_text(&enc, rsn);
    }
    out[0] = (uint8_t)((p[0] & 0x18) | (op + 1));   /* keep the request's SMP version bits */
    out[1] = 0;
    out[2] = (uint8_t)(enc.len >> 8); out[3] = (uint8_t)enc.len;
    memcpy(out + 4, p + 4, 4);                       /* group, sequence, command */
    send_packet(out, 8 + enc.len);
    if (!rc) ek_mgmt_after_response(&req);
}

void ek_mgmt_rx_frame(const uint8_t *buf, size_t len) {
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) len--;
    if (len < 2) return;
    if (buf[0] == 0x06 && buf[1] == 0x09) { rx_len = 0; rx_active = 1; }
    else if (!(buf[0] == 0x04 && buf[1] == 0x14) || !rx_active) return;
    if (b64_append(buf + 2, len - 2)) { rx_active = 0; return; }
    if (rx_len < 2) return;
    size_t total = (size_t)(rx[0] << 8 | rx[1]);
    if (total < 2 || total > sizeof rx - 2) { rx_active = 0; return; }
    if (rx_len < total + 2) return;
    rx_active = 0;
    if (rx_len != total + 2 || ek_crc16_xmodem(rx + 2, total) != 0) return;   /* bad CRC: drop */
    handle_packet(rx + 2, total - 2);
}
