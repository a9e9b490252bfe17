"""What keeps the county web service safe: passwords, signed sessions, one-time form tokens,
throttling and the security headers.

- Passwords: argon2id hashes (argon2-cffi), never stored or logged in clear.
- Sessions: a cookie signed with the archive's session secret (itsdangerous), HttpOnly and
  SameSite=Lax; it carries the user's password generation, so changing a password or
  removing the user ends every session at once.
- Forms: every form carries a signed token bound to this browser (a random cookie), to the
  form and to what it acts on (the post), that expires and can be used once: a forged form
  (no or wrong signature, another browser, another post) and a replayed one are refused. The used
  tokens are kept in the archive (table ``used_forms``, :meth:`dpsheets.web.store.Store.use_form`): its
  primary key refuses a replay, also to another server process on the same archive.
- Throttling: the limits below. The counting is in the archive (:class:`dpsheets.web.store.Store`
  counts the audited failed logins and quiz attempts in the window), so that several server
  processes on one archive share it: failed logins per address and per user name; quiz
  submissions per worker and per address.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def burn_time(password: str) -> None:
    """Spend a verification's time for an unknown user name, so timing does not tell which names exist."""
    verify_password(_DUMMY_HASH, password)


def generation(stored_hash: str) -> str:
    """A short fingerprint of the stored hash: sessions made before a password change stop working."""
    return hashlib.sha256(stored_hash.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Limits:
    """Throttling limits of the service (counts per window in seconds)."""

    login_failures: int = 9  # the 10th failed login within the window is refused
    login_window: float = 900
    quiz_per_worker: int = 6  # quiz submissions per worker (enterprise, name)
    quiz_per_address: int = 60  # quiz submissions per client address
    quiz_window: float = 600
    form_max_age: int = 2 * 3600  # seconds a form stays valid


BROWSER_COOKIE = "dps_b"
SESSION_COOKIE = "dps_s"


class FormTokens:
    """Signed, browser-bound, one-time form tokens (CSRF and replay protection).

    *use* marks a token's nonce used and says whether it was fresh (False: used before, a replay); the service
    passes the archive's (shared by every process), the default remembers in this process only.
    """

    def __init__(self, secret: str, max_age: int, use: Callable[[str], bool] | None = None) -> None:
        self.serializer = URLSafeTimedSerializer(secret, salt="dpsheets-form")
        self.max_age = max_age
        self.use = use or _InProcess(max_age)

    @staticmethod
    def _bind(browser: str) -> str:
        return hashlib.sha256(browser.encode()).hexdigest()[:20]

    def issue(self, browser: str, form: str, target: str = "") -> str:
        return self.serializer.dumps({"n": secrets.token_urlsafe(12), "f": form, "t": target, "b": self._bind(browser)})

    def check(self, token: str | None, browser: str | None, form: str, target: str = "") -> str | None:
        """None when the token is good (and now used up), else the reason (Chinese) it is refused."""
        if not token or not browser:
            return "表单无效（缺少校验信息），请返回页面重新填写。"
        try:
            data = self.serializer.loads(token, max_age=self.max_age)
        except SignatureExpired:
            return "页面停留太久，表单已过期，请重新打开页面再填写。"
        except BadSignature:
            return "表单无效（校验失败），请返回页面重新填写。"
        if not isinstance(data, dict) or data.get("f") != form or data.get("t") != target or \
                not hmac.compare_digest(str(data.get("b", "")), self._bind(browser)) or not isinstance(data.get("n"), str):
            return "表单无效（不是本页面提交的），请重新打开页面再填写。"
        if not self.use(data["n"]):
            return "这份表单已经提交过了，请不要重复提交。"
        return None


class _InProcess:
    """Used nonces remembered by this process (for a FormTokens without an archive)."""

    def __init__(self, max_age: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_age = max_age
        self.clock = clock
        self._used: dict[str, float] = {}
        self._lock = threading.Lock()

    def __call__(self, nonce: str) -> bool:
        now = self.clock()
        with self._lock:
            if len(self._used) > 200_000:
                for k in [k for k, t in self._used.items() if t <= now - self.max_age]:
                    del self._used[k]
            if nonce in self._used:
                return False
            self._used[nonce] = now
        return True


class Sessions:
    """Signed session cookies: {'u': user name, 'g': password generation}."""

    def __init__(self, secret: str, max_age: int = 8 * 3600) -> None:
        self.serializer = URLSafeTimedSerializer(secret, salt="dpsheets-session")
        self.max_age = max_age

    def dump(self, username: str, gen: str) -> str:
        return self.serializer.dumps({"u": username, "g": gen, "r": secrets.token_urlsafe(8)})

    def load(self, cookie: str | None) -> tuple[str, str] | None:
        if not cookie:
            return None
        try:
            data = self.serializer.loads(cookie, max_age=self.max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("u"), str) or not isinstance(data.get("g"), str):
            return None
        return data["u"], data["g"]


SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", b"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                                 b"frame-ancestors 'none'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),  # the QR token in the URL never leaves in a Referer
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


class SecurityHeaders:
    """ASGI middleware: the security headers on every response; no caching except static files."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith("/static/")
        https = scope.get("scheme") == "https"

        async def send_with_headers(message) -> None:  # noqa: ANN001
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control" or static]
                headers.extend(SECURITY_HEADERS)
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                if https:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message = dict(message, headers=headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)
