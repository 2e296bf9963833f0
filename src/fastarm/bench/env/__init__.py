"""Environment fingerprint internals: ``layers`` (detection), ``probe`` (collection), ``key``.

The public API is re-exported by :mod:`fastarm.bench.environment`.
"""
