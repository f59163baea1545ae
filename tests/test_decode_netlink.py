"""Unit tests of the netlink decoder (engines/decode/netlink.py), from bytes.

The messages are packed in each ABI's byte order (netlink is host-endian: a ppc64
or s390x tracee's headers are big-endian) and decoded through the calls that carry
them (sendto, recvfrom, sendmsg); the expected text is strace 6.1's, as seen on
tests/tracees/decode_netlink.c (compared live in tests/test_decode_vs_strace_live.py).
The constants and layouts the decoder uses are checked against each target's own C
headers (static assertions compiled by the host's and Debian's cross compilers).
"""

from __future__ import annotations

import struct

import pytest
from pydbg_utrace.engines import decode
from pydbg_utrace.engines.decode import netlink, tables
from pydbg_utrace.engines.trace_options import TraceOptions
from target_headers import COMPILERS, assert_compiles

X86, PPC, PPC_BE, S390 = (decode.abi_for(n) for n in ("x86_64", "ppc64le", "ppc64", "s390x"))
ABIS = pytest.mark.parametrize("abi", [X86, PPC_BE, S390], ids=["x86_64", "ppc64", "s390x"])
BUF, MSG, IOV = 0x10000, 0x11000, 0x12000


def order(abi) -> str:
    return "<" if abi.byteorder == "little" else ">"


def nlmsg(abi, kind: int, flags: int, seq: int, pid: int, body: bytes) -> bytes:
    raw = struct.pack(order(abi) + "IHHII", 16 + len(body), kind, flags, seq, pid) + body
    return raw + bytes(-len(raw) % 4)


def nla(abi, kind: int, body: bytes) -> bytes:
    raw = struct.pack(order(abi) + "HH", 4 + len(body), kind) + body
    return raw + bytes(-len(raw) % 4)


def ifinfomsg(abi, family=0, kind=0, index=0, flags=0, change=0) -> bytes:
    return struct.pack(order(abi) + "BxHiII", family, kind, index, flags, change)


def sent(abi, data: bytes, protocol: int | None = 0, options: TraceOptions | None = None) -> str:
    mem = decode.BytesMemory({BUF: data}, {3: protocol} if protocol is not None else {})
    pending = decode.decode_entry(abi, "sendto", (3, BUF, len(data), 0, 0, 0), mem, options)
    return pending.entry_text + decode.decode_exit(pending, len(data), None)


def received(abi, data: bytes, size: int, rval: int, options: TraceOptions | None = None) -> str:
    mem = decode.BytesMemory({BUF: data}, {3: 0})
    pending = decode.decode_entry(abi, "recvfrom", (3, BUF, size, 0, 0, 0), mem, options)
    return pending.entry_text + decode.decode_exit(pending, rval, None)


@ABIS
def test_a_link_request_by_index(abi):
    data = nlmsg(abi, 18, 1, 2, 0, ifinfomsg(abi, index=999999))
    assert sent(abi, data) == (
        "sendto(3, [{nlmsg_len=32, nlmsg_type=RTM_GETLINK, nlmsg_flags=NLM_F_REQUEST, "
        "nlmsg_seq=2, nlmsg_pid=0}, {ifi_family=AF_UNSPEC, ifi_type=ARPHRD_NETROM, "
        "ifi_index=999999, ifi_flags=0, ifi_change=0}], 32, 0, NULL, 0)")


@ABIS
def test_an_unknown_protocol_shows_the_header_and_the_payload_in_hex(abi):
    data = nlmsg(abi, 18, 1, 1, 0, ifinfomsg(abi, index=1))
    one = "01000000" if abi.byteorder == "little" else "00000001"
    payload = "".join(f"\\x{b}" for b in ["00"] * 4 + [one[k:k + 2] for k in (0, 2, 4, 6)]
                      + ["00"] * 8)
    assert sent(abi, data, protocol=-1) == (
        "sendto(3, [{nlmsg_len=32, nlmsg_type=0x12 /* NLMSG_??? */, nlmsg_flags=NLM_F_REQUEST, "
        f'nlmsg_seq=1, nlmsg_pid=0}}, "{payload}"], 32, 0, NULL, 0)')


@ABIS
def test_no_netlink_socket_shows_the_bytes(abi):
    assert sent(abi, b"abc", protocol=None) == 'sendto(3, "abc", 3, 0, NULL, 0)'


