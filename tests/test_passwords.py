"""Initial passwords: every character class, unpredictable, kept only as a salted scrypt hash."""

from __future__ import annotations

import hashlib
import re
import string

import pytest

from reconciler.passwords import DEFAULT_LENGTH, generate_password, hash_password, verify_password

LOWER = set(string.ascii_lowercase)
UPPER = set(string.ascii_uppercase)
DIGITS = set(string.digits)
SYMBOLS = set("!#%+-=?@^_")
CLASSES = (LOWER, UPPER, DIGITS, SYMBOLS)
SAMPLES = 2000


def test_default_length_is_20() -> None:
    assert DEFAULT_LENGTH == 20
    assert len(generate_password()) == 20


@pytest.mark.parametrize("length", [4, 5, 12, 20, 64, 256])
def test_length_is_respected_and_every_class_is_present(length: int) -> None:
    for _ in range(200):
        password = generate_password(length)
        assert len(password) == length
        for chars in CLASSES:
            assert set(password) & chars, (password, sorted(chars))
        assert set(password) <= LOWER | UPPER | DIGITS | SYMBOLS


def test_every_class_over_many_samples() -> None:
    for _ in range(SAMPLES):
        password = generate_password()
        assert len(password) == DEFAULT_LENGTH
        assert [bool(set(password) & chars) for chars in CLASSES] == [True, True, True, True], password


def test_every_allowed_character_is_used() -> None:
    # The filler draws from the whole alphabet, so over many samples every character turns up.
    seen: set[str] = set()
    for _ in range(SAMPLES):
        seen.update(generate_password())
    assert seen == LOWER | UPPER | DIGITS | SYMBOLS


def test_the_required_characters_are_shuffled_into_place() -> None:
    # The guaranteed lowercase/uppercase/digit/symbol must not always sit in the first four places.
    first_classes = set()
    for _ in range(500):
        first = generate_password()[0]
        first_classes.add(next(i for i, chars in enumerate(CLASSES) if first in chars))
    assert first_classes == {0, 1, 2, 3}


def test_passwords_are_unique() -> None:
    passwords = [generate_password() for _ in range(SAMPLES)]
    assert len(set(passwords)) == SAMPLES
    short = [generate_password(8) for _ in range(SAMPLES)]
    assert len(set(short)) == SAMPLES


@pytest.mark.parametrize("length", [0, 1, 3])
def test_too_short_for_every_class_is_refused(length: int) -> None:
    with pytest.raises(ValueError, match=r"^password too short to hold every character class$"):
        generate_password(length)


def test_hash_round_trip() -> None:
    password = generate_password()
    stored = hash_password(password)
    assert sorted(stored) == ["hash", "salt", "scheme"]
    assert re.fullmatch(r"scrypt-n(\d+)-r8-p1", stored["scheme"]), stored["scheme"]
    assert len(bytes.fromhex(stored["salt"])) == 16
    assert len(bytes.fromhex(stored["hash"])) == 64
    assert password not in str(stored)
    assert verify_password(password, stored) is True


def test_wrong_passwords_are_rejected() -> None:
    stored = hash_password("Correct-Horse-9")
    assert verify_password("Correct-Horse-9", stored) is True
    for wrong in ("correct-horse-9", "Correct-Horse-9 ", "Correct-Horse-", "", "Correct-Horse-8"):
        assert verify_password(wrong, stored) is False, wrong


def test_the_salt_is_random_so_equal_passwords_hash_differently() -> None:
    first, second = hash_password("same-Password-1"), hash_password("same-Password-1")
    assert first["salt"] != second["salt"]
    assert first["hash"] != second["hash"]
    assert verify_password("same-Password-1", first) and verify_password("same-Password-1", second)


def test_a_tampered_hash_or_salt_is_rejected() -> None:
    stored = hash_password("Tamper-Proof-7")
    flipped = ("0" if stored["hash"][0] != "0" else "1") + stored["hash"][1:]
    assert verify_password("Tamper-Proof-7", {**stored, "hash": flipped}) is False
    other_salt = hash_password("x")["salt"]
    assert verify_password("Tamper-Proof-7", {**stored, "salt": other_salt}) is False


def test_non_ascii_passwords_round_trip() -> None:
    stored = hash_password("密码-Pässwörd-1")
    assert verify_password("密码-Pässwörd-1", stored) is True
    assert verify_password("密码-Passwörd-1", stored) is False


def test_hashes_made_with_other_scrypt_costs_still_verify() -> None:
    # The cost is part of the stored scheme, so directory files written before a cost change stay valid.
    salt = bytes.fromhex("00112233445566778899aabbccddeeff")
    for n in (2**10, 2**12, 2**14):
        digest = hashlib.scrypt(b"Older-Hash-3", salt=salt, n=n, r=8, p=1)
        stored = {"scheme": f"scrypt-n{n}-r8-p1", "salt": salt.hex(), "hash": digest.hex()}
        assert verify_password("Older-Hash-3", stored) is True
        assert verify_password("Older-Hash-4", stored) is False
