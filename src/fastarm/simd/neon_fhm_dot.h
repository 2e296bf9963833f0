/* aarch64 NEON + FEAT_FHM (FMLAL/FMLAL2: float16 x float16 -> float32 multiply-accumulate) +
 * FEAT_DotProd (SDOT/UDOT: four 8-bit products into each 32-bit lane).  Entered only when
 * HWCAP_ASIMDFHM and HWCAP_ASIMDDP (or the macOS FEAT_FHM / FEAT_DotProd sysctls) are present.
 *
 * float16 dot and cosine use FMLAL (products are exact in float32); float16 sqeuclidean keeps the
 * baseline path because a - b in float16 would round and overflow.  int8/uint8 use SDOT/UDOT;
 * sqeuclidean takes |a - b| (ABD, as u8) and UDOTs it with itself.  Per instruction a lane gains
 * at most 4 * 255 * 255 < 2**18, so FA_IBLOCK keeps every 32-bit lane exact. */
#ifndef FASTARM_NEON_FHM_DOT_H
#define FASTARM_NEON_FHM_DOT_H

#include "neon.h"

#if defined(__clang__)
#define FA_FHMDOT __attribute__((target("fp16fml,dotprod")))
#else
#define FA_FHMDOT __attribute__((target("arch=armv8.2-a+fp16fml+dotprod")))
#endif

static inline FA_FHMDOT float16x8_t fd_ld(const uint16_t *p) {
    return vreinterpretq_f16_u16(vld1q_u16(p));
}

static FA_FHMDOT double fd_dot_f16(const void *pa, const void *pb, size_t n) {
    const uint16_t *a = (const uint16_t *)pa, *b = (const uint16_t *)pb;
    double total = 0.0;
    for (size_t i0 = 0; i0 < n; i0 += FA_FBLOCK) {
        const size_t m = FA_MIN((size_t)FA_FBLOCK, n - i0);
        const uint16_t *x = a + i0, *y = b + i0;
        float32x4_t s0 = vdupq_n_f32(0), s1 = s0, s2 = s0, s3 = s0;
        size_t i = 0;
        for (; i + 16 <= m; i += 16) {
            float16x8_t u = fd_ld(x + i), v = fd_ld(y + i);
            float16x8_t u1 = fd_ld(x + i + 8), v1 = fd_ld(y + i + 8);
            s0 = vfmlalq_low_f16(s0, u, v);
            s1 = vfmlalq_high_f16(s1, u, v);
            s2 = vfmlalq_low_f16(s2, u1, v1);
            s3 = vfmlalq_high_f16(s3, u1, v1);
        }
        for (; i < m; i += 8) {
            uint16_t bx[8] = {0}, by[8] = {0};
            const uint16_t *px = x + i, *py = y + i;
            if (i + 8 > m) {
                memcpy(bx, px, (m - i) * 2);
                memcpy(by, py, (m - i) * 2);
                px = bx;
                py = by;
            }
            float16x8_t u = fd_ld(px), v = fd_ld(py);
            s0 = vfmlalq_low_f16(s0, u, v);
            s1 = vfmlalq_high_f16(s1, u, v);
        }
        float32x4_t s = vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3));
        total += ne_finite(s) ? ne_hsum_f32(s) : fa_ref_dot_f16(x, y, m);
    }
    return total;
}

static FA_FHMDOT void fd_cos_f16(const void *pa, const void *pb, size_t n, double out[3]) {
    const uint16_t *a = (const uint16_t *)pa, *b = (const uint16_t *)pb;
    double tab = 0.0, taa = 0.0, tbb = 0.0;
    for (size_t i0 = 0; i0 < n; i0 += FA_FBLOCK) {
        const size_t m = FA_MIN((size_t)FA_FBLOCK, n - i0);
        const uint16_t *x = a + i0, *y = b + i0;
        float32x4_t ab0 = vdupq_n_f32(0), aa0 = ab0, bb0 = ab0, ab1 = ab0, aa1 = ab0, bb1 = ab0;
        for (size_t i = 0; i < m; i += 8) {
            uint16_t bx[8] = {0}, by[8] = {0};
            const uint16_t *px = x + i, *py = y + i;
            if (i + 8 > m) {
                memcpy(bx, px, (m - i) * 2);
                memcpy(by, py, (m - i) * 2);
                px = bx;
                py = by;
            }
            float16x8_t u = fd_ld(px), v = fd_ld(py);
            ab0 = vfmlalq_low_f16(ab0, u, v);
            aa0 = vfmlalq_low_f16(aa0, u, u);
            bb0 = vfmlalq_low_f16(bb0, v, v);
            ab1 = vfmlalq_high_f16(ab1, u, v);
            aa1 = vfmlalq_high_f16(aa1, u, u);
            bb1 = vfmlalq_high_f16(bb1, v, v);
        }
        ab0 = vaddq_f32(ab0, ab1);
        aa0 = vaddq_f32(aa0, aa1);
        bb0 = vaddq_f32(bb0, bb1);
        if (ne_finite(vaddq_f32(vaddq_f32(ab0, aa0), bb0))) {
            tab += ne_hsum_f32(ab0);
            taa += ne_hsum_f32(aa0);
            tbb += ne_hsum_f32(bb0);
        } else {
            double r[3];
            fa_ref_cos_f16(x, y, m, r);
            tab += r[0];
            taa += r[1];
            tbb += r[2];
        }
    }
    out[0] = tab;
    out[1] = taa;
    out[2] = tbb;
}