@ABIS
def test_a_dump_request_and_its_flags(abi):
    body = struct.pack(order(abi) + "BBBBi", 2, 0, 0, 0, 0)
    data = nlmsg(abi, 22, 0x301, 4, 0, body) + nlmsg(abi, 0, 0, 0, 0, b"")
    assert sent(abi, data) == (
        "sendto(3, [[{nlmsg_len=24, nlmsg_type=RTM_GETADDR, nlmsg_flags=NLM_F_REQUEST|NLM_F_DUMP"
        ", nlmsg_seq=4, nlmsg_pid=0}, {ifa_family=AF_INET, ifa_prefixlen=0, ifa_flags=0, "
        "ifa_scope=RT_SCOPE_UNIVERSE, ifa_index=0}], {nlmsg_len=16, nlmsg_type=0 /* NLMSG_??? */"
        ", nlmsg_flags=0, nlmsg_seq=0, nlmsg_pid=0}], 40, 0, NULL, 0)")


@ABIS
def test_a_new_address_with_its_attributes_and_done(abi):
    o = order(abi)
    attrs = (nla(abi, 1, bytes([127, 0, 0, 1])) + nla(abi, 3, b"lo\0")
             + nla(abi, 8, struct.pack(o + "I", 0x80))
             + nla(abi, 6, struct.pack(o + "IIII", 0xFFFFFFFF, 0xFFFFFFFF, 13, 13)))
    body = struct.pack(o + "BBBBi", 2, 8, 0x80, 254, 999999) + attrs
    data = nlmsg(abi, 20, 0x22, 4, 7, body)
    assert received(abi, data, 65536, len(data)) == (
        "recvfrom(3, [{nlmsg_len=68, nlmsg_type=RTM_NEWADDR, nlmsg_flags=NLM_F_MULTI|"
        "NLM_F_DUMP_FILTERED, nlmsg_seq=4, nlmsg_pid=7}, {ifa_family=AF_INET, ifa_prefixlen=8, "
        "ifa_flags=IFA_F_PERMANENT, ifa_scope=RT_SCOPE_HOST, ifa_index=999999}, "
        '[[{nla_len=8, nla_type=IFA_ADDRESS}, inet_addr("127.0.0.1")], [{nla_len=7, '
        'nla_type=IFA_LABEL}, "lo"], [{nla_len=8, nla_type=IFA_FLAGS}, IFA_F_PERMANENT], '
        "[{nla_len=20, nla_type=IFA_CACHEINFO}, {ifa_prefered=4294967295, "
        "ifa_valid=4294967295, cstamp=13, tstamp=13}]]], 65536, 0, NULL, NULL)")
    done = nlmsg(abi, 3, 0x22, 4, 7, struct.pack(o + "i", 0))
    assert received(abi, done, 65536, 20).startswith(
        "recvfrom(3, [{nlmsg_len=20, nlmsg_type=NLMSG_DONE, nlmsg_flags=NLM_F_MULTI|"
        "NLM_F_DUMP_FILTERED, nlmsg_seq=4, nlmsg_pid=7}, 0], ")


@ABIS
def test_an_error_carries_the_request(abi):
    request = nlmsg(abi, 18, 5, 5, 0, ifinfomsg(abi, index=999999))
    data = nlmsg(abi, 2, 0, 5, 7, struct.pack(order(abi) + "i", -19) + request)
    assert received(abi, data, 65536, len(data)) == (
        "recvfrom(3, [{nlmsg_len=52, nlmsg_type=NLMSG_ERROR, nlmsg_flags=0, nlmsg_seq=5, "
        "nlmsg_pid=7}, {error=-ENODEV, msg=[{nlmsg_len=32, nlmsg_type=RTM_GETLINK, "
        "nlmsg_flags=NLM_F_REQUEST|NLM_F_ACK, nlmsg_seq=5, nlmsg_pid=0}, {ifi_family=AF_UNSPEC, "
        "ifi_type=ARPHRD_NETROM, ifi_index=999999, ifi_flags=0, ifi_change=0}]}], 65536, 0, "
        "NULL, NULL)")


def link_reply(abi, count: int) -> bytes:
    o = order(abi)
    attrs = nla(abi, 3, b"lo\0") + b"".join(nla(abi, 13, struct.pack(o + "I", 1000 + k))
                                            for k in range(count - 1))
    return nlmsg(abi, 16, 0, 3, 7, ifinfomsg(abi, 0, 772, 999999, 0x10049) + attrs)


