/* The differential test's program of sockets' messages, readiness and waiting
   (tests/test_decode_vs_strace_live.py): sendmsg/recvmsg with iovecs and
   SCM_RIGHTS / SCM_CREDENTIALS, sendmmsg/recvmmsg, select/pselect6, poll/ppoll,
   epoll, signalfd/eventfd/timerfd/inotify, terminal and unknown ioctls, capget,
   pipe2's flags, waitid and wait4 with rusage.  Every line
   it makes is the same in any run but for pids, addresses and times. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static void messages(int sv[2], int p[2]) {
    char a[] = "hello", b[] = "world";
    struct iovec iov[2] = {{a, 5}, {b, 5}};
    union { struct cmsghdr h; char buf[CMSG_SPACE(2 * sizeof(int))]; } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct msghdr msg = {0};
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    msg.msg_control = ctl.buf;
    msg.msg_controllen = sizeof ctl.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(2 * sizeof(int));
    memcpy(CMSG_DATA(c), p, 2 * sizeof(int));
    sendmsg(sv[0], &msg, MSG_NOSIGNAL);

    char in[16];
    struct iovec riov = {in, sizeof in};
    union { struct cmsghdr h; char buf[CMSG_SPACE(4 * sizeof(int))]; } rctl;
    struct msghdr rmsg = {0};
    rmsg.msg_iov = &riov;
    rmsg.msg_iovlen = 1;
    rmsg.msg_control = rctl.buf;
    rmsg.msg_controllen = sizeof rctl.buf;
    recvmsg(sv[1], &rmsg, MSG_CMSG_CLOEXEC);
    c = CMSG_FIRSTHDR(&rmsg);
    if (c != NULL && c->cmsg_type == SCM_RIGHTS) {
        int got[2];
        memcpy(got, CMSG_DATA(c), sizeof got);
        close(got[0]);
        close(got[1]);
    }

    struct msghdr plain = {0};
    plain.msg_iov = iov;
    plain.msg_iovlen = 1;
    sendmsg(sv[1], &plain, 0);
    struct msghdr rplain = {0};
    rplain.msg_iov = &riov;
    rplain.msg_iovlen = 1;
    recvmsg(sv[0], &rplain, MSG_DONTWAIT);
    recvmsg(sv[0], &rplain, MSG_DONTWAIT); /* nothing left: EAGAIN */
    sendmsg(sv[0], (struct msghdr *)1, 0); /* EFAULT */

    struct mmsghdr mm[2];
    memset(mm, 0, sizeof mm);
    mm[0].msg_hdr.msg_iov = iov;
    mm[0].msg_hdr.msg_iovlen = 1;
    mm[1].msg_hdr.msg_iov = iov + 1;
    mm[1].msg_hdr.msg_iovlen = 1;
    sendmmsg(sv[0], mm, 2, 0);
    char in1[8], in2[8];
    struct iovec ri1 = {in1, sizeof in1}, ri2 = {in2, sizeof in2};
    struct mmsghdr rm[2];
    memset(rm, 0, sizeof rm);
    rm[0].msg_hdr.msg_iov = &ri1;
    rm[0].msg_hdr.msg_iovlen = 1;
    rm[1].msg_hdr.msg_iov = &ri2;
    rm[1].msg_hdr.msg_iovlen = 1;
    recvmmsg(sv[1], rm, 2, MSG_DONTWAIT, NULL);
    recvmmsg(sv[1], rm, 2, MSG_DONTWAIT, NULL); /* EAGAIN */

    /* SCM_CREDENTIALS: the kernel attaches them on a socket with SO_PASSCRED */
    int dg[2], on = 1;
    socketpair(AF_UNIX, SOCK_DGRAM, 0, dg);
    setsockopt(dg[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
    send(dg[0], "cred", 4, 0);
    union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(struct ucred))]; } cctl;
    struct sockaddr_un_like { short family; char path[14]; } from;
    struct msghdr cmsg = {0};
    cmsg.msg_name = &from;
    cmsg.msg_namelen = sizeof from;
    cmsg.msg_iov = &riov;
    cmsg.msg_iovlen = 1;
    cmsg.msg_control = cctl.buf;
    cmsg.msg_controllen = sizeof cctl.buf;
    recvmsg(dg[1], &cmsg, 0);
    send(dg[0], "from", 4, 0); /* recvfrom of an unbound sender: [16 => 0] */
    socklen_t fromlen = sizeof from;
    recvfrom(dg[1], in, sizeof in, 0, (struct sockaddr *)&from, &fromlen);
    struct ucred peer; /* the socketpair's other end is ourselves */
    socklen_t peerlen = sizeof peer;
    getsockopt(dg[0], SOL_SOCKET, SO_PEERCRED, &peer, &peerlen);
    struct linger linger = {1, 0};
    socklen_t lingerlen = sizeof linger;
    setsockopt(sv[0], SOL_SOCKET, SO_LINGER, &linger, sizeof linger);
    getsockopt(sv[0], SOL_SOCKET, SO_LINGER, &linger, &lingerlen);
    close(dg[0]);
    close(dg[1]);
}

