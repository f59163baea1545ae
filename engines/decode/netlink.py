"""Netlink messages as strace prints them (its netlink.c, nlattr.c, rtnl_link.c, rtnl_addr.c).

A buffer sent to or received from an ``AF_NETLINK`` socket is a sequence of
``struct nlmsghdr`` each followed by its payload:
``[{nlmsg_len=32, nlmsg_type=RTM_GETLINK, nlmsg_flags=NLM_F_REQUEST, ...}, {ifi_family=...}]``.
The payload is decoded for ``NETLINK_ROUTE``'s links and addresses (the
``ifinfomsg``/``ifaddrmsg`` and their attributes), ``NLMSG_ERROR`` and
``NLMSG_DONE``; any other as strace's hex string.  Pure: the bytes, the
socket's protocol (None where it is unknown: an unbound socket, which the
kernel does not list yet, and strace cannot tell either), the ABI's byte order.
Without ``-v`` a sequence (messages, attributes) is cut after ``-s`` elements.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable

from . import tables
from .text import flags, quote

NETLINK_ROUTE = 0
NETLINK_SOCK_DIAG = 4
NLM_F_REQUEST = 1
NLMSG_HDRLEN = 16
NLA_HDRLEN = 4
NLMSG_MIN_TYPE = 16
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLA_F_NESTED, NLA_F_NET_BYTEORDER = 0x8000, 0x4000

ERRNO_NAMES = {95: "EOPNOTSUPP", 11: "EAGAIN", 35: "EDEADLK"}  # strace's names of aliases
#: SOL_NETLINK's socket options (linux/netlink.h)
SOCKET_OPTIONS = {k + 1: "NETLINK_" + name for k, name in enumerate(
    "ADD_MEMBERSHIP DROP_MEMBERSHIP PKTINFO BROADCAST_ERROR NO_ENOBUFS RX_RING TX_RING "
    "LISTEN_ALL_NSID LIST_MEMBERSHIPS CAP_ACK EXT_ACK GET_STRICT_CHK".split())}
NETLINK_TYPES = {1: "NLMSG_NOOP", 2: "NLMSG_ERROR", 3: "NLMSG_DONE", 4: "NLMSG_OVERRUN"}


def _route_types() -> dict[int, str]:
    """strace's nl_route_types: RTM_BASE 16, four numbers per kind (NEW, DEL, GET, SET)."""
    kinds = {"LINK": "NDGS", "ADDR": "NDG", "ROUTE": "NDG", "NEIGH": "NDG", "RULE": "NDG",
             "QDISC": "NDG", "TCLASS": "NDG", "TFILTER": "NDG", "ACTION": "NDG",
             "PREFIX": "N", "MULTICAST": "__G", "ANYCAST": "__G", "NEIGHTBL": "N_GS",
             "NDUSEROPT": "N", "ADDRLABEL": "NDG", "DCB": "__GS", "NETCONF": "NDG",
             "MDB": "NDG", "NSID": "NDG", "STATS": "N_G", "CACHEREPORT": "N", "CHAIN": "NDG",
             "NEXTHOP": "NDG", "LINKPROP": "NDG", "VLAN": "NDG", "NEXTHOPBUCKET": "NDG"}
    verbs = {"N": "NEW", "D": "DEL", "G": "GET", "S": "SET"}
    out = {}
    for k, (kind, present) in enumerate(kinds.items()):
        for j, verb in enumerate(present):
            if verb != "_":
                out[16 + 4 * k + j] = f"RTM_{verbs[verb]}{kind}"
    return out


RTM_TYPES = _route_types()
NETLINK_FLAGS = ((1, "NLM_F_REQUEST"), (2, "NLM_F_MULTI"), (4, "NLM_F_ACK"), (8, "NLM_F_ECHO"),
                 (0x10, "NLM_F_DUMP_INTR"), (0x20, "NLM_F_DUMP_FILTERED"))
GET_FLAGS = ((0x300, "NLM_F_DUMP"), (0x100, "NLM_F_ROOT"), (0x200, "NLM_F_MATCH"),
             (0x400, "NLM_F_ATOMIC"))
NEW_FLAGS = ((0x100, "NLM_F_REPLACE"), (0x200, "NLM_F_EXCL"), (0x400, "NLM_F_CREATE"),
             (0x800, "NLM_F_APPEND"))
DELETE_FLAGS = ((0x100, "NLM_F_NONREC"), (0x200, "NLM_F_BULK"))
ACK_FLAGS = ((0x100, "NLM_F_CAPPED"), (0x200, "NLM_F_ACK_TLVS"))
RTM_DELACTION = 49

IFF_FLAGS = tuple((1 << k, "IFF_" + name) for k, name in enumerate(
    "UP BROADCAST DEBUG LOOPBACK POINTOPOINT NOTRAILERS RUNNING NOARP PROMISC ALLMULTI MASTER "
    "SLAVE MULTICAST PORTSEL AUTOMEDIA DYNAMIC LOWER_UP DORMANT ECHO".split()))
