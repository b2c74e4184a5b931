"""`Hub`: the connections of one process, and the people, notify and place ports on them.

The edge registers each connection as it enters the world; features reach
people only through the ports this class implements (`server.plug.People`,
`Notify`, `Place`), by entity id, never through a connection object.

It also keeps the two "only one" rules of a session:

- a resume token is held by at most one live connection (`claim_resume`);
- a role token's subject is held by at most one live connection: a second
  connection of the same subject replaces the first, which gets ``bye`` and
  close 4009, as a resume does (`claim_subject`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from protocol.codec import encode
from protocol.errors import CloseCode
from server.edge.link import ClientLink, broadcast
from server.plug import Outgoing, Person
from server.space import Avatar, Space
from server.tasks import Tasks

if TYPE_CHECKING:
    from server.edge.connection import ClientConnection


class Remote(Protocol):
    """Reaches avatars other processes own (`server.cluster.replication.Replication`)."""

    def deliver(self, entities: Iterable[int], payload: bytes) -> int: ...
    def kick(self, entity: int, reason: str) -> bool: ...
    def place(self, entity: int, x: float, z: float, yaw: float) -> bool: ...
    async def release(self, entity: int) -> None: ...
    def directory_person(self, entity: int) -> Person | None:
        """Someone connected to another process (in view here or not)."""
        ...

    def directory_subject(self, subject: str) -> Person | None: ...
    def last_seen(self, entity: int) -> tuple[tuple[float, float] | None, str]:
        """Where a person out of view here was, as their own process last said."""
        ...

    def met_in_zone(self, zone: str) -> list[int]:
        """People out of view here in ``zone``, as their own processes last said."""
        ...


def replica_person(avatar: Avatar) -> Person:
    """The person of an avatar another process owns, as its replica here knows them."""
    return Person(avatar.id, avatar.subject, avatar.name, avatar.role, avatar.verified)


class Hub:
    def __init__(self, space: Space, tasks: Tasks) -> None:
        self.space = space
        self.tasks = tasks
        self.remote: Remote | None = None
        """Set in a cluster: messages and kicks for replicas go to their owners."""
        self.connections: set[ClientConnection] = set()
        self.by_avatar: dict[int, ClientConnection] = {}
        self.by_subject: dict[str, ClientConnection] = {}
        self.live_resume: dict[str, ClientConnection] = {}

    # -- registration (the edge) ------------------------------------------

    def entered(self, conn: ClientConnection, entity: int) -> None:
        self.by_avatar[entity] = conn

    def remember(self, conn: ClientConnection) -> None:
        self.live_resume[conn.resume_token] = conn

    def forget_presence(self, conn: ClientConnection) -> None:
        """``conn`` is going: nobody reaches its avatar or its subject through it any more."""
        if conn.avatar is not None and self.by_avatar.get(conn.avatar.id) is conn:
            del self.by_avatar[conn.avatar.id]
        if conn.subject and self.by_subject.get(conn.subject) is conn:
            del self.by_subject[conn.subject]

    def forget_resume(self, conn: ClientConnection) -> None:
        """``conn``'s resume token is no longer held live (spent, or its record is saved)."""
        if self.live_resume.get(conn.resume_token) is conn:
            del self.live_resume[conn.resume_token]

    def forget(self, conn: ClientConnection) -> None:
        self.forget_presence(conn)
        self.forget_resume(conn)

    def claim_subject(self, conn: ClientConnection, subject: str) -> ClientConnection | None:
        """Make ``conn`` the one connection of ``subject``; returns the one it replaces."""
        old = self.by_subject.get(subject)
        self.by_subject[subject] = conn
        if old is None or old is conn:
            return None
        old.keep_for_resume = False
        self.forget_resume(old)
        old.replaced = True
        self.tasks.spawn(
            old.close(
                CloseCode.REPLACED,
                "replaced by a newer connection",
                bye="signed in on another connection",
            )
        )
        return old

    def link_of(self, entity: int) -> ClientLink | None:
        conn = self.by_avatar.get(entity)
        return conn.link if conn is not None else None

    def get(self, entity: int) -> Person | None:
        """The person whose avatar has this entity id, if connected here."""
        conn = self.by_avatar.get(entity)
        return conn.person_or_none() if conn is not None else None

    def find(self, entity: int) -> Person | None:
        """`get`, or in a cluster the person whose avatar another process owns."""
        person = self.get(entity)
        if person is not None:
            return person
        avatar = self.space.by_id.get(entity)
        if avatar is not None and avatar.origin:
            return replica_person(avatar)
        if avatar is None and self.remote is not None:
            return self.remote.directory_person(entity)
        return None

    # -- Place ---------------------------------------------------------------

    def place(self, entity: int, x: float, z: float, yaw: float) -> None:
        avatar = self.space.by_id.get(entity)
        if avatar is None or avatar.link is None:
            if self.remote is not None:  # a feature at home placed someone elsewhere
                self.remote.place(entity, x, z, yaw)
            return
        px, pz = self.space.place(avatar, x, z, yaw)
        msg: dict[str, Any] = {"t": "correct", "seq": avatar.last_seq, "x": px, "z": pz}
        avatar.link.send({**msg, "yaw": yaw})