@ABIS
def test_attributes_are_cut_at_the_string_limit_unless_verbose(abi):
    data = link_reply(abi, 6)
    cut = received(abi, data, 4096, len(data), TraceOptions(string_limit=4))
    assert ("ifi_flags=IFF_UP|IFF_LOOPBACK|IFF_RUNNING|IFF_LOWER_UP, ifi_change=0}, "
            '[[{nla_len=7, nla_type=IFLA_IFNAME}, "lo"], [{nla_len=8, nla_type=IFLA_TXQLEN}, '
            "1000], [{nla_len=8, nla_type=IFLA_TXQLEN}, 1001], [{nla_len=8, "
            "nla_type=IFLA_TXQLEN}, 1002], ...]]") in cut
    full = received(abi, data, 4096, len(data), TraceOptions(string_limit=4, verbose=True))
    assert full.count("IFLA_TXQLEN") == 5 and "..." not in full


@ABIS
def test_a_short_read_decodes_what_was_received(abi):
    """recv(..., 64, MSG_PEEK|MSG_TRUNC) = 1468: the header says 1468, 64 bytes are there."""
    data = link_reply(abi, 10)
    text = received(abi, data[:40], 40, len(data))
    assert text.endswith('[{nla_len=7, nla_type=IFLA_IFNAME}, "lo"]], 40, 0, NULL, NULL)')
    assert f"nlmsg_len={len(data)}," in text


@ABIS
def test_unknown_and_nested_attribute_types(abi):
    attrs = nla(abi, 0x43, b"\x01") + nla(abi, 0x803E, b"")
    data = nlmsg(abi, 16, 0, 3, 7, ifinfomsg(abi) + attrs)
    assert ('[[{nla_len=5, nla_type=0x43 /* IFLA_??? */}, "\\x01"], '
            "{nla_len=4, nla_type=NLA_F_NESTED|0x3e /* IFLA_??? */}]]") in received(
                abi, data, 4096, len(data))


@ABIS
def test_route_and_neighbour_requests(abi):
    o = order(abi)
    route = nlmsg(abi, 26, 1, 6, 0, struct.pack(o + "8BI", 2, 32, 0, 0x10, 254, 4, 253, 1, 0x200)
                  + nla(abi, 1, bytes([127, 0, 0, 1])) + nla(abi, 15, struct.pack(o + "I", 254)))
    assert sent(abi, route) == (
        "sendto(3, [{nlmsg_len=44, nlmsg_type=RTM_GETROUTE, nlmsg_flags=NLM_F_REQUEST, "
        "nlmsg_seq=6, nlmsg_pid=0}, {rtm_family=AF_INET, rtm_dst_len=32, rtm_src_len=0, "
        "rtm_tos=IPTOS_LOWDELAY, rtm_table=RT_TABLE_MAIN, rtm_protocol=RTPROT_STATIC, "
        "rtm_scope=RT_SCOPE_LINK, rtm_type=RTN_UNICAST, rtm_flags=RTM_F_CLONED}, "
        '[[{nla_len=8, nla_type=RTA_DST}, inet_addr("127.0.0.1")], [{nla_len=8, '
        "nla_type=RTA_TABLE}, RT_TABLE_MAIN]]], 44, 0, NULL, 0)")
    neigh = nlmsg(abi, 30, 0x301, 7, 0, struct.pack(o + "B3xiHBB", 0, 999999, 0x82, 2, 1))
    assert sent(abi, neigh) == (
        "sendto(3, [{nlmsg_len=28, nlmsg_type=RTM_GETNEIGH, nlmsg_flags=NLM_F_REQUEST|NLM_F_DUMP"
        ", nlmsg_seq=7, nlmsg_pid=0}, {ndm_family=AF_UNSPEC, ndm_ifindex=999999, "
        "ndm_state=NUD_REACHABLE|NUD_PERMANENT, ndm_flags=NTF_SELF, ndm_type=RTN_UNICAST}], 28, "
        "0, NULL, 0)")


def diag(abi, data: bytes) -> str:
    mem = decode.BytesMemory({BUF: data}, {3: netlink.NETLINK_SOCK_DIAG})
    pending = decode.decode_entry(abi, "sendto", (3, BUF, len(data), 0, 0, 0), mem)
    return pending.entry_text + decode.decode_exit(pending, len(data), None)


