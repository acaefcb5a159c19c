"""The one compiled part of the package; everything else is in pyproject.toml.

The journal's leaf and node hashes a list at a time, in C with OpenSSL's SHA-256 (src/fintech_zone/journal/
_sha256.c): appends spend half their time in two SHA-256 calls a leaf, most of it Python's per-call overhead.
Optional, so that a machine without a C compiler or OpenSSL's headers still installs and runs the same hashes in
Python (``merkle.NATIVE_HASHING`` tells which is in use; the test suite insists on the compiled one).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "fintech_zone.journal._sha256",
            sources=["src/fintech_zone/journal/_sha256.c"],
            libraries=["crypto"],
            optional=True,
        )
    ]
)
