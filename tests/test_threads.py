"""Concurrent calls from threads (the GIL is released around large kernels)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import fastarm


@pytest.mark.parametrize("backend", fastarm.simd_info()["usable"])
def test_concurrent_calls_on_shared_arrays(backend: str) -> None:
    rng = np.random.default_rng(4)
    n = 100_003  # above the GIL-release threshold
    arrays = {
        dt: (rng.standard_normal(n).astype(dt), rng.standard_normal(n).astype(dt))
        for dt in ("float64", "float32", "float16")
    }
    arrays["int8"] = (
        rng.integers(-128, 128, n).astype(np.int8),
        rng.integers(-128, 128, n).astype(np.int8),
    )
    with fastarm.use_backend(backend):
        expected = {
            dt: (fastarm.dot(a, b), fastarm.sqeuclidean(a, b), fastarm.cosine(a, b))
            for dt, (a, b) in arrays.items()
        }
        expected_mv = fastarm.mean_var(arrays["float64"][0])
        expected_mm = fastarm.minmax(arrays["float32"][0])

        def work(i: int) -> bool:
            ok = True
            for _ in range(10):
                for dt, (a, b) in arrays.items():
                    ok &= (
                        fastarm.dot(a, b),
                        fastarm.sqeuclidean(a, b),
                        fastarm.cosine(a, b),
                    ) == expected[dt]
                ok &= fastarm.mean_var(arrays["float64"][0]) == expected_mv
                ok &= fastarm.minmax(arrays["float32"][0]) == expected_mm
            return ok

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert all(pool.map(work, range(16)))
