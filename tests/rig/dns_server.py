"""An in-process authoritative DNS server serving zone text given by each test.

Code under test resolves through it with a real resolver over real sockets (UDP, and TCP on the
same port for truncated answers), so lookups, retries and timeouts behave as in production.
Faults are injected per name: SERVFAIL, REFUSED, or silence (timeout); `latency` delays every
answer without serialising them, because each query is answered on its own thread.
"""

from __future__ import annotations

import re
import socket
import socketserver
import struct
import textwrap
import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal, Self, cast, get_args

from dnslib import (
    CLASS,
    EDNS0,
    QTYPE,
    RCODE,
    RD,
    RDMAP,
    RR,
    SOA,
    TXT,
    DNSError,
    DNSHeader,
    DNSLabel,
    DNSRecord,
)
from dnslib.dns import ZoneParser, parse_time

from todoke.core.dns import Nameserver

FaultKind = Literal["servfail", "timeout", "refused"]
_FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)

# Labels lowercased, leftmost first; the root is ().
_Key = tuple[bytes, ...]

# RFC 1035 §4.2.1 without EDNS; with EDNS we cap at the 2020 DNS flag day size, which avoids
# IP fragmentation and is what most resolvers now advertise.
_CLASSIC_UDP_LIMIT = 512
_EDNS_UDP_LIMIT = 1232
_DEFAULT_TTL = 300
_CLASSES = ("IN", "CH", "HS")


def _key(name: DNSLabel | str) -> _Key:
    label = name if isinstance(name, DNSLabel) else DNSLabel(name)
    return tuple(part.lower() for part in label.label)


def _within(name: _Key, apex: _Key) -> bool:
    return len(name) >= len(apex) and name[len(name) - len(apex) :] == apex


def _split_character_strings(text: str) -> list[bytes]:
    # A character-string holds at most 255 octets (RFC 1035 §3.3). Long DKIM keys are often
    # written as one string; split them the way DNS hosting tools do, since SPF and DKIM
    # readers concatenate the strings (RFC 7208 §3.3, RFC 6376 §3.6.2.2).
    data = text.encode()
    return [data[i : i + 255] for i in range(0, len(data), 255)] or [b""]


class _ZoneParser(ZoneParser):  # type: ignore[misc]
    """dnslib's parser plus TTL units ("1h"), TTL and class in either order, "@" in rdata and
    TXT strings over 255 octets."""

    def parse_rr(self, rr: list[str]) -> RR:
        label = self.parse_label(rr.pop(0))
        ttl, rclass = self.ttl, "IN"
        for _ in range(2):
            if rr and rr[0][:1].isdigit():
                ttl = parse_time(rr.pop(0))
            elif rr and rr[0].upper() in _CLASSES:
                rclass = rr.pop(0).upper()
        if not rr:
            raise ValueError(f"record for {label} has no type")
        rtype = rr.pop(0).upper()
        if rtype == "TXT":
            rdata = TXT([chunk for text in rr for chunk in _split_character_strings(text)])
        else:
            # dnslib reads "@" in owner names only; names inside rdata need it too ("CNAME @").
            rr = [str(self.origin) if token == "@" else token for token in rr]
            rdata = RDMAP.get(rtype, RD).fromZone(rr, self.origin)
        return RR(
            rname=label,
            ttl=ttl,
            rclass=getattr(CLASS, rclass),
            rtype=getattr(QTYPE, rtype),
            rdata=rdata,
        )


@dataclass
class _Zone:
    apex: _Key
    soa: RR
    records: dict[_Key, list[RR]] = field(default_factory=dict)
    # Every owner name and its ancestors up to the apex, so empty non-terminals exist.
    names: set[_Key] = field(default_factory=set)

    def add(self, rr: RR) -> None:
        owner = _key(rr.rname)
        self.records.setdefault(owner, []).append(rr)
        for start in range(len(owner) - len(self.apex) + 1):
            self.names.add(owner[start:])

    def lookup(self, name: _Key) -> list[RR] | None:
        """Records at `name` ([] for a name with no records), or None if it does not exist."""
        if name in self.records:
            return self.records[name]
        if name in self.names:
            return []
        # RFC 4592 §3.3.1: a wildcard answers only below the closest existing ancestor.
        encloser = name[1:]
        while encloser not in self.names:
            encloser = encloser[1:]
        wildcard = self.records.get((b"*", *encloser))
        if wildcard is None:
            return None
        owner = DNSLabel(list(name))
        return [RR(owner, rr.rtype, rr.rclass, rr.ttl, rr.rdata) for rr in wildcard]

    def negative_soa(self) -> RR:
        # RFC 2308 §5: negative answers are cached for min(SOA TTL, SOA MINIMUM).
        ttl = min(self.soa.ttl, self.soa.rdata.times[4])
        return RR(self.soa.rname, QTYPE.SOA, self.soa.rclass, ttl, self.soa.rdata)


