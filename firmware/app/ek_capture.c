/* Shadow-mode capture: a RAM ring of the newest frames, windows written to storage a bounded
 * budget per control step, header and commit last (see ek_capture.h for the format). */
#include <string.h>
#include "ek_app_config.h"
#include "ek_capture.h"
#include "ek_hal.h"

/* The ring keeps a window's frames until the writer has them: the writer starts PRE+1 frames
 * behind and gains a frame per step (BUDGET 2, one new frame), so PRE + 4 entries suffice; a
 * window whose frame left the ring anyway is abandoned and counted as dropped, never waited for. */
#define RING (EK_CAPTURE_PRE + 4)
#define QUEUE 3

typedef struct {
    uint32_t id, first, trig, last, next, crc;
    uint64_t t_trig;
    uint8_t reason, mode, started;
} window_t;

static uint8_t ring_px[RING][EK_CAPTURE_FRAME_BYTES];
static uint8_t ring_rec[RING][EK_CAPTURE_REC];
static window_t q[QUEUE];
static int q_head, q_len, mode, disagreeing;
static uint32_t count, floor_idx; /* frames seen; first frame a new window may take */
static ek_capture_stats st;

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }
static uint32_t i16(int32_t v) /* a milli value as the record's int16 (a wild model output saturates) */
{
    return (uint32_t)(uint16_t)(int16_t)(v < -32768 ? -32768 : v > 32767 ? 32767 : v);
}
static uint32_t get16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t get32(const uint8_t *p) { return get16(p) | get16(p + 2) << 16; }

uint32_t ek_crc32(uint32_t crc, const void *buf, size_t len)
{
    static const uint32_t t[16] = {0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u,
                                   0x6b6b51f4u, 0x4db26158u, 0x5005713cu, 0xedb88320u, 0xf00f9344u,
                                   0xd6d6a3e8u, 0xcb61b38cu, 0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u,
                                   0xbdbdf21cu};
    const uint8_t *p = buf;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ t[crc & 15u];
        crc = (crc >> 4) ^ t[crc & 15u];
    }
    return ~crc;
}

static uint32_t slot_base(uint32_t id) { return EK_CAPTURE_BASE + (id % EK_CAPTURE_SLOTS) * EK_CAPTURE_SLOT_BYTES; }

static void encode_hdr(uint8_t *h, const window_t *w)
{
    memset(h, 0, EK_CAPTURE_HDR);
    memcpy(h, "EKW1", 4);
    put32(h + 4, w->id);
    put16(h + 8, w->last - w->first + 1);
    put16(h + 10, w->trig - w->first);
    h[12] = w->reason;
    h[13] = w->mode;
    put16(h + 14, EK_CAPTURE_THRESHOLD_MILLI);
    put32(h + 16, EK_CAPTURE_FRAME_BYTES);
    put16(h + 20, EK_CAPTURE_PRE);
    put16(h + 22, EK_CAPTURE_POST);
    put64(h + 24, w->t_trig);
}

void ek_capture_init(void)
{
    uint8_t h[EK_CAPTURE_HDR];
    uint32_t next = 0;
    memset(q, 0, sizeof q);
    memset(&st, 0, sizeof st);
    q_head = q_len = mode = disagreeing = 0;
    count = floor_idx = 0;
    for (uint32_t s = 0; s < EK_CAPTURE_SLOTS; s++) { /* ids stay unique across boots */
        uint32_t at = EK_CAPTURE_BASE + s * EK_CAPTURE_SLOT_BYTES;
        if (hal_storage_read(at, h, sizeof h) == (int)sizeof h && memcmp(h, "EKW1", 4) == 0 &&
            get32(h + 4) % EK_CAPTURE_SLOTS == s && get32(h + 4) + 1 > next)
            next = get32(h + 4) + 1;
    }
    st.next_id = next;
}

void ek_capture_set_mode(int m)
{
    if (m != EK_CAP_SHADOW && m != EK_CAP_AUTOPILOT) {
        ek_capture_flush();
        m = EK_CAP_OFF;
    }
    mode = m;
}

int ek_capture_mode(void) { return mode; }
int ek_capture_busy(void) { return q_len > 0; }
const ek_capture_stats *ek_capture_get_stats(void) { return &st; }