class PeoplePort:
    """`server.plug.People`: who is here and where, from the hub's registry and the space."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._space = hub.space

    def get(self, entity: int) -> Person | None:
        return self._hub.get(entity)

    def find(self, entity: int) -> Person | None:
        return self._hub.find(entity)

    def by_subject(self, subject: str) -> Person | None:
        conn = self._hub.by_subject.get(subject)
        if conn is None and subject.startswith("citizen:"):
            # Only token subjects are claimed (one connection each); a citizen's key may
            # be open in two tabs: the one in the world is theirs (rare lookups: data rights).
            conn = next(
                (c for c in self._hub.connections if c.subject == subject and c.avatar), None
            )
        return conn.person_or_none() if conn is not None else None

    def find_subject(self, subject: str) -> Person | None:
        person = PeoplePort.by_subject(self, subject)
        if person is not None or not subject:
            return person
        for avatar in self._space.by_id.values():
            if avatar.origin and avatar.subject == subject:
                return replica_person(avatar)
        remote = self._hub.remote
        return remote.directory_subject(subject) if remote is not None else None

    def position(self, entity: int) -> tuple[float, float] | None:
        avatar = self._space.by_id.get(entity)
        if avatar is None:
            return None
        x, z = self._space.positions[avatar.slot].tolist()
        return float(x), float(z)

    def zone(self, entity: int) -> str | None:
        avatar = self._space.by_id.get(entity)
        return self._space.zone_name(self._space.zone_of(avatar)) if avatar is not None else None

    def in_zone(self, zone: str, everywhere: bool = False) -> list[int]:
        index = self._space.world.zone_id_index(zone)
        if index is None:
            return []
        return [a.id for a in self._space.in_zone(index, everywhere)]

    def near(self, x: float, z: float, radius: float, everywhere: bool = False) -> list[int]:
        slots = self._space.near(x, z, radius)
        if not everywhere:
            slots = slots[self._space.origin[slots] == 0]
        return [a.id for a in (self._space.avatars[s] for s in slots.tolist()) if a is not None]

    async def remove(self, entity: int, reason: str) -> bool:
        conn = self._hub.by_avatar.get(entity)
        if conn is None:
            avatar = self._space.by_id.get(entity)
            remote = self._hub.remote
            if avatar is not None and avatar.origin and remote is not None:
                return remote.kick(entity, reason)
            return False
        await conn.close(CloseCode.KICKED, "removed by a moderator", bye=reason)
        return True


class NotifyPort:
    """`server.plug.Notify`: writes to the clients the hub knows, each message encoded once."""

    def __init__(self, hub: Hub, people: PeoplePort) -> None:
        self._hub = hub
        self._people = people

    def to(self, entity: int, msg: Outgoing) -> bool:
        return self.to_many([entity], msg) == 1

    def to_many(self, entities: Iterable[int], msg: Outgoing) -> int:
        """Write to the clients connected here; in a cluster, relay the message once to
        each process that owns some of the rest (counted as reached)."""
        hub = self._hub
        if hub.remote is None:
            return broadcast((hub.link_of(e) for e in entities), msg)
        links: list[ClientLink] = []
        elsewhere: list[int] = []
        by_id = hub.space.by_id
        for e in entities:
            link = hub.link_of(e)
            if link is not None:
                links.append(link)
            elif (avatar := by_id.get(e)) is None or avatar.origin:
                elsewhere.append(e)  # a replica, or out of view (the feature home)
        payload = msg if isinstance(msg, bytes) else encode(msg)
        here = broadcast(links, payload)
        return here + (hub.remote.deliver(elsewhere, payload) if elsewhere else 0)

    def zone(self, zone: str, msg: Outgoing) -> int:
        return self.to_many(self._people.in_zone(zone, everywhere=True), msg)

    def near(self, x: float, z: float, radius: float, msg: Outgoing) -> int:
        space = self._hub.space
        slots = space.near(x, z, radius)
        if self._hub.remote is not None and space.origin[slots].any():
            return self.to_many(self._people.near(x, z, radius, everywhere=True), msg)
        return broadcast((space.links[s] for s in slots.tolist()), msg)


class EverywherePeople(PeoplePort):
    """The people port of a feature that runs on one process for the whole cluster (the
    feature home, `server.cluster.home`): `get` is anyone connected anywhere, and
    `in_zone` and `near` list every avatar shown here, not only this process's."""

    def get(self, entity: int) -> Person | None:
        return self._hub.find(entity)

    def by_subject(self, subject: str) -> Person | None:
        return self.find_subject(subject)

    def position(self, entity: int) -> tuple[float, float] | None:
        at = super().position(entity)
        remote = self._hub.remote
        if at is None and remote is not None:
            at = remote.last_seen(entity)[0]
        return at

    def zone(self, entity: int) -> str | None:
        zone = super().zone(entity)
        remote = self._hub.remote
        if zone is None and remote is not None:
            zone = remote.last_seen(entity)[1] or None
        return zone

    def in_zone(self, zone: str, everywhere: bool = True) -> list[int]:
        shown = super().in_zone(zone, True)
        remote = self._hub.remote
        if remote is None:
            return shown
        seen = set(shown)
        by_id = self._space.by_id
        # Out of view here: where their own process last said they were.
        return shown + [e for e in remote.met_in_zone(zone) if e not in seen and e not in by_id]

    def near(self, x: float, z: float, radius: float, everywhere: bool = True) -> list[int]:
        return super().near(x, z, radius, True)
