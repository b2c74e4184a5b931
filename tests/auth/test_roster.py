"""The roster from the identity provider's groups reaches the desks, and staff see that a
citizen proved who they are (``verified``), never more.

Sara Lind is in ``sp-desk-general`` (services general and registration, desks 1 and 2)
and ``sp-lang-da`` (Danish); the hall has four desks.
"""

from __future__ import annotations

from pathlib import Path

from agents.client import AgentClient
from server.app import ServicePoint
from server.identity import Keyring
from tests.auth.conftest import (
    SECRET,
    CookieAgent,
    Provider,
    SignIn,
    sign_in,
    ws_url,
)
from tests.auth.test_eid import CLAIMS_NEVER_KEPT, prove, serving_with_eid

KEYRING = Keyring(SECRET)


def staff_agent(sp: ServicePoint, name: str) -> AgentClient:
    """Staff with a development role token (no sign-in, so no roster)."""
    return AgentClient(ws_url(sp), name="x", token=KEYRING.mint("staff", name))


async def test_the_roster_gives_the_desks_services_and_languages(
    signin: SignIn, tmp_path: Path
) -> None:
    async with signin(tmp_path) as sp:
        browser = await sign_in(sp, "sara.lind")
        async with CookieAgent(ws_url(sp), browser.cookie_header(), name="x") as sara:
            off = await sara.expect("duty")
            assert off["status"] == "off" and off["desks"] == ["desk-1", "desk-2"]
            await sara.send({"t": "duty", "status": "available", "desk": "desk-3"})
            refused = await sara.expect("error", ref="duty")
            assert refused["code"] == "not_rostered" and "desk-1, desk-2" in refused["msg"]
            await sara.send({"t": "duty", "status": "available", "desk": "desk-1"})
            on = await sara.expect("duty", status="available")
            assert on["desk"] == "desk-1" and on["desks"] == ["desk-1", "desk-2"]
            desks = next(f for f in sp.features if f.name == "desks")
            state = desks.service.on_duty["id:sara.lind"]  # type: ignore[attr-defined]
            assert state.languages == frozenset({"da", "en"})
            desk = sp.world.desk("desk-1")
            assert desk is not None
            expected = frozenset({"general", "registration"}) & frozenset(desk.services)
            assert state.services == (expected or frozenset(desk.services))
        # A development role token has no roster: any desk, and no list is sent.
        async with staff_agent(sp, "Tove Token") as tove:
            await tove.send({"t": "duty", "status": "available", "desk": "desk-3"})
            on = await tove.expect("duty", status="available")
            assert on["desk"] == "desk-3" and "desks" not in on
        await browser.aclose()


async def test_staff_see_that_a_citizen_is_verified_and_nothing_more(
    provider: Provider, eid_provider: Provider, tmp_path: Path
) -> None:
    async with serving_with_eid(provider, eid_provider, tmp_path) as sp:
        async with AgentClient(ws_url(sp), name="Eva") as first:
            assert first.welcome is not None
            key = str(first.welcome["citizen"])
        await (await prove(sp, key, "eva.eid")).aclose()
        desk = sp.world.desks[0]
        service = desk.services[0]
        async with (
            staff_agent(sp, "Sam Staff") as sam,
            AgentClient(ws_url(sp), name="Eva", citizen=key) as eva,
            AgentClient(ws_url(sp), name="Anna") as anna,
        ):
            await sam.send({"t": "duty", "status": "available", "desk": desk.id})
            await sam.expect("duty", status="available")
            for citizen in (eva, anna):
                await citizen.send({"t": "take_ticket", "service": service, "lang": "en"})
                await citizen.expect("ticket")
            cases = []
            for _ in range(2):
                await sam.send({"t": "call_next"})
                case = await sam.expect("case", status="called")
                cases.append(case)
                await sam.send({"t": "close_case", "outcome": "no_show"})
                await sam.expect("case", status="no_show")
            by_name = {c["name"]: c for c in cases}
            assert by_name["Eva"]["verified"] is True and by_name["Anna"]["verified"] is False
            for case in cases:
                assert not any(v in str(case) for v in (*CLAIMS_NEVER_KEPT, "eva.eid"))