static FA_FHMDOT double fd_dot_i8(const void *pa, const void *pb, size_t n) {
    int64_t total = 0;
    NE_BLOCKS(int8_t, int32x4_t s = vdupq_n_s32(0);,
              NE_INT_LOOP(int8_t, s = vdotq_s32(s, vld1q_s8(px), vld1q_s8(py));),
              total += vaddlvq_s32(s);)
    return (double)total;
}
static FA_FHMDOT double fd_dot_u8(const void *pa, const void *pb, size_t n) {
    int64_t total = 0;
    NE_BLOCKS(uint8_t, uint32x4_t s = vdupq_n_u32(0);,
              NE_INT_LOOP(uint8_t, s = vdotq_u32(s, vld1q_u8(px), vld1q_u8(py));),
              total += (int64_t)vaddlvq_u32(s);)
    return (double)total;
}
#define FD_UDOT16(acc, u, v) vdotq_u32(acc, u, v)
#define FD_SQEUCLIDEAN_INT(SFX, T)                                                               \
    static FA_FHMDOT double fd_sqeuclidean_##SFX(const void *pa, const void *pb, size_t n) {    \
        int64_t total = 0;                                                                      \
        NE_BLOCKS(T, uint32x4_t s = vdupq_n_u32(0);, NE_INT_LOOP(T, {                           \
                      uint8x16_t d = ne_absdiff_##SFX(px, py);                                  \
                      s = vdotq_u32(s, d, d);                                                   \
                  }),                                                                           \
                  total += (int64_t)vaddlvq_u32(s);)                                            \
        return (double)total;                                                                   \
    }
FD_SQEUCLIDEAN_INT(i8, int8_t)
FD_SQEUCLIDEAN_INT(u8, uint8_t)

static FA_FHMDOT void fd_cos_i8(const void *pa, const void *pb, size_t n, double out[3]) {
    int64_t tab = 0, taa = 0, tbb = 0;
    NE_BLOCKS(int8_t, int32x4_t ab = vdupq_n_s32(0); int32x4_t aa = ab; int32x4_t bb = ab;,
              NE_INT_LOOP(int8_t, {
                  int8x16_t u = vld1q_s8(px);
                  int8x16_t v = vld1q_s8(py);
                  ab = vdotq_s32(ab, u, v);
                  aa = vdotq_s32(aa, u, u);
                  bb = vdotq_s32(bb, v, v);
              }),
              tab += vaddlvq_s32(ab);
              taa += vaddlvq_s32(aa); tbb += vaddlvq_s32(bb);)
    out[0] = (double)tab;
    out[1] = (double)taa;
    out[2] = (double)tbb;
}
static FA_FHMDOT void fd_cos_u8(const void *pa, const void *pb, size_t n, double out[3]) {
    int64_t tab = 0, taa = 0, tbb = 0;
    NE_BLOCKS(uint8_t, uint32x4_t ab = vdupq_n_u32(0); uint32x4_t aa = ab; uint32x4_t bb = ab;,
              NE_INT_LOOP(uint8_t, {
                  uint8x16_t u = vld1q_u8(px);
                  uint8x16_t v = vld1q_u8(py);
                  ab = vdotq_u32(ab, u, v);
                  aa = vdotq_u32(aa, u, u);
                  bb = vdotq_u32(bb, v, v);
              }),
              tab += (int64_t)vaddlvq_u32(ab);
              taa += (int64_t)vaddlvq_u32(aa); tbb += (int64_t)vaddlvq_u32(bb);)
    out[0] = (double)tab;
    out[1] = (double)taa;
    out[2] = (double)tbb;
}

static void fa_fill_neon_fhm_dot(fa_table *t) {
    fa_fill_neon(t);
    t->name = "neon_fhm_dot";
    t->dot[FA_F16] = fd_dot_f16;
    t->cos[FA_F16] = fd_cos_f16;
    t->dot[FA_I8] = fd_dot_i8;
    t->dot[FA_U8] = fd_dot_u8;
    t->sqeuclidean[FA_I8] = fd_sqeuclidean_i8;
    t->sqeuclidean[FA_U8] = fd_sqeuclidean_u8;
    t->cos[FA_I8] = fd_cos_i8;
    t->cos[FA_U8] = fd_cos_u8;
}

#endif /* FASTARM_NEON_FHM_DOT_H */