static void readiness(int sv[2], int p[2]) {
    write(p[1], "x", 1);
    fd_set rd, wr, ex;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    FD_ZERO(&ex);
    FD_SET(p[0], &rd);
    FD_SET(sv[0], &rd);
    FD_SET(p[1], &wr);
    FD_SET(sv[1], &ex);
    struct timeval tv = {5, 0};
    select(p[1] + 1, &rd, &wr, &ex, &tv);
    FD_ZERO(&rd);
    FD_SET(sv[0], &rd);
    struct timeval zero = {0, 0};
    select(p[1] + 1, &rd, NULL, NULL, &zero);
#ifdef SYS_select
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    syscall(SYS_select, p[0] + 1, &rd, NULL, NULL, NULL);
#endif
    struct timespec ts = {0, 0};
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    pselect(p[0] + 1, &rd, NULL, NULL, &ts, &mask);

    struct pollfd pf[2] = {{p[0], POLLIN, 0}, {sv[0], POLLIN | POLLOUT, 0}};
    poll(pf, 2, 0);
    ppoll(pf, 2, &ts, &mask);
    struct pollfd idle = {sv[0], POLLIN, 0};
    poll(&idle, 1, 0);
    ppoll(&idle, 1, &ts, NULL);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {EPOLLIN | EPOLLET, {.u64 = 0x1122334455667788ULL}};
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    ev.events = EPOLLOUT;
    ev.data.fd = p[1];
    epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev);
    struct epoll_event out[4];
    epoll_wait(ep, out, 4, 0);
    epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL);
    epoll_pwait(ep, out, 4, 0, &mask);
    epoll_ctl(ep, EPOLL_CTL_MOD, 99, &ev); /* EBADF */
    close(ep);
    char drain;
    read(p[0], &drain, 1);
    epoll_wait(-1, out, 4, 0); /* EBADF */
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd >= 0)
        close(sfd);
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd >= 0)
        close(efd);
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    if (tfd >= 0) { /* armed, then disarmed: what is left of it is 0 */
        struct itimerspec its = {{0, 0}, {100, 0}}, old;
        timerfd_settime(tfd, 0, &its, &old);
        memset(&its, 0, sizeof its);
        timerfd_settime(tfd, 0, &its, NULL);
        timerfd_gettime(tfd, &old);
        close(tfd);
    }
    struct itimerval itv = {{0, 0}, {100, 0}}, oldv; /* armed, then disarmed: 0 left */
    setitimer(ITIMER_REAL, &itv, NULL);
    memset(&itv, 0, sizeof itv);
    setitimer(ITIMER_REAL, &itv, NULL);
    getitimer(ITIMER_REAL, &oldv);
    int ifd = inotify_init1(IN_CLOEXEC);
    if (ifd >= 0)
        close(ifd);
}

static void ioctls(int p[2]) {
    int n, one = 1;
    ioctl(p[0], FIONREAD, &n);
    ioctl(p[0], FIONBIO, &one);
    ioctl(p[0], FIOCLEX);
    ioctl(p[0], TIOCGPGRP, &n); /* a pipe: ENOTTY */
    ioctl(p[0], _IOR('x', 1, int), &n);
    ioctl(p[0], _IOW('x', 2, long), &n);
    ioctl(p[0], _IO('x', 3), 0);
    ioctl(p[0], _IOWR(0xfe, 4, struct timeval), &n);
    int master = open("/dev/ptmx", O_RDWR | O_NOCTTY);
    if (master < 0)
        return;
    int unlock = 0;
    ioctl(master, TIOCSPTLCK, &unlock);
    struct winsize ws = {24, 80, 0, 0};
    ioctl(master, TIOCSWINSZ, &ws);
    ioctl(master, TIOCGWINSZ, &ws);
    ioctl(master, FIONREAD, &n);
    int peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    if (peer >= 0) {
        ioctl(peer, TIOCGPGRP, &n); /* not our controlling terminal: ENOTTY */
        ioctl(peer, TCFLSH, TCIFLUSH);
        struct termios tio; /* a new pty's defaults, then raw (no input flags at all) */
        tcgetattr(peer, &tio);
        cfmakeraw(&tio);
        tcsetattr(peer, TCSAFLUSH, &tio);
        tcgetattr(peer, &tio);
        close(peer);
    }
    close(master);
}

/* What node and other runtimes make at start: capabilities, pipes, an IPv6 option. */
static void others(void) {
    struct { unsigned version; int pid; } head = {0x20080522, 0}; /* _LINUX_CAPABILITY_VERSION_3 */
    struct { unsigned effective, permitted, inheritable; } caps[2];
    syscall(SYS_capget, &head, caps);
    int q[2];
    if (pipe2(q, O_NONBLOCK | O_CLOEXEC) == 0) {
        close(q[0]);
        close(q[1]);
    }
    int s6 = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s6 >= 0) {
        int off = 0;
        setsockopt(s6, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
        close(s6);
    }
}

/* The loopback interface by its socket ioctls (as if_nametoindex and ifconfig ask). */
static void interfaces(void) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    ioctl(s, SIOCGIFINDEX, &ifr);
    ioctl(s, SIOCGIFNAME, &ifr);
    ioctl(s, SIOCGIFFLAGS, &ifr);
    ioctl(s, SIOCGIFMTU, &ifr);
    ioctl(s, SIOCGIFADDR, &ifr);
    ioctl(s, SIOCGIFNETMASK, &ifr);
    ioctl(s, SIOCGIFHWADDR, &ifr);
    strcpy(ifr.ifr_name, "nosuchif0");
    ioctl(s, SIOCGIFINDEX, &ifr); /* ENODEV */
    close(s);
}

static void waiting(void) {
    pid_t pid = fork();
    if (pid == 0)
        _exit(3);
    siginfo_t si;
    waitid(P_PID, pid, &si, WEXITED);
    pid = fork();
    if (pid == 0)
        _exit(0);
    int status;
    struct rusage ru;
    wait4(pid, &status, 0, &ru);
    waitid(P_ALL, 0, &si, WEXITED | WNOHANG); /* no children left: ECHILD */
}

int main(void) {
    int sv[2], p[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pipe(p);
    messages(sv, p);
    readiness(sv, p);
    ioctls(p);
    shutdown(sv[0], SHUT_WR);
    others();
    interfaces();
    waiting();
    return 0;
}