IFA_FLAGS = tuple((1 << k, "IFA_F_" + name) for k, name in enumerate(
    "SECONDARY NODAD OPTIMISTIC DADFAILED HOMEADDRESS DEPRECATED TENTATIVE PERMANENT "
    "MANAGETEMPADDR NOPREFIXROUTE MCAUTOJOIN STABLE_PRIVACY".split()))
SCOPES = {0: "RT_SCOPE_UNIVERSE", 200: "RT_SCOPE_SITE", 253: "RT_SCOPE_LINK",
          254: "RT_SCOPE_HOST", 255: "RT_SCOPE_NOWHERE"}
ARPHRD = {0: "ARPHRD_NETROM", 1: "ARPHRD_ETHER", 2: "ARPHRD_EETHER", 3: "ARPHRD_AX25",
          4: "ARPHRD_PRONET", 5: "ARPHRD_CHAOS", 6: "ARPHRD_IEEE802", 7: "ARPHRD_ARCNET",
          8: "ARPHRD_APPLETLK", 15: "ARPHRD_DLCI", 19: "ARPHRD_ATM", 23: "ARPHRD_METRICOM",
          24: "ARPHRD_IEEE1394", 27: "ARPHRD_EUI64", 32: "ARPHRD_INFINIBAND",
          256: "ARPHRD_SLIP", 257: "ARPHRD_CSLIP", 258: "ARPHRD_SLIP6", 259: "ARPHRD_CSLIP6",
          260: "ARPHRD_RSRVD", 264: "ARPHRD_ADAPT", 270: "ARPHRD_ROSE", 271: "ARPHRD_X25",
          272: "ARPHRD_HWX25", 280: "ARPHRD_CAN", 290: "ARPHRD_MCTP", 512: "ARPHRD_PPP",
          513: "ARPHRD_CISCO", 516: "ARPHRD_LAPB", 517: "ARPHRD_DDCMP", 518: "ARPHRD_RAWHDLC",
          519: "ARPHRD_RAWIP", 768: "ARPHRD_TUNNEL", 769: "ARPHRD_TUNNEL6", 770: "ARPHRD_FRAD",
          771: "ARPHRD_SKIP", 772: "ARPHRD_LOOPBACK", 773: "ARPHRD_LOCALTLK",
          774: "ARPHRD_FDDI", 775: "ARPHRD_BIF", 776: "ARPHRD_SIT", 777: "ARPHRD_IPDDP",
          778: "ARPHRD_IPGRE", 779: "ARPHRD_PIMREG", 780: "ARPHRD_HIPPI", 781: "ARPHRD_ASH",
          782: "ARPHRD_ECONET", 783: "ARPHRD_IRDA", 784: "ARPHRD_FCPP", 785: "ARPHRD_FCAL",
          786: "ARPHRD_FCPL", 787: "ARPHRD_FCFABRIC", 800: "ARPHRD_IEEE802_TR",
          801: "ARPHRD_IEEE80211", 802: "ARPHRD_IEEE80211_PRISM",
          803: "ARPHRD_IEEE80211_RADIOTAP", 804: "ARPHRD_IEEE802154",
          805: "ARPHRD_IEEE802154_MONITOR", 820: "ARPHRD_PHONET", 821: "ARPHRD_PHONET_PIPE",
          822: "ARPHRD_CAIF", 823: "ARPHRD_IP6GRE", 824: "ARPHRD_NETLINK",
          825: "ARPHRD_6LOWPAN", 826: "ARPHRD_VSOCKMON", 0xFFFE: "ARPHRD_NONE",
          0xFFFF: "ARPHRD_VOID"}
IFLA_NAMES = ("UNSPEC ADDRESS BROADCAST IFNAME MTU LINK QDISC STATS COST PRIORITY MASTER "
              "WIRELESS PROTINFO TXQLEN MAP WEIGHT OPERSTATE LINKMODE LINKINFO NET_NS_PID "
              "IFALIAS NUM_VF VFINFO_LIST STATS64 VF_PORTS PORT_SELF AF_SPEC GROUP NET_NS_FD "
              "EXT_MASK PROMISCUITY NUM_TX_QUEUES NUM_RX_QUEUES CARRIER PHYS_PORT_ID "
              "CARRIER_CHANGES PHYS_SWITCH_ID LINK_NETNSID PHYS_PORT_NAME PROTO_DOWN "
              "GSO_MAX_SEGS GSO_MAX_SIZE PAD XDP EVENT NEW_NETNSID IF_NETNSID "
              "CARRIER_UP_COUNT CARRIER_DOWN_COUNT NEW_IFINDEX MIN_MTU MAX_MTU PROP_LIST "
              "ALT_IFNAME PERM_ADDRESS PROTO_DOWN_REASON PARENT_DEV_NAME PARENT_DEV_BUS_NAME "
              "GRO_MAX_SIZE TSO_MAX_SIZE TSO_MAX_SEGS ALLMULTI").split()
