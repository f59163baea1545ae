/* The ioctls programs commonly make, for the decoder's comparison with strace
 * (tests/test_decode_vs_strace_live.py): SIOCGIFCONF (the IPv4 interfaces; with no
 * buffer, the length it needs; with room for one), the file's inode flags and xattr
 * (FS_IOC_*), and a block device's geometry (BLK*: /dev/loop0, or ENOENT/ENOTTY where
 * the machine has none -- the same in both runs), terminal requests on a non-terminal. */
#include <fcntl.h>
#include <linux/fs.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq reqs[8];
	struct ifconf conf = {.ifc_len = sizeof reqs, .ifc_req = reqs};
	ioctl(s, SIOCGIFCONF, &conf);
	struct ifconf count = {.ifc_len = 0, .ifc_req = NULL};
	ioctl(s, SIOCGIFCONF, &count);
	struct ifconf one = {.ifc_len = sizeof reqs[0], .ifc_req = reqs};
	ioctl(s, SIOCGIFCONF, &one);
	int on = 1;
	ioctl(s, FIONBIO, &on);
	close(s);

	int f = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	int flags = 0;
	ioctl(f, FS_IOC_GETFLAGS, &flags);
	struct fsxattr xa;
	ioctl(f, FS_IOC_FSGETXATTR, &xa);
	int size;
	ioctl(f, FIGETBSZ, &size);
	unsigned long long bytes;
	ioctl(f, BLKGETSIZE64, &bytes);
	int pgrp;
	ioctl(f, TIOCGPGRP, &pgrp);
	close(f);

	int b = open("/dev/loop0", O_RDONLY | O_CLOEXEC);
	long sectors;
	ioctl(b, BLKGETSIZE64, &bytes);
	ioctl(b, BLKGETSIZE, &sectors);
	ioctl(b, BLKSSZGET, &size);
	ioctl(b, BLKPBSZGET, &size);
	ioctl(b, BLKROGET, &size);
	ioctl(b, BLKRAGET, &sectors);
	unsigned short rotational;
	ioctl(b, BLKROTATIONAL, &rotational);
	ioctl(b, BLKFLSBUF);
	close(b);
	return 0;
}