static void pop(int committed)
{
    if (committed) st.windows++;
    else st.dropped++;
    q_head = (q_head + 1) % QUEUE;
    q_len--;
}

/* Write up to `budget` frames of the oldest queued windows, then their header and commit. */
static void work(int budget)
{
    static const uint8_t zero[EK_CAPTURE_COMMIT];
    while (budget > 0 && q_len > 0) {
        window_t *w = &q[q_head];
        uint32_t base = slot_base(w->id);
        if (!w->started) { /* the slot's old window stops being valid before anything changes */
            w->started = 1;
            w->next = w->first;
            w->crc = 0;
            if (hal_storage_write(base + EK_CAPTURE_SLOT_BYTES - EK_CAPTURE_COMMIT, zero, sizeof zero) !=
                (int)sizeof zero) { st.errors++; pop(0); continue; }
        }
        if (w->next <= w->last) {
            if (w->next >= count) return; /* that frame has not been taken yet */
            if (count - w->next > RING) { pop(0); continue; }
            uint32_t r = w->next % RING, at = base + EK_CAPTURE_HDR + (w->next - w->first) * EK_CAPTURE_UNIT;
            if (hal_storage_write(at, ring_rec[r], EK_CAPTURE_REC) != (int)EK_CAPTURE_REC ||
                hal_storage_write(at + EK_CAPTURE_REC, ring_px[r], EK_CAPTURE_FRAME_BYTES) !=
                    (int)EK_CAPTURE_FRAME_BYTES) { st.errors++; pop(0); continue; }
            w->crc = ek_crc32(w->crc, ring_rec[r], EK_CAPTURE_REC);
            w->crc = ek_crc32(w->crc, ring_px[r], EK_CAPTURE_FRAME_BYTES);
            w->next++;
        } else {
            uint8_t h[EK_CAPTURE_HDR], c[EK_CAPTURE_COMMIT];
            encode_hdr(h, w);
            memcpy(c, "EKWC", 4);
            put32(c + 4, w->id);
            put32(c + 8, ek_crc32(w->crc, h, sizeof h));
            int ok = hal_storage_write(base, h, sizeof h) == (int)sizeof h &&
                     hal_storage_write(base + EK_CAPTURE_SLOT_BYTES - EK_CAPTURE_COMMIT, c, sizeof c) == (int)sizeof c;
            if (!ok) st.errors++;
            pop(ok);
        }
        budget--;
    }
}

static void note_time(uint64_t t0)
{
    uint64_t spent = hal_clock_us() - t0;
    if (spent > st.worst_us) st.worst_us = spent > 0xffffffffu ? 0xffffffffu : (uint32_t)spent;
}

static window_t *collecting(void)
{
    if (q_len == 0) return 0;
    window_t *w = &q[(q_head + q_len - 1) % QUEUE];
    return count <= w->last ? w : 0;
}

int ek_capture_step(const uint8_t *frame, uint32_t seq, uint64_t t_us, int32_t pilot_steer,
                    int32_t pilot_throttle, int human, int32_t human_steer, int32_t human_throttle,
                    int takeover)
{
    if (mode == EK_CAP_OFF) return 0;
    uint64_t t0 = hal_clock_us();
    int event = 0;
    if (takeover && mode == EK_CAP_AUTOPILOT) {
        event = EK_CAP_TAKEOVER;
    } else if (human) {
        int32_t d = pilot_steer - human_steer;
        int dis = (d < 0 ? -d : d) > EK_CAPTURE_THRESHOLD_MILLI;
        if (dis && !disagreeing) event = EK_CAP_DISAGREEMENT;
        disagreeing = dis;
    }
    if (event) {
        st.events++;
        if (!collecting()) {
            if (q_len == QUEUE) {
                st.dropped++;
            } else {
                window_t *w = &q[(q_head + q_len++) % QUEUE];
                memset(w, 0, sizeof *w);
                w->id = st.next_id++;
                w->first = count - (count - floor_idx < EK_CAPTURE_PRE ? count - floor_idx : EK_CAPTURE_PRE);
                w->trig = count;
                w->last = count + EK_CAPTURE_POST;
                w->reason = (uint8_t)event;
                w->mode = (uint8_t)mode;
                w->t_trig = t_us;
                floor_idx = w->last + 1;
            }
        }
    }
    uint32_t r = count % RING;
    uint8_t *rec = ring_rec[r];
    memset(rec, 0, EK_CAPTURE_REC);
    put32(rec, seq);
    put64(rec + 4, t_us);
    put16(rec + 12, i16(pilot_steer));
    put16(rec + 14, i16(pilot_throttle));
    put16(rec + 16, human ? i16(human_steer) : 0u);
    put16(rec + 18, human ? i16(human_throttle) : 0u);
    rec[20] = (uint8_t)((human ? EK_CAPF_DRIVER_HUMAN | EK_CAPF_HUMAN : 0) |
                        (event == EK_CAP_DISAGREEMENT ? EK_CAPF_DISAGREEMENT : 0) |
                        (event == EK_CAP_TAKEOVER ? EK_CAPF_TAKEOVER : 0));
    memcpy(ring_px[r], frame, EK_CAPTURE_FRAME_BYTES);
    count++;
    work(EK_CAPTURE_BUDGET);
    note_time(t0);
    return event;
}

