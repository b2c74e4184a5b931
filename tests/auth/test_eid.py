"""A citizen proves who they are at an eID broker (a second oidc-provider with citizens who
have a national id number): the server keeps only a pairwise salted hash of the broker's
subject and ``verified: true`` against the citizen's pseudonymous identity."""

from __future__ import annotations

import contextlib
from pathlib import Path

import msgpack

from agents.client import AgentClient
from server.app import ServicePoint
from tests.auth.conftest import (
    Browser,
    Provider,
    SignIn,
    auth_section,
    base_url,
    free_port,
    provider_login,
    serving,
    ws_url,
)

CLAIMS_NEVER_KEPT = ("19900101-1234", "010203-4567", "Eva Andersson", "Otto Olsen", "1990-01-01")


async def prove(sp: ServicePoint, citizen_key: str, login: str) -> Browser:
    browser = Browser()
    browser.cookies.set("sp_citizen", citizen_key, domain="127.0.0.1", path="/auth/eid")
    page = await browser.get(base_url(sp) + "/auth/eid/start")
    assert 'name="login"' in page.text, page.text[:500]
    done = await provider_login(browser, page, login)
    assert done.status_code == 200
    assert str(done.url) == base_url(sp) + "/?verified=1"
    assert browser.cookie("sp_citizen") is None  # handed over once, then cleared
    return browser


def serving_with_eid(
    provider: Provider, eid_provider: Provider, data_dir: Path
) -> contextlib.AbstractAsyncContextManager[ServicePoint]:
    """A server with staff sign-in and the eID broker (asking for the national id scope)."""
    port = free_port()
    eid = auth_section(eid_provider, port, scopes="openid profile national_id")
    sections = {
        "auth": auth_section(provider, port),
        "auth_eid": {k: eid[k] for k in ("issuer", "client_id", "client_secret", "scopes")},
    }
    return serving(data_dir, port, sections)


async def auth_dump(sp: ServicePoint) -> bytes:
    ks = sp.store.keyspace("auth")
    out = b""
    for key in await ks.scan("*"):
        out += key.encode() + b"\n"
        try:
            out += (await ks.get(key)) or b""
        except TypeError:
            out += repr(await ks.hgetall(key)).encode()
    return out


async def test_a_verified_citizen_keeps_only_the_hash(
    provider: Provider, eid_provider: Provider, tmp_path: Path
) -> None:
    async with serving_with_eid(provider, eid_provider, tmp_path) as sp:
        assert sp.auth is not None
        async with AgentClient(ws_url(sp), name="Eva") as first:
            assert first.welcome is not None and "verified" not in first.welcome
            key = str(first.welcome["citizen"])
            subject = "citizen:" + sp.keyring.verify_citizen(key)
        browser = await prove(sp, key, "eva.eid")
        async with AgentClient(ws_url(sp), name="Eva", citizen=key) as again:
            assert again.welcome is not None and again.welcome["verified"] is True
            assert again.welcome["role"] == "citizen"
            conn = next(c for c in sp.connections if c.subject == subject)
            assert conn.verified is True
        raw = await sp.store.keyspace("auth").get("verified:" + subject)
        assert raw is not None
        record = msgpack.unpackb(raw, raw=False)
        assert set(record) == {"verified", "hash", "at"} and record["verified"] is True
        assert record["hash"] == sp.auth.verifications.pairwise(eid_provider.issuer, "eva.eid")
        dump = await auth_dump(sp)
        for value in (*CLAIMS_NEVER_KEPT, "eva.eid"):
            assert value.encode() not in dump, value
        # Pairwise: the same person from another identity gives the same hash; another
        # person another hash.
        async with AgentClient(ws_url(sp), name="Eva 2") as second:
            assert second.welcome is not None
            key2 = str(second.welcome["citizen"])
        async with AgentClient(ws_url(sp), name="Otto") as third:
            assert third.welcome is not None
            key3 = str(third.welcome["citizen"])
        await (await prove(sp, key2, "eva.eid")).aclose()
        await (await prove(sp, key3, "otto.eid")).aclose()
        hashes = []
        for k in (key, key2, key3):
            rec = await sp.auth.verifications.record("citizen:" + sp.keyring.verify_citizen(k))
            assert rec is not None
            hashes.append(rec["hash"])
        assert hashes[0] == hashes[1] != hashes[2]
        entries = await sp.audit.search(action="auth.verify") if sp.audit else []
        assert len(entries) == 3 and all(e["actor"].startswith("citizen:") for e in entries)
        assert not any(v in str(entries) for v in CLAIMS_NEVER_KEPT)
        await browser.aclose()


async def test_proving_needs_a_valid_citizen_key(
    signin: SignIn, eid_provider: Provider, tmp_path: Path
) -> None:
    async with signin(tmp_path, eid=eid_provider) as sp, Browser() as browser:
        assert (await browser.get(base_url(sp) + "/auth/me")).json()["eid"] is True
        page = await browser.get(base_url(sp) + "/auth/eid/start")
        assert page.status_code == 400 and "Open the service hall first" in page.text
        browser.cookies.set("sp_citizen", "forged.key.value", domain="127.0.0.1", path="/auth/eid")
        page = await browser.get(base_url(sp) + "/auth/eid/start")
        assert page.status_code == 400
        # A staff sign-in's callback cannot complete an eID sign-in, nor the reverse.
        page = await browser.get(
            base_url(sp) + "/auth/eid/callback", params={"state": "x", "code": "y"}
        )
        assert page.status_code == 400 and "state unknown" in page.text