IFLA = {k: "IFLA_" + name for k, name in enumerate(IFLA_NAMES)}
IFA = {k: "IFA_" + name for k, name in enumerate(
    "UNSPEC ADDRESS LOCAL LABEL BROADCAST ANYCAST CACHEINFO MULTICAST FLAGS RT_PRIORITY "
    "TARGET_NETNSID PROTO".split())}
LINK_STATS = ("rx_packets tx_packets rx_bytes tx_bytes rx_errors tx_errors rx_dropped "
              "tx_dropped multicast collisions rx_length_errors rx_over_errors rx_crc_errors "
              "rx_frame_errors rx_fifo_errors rx_missed_errors tx_aborted_errors "
              "tx_carrier_errors tx_fifo_errors tx_heartbeat_errors tx_window_errors "
              "rx_compressed tx_compressed rx_nohandler").split()


class Shown:
    """How much to show: ``-s``, ``-v``, ``-x``; and the ABI's byte order."""

    __slots__ = ("limit", "verbose", "hex_strings", "order")

    def __init__(self, limit: int, verbose: bool, hex_strings: int, order: str):
        self.limit, self.verbose, self.hex_strings, self.order = limit, verbose, hex_strings, order

    def u(self, data: bytes, offset: int, size: int, signed: bool = False) -> int:
        return int.from_bytes(data[offset:offset + size], self.order, signed=signed)

    def hex(self, data: bytes) -> str:
        """strace's printstr_ex(QUOTE_FORCE_HEX): every byte in \\x, cut at -s."""
        return quote(data[:self.limit], self.hex_strings, True) + (
            "..." if len(data) > self.limit else "")


def bits(value: int, table, unknown: str) -> str:
    """strace's printflags_ex: the names, then the rest in hex (``A|0x40``); a value
    with no name at all as ``0x40 /* X_??? */``."""
    text = flags(value, table)
    return text + f" /* {unknown} */" if text.startswith("0x") else text


def chex(value: int) -> str:
    """C's ``%#x``: ``0``, ``0x26000``."""
    return f"{value:#x}" if value else "0"


def interface(index: int) -> str:
    """strace's PRINT_FIELD_IFINDEX: the name in the tracer's namespace, as strace looks it up."""
    try:
        return f'if_nametoindex("{socket.if_indextoname(index)}")'
    except OSError:
        return str(index)


def messages(data: bytes, protocol: int | None, s: Shown) -> str:
    """The messages in ``data`` (the bytes the call moved, as far as they were read)."""
    return _records(data, NLMSG_HDRLEN, 4, s,
                    lambda at, left, length: message(data[at:at + left], protocol, s))


def _records(data: bytes, header_size: int, length_size: int, s: Shown,
             decode: Callable[[int, int, int], str]) -> str:
    """strace's walk over netlink's records (messages, attributes): each begins with
    its length (``length_size`` bytes) and the next starts 4-aligned after it; a tail
    shorter than a header is shown in hex, and more than ``-s`` records as ``...``.
    ``decode(at, left, length)`` shows the record at ``at`` (``left`` bytes remain)."""
    items: list[str] = []
    at, left = 0, len(data)
    while True:
        if left < header_size:
            items.append(s.hex(data[at:at + left]))
            break
        if not s.verbose and len(items) == s.limit:
            items.append("...")
            break
        length = s.u(data, at, length_size)
        aligned = (length + 3) & ~3
        following = left - aligned if length >= header_size and left >= aligned else 0
        items.append(decode(at, left, length))
        if not following:
            break
        at, left = at + aligned, following
    return items[0] if len(items) == 1 else "[" + ", ".join(items) + "]"


def header(data: bytes, protocol: int | None, s: Shown) -> str:
    kind, value = s.u(data, 4, 2), s.u(data, 6, 2)
    if kind < NLMSG_MIN_TYPE:
        name = NETLINK_TYPES.get(kind) or f"{chex(kind)} /* NLMSG_??? */"
        extra = ACK_FLAGS if kind == NLMSG_ERROR else ()
    elif protocol == NETLINK_ROUTE:
        name = RTM_TYPES.get(kind) or f"{kind:#x} /* RTM_??? */"
        extra = GET_FLAGS if kind == RTM_DELACTION else (NEW_FLAGS, DELETE_FLAGS, GET_FLAGS,
                                                          ())[kind & 3]
    elif protocol == NETLINK_SOCK_DIAG:
        name = SOCK_DIAG_TYPES.get(kind) or f"{kind:#x} /* SOCK_DIAG_??? */"
        extra = GET_FLAGS
    else:
        name, extra = f"{kind:#x} /* NLMSG_??? */", ()
    shown = bits(value, NETLINK_FLAGS + extra, "NLM_F_???")
    return (f"{{nlmsg_len={s.u(data, 0, 4)}, nlmsg_type={name}, nlmsg_flags={shown}, "
            f"nlmsg_seq={s.u(data, 8, 4)}, nlmsg_pid={s.u(data, 12, 4, True)}}}")