def parse_zones(text: str) -> list[_Zone]:
    """Parse master-file text into zones: one per SOA, or one at the first $ORIGIN without SOA."""
    text = textwrap.dedent(text)
    if not text.strip():
        return []
    try:
        rrs: list[RR] = list(_ZoneParser(text, ttl=_DEFAULT_TTL).parse())
    except (DNSError, ValueError, IndexError, AttributeError) as error:
        raise ValueError(f"cannot parse zone text: {error}") from error
    zones = {_key(rr.rname): _Zone(_key(rr.rname), rr) for rr in rrs if rr.rtype == QTYPE.SOA}
    if not zones:
        origin = re.search(r"^\s*\$ORIGIN\s+(\S+)", text, re.MULTILINE)
        if origin is None:
            raise ValueError("zone text needs an SOA record or an $ORIGIN line to place the zone")
        apex = DNSLabel(origin[1])
        soa = RR(
            apex,
            QTYPE.SOA,
            ttl=_DEFAULT_TTL,
            rdata=SOA(apex.add("ns"), apex.add("hostmaster"), (1, 3600, 600, 86400, 300)),
        )
        zones = {_key(apex): _Zone(_key(apex), soa)}
        zones[_key(apex)].add(soa)
    for rr in rrs:
        owner = _key(rr.rname)
        apexes = [apex for apex in zones if _within(owner, apex)]
        if not apexes:
            raise ValueError(f"{rr.rname} is outside the zone(s) in this text")
        zones[max(apexes, key=len)].add(rr)
    return list(zones.values())


def _resolve(zones: dict[_Key, _Zone], request: DNSRecord) -> DNSRecord:
    qname = _key(request.q.qname)
    qtype = request.q.qtype
    apexes = [apex for apex in zones if _within(qname, apex)]
    if not apexes:
        reply = request.reply(ra=0, aa=0)
        reply.header.rcode = RCODE.REFUSED
        return reply
    zone = zones[max(apexes, key=len)]
    reply = request.reply(ra=0, aa=1)
    name, seen, negative = qname, set[_Key](), True
    while name not in seen and _within(name, zone.apex):
        seen.add(name)
        records = zone.lookup(name)
        if records is None:
            # RFC 6604: after a CNAME the rcode describes the last name in the chain.
            reply.header.rcode = RCODE.NXDOMAIN
            break
        matches = [rr for rr in records if qtype in (rr.rtype, QTYPE.ANY)]
        if matches:
            reply.add_answer(*matches)
            negative = False
            break
        cnames = [rr for rr in records if rr.rtype == QTYPE.CNAME]
        if not cnames:
            break
        reply.add_answer(cnames[0])
        name = _key(cnames[0].rdata.label)
    else:
        # The chain left this zone or looped: the CNAMEs so far are the whole answer.
        negative = False
    if negative:
        reply.add_auth(zone.negative_soa())
    return reply


def _pack(request: DNSRecord, reply: DNSRecord, transport: str) -> bytes:
    limit = _CLASSIC_UDP_LIMIT
    opt = next((rr for rr in request.ar if rr.rtype == QTYPE.OPT), None)
    if opt is not None:
        limit = max(_CLASSIC_UDP_LIMIT, min(opt.rclass, _EDNS_UDP_LIMIT))
        reply.add_ar(EDNS0(udp_len=_EDNS_UDP_LIMIT))
    packed: bytes = reply.pack()
    if transport == "udp" and len(packed) > limit:
        # Header and question only, with TC set: the client retries the same query over TCP.
        truncated = DNSRecord(
            DNSHeader(id=reply.header.id, bitmap=reply.header.bitmap), q=request.q
        )
        truncated.header.tc = 1
        if opt is not None:
            truncated.add_ar(EDNS0(udp_len=_EDNS_UDP_LIMIT))
        packed = truncated.pack()
    return packed


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        rig = cast("_UDPServer | _TCPServer", self.server).rig
        if isinstance(self.request, tuple):
            data, sock = self.request
            answer = rig.respond(data, "udp")
            if answer is not None:
                sock.sendto(answer, self.client_address)
            return
        conn: socket.socket = self.request
        conn.settimeout(10)
        try:
            while (data := _read_tcp_message(conn)) is not None:
                answer = rig.respond(data, "tcp")
                if answer is None:
                    rig.stopping.wait()
                    return
                conn.sendall(struct.pack("!H", len(answer)) + answer)
        except OSError:
            return


