/* Shared definitions: dtypes, kernel signatures, the dispatch table and float16 conversion. */
#ifndef FASTARM_COMMON_H
#define FASTARM_COMMON_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum { FA_F64 = 0, FA_F32, FA_F16, FA_I8, FA_U8, FA_NDTYPES };

/* dot / sqeuclidean: the sum as a double (integer sums are exact below 2**53). */
typedef double (*fa_dist_fn)(const void *a, const void *b, size_t n);
/* cosine: out[0] = sum(a*b), out[1] = sum(a*a), out[2] = sum(b*b), in one pass. */
typedef void (*fa_cos_fn)(const void *a, const void *b, size_t n, double out[3]);
/* minmax: n >= 1. */
typedef void (*fa_minmax_fn)(const void *a, size_t n, double *mn, double *mx);
/* mean_var: *sum = sum(x), *m2 = sum((x - mean)**2); n >= 1. */
typedef void (*fa_meanvar_fn)(const void *a, size_t n, double *sum, double *m2);

typedef struct {
    const char *name;
    fa_dist_fn dot[FA_NDTYPES];
    fa_dist_fn sqeuclidean[FA_NDTYPES];
    fa_cos_fn cos[FA_NDTYPES];
    fa_minmax_fn minmax[FA_NDTYPES];
    fa_meanvar_fn meanvar[FA_NDTYPES];
} fa_table;

/* Elements per block for the NEON float32/float16 kernels (x86 backends size theirs to the same
 * 64 terms per lane): sums stay in float32 lanes inside a block and
 * are flushed into float64 at its end.  Integer kernels flush int32 lanes into int64 every
 * FA_IBLOCK elements, long before any lane could overflow (|partial| <= 2**17 per lane step). */
#define FA_FBLOCK 1024
#define FA_IBLOCK 16384
/* Elements per block for mean_var (block sum + two-pass squares inside the block, Chan merge). */
#define FA_MVBLOCK 1024

#if defined(__GNUC__) && !defined(__clang__)
#define FA_NOVEC __attribute__((optimize("no-tree-vectorize", "no-tree-slp-vectorize")))
#else
#define FA_NOVEC
#endif

#define FA_MIN(a, b) ((a) < (b) ? (a) : (b))

/* IEEE binary16 -> binary32, exact for every input (subnormals, inf, NaN payloads). */
static inline float fa_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu, bits;
    float f;
    if (exp == 0) {
        f = (float)mant * 0x1p-24f; /* zero or subnormal: exact */
        return sign ? -f : f;
    }
    if (exp == 31)
        bits = sign | 0x7f800000u | (mant << 13);
    else
        bits = sign | ((exp + 112u) << 23) | (mant << 13);
    memcpy(&f, &bits, sizeof f);
    return f;
}

#endif /* FASTARM_COMMON_H */