@ABIS
def test_sock_diag_requests(abi):
    o = order(abi)
    unix = nlmsg(abi, 20, 0x301, 8, 0, struct.pack(o + "BBxxIII II", 1, 0, 1 << 10 | 1 << 7, 0,
                                                    0x15, 0, 0))
    assert diag(abi, unix) == (
        "sendto(3, [{nlmsg_len=40, nlmsg_type=SOCK_DIAG_BY_FAMILY, nlmsg_flags=NLM_F_REQUEST|"
        "NLM_F_DUMP, nlmsg_seq=8, nlmsg_pid=0}, {sdiag_family=AF_UNIX, sdiag_protocol=0, "
        "udiag_states=1<<TCP_CLOSE|1<<TCP_LISTEN, udiag_ino=0, udiag_show=UDIAG_SHOW_NAME|"
        "UDIAG_SHOW_PEER|UDIAG_SHOW_RQLEN, udiag_cookie=[0, 0]}], 40, 0, NULL, 0)")
    sockid = struct.pack(">HH", 22, 0) + bytes(16) + bytes(16) + struct.pack(o + "III", 0, 0, 0)
    tcp = nlmsg(abi, 20, 0x301, 9, 0, struct.pack(o + "BBBxI", 10, 6, 2, 1 << 10 | 1) + sockid)
    assert diag(abi, tcp).endswith(
        "{sdiag_family=AF_INET6, sdiag_protocol=IPPROTO_TCP, idiag_ext=1<<(INET_DIAG_INFO-1), "
        "idiag_states=1<<TCP_LISTEN|0x1, id={idiag_sport=htons(22), idiag_dport=htons(0), "
        'inet_pton(AF_INET6, "::", &idiag_src), inet_pton(AF_INET6, "::", &idiag_dst), '
        "idiag_if=0, idiag_cookie=[0, 0]}}], 72, 0, NULL, 0)")
    links = nlmsg(abi, 20, 0x301, 1, 0, struct.pack(o + "BBxxIIII", 16, 255, 0, 3, 0, 0))
    assert ("{sdiag_family=AF_NETLINK, sdiag_protocol=NDIAG_PROTO_ALL, ndiag_ino=0, "
            "ndiag_show=NDIAG_SHOW_MEMINFO|NDIAG_SHOW_GROUPS, ndiag_cookie=[0, 0]}") in diag(
                abi, links)


def test_sendmsg_decodes_each_iovec_as_netlink():
    abi = X86
    data = nlmsg(abi, 18, 1, 2, 0, ifinfomsg(abi))
    hdr = struct.pack("<QI4xQQQQI4x", 0, 0, IOV, 1, 0, 0, 0)
    mem = decode.BytesMemory({MSG: hdr, IOV: struct.pack("<QQ", BUF, len(data)), BUF: data},
                             {3: 0})
    pending = decode.decode_entry(abi, "sendmsg", (3, MSG, 0), mem)
    assert pending.entry_text.startswith(
        "sendmsg(3, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base=[{nlmsg_len=32, "
        "nlmsg_type=RTM_GETLINK,")


def test_the_socket_option_level_and_names():
    mem = decode.BytesMemory({BUF: struct.pack("<i", 1)})
    pending = decode.decode_entry(X86, "setsockopt", (3, 270, 12, BUF, 4), mem)
    assert pending.entry_text + decode.decode_exit(pending, 0, None) == (
        "setsockopt(3, SOL_NETLINK, NETLINK_GET_STRICT_CHK, [1], 4)")


# -- the constants and layouts against each arch's own C headers -----------------------------
#: names these targets' headers (Debian's linux-libc-dev 6.1) may not have yet: enums,
#: so no #ifdef can ask
NEWER = frozenset({"RTA_NH_ID", "NDA_FLAGS_EXT", "NDA_NDM_STATE_MASK", "NDA_NDM_FLAGS_MASK",
                   "IFLA_ALLMULTI", "IFLA_TSO_MAX_SIZE", "IFLA_TSO_MAX_SEGS", "IFA_PROTO",
                   "IFLA_PARENT_DEV_NAME", "IFLA_PARENT_DEV_BUS_NAME", "IFLA_GRO_MAX_SIZE",
                   "RTM_NEWTUNNEL"})