def _read_tcp_message(conn: socket.socket) -> bytes | None:
    header = _recv_exact(conn, 2)
    if header is None:
        return None
    return _recv_exact(conn, struct.unpack("!H", header)[0])


def _recv_exact(conn: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


class _UDPServer(socketserver.ThreadingUDPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], rig: LocalDNSServer) -> None:
        self.rig = rig
        super().__init__(address, _Handler)


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], rig: LocalDNSServer) -> None:
        self.rig = rig
        super().__init__(address, _Handler)


class LocalDNSServer:
    """Authoritative server on 127.0.0.1, UDP and TCP on one ephemeral port.

    `queries` lists every (qname, qtype) received, qname lowercased with a trailing dot;
    `tcp_queries` the subset that came over TCP.
    """

    def __init__(self, zone_text: str | None = None, *, host: str = "127.0.0.1") -> None:
        self.host = host
        self.latency = 0.0
        self.queries: list[tuple[str, str]] = []
        self.tcp_queries: list[tuple[str, str]] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._zones: dict[_Key, _Zone] = {}
        self._faults: dict[tuple[_Key, str | None], FaultKind] = {}
        self._servers: list[_UDPServer | _TCPServer] = []
        self._threads: list[threading.Thread] = []
        if zone_text is not None:
            self.add_zone(zone_text)

    def add_zone(self, text: str) -> None:
        """Load the zones in `text`; a zone with the apex of a loaded one replaces it."""
        zones = dict(self._zones)
        zones.update((zone.apex, zone) for zone in parse_zones(text))
        self._zones = zones

    def replace_zones(self, text: str) -> None:
        """Drop every loaded zone and serve only those in `text`."""
        self._zones = {zone.apex: zone for zone in parse_zones(text)}

    def fail(self, name: str, kind: FaultKind, qtype: str | None = None) -> None:
        """Answer queries for `name` (of `qtype`, or any type) with a fault instead of data."""
        if kind not in _FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; expected one of {_FAULT_KINDS}")
        with self._lock:
            self._faults[(_key(name), qtype.upper() if qtype else None)] = kind

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def respond(self, data: bytes, transport: Literal["udp", "tcp"]) -> bytes | None:
        """The wire answer to one query, or None to stay silent."""
        try:
            request = DNSRecord.parse(data)
        except DNSError:
            return None
        name, qtype = _key(request.q.qname), str(QTYPE[request.q.qtype])
        seen = (str(request.q.qname).lower(), qtype)
        with self._lock:
            self.queries.append(seen)
            if transport == "tcp":
                self.tcp_queries.append(seen)
            fault = self._faults.get((name, qtype), self._faults.get((name, None)))
        if self.latency > 0:
            self.stopping.wait(self.latency)
        if fault == "timeout":
            return None
        if fault is None:
            reply = _resolve(self._zones, request)
        else:
            reply = request.reply(ra=0, aa=0)
            reply.header.rcode = RCODE.SERVFAIL if fault == "servfail" else RCODE.REFUSED
        return _pack(request, reply, transport)

    def start(self) -> Self:
        if self._servers:
            raise RuntimeError("DNS server already running")
        self.stopping.clear()
        udp, tcp = self._bind()
        self._servers = [udp, tcp]
        for server in self._servers:
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self.stopping.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers, self._threads = [], []

    def _bind(self) -> tuple[_UDPServer, _TCPServer]:
        # The kernel picks a free UDP port; TCP may hold that number already, so try again.
        for _ in range(50):
            udp = _UDPServer((self.host, 0), self)
            try:
                return udp, _TCPServer((self.host, udp.server_address[1]), self)
            except OSError:
                udp.server_close()
        raise RuntimeError("no port free for both UDP and TCP")

    @property
    def port(self) -> int:
        if not self._servers:
            raise RuntimeError("DNS server is not running")
        return int(self._servers[0].server_address[1])

    @property
    def nameserver(self) -> Nameserver:
        return Nameserver(self.host, self.port)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
