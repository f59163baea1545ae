/* A fixed rtnetlink conversation about lo (ifindex 1), for the decoder's comparison
 * with strace (tests/test_decode_vs_strace_live.py):
 * - a request on an unbound socket (neither strace nor we know its protocol yet:
 *   the kernel lists a netlink socket only once it is bound);
 * - on a socket bound to a fixed port id (the replies carry it; the kernel's autobind
 *   would give the pid, which differs between runs): RTM_GETLINK of lo, read whole by
 *   recvmsg (strace 6.1 does not decode a received msghdr's netlink), then again, read
 *   by recvfrom up to the end of its 32nd attribute (strace's default -s shows 32; the
 *   later ones are nested structures we do not decode) after a 64-byte MSG_PEEK;
 * - a RTM_GETADDR dump of lo's IPv4 addresses by sendmsg (filtered under
 *   NETLINK_GET_STRICT_CHK): its RTM_NEWADDR, then NLMSG_DONE;
 * - a RTM_GETLINK of an interface that does not exist: NLMSG_ERROR (-ENODEV);
 * - the requests of `ip route get 127.0.0.1` (RTM_GETROUTE, RTA_DST) and `ip neigh`
 *   (RTM_GETNEIGH dump), their answers left unread (the neighbours come and go);
 * - on a NETLINK_SOCK_DIAG socket, the requests of `ss -xl` (unix_diag_req) and `ss -tln`
 *   (inet_diag_req_v2), their answers left unread (the machine's sockets). */
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static char reply[65536];

struct link_request {
	struct nlmsghdr h;
	struct ifinfomsg i;
};

static struct link_request link_request(int seq, int index, int flags)
{
	struct link_request r = {
		.h = {.nlmsg_len = sizeof r, .nlmsg_type = RTM_GETLINK,
		      .nlmsg_flags = NLM_F_REQUEST | flags, .nlmsg_seq = seq},
		.i = {.ifi_family = AF_UNSPEC, .ifi_index = index},
	};
	return r;
}

/* Where the 32nd attribute of the RTM_NEWLINK in reply ends. */
static int end_of_32_attributes(int length)
{
	int at = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	for (int k = 0; k < 32 && at + (int) sizeof(struct nlattr) <= length; k++)
		at += NLA_ALIGN(((struct nlattr *) (reply + at))->nla_len);
	return at;
}

int main(void)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	int unbound = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	struct link_request first = link_request(1, 1, 0);
	sendto(unbound, &first, sizeof first, 0, (struct sockaddr *) &kernel, sizeof kernel);
	close(unbound);

	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return 1;
	struct sockaddr_nl me = {.nl_family = AF_NETLINK, .nl_pid = 0x5eed0001};
	if (bind(fd, (struct sockaddr *) &me, sizeof me) < 0)
		return 2;
	int one = 1;
	setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one);

	struct link_request link = link_request(2, 1, 0);
	send(fd, &link, sizeof link, 0);
	struct iovec whole = {reply, sizeof reply};
	struct msghdr got = {.msg_iov = &whole, .msg_iovlen = 1};
	int length = recvmsg(fd, &got, 0);
	int end = end_of_32_attributes(length);

	link.h.nlmsg_seq = 3;
	sendto(fd, &link, sizeof link, 0, (struct sockaddr *) &kernel, sizeof kernel);
	recv(fd, reply, 64, MSG_PEEK | MSG_TRUNC);
	recvfrom(fd, reply, end, 0, NULL, NULL);

	struct {
		struct nlmsghdr h;
		struct ifaddrmsg a;
	} addr = {
		.h = {.nlmsg_len = sizeof addr, .nlmsg_type = RTM_GETADDR,
		      .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 4},
		.a = {.ifa_family = AF_INET, .ifa_index = 1},
	};
	struct iovec iov = {&addr, sizeof addr};
	struct msghdr msg = {.msg_name = &kernel, .msg_namelen = sizeof kernel,
			     .msg_iov = &iov, .msg_iovlen = 1};
	sendmsg(fd, &msg, 0);
	recvfrom(fd, reply, sizeof reply, 0, NULL, NULL);
	recvfrom(fd, reply, sizeof reply, 0, NULL, NULL);

	struct link_request bad = link_request(5, 999999, NLM_F_ACK);
	send(fd, &bad, sizeof bad, 0);
	recv(fd, reply, sizeof reply, 0);

	struct {
		struct nlmsghdr h;
		struct rtmsg r;
		struct rtattr a;
		unsigned char dst[4];
	} route = {
		.h = {.nlmsg_len = sizeof route, .nlmsg_type = RTM_GETROUTE,
		      .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 6},
		.r = {.rtm_family = AF_INET, .rtm_dst_len = 32},
		.a = {.rta_len = RTA_LENGTH(4), .rta_type = RTA_DST},
		.dst = {127, 0, 0, 1},
	};
	send(fd, &route, sizeof route, 0);
	struct {
		struct nlmsghdr h;
		struct ndmsg n;
	} neigh = {
		.h = {.nlmsg_len = sizeof neigh, .nlmsg_type = RTM_GETNEIGH,
		      .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 7},
		.n = {.ndm_family = AF_UNSPEC},
	};
	send(fd, &neigh, sizeof neigh, 0);
	close(fd);

	int diag = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	struct sockaddr_nl any = {.nl_family = AF_NETLINK};
	bind(diag, (struct sockaddr *) &any, sizeof any);
	struct {
		struct nlmsghdr h;
		struct unix_diag_req u;
	} unix_request = {
		.h = {.nlmsg_len = sizeof unix_request, .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		      .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 8},
		.u = {.sdiag_family = AF_UNIX, .udiag_states = 1 << 10 | 1 << 7,
		      .udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN},
	};
	send(diag, &unix_request, sizeof unix_request, 0);
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} tcp_request = {
		.h = {.nlmsg_len = sizeof tcp_request, .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		      .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 9},
		.r = {.sdiag_family = AF_INET6, .sdiag_protocol = IPPROTO_TCP,
		      .idiag_ext = 1 << (INET_DIAG_INFO - 1), .idiag_states = 1 << 10 | 1,
		      .id = {.idiag_sport = htons(22)}},
	};
	send(diag, &tcp_request, sizeof tcp_request, 0);
	close(diag);
	return 0;
}
