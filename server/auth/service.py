"""`AuthService`: staff sign-in over OpenID Connect, the server's sessions, revocation, and
citizens' optional eID verification. The edge calls it; it calls the store and the audit log.

HTTP (GET only; `server.edge.http` routes ``/auth/*`` here)::

    /auth/login[?next=/path]   start: a sign-in record (state, nonce, PKCE verifier) bound to
                               this browser by the ``sp_login`` cookie; 302 to the provider
    /auth/callback             the provider's redirect: state taken once (a replay finds
                               nothing), the browser binding checked, the code exchanged, the
                               ID token validated, the groups mapped; a session cookie; 302
    /auth/refresh              a fresh session cookie (JSON: expires_in); 401 without one
    /auth/me                   JSON: signed in?, role, name, expires_in; clears a dead cookie
    /auth/logout               revokes the session, clears the cookie, 302 to the provider's
                               end_session_endpoint (when it has one) or back here
    /auth/eid/start            "prove who I am": the citizen key from ``sp_citizen``; 302
    /auth/eid/callback         the broker's redirect: only a pairwise hash is kept

WebSocket: `session_of` (the handshake's cookie), `token_refused` (a role token of a revoked
subject), `on_session_list` / `on_session_revoke` (client messages), and a periodic check
that closes connections whose session ended (4010, REVOKED).

A failure of the provider gives a readable page; nothing else in the server waits on it.
Tokens, codes, cookies and secrets are never logged and never put in a URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

import msgpack

from protocol.codec import Message
from protocol.errors import ErrorCode, ProtocolError
from protocol.messages.core import CoreError
from server.auth import logs
from server.auth.mapping import map_claims
from server.auth.oidc import OidcClient, ProviderDown, SignInRefused
from server.auth.sessions import REVOKED_CHANNEL, AuthSession, Roster, SessionStore
from server.auth.settings import AuthSettings, EidSettings
from server.auth.verified import Verifications
from server.auth.web import (
    CITIZEN_COOKIE,
    LOGIN_COOKIE,
    AuthReply,
    clear_session_cookies,
    json_reply,
    page,
    parse_cookies,
    redirect,
    session_cookie,
    session_token,
    set_cookie,
)
from server.identity import Grant, Keyring, TokenError
from server.plug import Caller
from server.store import Keyspace
from server.tasks import Repeating, Tasks

log = logging.getLogger(__name__)

_NEXT = re.compile(r"^/[A-Za-z0-9._~/-]{0,200}$")
PRIVILEGED = ("staff", "host", "captioner", "manager", "admin")


class SessionRefused(Exception):
    """The handshake carried a session cookie that is no longer live."""


class AuditPort(Protocol):
    """`server.audit.AuditLog` as this module uses it."""

    async def record(
        self,
        actor: str,
        role: str,
        action: str,
        target: str = "",
        detail: Mapping[str, str] | None = None,
    ) -> str: ...


class Revocable(Protocol):
    """A live connection as revocation sees it (`server.edge.connection.ClientConnection`)."""

    auth_session: str
    """The public id of the session it was authenticated with, or empty."""

    @property
    def subject(self) -> str: ...

    async def revoke(self, reason: str) -> None:
        """Close with 4010 (REVOKED), telling the client ``reason`` first."""
        ...


class AuthConnection(Revocable, Protocol):
    """A connection sending session messages."""

    @property
    def caller(self) -> Caller: ...

    def reply(self, msg: dict[str, Any]) -> None: ...


def _device(user_agent: str) -> str:
    ua = user_agent or ""
    browser = next(
        (
            label
            for key, label in (
                ("Edg/", "Edge"),
                ("Firefox/", "Firefox"),
                ("Chrome/", "Chrome"),
                ("Safari/", "Safari"),
            )
            if key in ua
        ),
        "a browser",
    )
    system = next(
        (
            label
            for key, label in (
                ("Android", "Android"),
                ("iPhone", "iOS"),
                ("iPad", "iOS"),
                ("Windows", "Windows"),
                ("Mac OS", "macOS"),
                ("Linux", "Linux"),
            )
            if key in ua
        ),
        "",
    )
    return f"{browser} on {system}" if system else browser


def safe_next(value: str | None) -> str:
    """A local path to return to after sign-in (anything else: ``/``)."""
    if value and _NEXT.match(value) and not value.startswith("//"):
        return value
    return "/"


class AuthService:
    def __init__(
        self,
        settings: AuthSettings,
        eid: EidSettings,
        keyspace: Keyspace,
        keyring: Keyring,
        tasks: Tasks,
        connections: Callable[[], Iterable[Revocable]],
        audit: AuditPort | None = None,
        secret: str = "",
    ) -> None:
        self.settings = settings
        self.eid_settings = eid
        self.ks = keyspace
        self.keyring = keyring
        self.tasks = tasks
        self.connections = connections
        self.audit = audit
        self.sessions = SessionStore(keyspace, settings.session_ttl_s, settings.session_max_s)
        self.staff: OidcClient | None = None
        if settings.enabled:
            self.staff = OidcClient(
                settings.issuer, settings.client_id, settings.client_secret, settings.http_timeout_s
            )
        self.eid: OidcClient | None = None
        if eid.enabled:
            self.eid = OidcClient(
                eid.issuer, eid.client_id, eid.client_secret, settings.http_timeout_s
            )
        salt = eid.salt.encode() if eid.salt else b""
        if not salt:
            basis = (secret or keyring.issuer).encode()
            salt = hmac.new(basis, b"servicepoint eid pairwise salt", hashlib.sha256).digest()
        self.verifications = Verifications(keyspace, salt, eid.verified_ttl_s)
        self.rosters: dict[str, Roster] = {}
        """Roster entries of people signed in through the provider here (by subject)."""
        self._reasons: dict[str, str] = {}
        """Why a session is being ended here (read by `check` racing the revocation)."""
        self._listener: asyncio.Task[None] | None = None
        self.checker: Repeating | None = None
        """The periodic session check (`Repeating.next` waits for a round)."""

    # -- lifespan ---------------------------------------------------------------------

    async def start(self) -> None:
        logs.install()
        ready = asyncio.Event()
        self._listener = asyncio.create_task(self._listen(ready), name="auth revocations")
        await asyncio.wait_for(ready.wait(), 10)
        self.checker = self.tasks.every(self.settings.check_every_s, self.check, "auth check")

    async def stop(self) -> None:
        if self.checker is not None:
            self.checker.stop()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        for client in (self.staff, self.eid):
            if client is not None:
                await client.close()

    async def _listen(self, ready: asyncio.Event) -> None:
        """Apply revocations announced by any process (this one's too) until stopped; a
        lost subscription is taken up again (the periodic check covers the gap)."""
        while True:
            try:
                async with self.ks.subscribe(REVOKED_CHANNEL) as sub:
                    ready.set()
                    async for _channel, data in sub:
                        await self._apply(data)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("the revocation channel was lost; subscribing again")
            await asyncio.sleep(1.0)

    async def _apply(self, data: bytes) -> None:
        try:
            note = msgpack.unpackb(data, raw=False)
            await self._close_matching(
                set(note.get("sids", [])), note.get("subject"), note.get("reason", "")
            )
        except Exception:
            log.exception("could not apply a revocation")

    async def _close_matching(self, sids: set[str], subject: str | None, reason: str) -> int:
        count = 0
        for conn in list(self.connections()):
            if (conn.auth_session and conn.auth_session in sids) or (
                subject and conn.subject == "id:" + subject
            ):
                count += 1
                await conn.revoke(reason or "Your sign-in was ended.")
        return count

    async def _announce(self, sids: Iterable[str], subject: str | None, reason: str) -> int:
        """Close the matching connections here at once, and tell the other processes."""
        sids = set(sids)
        closed = await self._close_matching(sids, subject, reason)
        for sid in sids:
            self._reasons.pop(sid, None)
        note = {"sids": sorted(sids), "subject": subject, "reason": reason}
        try:
            await self.ks.publish(REVOKED_CHANNEL, msgpack.packb(note))
        except Exception:
            log.exception("could not publish a revocation")
        return closed

    async def check(self) -> None:
        """Close live connections whose session has ended (expired, or revoked elsewhere)."""
        for conn in list(self.connections()):
            sid = conn.auth_session
            if sid and await self.sessions.get(sid) is None:
                reason = self._reasons.get(sid, "Your sign-in has ended; sign in again.")
                await conn.revoke(reason)

    async def _audit(
        self,
        actor: str,
        role: str,
        action: str,
        target: str = "",
        detail: Mapping[str, str] | None = None,
    ) -> None:
        if self.audit is None:
            return
        try:
            await self.audit.record(actor, role, action, target, detail)
        except Exception:
            log.exception("could not write the audit entry %s", action)

    # -- the WebSocket side -------------------------------------------------------------

    async def session_of(self, headers: Mapping[str, str] | Any) -> AuthSession | None:
        """The live session of a handshake's cookie; None without one; `SessionRefused`
        for a cookie whose session has ended or was revoked."""
        token = session_token(parse_cookies(headers.get("Cookie")))
        if token is None:
            return None
        session = await self.sessions.lookup(token)
        if session is None:
            raise SessionRefused("Your sign-in has ended or was revoked; sign in again.")
        if session.role != "citizen":
            self.rosters[session.subject] = session.roster
        return session

    async def token_refused(self, grant: Grant) -> bool:
        """Whether a role token's subject was revoked after the token was issued."""
        since = await self.sessions.revoked_since(grant.subject)
        return since is not None and grant.issued <= since

    async def grant_of_cookie(self, cookie_header: str | None) -> Grant | None:
        """The role a session cookie grants an HTTP request (`/api/...`), or None."""
        token = session_token(parse_cookies(cookie_header))
        session = await self.sessions.lookup(token) if token else None
        if session is None or session.role == "citizen":
            return None
        return Grant(session.role, session.name, session.subject, session.expires, session.created)

    async def is_verified(self, citizen_subject: str) -> bool:
        return await self.verifications.is_verified(citizen_subject)

    def roster(self, subject: str) -> Roster | None:
        """The roster entry from the groups of a person signed in here (``id:`` optional)."""
        return self.rosters.get(subject.removeprefix("id:"))

    async def on_session_list(self, conn: AuthConnection, msg: Message) -> None:
        caller = conn.caller
        own = caller.subject.removeprefix("id:")
        subject = str(msg.get("subject") or own).removeprefix("id:")
        if subject != own and caller.role != "admin":
            raise ProtocolError(
                ErrorCode.FORBIDDEN, "Only an admin may list another person's sessions.", msg["t"]
            )
        sessions = await self.sessions.of_subject(subject)
        conn.reply(
            {
                "t": "sessions",
                "subject": subject,
                "sessions": [s.public(conn.auth_session) for s in sessions],
            }
        )

    async def on_session_revoke(self, conn: AuthConnection, msg: Message) -> None:
        caller = conn.caller
        own = caller.subject.removeprefix("id:")
        sid, subject = msg.get("session"), msg.get("subject")
        if (sid is None) == (subject is None):
            raise ProtocolError(
                ErrorCode.BAD_FIELD, "Name either a session or a subject.", msg["t"]
            )
        reason = "Your sign-in was revoked by an administrator."
        if sid is not None:
            session = await self.sessions.get(sid)
            if session is None:
                raise ProtocolError(
                    CoreError.NO_SUCH_SESSION, "There is no live session with that id.", msg["t"]
                )
            if session.subject != own and caller.role != "admin":
                raise ProtocolError(
                    ErrorCode.FORBIDDEN, "Only an admin may end another person's session.", msg["t"]
                )
            self._reasons[sid] = reason
            await self.sessions.revoke(sid)
            self.rosters.pop(session.subject, None)
            target, count = session.subject, 1
            reply: dict[str, Any] = {"t": "session_revoked", "session": sid, "count": 1}
            await self._announce({sid}, None, reason)
        else:
            target = str(subject).removeprefix("id:")
            if caller.role != "admin":
                raise ProtocolError(
                    ErrorCode.FORBIDDEN, "Only an admin may revoke a person's sessions.", msg["t"]
                )
            for live in await self.sessions.of_subject(target):
                self._reasons[live.sid] = reason
            ended = await self.sessions.revoke_subject(target, self.settings.token_revocation_s)
            self.rosters.pop(target, None)
            count = len(ended)
            reply = {"t": "session_revoked", "subject": target, "count": count}
            await self._announce({s.sid for s in ended}, target, reason)
        await self._audit(
            caller.subject, caller.role, "auth.revoke", "id:" + target, {"sessions": str(count)}
        )
        conn.reply(reply)

    # -- HTTP ------------------------------------------------------------------------

    async def http(
        self, path: str, query: Mapping[str, str], headers: Mapping[str, str] | Any, secure: bool
    ) -> AuthReply:
        """Answer ``/auth/<...>``; every failure is a readable page or a JSON error."""
        secure = self._secure(secure, headers)
        handlers: dict[str, Callable[[], Awaitable[AuthReply]]] = {
            "/auth/login": lambda: self._login(query, headers, secure),
            "/auth/callback": lambda: self._callback(query, headers, secure),
            "/auth/logout": lambda: self._logout(headers, secure),
            "/auth/refresh": lambda: self._refresh(headers, secure),
            "/auth/me": lambda: self._me(headers, secure),
            "/auth/eid/start": lambda: self._eid_start(query, headers, secure),
            "/auth/eid/callback": lambda: self._eid_callback(query, headers, secure),
        }
        handler = handlers.get(path)
        if handler is None:
            return page(404, "Not found", "There is no such sign-in page.")
        try:
            return await handler()
        except ProviderDown:
            return page(
                503,
                "Sign-in is not available right now",
                "The identity provider could not be reached. The service hall works as usual;"
                " please try again in a few minutes.",
                [self._clear_login(secure)],
            )
        except SignInRefused as exc:
            log.warning("sign-in refused: %s", exc)
            return page(
                400,
                "Sign-in was refused",
                f"{exc} Please start the sign-in again.",
                [self._clear_login(secure)],
            )

    def _secure(self, secure: bool, headers: Mapping[str, str] | Any) -> bool:
        mode = self.settings.secure_cookies
        if mode != "auto":
            return mode == "always"
        proto = str(headers.get("X-Forwarded-Proto") or "").split(",")[0].strip().lower()
        return secure or proto == "https"

    def _origin(self, headers: Mapping[str, str] | Any, secure: bool) -> str:
        host = str(headers.get("Host") or "127.0.0.1")
        return f"{'https' if secure else 'http'}://{host}"

    def _clear_login(self, secure: bool) -> str:
        return set_cookie(LOGIN_COOKIE, "", max_age=0, path="/auth", same_site="Lax", secure=secure)

    async def _begin(
        self,
        client: OidcClient,
        kind: str,
        redirect_url: str,
        scopes: list[str],
        secure: bool,
        extra: Mapping[str, str],
    ) -> AuthReply:
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier, binding = secrets.token_urlsafe(48), secrets.token_urlsafe(24)
        url = await client.authorization_url(redirect_url, scopes, state, nonce, verifier)
        record = {
            "kind": kind,
            "binding": hashlib.sha256(binding.encode()).hexdigest(),
            "nonce": nonce,
            "verifier": verifier,
            "redirect": redirect_url,
            **extra,
        }
        await self.sessions.begin_login(state, record, self.settings.login_ttl_s)
        cookie = set_cookie(
            LOGIN_COOKIE,
            binding,
            max_age=self.settings.login_ttl_s,
            path="/auth",
            same_site="Lax",
            secure=secure,
        )
        return redirect(url, [cookie])

    async def _finish(
        self,
        client: OidcClient,
        kind: str,
        query: Mapping[str, str],
        headers: Mapping[str, str] | Any,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The checked ID-token claims of a callback, and the sign-in record."""
        if "error" in query:
            error = re.sub(r"[^a-z_]", "", str(query.get("error", ""))[:40])
            started = query.get("state")
            if started:
                await self.sessions.take_login(started)
            raise SignInRefused(f"The provider did not sign you in ({error or 'error'}).")
        state, code = query.get("state"), query.get("code")
        if not state or not code:
            raise SignInRefused("The provider's answer is incomplete.")
        record = await self.sessions.take_login(state)
        if record is None or record.get("kind") != kind:
            raise SignInRefused(
                "This sign-in has expired or was already completed (state unknown)."
            )
        binding = parse_cookies(headers.get("Cookie")).get(LOGIN_COOKIE, "")
        expected = str(record.get("binding", ""))
        if not binding or not hmac.compare_digest(
            hashlib.sha256(binding.encode()).hexdigest(), expected
        ):
            raise SignInRefused("This sign-in was started in another browser (state mismatch).")
        iss = query.get("iss")
        if iss is not None and iss.rstrip("/") != client.issuer:
            raise SignInRefused("The answer came from another provider (issuer mismatch).")
        tokens = await client.exchange(code, str(record["redirect"]), str(record["verifier"]))
        access = tokens.get("access_token")
        claims = await client.validate_id_token(
            tokens["id_token"], str(record["nonce"]), access if isinstance(access, str) else None
        )
        return claims, record

    async def _login(
        self, query: Mapping[str, str], headers: Mapping[str, str] | Any, secure: bool
    ) -> AuthReply:
        if self.staff is None:
            return page(
                404,
                "Staff sign-in is not set up",
                "This server has no identity provider configured (SERVICEPOINT_AUTH_ISSUER).",
            )
        redirect_url = (
            self.settings.redirect_url or self._origin(headers, secure) + "/auth/callback"
        )
        return await self._begin(
            self.staff,
            "staff",
            redirect_url,
            self.settings.scope_list(),
            secure,
            {"next": safe_next(query.get("next"))},
        )

    async def _callback(
        self, query: Mapping[str, str], headers: Mapping[str, str] | Any, secure: bool
    ) -> AuthReply:
        if self.staff is None:
            return page(404, "Staff sign-in is not set up", "This server has no identity provider.")
        claims, record = await self._finish(self.staff, "staff", query, headers)
        person = map_claims(claims, self.settings)
        if person is None:
            raise SignInRefused("The ID token does not say who you are.")
        token, session = await self.sessions.create(
            person.subject,
            person.role,
            person.name,
            person.roster,
            _device(str(headers.get("User-Agent") or "")),
        )
        if person.role != "citizen":
            self.rosters[person.subject] = person.roster
        await self._audit(
            "id:" + person.subject,
            person.role,
            "auth.sign_in",
            "id:" + person.subject,
            {"session": session.sid, "provider": "oidc"},
        )
        log.info("signed in: a %s session started", person.role)
        cookies = [
            session_cookie(token, int(session.expires - session.created), secure),
            self._clear_login(secure),
        ]
        return redirect(safe_next(str(record.get("next") or "/")), cookies)

    async def _session(
        self, headers: Mapping[str, str] | Any
    ) -> tuple[str | None, AuthSession | None]:
        token = session_token(parse_cookies(headers.get("Cookie")))
        return token, (await self.sessions.lookup(token) if token else None)

    async def _refresh(self, headers: Mapping[str, str] | Any, secure: bool) -> AuthReply:
        token, session = await self._session(headers)
        rotated = await self.sessions.rotate(token) if token and session else None
        if rotated is None:
            return json_reply(
                401,
                {"error": {"code": "unauthorized", "reason": "No live session to refresh."}},
                clear_session_cookies(secure) if token else [],
            )
        new_token, renewed = rotated
        now = self.sessions.clock()
        await self._audit(
            "id:" + renewed.subject,
            renewed.role,
            "auth.refresh",
            "id:" + renewed.subject,
            {"session": renewed.sid},
        )
        return json_reply(
            200,
            self._me_body(renewed),
            [session_cookie(new_token, int(renewed.expires - now), secure)],
        )

    def _me_body(self, session: AuthSession | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "signed_in": session is not None,
            "sign_in": self.staff is not None,
            "eid": self.eid is not None,
        }
        if session is not None:
            now = self.sessions.clock()
            body.update(
                role=session.role,
                name=session.name,
                session=session.sid,
                expires_in=max(0, round(session.expires - now)),
                refresh_in=max(0, round((session.expires - now) * 0.6)),
            )
        return body

    async def _me(self, headers: Mapping[str, str] | Any, secure: bool) -> AuthReply:
        token, session = await self._session(headers)
        cookies = clear_session_cookies(secure) if token and session is None else []
        return json_reply(200, self._me_body(session), cookies)

    async def _logout(self, headers: Mapping[str, str] | Any, secure: bool) -> AuthReply:
        _token, session = await self._session(headers)
        if session is not None:
            self._reasons[session.sid] = "You signed out."
            await self.sessions.revoke(session.sid)
            self.rosters.pop(session.subject, None)
            await self._audit(
                "id:" + session.subject,
                session.role,
                "auth.sign_out",
                "id:" + session.subject,
                {"session": session.sid},
            )
            await self._announce({session.sid}, None, "You signed out.")
        cookies = clear_session_cookies(secure)
        back = self.settings.post_logout_url or "/"
        absolute = back if urlsplit(back).scheme else self._origin(headers, secure) + back
        end = None
        if self.staff is not None and self.settings.provider_logout and session is not None:
            end = await self.staff.end_session_endpoint()
        if end:
            params = {"client_id": self.settings.client_id, "post_logout_redirect_uri": absolute}
            sep = "&" if urlsplit(end).query else "?"
            return redirect(end + sep + urlencode(params), cookies)
        return redirect(back, cookies)

    # -- citizens: prove who I am -------------------------------------------------------

    async def _eid_start(
        self, query: Mapping[str, str], headers: Mapping[str, str] | Any, secure: bool
    ) -> AuthReply:
        clear = set_cookie(
            CITIZEN_COOKIE,
            "",
            max_age=0,
            path="/auth/eid",
            same_site="Strict",
            secure=secure,
            http_only=False,
        )
        if self.eid is None:
            return page(404, "Identification is not set up", "This server has no eID broker.")
        key = parse_cookies(headers.get("Cookie")).get(CITIZEN_COOKIE, "")
        try:
            citizen = "citizen:" + self.keyring.verify_citizen(key)
        except TokenError:
            return page(
                400,
                "Identification could not start",
                "Open the service hall first, then choose “Prove who I am” again.",
                [clear],
            )
        redirect_url = (
            self.eid_settings.redirect_url or self._origin(headers, secure) + "/auth/eid/callback"
        )
        reply = await self._begin(
            self.eid,
            "eid",
            redirect_url,
            self.eid_settings.scope_list(),
            secure,
            {"citizen": citizen, "next": safe_next(query.get("next"))},
        )
        reply.cookies.append(clear)
        return reply

    async def _eid_callback(
        self, query: Mapping[str, str], headers: Mapping[str, str] | Any, secure: bool
    ) -> AuthReply:
        if self.eid is None:
            return page(404, "Identification is not set up", "This server has no eID broker.")
        claims, record = await self._finish(self.eid, "eid", query, headers)
        subject = claims.get("sub")
        citizen = str(record.get("citizen", ""))
        if not isinstance(subject, str) or not subject or not citizen.startswith("citizen:"):
            raise SignInRefused("The broker's answer does not identify you.")
        # Only the pairwise hash of `sub` is kept; no other claim is read.
        await self.verifications.mark(citizen, self.eid.issuer, subject)
        await self._audit(citizen, "citizen", "auth.verify", citizen, {"provider": "eid"})
        next_path = safe_next(str(record.get("next") or "/"))
        return redirect(
            next_path + ("&" if "?" in next_path else "?") + "verified=1",
            [self._clear_login(secure)],
        )