def message(data: bytes, protocol: int | None, s: Shown) -> str:
    """One message: its header, and ``[header, payload]`` when it has one."""
    size = min(s.u(data, 0, 4), len(data))
    head = header(data, protocol, s)
    if size <= NLMSG_HDRLEN:
        return head
    return f"[{head}, {payload(data, data[NLMSG_HDRLEN:size], protocol, s)}]"


def payload(data: bytes, body: bytes, protocol: int | None, s: Shown) -> str:
    kind = s.u(data, 4, 2)
    if kind == NLMSG_ERROR:
        return error(body, protocol, s.u(data, 6, 2) & 0x100, s)
    if kind >= NLMSG_MIN_TYPE and protocol == NETLINK_ROUTE:
        decoder = ROUTE_DECODERS.get((kind - 16) >> 2)
        if decoder is not None:
            return decoder(body, s)
    if kind >= NLMSG_MIN_TYPE and protocol == NETLINK_SOCK_DIAG and body:
        return sock_diag(body, kind, s.u(data, 6, 2) & NLM_F_REQUEST, s)
    if kind == NLMSG_DONE and len(body) == 4:
        return str(s.u(body, 0, 4, True))
    return s.hex(body)


def error(body: bytes, protocol: int | None, capped: int, s: Shown) -> str:
    """``{error=-ENODEV, msg=[...]}``: the request the kernel answers, as far as it was sent."""
    if len(body) < 4 + NLMSG_HDRLEN:
        return s.hex(body)
    code = s.u(body, 0, 4, True)
    name = ERRNO_NAMES.get(-code) or errno.errorcode.get(-code) if code < 0 else None
    shown = f"-{name}" if name else str(code)
    inner = body[4:]
    size = max(NLMSG_HDRLEN, s.u(inner, 0, 4))
    part = min(len(inner), NLMSG_HDRLEN if capped else size)
    text = f"{{error={shown}, msg={message(inner[:part], protocol, s)}}}"
    if len(inner) > part:
        return f"[{text}, {attributes(inner[part:], {}, 'NLMSGERR_ATTR_???', {}, s)}]"
    return text


# -- attributes -------------------------------------------------------------------------
Decoder = Callable[[bytes, "Shown"], "str | None"]


def attributes(data: bytes, names: dict[int, str], unknown: str,
               decoders: dict[int, Decoder], s: Shown) -> str:
    """``[[{nla_len=7, nla_type=IFLA_IFNAME}, "lo"], ...]`` (strace's decode_nlattr)."""
    return _records(data, NLA_HDRLEN, 2, s, lambda at, left, length: attribute(
        data[at:at + min(length, left)], names, unknown, decoders, s))


def attribute(data: bytes, names: dict[int, str], unknown: str,
              decoders: dict[int, Decoder], s: Shown) -> str:
    kind = s.u(data, 2, 2)
    number = kind & ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER)
    prefix = ("NLA_F_NESTED|" if kind & NLA_F_NESTED else "") + (
        "NLA_F_NET_BYTEORDER|" if kind & NLA_F_NET_BYTEORDER else "")
    name = names.get(number) or f"{number:#x} /* {unknown} */"
    head = f"{{nla_len={s.u(data, 0, 2)}, nla_type={prefix}{name}}}"
    if len(data) <= NLA_HDRLEN:
        return head
    body = data[NLA_HDRLEN:]
    decoder = decoders.get(number)
    text = decoder(body, s) if decoder is not None else None
    return f"[{head}, {s.hex(body) if text is None else text}]"


def nla_str(body: bytes, s: Shown) -> str:
    text = body.split(b"\0", 1)[0]
    return quote(text[:s.limit], s.hex_strings, lookahead=text[s.limit:s.limit + 1]) + (
        "..." if len(text) > s.limit else "")


def nla_u8(body: bytes, s: Shown) -> str | None:
    return str(body[0]) if len(body) == 1 else None


def nla_u32(body: bytes, s: Shown) -> str | None:
    return str(s.u(body, 0, 4)) if len(body) == 4 else None


def nla_s32(body: bytes, s: Shown) -> str | None:
    return str(s.u(body, 0, 4, True)) if len(body) == 4 else None


def hwaddr(body: bytes, s: Shown) -> str:
    return ":".join(f"{b:02x}" for b in body[:s.limit]) + ("..." if len(body) > s.limit else "")


