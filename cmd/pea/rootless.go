package main

// An unprivileged user's pea works inside the user's rootless user and mount namespaces, held
// by a pause process (internal/rootless). Joining a user namespace needs a process of one
// thread, which the Go runtime never is once it runs: the constructor below joins before it
// starts, when the run root's pause process is recorded and alive, so that the command needs
// no second process. Anything it cannot settle (no pause process yet, a stale record) it leaves
// to the Go side, which makes the pause process and re-executes pea (rootless.Enter), or runs
// nsenter.
//
// The run root is found as the Go side finds it: --runroot (either form) anywhere before "--",
// else $PEA_RUNROOT, else the user's runtime directory's "pea" ($XDG_RUNTIME_DIR, else
// /run/user/UID when it is the user's, else /tmp/pea-run-UID).

/*
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int pea_rootless_joined;

static int pea_read_file(const char *path, char *buf, size_t size) {
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) return -1;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0) return -1;
	buf[n] = 0;
	return (int)n;
}

__attribute__((constructor(102))) static void pea_rootless_join(void) {
	static char cmd[65536], runroot[4096], rec[256], path[4200], ns[128], cwd[4096];
	uid_t uid = geteuid();
	if (uid == 0) return;
	int n = pea_read_file("/proc/self/cmdline", cmd, sizeof cmd);
	if (n <= 0 || n >= (int)sizeof cmd - 1) return;
	runroot[0] = 0;
	char *p = cmd + strlen(cmd) + 1; // after argv[0]
	while (p < cmd + n) {
		size_t len = strlen(p);
		if (!strcmp(p, "--")) break;
		if (!strcmp(p, "--runroot") && p + len + 1 < cmd + n) {
			snprintf(runroot, sizeof runroot, "%s", p + len + 1);
			break;
		}
		if (!strncmp(p, "--runroot=", 10)) {
			snprintf(runroot, sizeof runroot, "%s", p + 10);
			break;
		}
		p += len + 1;
	}
	if (!runroot[0]) {
		const char *env = getenv("PEA_RUNROOT"), *xdg = getenv("XDG_RUNTIME_DIR");
		struct stat st;
		char user_run[64];
		snprintf(user_run, sizeof user_run, "/run/user/%u", (unsigned)uid);
		if (env && *env)
			snprintf(runroot, sizeof runroot, "%s", env);
		else if (xdg && *xdg)
			snprintf(runroot, sizeof runroot, "%s/pea", xdg);
		else if (stat(user_run, &st) == 0 && st.st_uid == uid)
			snprintf(runroot, sizeof runroot, "%s/pea", user_run);
		else
			snprintf(runroot, sizeof runroot, "/tmp/pea-run-%u/pea", (unsigned)uid);
	}
	snprintf(path, sizeof path, "%s/pause.pid", runroot);
	if (pea_read_file(path, rec, sizeof rec) <= 0) return;
	char *sp = strchr(rec, ' ');
	if (!sp) return;
	*sp++ = 0;
	sp[strcspn(sp, "\n")] = 0;
	long pid = strtol(rec, NULL, 10);
	if (pid <= 0) return;
	snprintf(path, sizeof path, "/proc/%ld/ns/user", pid);
	ssize_t l = readlink(path, ns, sizeof ns - 1);
	if (l <= 0) return;
	ns[l] = 0;
	if (strcmp(ns, sp)) return; // another process now has that PID
	int userfd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof path, "/proc/%ld/ns/mnt", pid);
	int mntfd = open(path, O_RDONLY | O_CLOEXEC);
	if (userfd < 0 || mntfd < 0) {
		if (userfd >= 0) close(userfd);
		if (mntfd >= 0) close(mntfd);
		return;
	}
	if (!getcwd(cwd, sizeof cwd)) strcpy(cwd, "/");
	if (setns(userfd, CLONE_NEWUSER) != 0) {
		close(userfd);
		close(mntfd);
		return; // the Go side tries its way
	}
	if (setns(mntfd, CLONE_NEWNS) != 0) {
		// In the user namespace but not its mount namespace: nothing sound can go on.
		fprintf(stderr, "Error: rootless: join the mount namespace of pause process %ld: %s\n", pid, strerror(errno));
		_exit(125);
	}
	close(userfd);
	close(mntfd);
	if (chdir(cwd) != 0) chdir("/");
	pea_rootless_joined = 1;
}
*/
import "C"

import "pea/internal/rootless"

// noteRootless tells the rootless package that the constructor joined the namespaces.
func noteRootless() {
	if C.pea_rootless_joined != 0 {
		rootless.MarkJoined()
	}
}
