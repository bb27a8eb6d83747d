"""Passwords and password-reset tokens, without Flask (services use them)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from pb.models import User

_hasher = PasswordHasher()
RESET_TOKEN_MAX_AGE_SECONDS = 60 * 60
MIN_PASSWORD_LENGTH = 10


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
