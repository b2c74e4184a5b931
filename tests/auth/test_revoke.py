"""Revocation: an admin ends a host's sessions, whose connection is closed with 4010 and whose
cookie (or role token) is refused afterwards; sessions ended elsewhere close their
connections; a resume re-validates the session."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgpack

from agents.client import AgentClient
from protocol.catalogue import PROTOCOL_VERSION
from server.auth.sessions import REVOKED_CHANNEL
from server.identity import Keyring
from tests.auth.conftest import SECRET, CookieAgent, SignIn, base_url, closed, sign_in, ws_url

KEYRING = Keyring(SECRET)


async def refused_hello(url: str, cookie: str) -> tuple[str, int | None]:
    agent = CookieAgent(url, cookie, name="x")
    await agent.connect_raw()
    await agent.send({"t": "hello", "v": PROTOCOL_VERSION})
    error = await agent.expect("error", ref="hello")
    code, _ = await closed(agent)
    return str(error["code"]), code


async def test_an_admin_revokes_a_host(signin: SignIn, tmp_path: Path) -> None:
    async with signin(tmp_path) as sp:
        admin_browser = await sign_in(sp, "ada.admin")
        host_browser = await sign_in(sp, "hanne.host")
        host_cookie = host_browser.cookie_header()
        async with (
            CookieAgent(ws_url(sp), admin_browser.cookie_header(), name="x") as admin,
            CookieAgent(ws_url(sp), host_cookie, name="x") as host,
        ):
            assert host.welcome is not None and host.welcome["role"] == "host"
            await admin.send({"t": "session_list", "subject": "hanne.host"})
            listed = await admin.expect("sessions")
            assert len(listed["sessions"]) == 1 and listed["sessions"][0]["role"] == "host"
            await admin.send({"t": "session_revoke", "subject": "hanne.host"})
            done = await admin.expect("session_revoked")
            assert done == {"t": "session_revoked", "subject": "hanne.host", "count": 1}
            code, reason = await closed(host)
            assert code == 4010 and reason == "session revoked"
            bye = next(m for m in host.messages if m["t"] == "bye")
            assert "revoked by an administrator" in bye["reason"]
            assert not any(c.subject == "id:hanne.host" for c in sp.connections if c.open)
        # Refused afterwards: at the handshake, at /auth/me, at /auth/refresh.
        assert await refused_hello(ws_url(sp), host_cookie) == ("signed_out", 4010)
        assert (await host_browser.get(base_url(sp) + "/auth/me")).json()["signed_in"] is False
        assert (await host_browser.get(base_url(sp) + "/auth/refresh")).status_code == 401
        entries = await sp.audit.search(action="auth.revoke") if sp.audit else []
        assert [(e["actor"], e["role"], e["target"]) for e in entries] == [
            ("id:ada.admin", "admin", "id:hanne.host")
        ]
        await admin_browser.aclose()
        await host_browser.aclose()


async def test_a_revoked_subject_s_role_tokens_are_refused(signin: SignIn, tmp_path: Path) -> None:
    async with signin(tmp_path) as sp:
        admin_browser = await sign_in(sp, "ada.admin")
        token = KEYRING.mint("host", "Hanne Host", "hanne.host")
        async with (
            CookieAgent(ws_url(sp), admin_browser.cookie_header(), name="x") as admin,
            AgentClient(ws_url(sp), name="x", token=token) as host,
        ):
            await admin.send({"t": "session_revoke", "subject": "id:hanne.host"})
            done = await admin.expect("session_revoked")
            assert done["count"] == 0  # no sign-in session; the token's connection still closes
            code, _ = await closed(host)
            assert code == 4010
        again = AgentClient(ws_url(sp), name="x", token=token)
        await again.connect_raw()
        await again.send({"t": "hello", "v": PROTOCOL_VERSION, "token": token})
        error = await again.expect("error", ref="hello")
        assert error["code"] == "bad_token" and "revoked" in error["msg"]
        code, _ = await closed(again)
        assert code == 4010
        await admin_browser.aclose()


async def test_revoking_one_session_and_who_may(signin: SignIn, tmp_path: Path) -> None:
    async with signin(tmp_path) as sp:
        phone = await sign_in(sp, "sara.lind")
        laptop = await sign_in(sp, "sara.lind")
        other = await sign_in(sp, "jonas.weber")
        async with (
            CookieAgent(ws_url(sp), phone.cookie_header(), name="x") as on_phone,
            CookieAgent(ws_url(sp), laptop.cookie_header(), name="x", join=False) as on_laptop,
            CookieAgent(ws_url(sp), other.cookie_header(), name="x") as jonas,
        ):
            await on_laptop.send({"t": "session_list"})
            sessions = (await on_laptop.expect("sessions"))["sessions"]
            phone_sid = next(s["id"] for s in sessions if not s["current"])
            # Jonas may neither list nor end Sara's sessions.
            await jonas.send({"t": "session_list", "subject": "sara.lind"})
            assert (await jonas.expect("error", ref="session_list"))["code"] == "forbidden"
            await jonas.send({"t": "session_revoke", "session": phone_sid})
            assert (await jonas.expect("error", ref="session_revoke"))["code"] == "forbidden"
            await jonas.send({"t": "session_revoke", "subject": "sara.lind"})
            assert (await jonas.expect("error", ref="session_revoke"))["code"] == "forbidden"
            await jonas.send({"t": "session_revoke", "session": "0" * 24})
            assert (await jonas.expect("error", ref="session_revoke"))["code"] == "no_such_session"
            await jonas.send({"t": "session_revoke"})
            assert (await jonas.expect("error", ref="session_revoke"))["code"] == "bad_field"
            # Sara ends her phone's session from the laptop: only the phone is closed.
            await on_laptop.send({"t": "session_revoke", "session": phone_sid})
            assert (await on_laptop.expect("session_revoked"))["count"] == 1
            code, _ = await closed(on_phone)
            assert code == 4010
            await on_laptop.sync()
            assert on_laptop.closed is not None and not on_laptop.closed.done()
        for b in (phone, laptop, other):
            await b.aclose()


async def test_a_session_ended_elsewhere_closes_its_connection(
    signin: SignIn, tmp_path: Path
) -> None:
    async with signin(tmp_path) as sp:
        assert sp.auth is not None and sp.auth.checker is not None
        browser = await sign_in(sp, "mia.berg")
        async with CookieAgent(ws_url(sp), browser.cookie_header(), name="x") as agent:
            conn = next(c for c in sp.connections if c.subject == "id:mia.berg")
            # As when the session expires, or another process revoked it and its note was
            # missed: the record is gone; the next check closes the connection.
            await sp.store.keyspace("auth").delete("s:" + conn.auth_session)
            await sp.auth.checker.next()
            code, _ = await closed(agent)
            assert code == 4010
        browser2 = await sign_in(sp, "mia.berg")
        async with CookieAgent(ws_url(sp), browser2.cookie_header(), name="x") as agent:
            conn = next(c for c in sp.connections if c.subject == "id:mia.berg")
            # A revocation announced by another process (pub/sub) closes it here too.
            note = {"sids": [conn.auth_session], "subject": None, "reason": "elsewhere"}
            await sp.store.keyspace("auth").publish(REVOKED_CHANNEL, msgpack.packb(note))
            code, _ = await closed(agent)
            assert code == 4010
        await browser.aclose()
        await browser2.aclose()


async def test_resume_revalidates_the_session(signin: SignIn, tmp_path: Path) -> None:
    async with signin(tmp_path) as sp:
        browser = await sign_in(sp, "sara.lind")
        cookie = browser.cookie_header()
        first = CookieAgent(ws_url(sp), cookie, name="x")
        await first.connect()
        entity = first.id
        await first.abort()
        # With a live session, the dropped avatar comes back.
        back = CookieAgent(ws_url(sp), cookie, name="x", resume=first.resume)
        await asyncio.wait_for(back.connect(), 10)
        assert back.welcome is not None and back.welcome["resumed"] is True
        assert back.id == entity and back.welcome["role"] == "staff"
        await back.abort()
        # After the session is revoked, the resume is refused and the avatar is not given.
        assert sp.auth is not None
        [session] = await sp.auth.sessions.of_subject("sara.lind")
        await sp.auth.sessions.revoke(session.sid)
        agent = CookieAgent(ws_url(sp), cookie, name="x", resume=back.resume)
        await agent.connect_raw()
        await agent.send({"t": "hello", "v": PROTOCOL_VERSION, "resume": back.resume or ""})
        assert (await agent.expect("error", ref="hello"))["code"] == "signed_out"
        code, _ = await closed(agent)
        assert code == 4010
        assert not [m for m in agent.messages if m["t"] in ("welcome", "joined")]
        await browser.aclose()