void ek_capture_flush(void)
{
    window_t *w = collecting();
    if (w) {
        w->last = count - 1; /* it holds its trigger frame at least */
        floor_idx = count;
    }
}

void ek_capture_idle(void)
{
    uint64_t t0 = hal_clock_us();
    work(EK_CAPTURE_BUDGET);
    note_time(t0);
}

int ek_capture_read(uint32_t off, void *buf, size_t len)
{
    if (off > EK_CAPTURE_AREA_BYTES) return -1;
    if (len > EK_CAPTURE_AREA_BYTES - off) len = EK_CAPTURE_AREA_BYTES - off;
    memset(buf, 0, len); /* never-written storage reads as zeros */
    if (len && hal_storage_read(EK_CAPTURE_BASE + off, buf, len) < 0) return -1;
    return (int)len;
}

/* The capture area is the file "/capture" of SMP's file group (firmware/mgmt, ek_mgmt.h). */
int32_t ek_mgmt_file_size(const char *name)
{
    return strcmp(name, "/capture") == 0 ? (int32_t)EK_CAPTURE_AREA_BYTES : -1;
}

int ek_mgmt_file_read(const char *name, uint32_t off, void *buf, size_t len)
{
    return strcmp(name, "/capture") == 0 ? ek_capture_read(off, buf, len) : -1;
}

int ek_capture_parse(const uint8_t *slot, size_t len, ek_capture_hdr *h)
{
    if (len < EK_CAPTURE_HDR + EK_CAPTURE_COMMIT || memcmp(slot, "EKW1", 4) != 0) return -1;
    const uint8_t *c = slot + len - EK_CAPTURE_COMMIT;
    h->id = get32(slot + 4);
    h->frames = (uint16_t)get16(slot + 8);
    h->trigger = (uint16_t)get16(slot + 10);
    h->reason = slot[12];
    h->mode = slot[13];
    h->threshold_milli = (uint16_t)get16(slot + 14);
    h->frame_bytes = get32(slot + 16);
    h->pre = (uint16_t)get16(slot + 20);
    h->post = (uint16_t)get16(slot + 22);
    h->t_trigger_us = (uint64_t)get32(slot + 24) | (uint64_t)get32(slot + 28) << 32;
    uint64_t data = (uint64_t)h->frames * ((uint64_t)EK_CAPTURE_REC + h->frame_bytes);
    if (h->frames == 0 || h->trigger >= h->frames || h->reason < 1 || h->reason > 2 || h->mode < 1 ||
        h->mode > 2 || data > len - EK_CAPTURE_HDR - EK_CAPTURE_COMMIT)
        return -1;
    if (memcmp(c, "EKWC", 4) != 0 || get32(c + 4) != h->id) return -1;
    uint32_t crc = ek_crc32(ek_crc32(0, slot + EK_CAPTURE_HDR, (size_t)data), slot, EK_CAPTURE_HDR);
    return crc == get32(c + 8) ? 0 : -1;
}
