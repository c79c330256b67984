"""Initial passwords: generated with `secrets`, never written anywhere in clear.

The local provider keeps only a salted scrypt hash, as a real provider would.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

_ALPHABETS = (string.ascii_lowercase, string.ascii_uppercase, string.digits, "!#%+-=?@^_")
DEFAULT_LENGTH = 20
# scrypt cost. Key stretching slows the guessing of passwords people choose; the local directory
# only ever stores passwords generated here (20 characters of 72: about 123 bits), which no amount
# of guessing reaches, stretched or not. So the cost is low: 2**10 took 2 ms a hash, 20 of the
# 29 seconds of a first apply of 10,000 people. The scheme is stored with each hash, so hashes
# made with other parameters still verify. The real providers hash on their side.
_N, _R = 2**4, 8


def generate_password(length: int = DEFAULT_LENGTH) -> str:
    """A random password with every character class, as Google's and Microsoft's rules want."""
    if length < len(_ALPHABETS):
        raise ValueError("password too short to hold every character class")
    everything = "".join(_ALPHABETS)
    chars = [secrets.choice(a) for a in _ALPHABETS]
    chars += [secrets.choice(everything) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def hash_password(password: str) -> dict[str, str]:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=1)
    return {"scheme": f"scrypt-n{_N}-r{_R}-p1", "salt": salt.hex(), "hash": digest.hex()}


def verify_password(password: str, stored: dict[str, str]) -> bool:
    salt = bytes.fromhex(stored["salt"])
    _, n, r, _p = stored["scheme"].split("-")
    digest = hashlib.scrypt(password.encode(), salt=salt, n=int(n[1:]), r=int(r[1:]), p=1)
    return hmac.compare_digest(digest.hex(), stored["hash"])