def link_stats(size: int, extra: tuple[str, ...]) -> Decoder:
    """rtnl_link_stats (u32 counters) and rtnl_link_stats64 (u64, and the newer fields)."""
    def decode(body: bytes, s: Shown) -> str | None:
        fields = LINK_STATS + list(extra)
        if len(body) < size * len(LINK_STATS):
            return None
        count = min(len(fields), len(body) // size)
        return "{" + ", ".join(f"{fields[k]}={s.u(body, size * k, size)}"
                               for k in range(count)) + "}"
    return decode


RTEXT_FILTERS = tuple((1 << k, "RTEXT_FILTER_" + name) for k, name in enumerate(
    "VF BRVLAN BRVLAN_COMPRESSED SKIP_STATS MRP CFM_CONFIG CFM_STATUS".split()))


def ext_mask(body: bytes, s: Shown) -> str | None:
    if not 4 <= len(body) <= 8:
        return None
    return bits(s.u(body, 0, 4), RTEXT_FILTERS, "RTEXT_FILTER_???")


IFLA_DECODERS: dict[int, Decoder] = {
    1: hwaddr, 2: hwaddr, 3: nla_str, 4: nla_u32, 5: nla_u32, 6: nla_str,
    7: link_stats(4, ()), 10: nla_u32, 13: nla_u32, 15: nla_u32, 16: nla_u8, 17: nla_u8,
    19: nla_u32, 20: nla_str, 21: nla_u32, 23: link_stats(8, ("rx_otherhost_dropped",)),
    27: nla_u32, 29: ext_mask, 30: nla_u32, 31: nla_u32, 32: nla_u32, 33: nla_u8, 35: nla_u32,
    37: nla_s32, 38: nla_str, 39: nla_u8, 40: nla_u32, 41: nla_u32, 45: nla_s32, 46: nla_s32,
    47: nla_u32,
    48: nla_u32, 50: nla_u32, 51: nla_u32, 53: nla_str, 54: hwaddr, 56: nla_str, 57: nla_str,
    58: nla_u32, 59: nla_u32, 60: nla_u32, 61: nla_u32,
}


def ifinfomsg(body: bytes, s: Shown) -> str:
    family = tables.ADDRESS_FAMILIES.get(body[0], f"{body[0]:#x} /* AF_??? */")
    if len(body) < 16:
        return f"{{ifi_family={family}, ...}}"
    head = (f"{{ifi_family={family}, ifi_type={ARPHRD.get(s.u(body, 2, 2), s.u(body, 2, 2))}, "
            f"ifi_index={interface(s.u(body, 4, 4, True))}, "
            f"ifi_flags={bits(s.u(body, 8, 4), IFF_FLAGS, 'IFF_???')}, "
            f"ifi_change={chex(s.u(body, 12, 4))}}}")
    if len(body) <= 16:
        return head
    return f"{head}, {attributes(body[16:], IFLA, 'IFLA_???', IFLA_DECODERS, s)}"


def ifa_address(family: int) -> Decoder:
    def decode(body: bytes, s: Shown) -> str | None:
        if family == socket.AF_INET and len(body) >= 4:
            return f'inet_addr("{socket.inet_ntop(socket.AF_INET, body[:4])}")'
        if family == socket.AF_INET6 and len(body) >= 16:
            return f'inet_pton(AF_INET6, "{socket.inet_ntop(socket.AF_INET6, body[:16])}")'
        return None
    return decode


def ifa_flags(body: bytes, s: Shown) -> str | None:
    return bits(s.u(body, 0, 4), IFA_FLAGS, "IFA_F_???") if len(body) == 4 else None


def ifa_cacheinfo(body: bytes, s: Shown) -> str | None:
    if len(body) < 16:
        return None
    names = ("ifa_prefered", "ifa_valid", "cstamp", "tstamp")
    return "{" + ", ".join(f"{n}={s.u(body, 4 * k, 4)}" for k, n in enumerate(names)) + "}"


def ifaddrmsg(body: bytes, s: Shown) -> str:
    family = tables.ADDRESS_FAMILIES.get(body[0], f"{body[0]:#x} /* AF_??? */")
    if len(body) < 8:
        return f"{{ifa_family={family}, ...}}"
    head = (f"{{ifa_family={family}, ifa_prefixlen={body[1]}, "
            f"ifa_flags={bits(body[2], IFA_FLAGS, 'IFA_F_???')}, "
            f"ifa_scope={SCOPES.get(body[3], body[3])}, "
            f"ifa_index={interface(s.u(body, 4, 4, True))}}}")
    if len(body) <= 8:
        return head
    address = ifa_address(body[0])
    decoders: dict[int, Decoder] = {1: address, 2: address, 3: nla_str, 4: address, 5: address,
                                    6: ifa_cacheinfo, 7: address, 8: ifa_flags, 9: nla_u32,
                                    10: nla_s32}
    return f"{head}, {attributes(body[8:], IFA, 'IFA_???', decoders, s)}"


TOS_FLAGS = ((0x10, "IPTOS_LOWDELAY"), (0x08, "IPTOS_THROUGHPUT"), (0x04, "IPTOS_RELIABILITY"),
             (0x02, "IPTOS_MINCOST"))
TABLES = {0: "RT_TABLE_UNSPEC", 252: "RT_TABLE_COMPAT", 253: "RT_TABLE_DEFAULT",
          254: "RT_TABLE_MAIN", 255: "RT_TABLE_LOCAL"}
PROTOCOLS = {0: "RTPROT_UNSPEC", 1: "RTPROT_REDIRECT", 2: "RTPROT_KERNEL", 3: "RTPROT_BOOT",
             4: "RTPROT_STATIC", 8: "RTPROT_GATED", 9: "RTPROT_RA", 10: "RTPROT_MRT",
             11: "RTPROT_ZEBRA", 12: "RTPROT_BIRD", 13: "RTPROT_DNROUTED", 14: "RTPROT_XORP",
             15: "RTPROT_NTK", 16: "RTPROT_DHCP", 17: "RTPROT_MROUTED", 18: "RTPROT_KEEPALIVED",
             42: "RTPROT_BABEL", 99: "RTPROT_OPENR", 186: "RTPROT_BGP", 187: "RTPROT_ISIS",
             188: "RTPROT_OSPF", 189: "RTPROT_RIP", 192: "RTPROT_EIGRP"}
ROUTE_TYPES = {k: "RTN_" + name for k, name in enumerate(
    "UNSPEC UNICAST LOCAL BROADCAST ANYCAST MULTICAST BLACKHOLE UNREACHABLE PROHIBIT THROW NAT "
    "XRESOLVE".split())}
ROUTE_FLAGS = tuple((0x100 << k, "RTM_F_" + name) for k, name in enumerate(
    "NOTIFY CLONED EQUALIZE PREFIX LOOKUP_TABLE FIB_MATCH OFFLOAD TRAP".split())) + (
    (0x20000000, "RTM_F_OFFLOAD_FAILED"),)
RTA = {k: "RTA_" + name for k, name in enumerate(
    "UNSPEC DST SRC IIF OIF GATEWAY PRIORITY PREFSRC METRICS MULTIPATH PROTOINFO FLOW CACHEINFO "
    "SESSION MP_ALGO TABLE MARK MFC_STATS VIA NEWDST PREF ENCAP_TYPE ENCAP EXPIRES PAD UID "
    "TTL_PROPAGATE IP_PROTO SPORT DPORT NH_ID".split())}
NUD_STATES = tuple((1 << k, "NUD_" + name) for k, name in enumerate(
    "INCOMPLETE REACHABLE STALE DELAY PROBE FAILED NOARP PERMANENT".split()))
NTF_FLAGS = tuple((1 << k, "NTF_" + name) for k, name in enumerate(
    "USE SELF MASTER PROXY EXT_LEARNED OFFLOADED STICKY ROUTER".split()))
NDA = {k: "NDA_" + name for k, name in enumerate(
    "UNSPEC DST LLADDR CACHEINFO PROBES VLAN PORT VNI IFINDEX MASTER LINK_NETNSID SRC_VNI "
    "PROTOCOL NH_ID FDB_EXT_ATTRS FLAGS_EXT NDM_STATE_MASK NDM_FLAGS_MASK".split())}


def nla_ifindex(body: bytes, s: Shown) -> str | None:
    return interface(s.u(body, 0, 4, True)) if len(body) >= 4 else None


def nla_table(body: bytes, s: Shown) -> str | None:
    if len(body) < 4:
        return None
    number = s.u(body, 0, 4)
    return TABLES.get(number, str(number))


def nla_u16(body: bytes, s: Shown) -> str | None:
    return str(s.u(body, 0, 2)) if len(body) == 2 else None


def rtmsg(body: bytes, s: Shown) -> str:
    """RTM_*ROUTE's ``struct rtmsg`` and its RTA_* attributes (strace's rtnl_route.c)."""
    family = tables.ADDRESS_FAMILIES.get(body[0], f"{body[0]:#x} /* AF_??? */")
    if len(body) < 12:
        return f"{{rtm_family={family}, ...}}"
    table, protocol, kind = body[4], body[5], body[7]
    head = (f"{{rtm_family={family}, rtm_dst_len={body[1]}, rtm_src_len={body[2]}, "
            f"rtm_tos={bits(body[3], TOS_FLAGS, 'IPTOS_TOS_???')}, "
            f"rtm_table={TABLES.get(table, table)}, "
            f"rtm_protocol={PROTOCOLS.get(protocol) or f'{protocol:#x} /* RTPROT_??? */'}, "
            f"rtm_scope={SCOPES.get(body[6], body[6])}, "
            f"rtm_type={ROUTE_TYPES.get(kind) or f'{kind:#x} /* RTN_??? */'}, "
            f"rtm_flags={bits(s.u(body, 8, 4), ROUTE_FLAGS, 'RTM_F_???')}}}")
    if len(body) <= 12:
        return head
    address = ifa_address(body[0])
    decoders: dict[int, Decoder] = {1: address, 2: address, 3: nla_ifindex, 4: nla_ifindex,
                                    5: address, 6: nla_u32, 7: address, 10: nla_u32,
                                    11: nla_u32, 14: nla_u32, 15: nla_table, 16: nla_u32,
                                    19: address, 20: nla_u8, 25: nla_u32, 26: nla_u8,
                                    27: nla_u8, 28: nla_u16, 29: nla_u16}
    return f"{head}, {attributes(body[12:], RTA, 'RTA_???', decoders, s)}"


def ndmsg(body: bytes, s: Shown) -> str:
    """RTM_*NEIGH's ``struct ndmsg`` and its NDA_* attributes (strace's rtnl_neigh.c)."""
    family = tables.ADDRESS_FAMILIES.get(body[0], f"{body[0]:#x} /* AF_??? */")
    if len(body) < 12:
        return f"{{ndm_family={family}, ...}}"
    kind, state = body[11], s.u(body, 8, 2)
    head = (f"{{ndm_family={family}, ndm_ifindex={interface(s.u(body, 4, 4, True))}, "
            f"ndm_state={bits(state, NUD_STATES, 'NUD_???') if state else 'NUD_NONE'}, "
            f"ndm_flags={bits(body[10], NTF_FLAGS, 'NTF_???')}, "
            f"ndm_type={ROUTE_TYPES.get(kind) or f'{kind:#x} /* RTN_??? */'}}}")
    if len(body) <= 12:
        return head
    decoders: dict[int, Decoder] = {1: ifa_address(body[0]), 2: hwaddr, 4: nla_u32, 5: nla_u16,
                                    8: nla_ifindex, 9: nla_ifindex, 10: nla_u32, 13: nla_u32}
    return f"{head}, {attributes(body[12:], NDA, 'NDA_???', decoders, s)}"


#: by (type - RTM_BASE) / 4: links, addresses, routes, neighbours
ROUTE_DECODERS: dict[int, Callable[[bytes, Shown], str]] = {0: ifinfomsg, 1: ifaddrmsg,
                                                            2: rtmsg, 3: ndmsg}


# -- NETLINK_SOCK_DIAG (strace's netlink_sock_diag.c and its per-family files) -------------
SOCK_DIAG_TYPES = {18: "TCPDIAG_GETSOCK", 19: "DCCPDIAG_GETSOCK", 20: "SOCK_DIAG_BY_FAMILY",
                   21: "SOCK_DESTROY"}
TCP_STATES = tuple((1 << k, f"1<<TCP_{name}") for k, name in enumerate(
    "_ ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT1 FIN_WAIT2 TIME_WAIT CLOSE CLOSE_WAIT LAST_ACK "
    "LISTEN CLOSING NEW_SYN_RECV".split()) if name != "_")
UDIAG_SHOW = tuple((1 << k, "UDIAG_SHOW_" + n) for k, n in enumerate(
    "NAME VFS PEER ICONS RQLEN MEMINFO UID".split()))
NDIAG_SHOW = tuple((1 << k, "NDIAG_SHOW_" + n) for k, n in enumerate(
    "MEMINFO GROUPS RING_CFG FLAGS".split()))
PACKET_SHOW = tuple((1 << k, "PACKET_SHOW_" + n) for k, n in enumerate(
    "INFO MCLIST RING_CFG FANOUT MEMINFO FILTER".split()))
INET_DIAG_EXT = tuple((1 << k, f"1<<(INET_DIAG_{n}-1)") for k, n in enumerate(
    "MEMINFO INFO VEGASINFO CONG TOS TCLASS SKMEMINFO SHUTDOWN".split()))
NDIAG_PROTO_ALL = 255
IPPROTOS = {0: "IPPROTO_IP", 1: "IPPROTO_ICMP", 2: "IPPROTO_IGMP", 4: "IPPROTO_IPIP",
            6: "IPPROTO_TCP", 8: "IPPROTO_EGP", 12: "IPPROTO_PUP", 17: "IPPROTO_UDP",
            22: "IPPROTO_IDP", 29: "IPPROTO_TP", 33: "IPPROTO_DCCP", 41: "IPPROTO_IPV6",
            46: "IPPROTO_RSVP", 47: "IPPROTO_GRE", 50: "IPPROTO_ESP", 51: "IPPROTO_AH",
            58: "IPPROTO_ICMPV6", 92: "IPPROTO_MTP", 94: "IPPROTO_BEETPH", 98: "IPPROTO_ENCAP",
            103: "IPPROTO_PIM", 108: "IPPROTO_COMP", 115: "IPPROTO_L2TP", 132: "IPPROTO_SCTP",
            136: "IPPROTO_UDPLITE", 137: "IPPROTO_MPLS", 143: "IPPROTO_ETHERNET",
            255: "IPPROTO_RAW", 262: "IPPROTO_MPTCP"}


def _cookie(body: bytes, at: int, s: Shown) -> str:
    return f"[{s.u(body, at, 4)}, {s.u(body, at + 4, 4)}]"


def _inet_addr(body: bytes, at: int, family: int, name: str) -> str:
    """strace's print_inet_addr: ``idiag_src=inet_addr("0.0.0.0")``, v6 with ``&name``."""
    if family == socket.AF_INET:
        return f'{name}=inet_addr("{socket.inet_ntop(socket.AF_INET, body[at:at + 4])}")'
    if family == socket.AF_INET6:
        text = socket.inet_ntop(socket.AF_INET6, body[at:at + 16])
        return f'inet_pton(AF_INET6, "{text}", &{name})'
    return f"{name}={quote(body[at:at + 16], 0, True)}"


def _sockid(body: bytes, at: int, family: int, s: Shown) -> str:
    """``struct inet_diag_sockid`` (48 bytes): ports in network order, then the addresses."""
    sport, dport = (int.from_bytes(body[at + k:at + k + 2], "big") for k in (0, 2))
    return (f"{{idiag_sport=htons({sport}), idiag_dport=htons({dport}), "
            f"{_inet_addr(body, at + 4, family, 'idiag_src')}, "
            f"{_inet_addr(body, at + 20, family, 'idiag_dst')}, "
            f"idiag_if={interface(s.u(body, at + 36, 4, True))}, "
            f"idiag_cookie={_cookie(body, at + 40, s)}}}")


def _family_name(family: int) -> str:
    return tables.ADDRESS_FAMILIES.get(family, f"{family:#x} /* AF_??? */")


def _unix_req(body: bytes, s: Shown) -> str | None:
    if len(body) < 24:
        return None
    states = bits(s.u(body, 4, 4), TCP_STATES, "1<<TCP_???")
    return (f"sdiag_protocol={body[1]}, udiag_states={states}, udiag_ino={s.u(body, 8, 4)}, "
            f"udiag_show={bits(s.u(body, 12, 4), UDIAG_SHOW, 'UDIAG_SHOW_???')}, "
            f"udiag_cookie={_cookie(body, 16, s)}")


def _netlink_req(body: bytes, s: Shown) -> str | None:
    if len(body) < 20:
        return None
    proto = ("NDIAG_PROTO_ALL" if body[1] == NDIAG_PROTO_ALL
             else tables.NETLINK_PROTOCOLS.get(body[1]) or f"{body[1]:#x} /* NETLINK_??? */")
    return (f"sdiag_protocol={proto}, ndiag_ino={s.u(body, 4, 4)}, "
            f"ndiag_show={bits(s.u(body, 8, 4), NDIAG_SHOW, 'NDIAG_SHOW_???')}, "
            f"ndiag_cookie={_cookie(body, 12, s)}")


def _packet_req(body: bytes, s: Shown) -> str | None:
    if len(body) < 20:
        return None
    return (f"sdiag_protocol={chex(body[1])}, pdiag_ino={s.u(body, 4, 4)}, "
            f"pdiag_show={bits(s.u(body, 8, 4), PACKET_SHOW, 'PACKET_SHOW_???')}, "
            f"pdiag_cookie={_cookie(body, 12, s)}")


def _inet_req(body: bytes, s: Shown) -> str | None:
    """``struct inet_diag_req_v2`` (56 bytes)."""
    if len(body) < 56:
        return None
    proto = IPPROTOS.get(body[1]) or f"{body[1]:#x} /* IPPROTO_??? */"
    return (f"sdiag_protocol={proto}, "
            f"idiag_ext={bits(body[2], INET_DIAG_EXT, '1<<INET_DIAG_???-1')}, "
            f"idiag_states={bits(s.u(body, 4, 4), TCP_STATES, '1<<TCP_???')}, "
            f"id={_sockid(body, 8, body[0], s)}")


def _inet_req_compat(body: bytes, s: Shown) -> str | None:
    """TCPDIAG_GETSOCK's ``struct inet_diag_req`` (60 bytes)."""
    if len(body) < 60:
        return None
    return (f"idiag_src_len={body[1]}, idiag_dst_len={body[2]}, "
            f"idiag_ext={bits(body[3], INET_DIAG_EXT, '1<<INET_DIAG_???-1')}, "
            f"id={_sockid(body, 4, body[0], s)}, "
            f"idiag_states={bits(s.u(body, 52, 4), TCP_STATES, '1<<TCP_???')}, "
            f"idiag_dbs={s.u(body, 56, 4)}")


SOCK_DIAG_REQUESTS: dict[int, tuple[Callable[[bytes, Shown], str | None], int]] = {
    1: (_unix_req, 24), 16: (_netlink_req, 20), 17: (_packet_req, 20), 2: (_inet_req, 56),
    10: (_inet_req, 56)}


def sock_diag(body: bytes, kind: int, request: int, s: Shown) -> str:
    """A sock_diag request by its family (the answers: see docs/syscall-log.md)."""
    family = body[0]
    old = kind in (18, 19) and family in (2, 10)
    decoder, size = (_inet_req_compat, 60) if old else SOCK_DIAG_REQUESTS.get(family, (None, 0))
    if not request or decoder is None or len(body) <= 1:
        data = f", data={s.hex(body[1:])}" if len(body) > 1 else ""
        return f"{{family={_family_name(family)}{data}}}"
    head = "idiag_family" if old else "sdiag_family"
    fields = decoder(body, s)
    if fields is None:
        return f"{{{head}={_family_name(family)}, ...}}"
    text = f"{{{head}={_family_name(family)}, {fields}}}"
    if len(body) > size:  # INET_DIAG_REQ_* attributes (the bytecode filter): in hex
        names = {1: "INET_DIAG_REQ_BYTECODE"}
        return f"{text}, {attributes(body[size:], names, 'INET_DIAG_REQ_???', {}, s)}"
    return text