def layout_checks() -> str:
    checks = {"sizeof(struct nlmsghdr)": 16, "sizeof(struct ifinfomsg)": 16,
              "sizeof(struct ifaddrmsg)": 8, "sizeof(struct nlmsgerr)": 20,
              "sizeof(struct nlattr)": 4, "sizeof(struct rtnl_link_stats)": 96,
              "offsetof(struct rtnl_link_stats64, rx_nohandler)": 184,
              "sizeof(struct ifa_cacheinfo)": 16, "sizeof(struct rtmsg)": 12,
              "sizeof(struct ndmsg)": 12, "offsetof(struct ndmsg, ndm_state)": 8,
              "NLMSG_HDRLEN": 16, "NLA_HDRLEN": 4, "sizeof(struct unix_diag_req)": 24,
              "sizeof(struct netlink_diag_req)": 20, "sizeof(struct packet_diag_req)": 20,
              "sizeof(struct inet_diag_req_v2)": 56, "sizeof(struct inet_diag_req)": 60,
              "offsetof(struct inet_diag_req, idiag_states)": 52, "NDIAG_PROTO_ALL": 255,
              "INET_DIAG_INFO": 2, "INET_DIAG_REQ_BYTECODE": 1,
              "NLA_F_NESTED": netlink.NLA_F_NESTED, "NLMSG_MIN_TYPE": 16}
    names: dict[str, int] = {}
    for table in (netlink.RTM_TYPES, netlink.NETLINK_TYPES, netlink.IFLA, netlink.IFA,
                  netlink.SCOPES, netlink.ARPHRD, netlink.SOCKET_OPTIONS, netlink.TABLES,
                  netlink.PROTOCOLS, netlink.ROUTE_TYPES, netlink.RTA, netlink.NDA,
                  netlink.SOCK_DIAG_TYPES):
        names.update({name: value for value, name in table.items()})
    for table in (netlink.NETLINK_FLAGS, netlink.GET_FLAGS, netlink.NEW_FLAGS,
                  netlink.DELETE_FLAGS, netlink.ACK_FLAGS, netlink.IFF_FLAGS, netlink.IFA_FLAGS,
                  netlink.RTEXT_FILTERS, netlink.TOS_FLAGS, netlink.ROUTE_FLAGS,
                  netlink.NUD_STATES, netlink.NTF_FLAGS, netlink.UDIAG_SHOW, netlink.NDIAG_SHOW,
                  netlink.PACKET_SHOW):
        names.update({name: value for value, name in table})
    names["SOL_NETLINK"] = next(k for k, v in tables.SOCKET_LEVELS.items() if v == "SOL_NETLINK")
    head = "".join(f"#include <{h}>\n" for h in (
        "stddef.h", "sys/socket.h", "linux/netlink.h", "linux/rtnetlink.h", "linux/if_link.h",
        "linux/if_addr.h", "linux/if_arp.h", "linux/if.h", "linux/neighbour.h", "linux/ip.h",
        "linux/sock_diag.h", "linux/unix_diag.h", "linux/inet_diag.h", "linux/netlink_diag.h",
        "linux/packet_diag.h"))
    # IFF_LOWER_UP... are enum values in linux/if.h but macros in net/if.h; the rest enums
    # or macros: an enum value asserted directly, a macro where defined.
    text = "#define _GNU_SOURCE\n" + head
    for name, value in names.items():
        if name in NEWER or name.endswith("_UNSPEC") and name.startswith(("IFLA", "IFA", "RTA",
                                                                         "NDA")):
            continue
        check = f'_Static_assert({name} == {value:#x}u, "{name}");\n'
        enum = name.startswith(("IFLA_", "IFA_", "RTM_", "RT_SCOPE_", "RTA_", "NDA_", "RTN_",
                                "RT_TABLE_")) and not name.startswith(("IFA_F_", "RTM_F_"))
        text += check if enum else f"#ifdef {name}\n{check}#endif\n"
    return text + "".join(f'_Static_assert(({e}) == {v:#x}u, "{e}");\n' for e, v in checks.items())


@pytest.mark.parametrize("target", list(COMPILERS))
def test_the_constants_agree_with_the_targets_own_headers(target, tmp_path):
    assert_compiles(target, layout_checks(), tmp_path / "netlink.c")
