package cgroups

/*
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int pea_warm_busy;
static int pea_warm_result; // of the last write: 0 done, -1 no file found, else an errno

// pea_warm_join builds dir/path/cgroup.procs into out and reports whether it is writable.
static int pea_warm_join(char *out, size_t size, const char *dir, const char *path) {
	if (strcmp(path, "/") == 0)
		path = "";
	if (snprintf(out, size, "%s%s/cgroup.procs", dir, path) >= (int)size)
		return 0;
	return access(out, W_OK) == 0;
}

// pea_warm_find puts into out the cgroup.procs file of the process's own cgroup, from
// /proc/self/cgroup, where systemd and every distribution mount the hierarchies: the unified one
// (/sys/fs/cgroup/unified on a hybrid host, else /sys/fs/cgroup), else the first v1 one
// (/sys/fs/cgroup/<controllers>). It returns 0 when there is none writable. (The package's own
// mount detection would cost the command's thread a statfs per hierarchy; the C thread does
// without it.)
static int pea_warm_find(char *out, size_t size) {
	char buf[8192];
	int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *v1dir = NULL, *v1path = NULL, *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2 || c2[1] != '/')
			continue;
		*c1 = *c2 = 0;
		char *ctrls = c1 + 1, *path = c2 + 1;
		if (strcmp(line, "0") == 0 && *ctrls == 0) {
			if (pea_warm_join(out, size, "/sys/fs/cgroup/unified", path) ||
			    pea_warm_join(out, size, "/sys/fs/cgroup", path))
				return 1;
		} else if (!v1dir && *ctrls) {
			v1dir = strncmp(ctrls, "name=", 5) == 0 ? ctrls + 5 : ctrls;
			v1path = path;
		}
	}
	char dir[512];
	if (v1dir && snprintf(dir, sizeof dir, "/sys/fs/cgroup/%s", v1dir) < (int)sizeof dir)
		return pea_warm_join(out, size, dir, v1path);
	return 0;
}

// The write runs on a thread of its own, outside Go's scheduler: it blocks for a whole RCU
// grace period, and a goroutine blocked in a system call keeps the process's only P (pea runs
// with GOMAXPROCS 1 until it starts a process, see cpupin) until sysmon takes it back, which at
// that point of a command can take a millisecond or more. Finding the file (reading
// /proc/self/cgroup) happens there too, off the command's path.
static void *pea_warm_write(void *arg) {
	(void)arg;
	char file[4096];
	int result = -1;
	if (pea_warm_find(file, sizeof file)) {
		int fd = open(file, O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			result = errno;
		} else {
			// "0" is the writing process: it joins the cgroup it is in, which changes nothing.
			result = write(fd, "0", 1) == 1 ? 0 : errno;
			close(fd);
		}
	}
	__atomic_store_n(&pea_warm_result, result, __ATOMIC_RELAXED);
	__atomic_store_n(&pea_warm_busy, 0, __ATOMIC_RELEASE);
	return NULL;
}

// pea_warm_start starts the write unless one is on its way.
static void pea_warm_start(void) {
	if (__atomic_exchange_n(&pea_warm_busy, 1, __ATOMIC_ACQ_REL))
		return;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	// The thread takes no signals: they stay with Go's threads.
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_t t;
	int rc = pthread_create(&t, &attr, pea_warm_write, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		__atomic_store_n(&pea_warm_busy, 0, __ATOMIC_RELEASE);
}

static int pea_warm_running(void) { return __atomic_load_n(&pea_warm_busy, __ATOMIC_ACQUIRE); }
static int pea_warm_last(void) { return __atomic_load_n(&pea_warm_result, __ATOMIC_RELAXED); }
*/
import "C"

import (
	"errors"
	"syscall"
	"unsafe"
)

// warmAttach writes "0" into the process's own cgroup.procs on a thread of its own, unless an
// earlier call's write is still waiting (a second would wait for the same grace period).
func warmAttach() { C.pea_warm_start() }

// warmRunning reports whether a write started by warmAttach is still on its way.
func warmRunning() bool { return C.pea_warm_running() != 0 }

// warmResult is the outcome of the last write: nil when it was done.
func warmResult() error {
	switch r := C.pea_warm_last(); r {
	case 0:
		return nil
	case -1:
		return errors.New("no cgroup.procs file of the process's own cgroup found")
	default:
		return syscall.Errno(r)
	}
}

// warmTarget is the file warmAttach writes to, "" when none.
func warmTarget() string {
	var buf [4096]C.char
	if C.pea_warm_find(&buf[0], C.size_t(len(buf))) == 0 {
		return ""
	}
	return C.GoString((*C.char)(unsafe.Pointer(&buf[0])))
}
