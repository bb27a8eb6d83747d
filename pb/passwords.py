"""Passwords, password-reset tokens and e-mail confirmation tokens, without Flask (services use them)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from pb.models import User

_hasher = PasswordHasher()
RESET_TOKEN_MAX_AGE_SECONDS = 60 * 60
CONFIRMATION_TOKEN_MAX_AGE_SECONDS = 48 * 60 * 60
MIN_PASSWORD_LENGTH = 10
# zxcvbn scores 0-4; 2 means "more than a million guesses", enough against rate-limited online
# guessing (NIST 800-63B asks to refuse common, repetitive and context-specific passwords).
MIN_PASSWORD_SCORE = 2
_ZXCVBN_MAX_LENGTH = 72  # zxcvbn refuses longer input; its cost grows fast with length

# The 30,000 most common passwords of leaked password lists, as zxcvbn ships them (lower case).
_COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])


def is_common_password(password: str) -> bool:
    """Whether the password, in any case, is on the shipped list of the most common leaked passwords."""
    return password.strip().lower() in _COMMON_PASSWORDS


def _personal_words(personal: Iterable[str]) -> list[str]:
    """Each text (e-mail address, name), its words, and its words run together ("amirakhan")."""
    words: list[str] = []
    for text in personal:
        parts = re.findall(r"\w+", text.lower())
        words += [text.lower(), "".join(parts), *parts]
    return [word for word in dict.fromkeys(words) if word]


def is_easy_to_guess(password: str, personal: Iterable[str] = ()) -> bool:
    """Whether an attacker would find the password in under a million guesses.

    zxcvbn looks for dictionary words, names, dates, keyboard rows, repeats and sequences, and the
    words of ``personal`` (the person's e-mail address and name). Only the first 72 characters are
    scored: a longer password is weak only if its start already is.
    """
    result = zxcvbn(password[:_ZXCVBN_MAX_LENGTH], user_inputs=_personal_words(personal))
    return result["score"] < MIN_PASSWORD_SCORE


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Verifying against a real hash when the e-mail is unknown keeps sign-in timing uniform.
_UNKNOWN_USER_HASH = _hasher.hash("pb-no-such-user")


def check_credentials(user: User | None, password: str) -> bool:
    if user is None:
        verify_password(_UNKNOWN_USER_HASH, password)
        return False
    return user.is_active and verify_password(user.password_hash, password)


def _reset_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="pb.password-reset")


def make_reset_token(secret_key: str, user: User) -> str:
    # The token names the password's change time, so it dies as soon as the password changes.
    return _reset_serializer(secret_key).dumps([user.id, int(user.password_changed_at.timestamp())])


def user_for_reset_token(
    secret_key: str, token: str, session: Session, max_age: int = RESET_TOKEN_MAX_AGE_SECONDS
) -> User | None:
    try:
        user_id, stamp = _reset_serializer(secret_key).loads(token, max_age=max_age)
    except (BadSignature, SignatureExpired, ValueError, TypeError):
        return None
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.is_active or int(user.password_changed_at.timestamp()) != stamp:
        return None
    return user


class _SignerAt(TimestampSigner):
    """Signs and checks ages at a given time (the application's clock), not at ``time.time()``."""

    def __init__(self, *args, now: datetime, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._now = int(now.timestamp())

    def get_timestamp(self) -> int:
        return self._now


def _confirmation_serializer(secret_key: str, now: datetime) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        secret_key, salt="pb.email-confirmation", signer=_SignerAt, signer_kwargs={"now": now}
    )


def _address_digest(secret_key: str, email: str) -> str:
    """Names the address in a link without showing it (a link may end up in logs)."""
    return hmac.new(secret_key.encode(), email.encode(), hashlib.sha256).hexdigest()[:32]


def make_confirmation_token(secret_key: str, user: User, now: datetime) -> str:
    """A link's token that confirms ``user``'s current address, valid for 48 hours from ``now``.

    It names the address (keyed, so the link does not show it): once the address changes, the
    token is dead; once the address is confirmed, it has nothing left to do.
    """
    return _confirmation_serializer(secret_key, now).dumps([user.id, _address_digest(secret_key, user.email)])


def user_for_confirmation_token(
    secret_key: str,
    token: str,
    session: Session,
    now: datetime,
    max_age: int = CONFIRMATION_TOKEN_MAX_AGE_SECONDS,
) -> User | None:
    """The active, still unconfirmed account whose current address ``token`` names, or None."""
    try:
        user_id, digest = _confirmation_serializer(secret_key, now).loads(token, max_age=max_age)
    except (BadSignature, SignatureExpired, ValueError, TypeError):
        return None
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.is_active or user.email_confirmed or not isinstance(digest, str):
        return None
    if not hmac.compare_digest(digest, _address_digest(secret_key, user.email)):
        return None
    return user
