package oci

// defaultAllowedSyscalls returns the system calls every container may make, by area. Names
// that do not exist on an architecture (the 32-bit *64 and *_time64 variants, socketcall...) are
// resolved per architecture by libseccomp; names it does not know yet are skipped by the runtime.
func defaultAllowedSyscalls() []string {
	var names []string
	for _, group := range [][]string{
		syscallsFiles, syscallsFileMeta, syscallsMemory, syscallsProcess, syscallsIdentity,
		syscallsSignals, syscallsTime, syscallsPolling, syscallsNetwork, syscallsIPC, syscallsMisc,
	} {
		names = append(names, group...)
	}
	return names
}

// Reading, writing and managing open files.
var syscallsFiles = []string{
	"open", "openat", "openat2", "creat", "close", "close_range",
	"read", "readv", "pread64", "preadv", "preadv2",
	"write", "writev", "pwrite64", "pwritev", "pwritev2",
	"lseek", "_llseek", "dup", "dup2", "dup3", "fcntl", "fcntl64", "flock", "ioctl",
	"fsync", "fdatasync", "sync", "syncfs", "sync_file_range", "sync_file_range2",
	"fadvise64", "fadvise64_64", "arm_fadvise64_64", "fallocate", "readahead",
	"ftruncate", "ftruncate64", "truncate", "truncate64",
	"sendfile", "sendfile64", "splice", "tee", "vmsplice", "copy_file_range",
	"pipe", "pipe2", "memfd_create",
	"inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "fanotify_mark",
	"io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents",
	"io_pgetevents", "io_pgetevents_time64",
}

// Paths, directories and file attributes.
var syscallsFileMeta = []string{
	"access", "faccessat", "faccessat2",
	"stat", "stat64", "lstat", "lstat64", "fstat", "fstat64", "newfstatat", "fstatat64", "statx",
	"statfs", "statfs64", "fstatfs", "fstatfs64",
	"chdir", "fchdir", "getcwd", "chroot", "getdents", "getdents64",
	"mkdir", "mkdirat", "rmdir", "mknod", "mknodat",
	"link", "linkat", "symlink", "symlinkat", "unlink", "unlinkat",
	"rename", "renameat", "renameat2", "readlink", "readlinkat",
	"chmod", "fchmod", "fchmodat", "fchmodat2",
	"chown", "chown32", "fchown", "fchown32", "fchownat", "lchown", "lchown32", "umask",
	"utime", "utimes", "utimensat", "utimensat_time64", "futimesat",
	"getxattr", "lgetxattr", "fgetxattr", "getxattrat",
	"setxattr", "lsetxattr", "fsetxattr", "setxattrat",
	"listxattr", "llistxattr", "flistxattr", "listxattrat",
	"removexattr", "lremovexattr", "fremovexattr", "removexattrat",
	"cachestat",
}

// Address space management.
var syscallsMemory = []string{
	"brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync",
	"mlock", "mlock2", "mlockall", "munlock", "munlockall", "remap_file_pages",
	"membarrier", "pkey_alloc", "pkey_free", "pkey_mprotect", "get_mempolicy",
	"map_shadow_stack", "mseal", "process_mrelease",
}

// Processes, threads and scheduling. clone is allowed separately, with an argument filter.
var syscallsProcess = []string{
	"execve", "execveat", "fork", "vfork", "exit", "exit_group",
	"wait4", "waitid", "waitpid", "kill", "tkill", "tgkill",
	"pidfd_open", "pidfd_send_signal",
	"getpid", "getppid", "gettid", "getpgid", "setpgid", "getpgrp", "getsid", "setsid",
	"set_tid_address", "set_robust_list", "get_robust_list", "rseq", "restart_syscall",
	"futex", "futex_time64", "futex_waitv", "futex_wake", "futex_wait", "futex_requeue",
	"prctl", "getpriority", "setpriority", "ioprio_get", "ioprio_set",
	"sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getparam", "sched_setparam",
	"sched_getscheduler", "sched_setscheduler", "sched_getattr", "sched_setattr",
	"sched_get_priority_max", "sched_get_priority_min",
	"sched_rr_get_interval", "sched_rr_get_interval_time64",
	"getrlimit", "ugetrlimit", "setrlimit", "prlimit64", "getrusage", "times",
	"get_thread_area", "set_thread_area", "getcpu",
	"seccomp", "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
}

// User and group identity and capabilities; the kernel checks CAP_SETUID and friends.
var syscallsIdentity = []string{
	"getuid", "getuid32", "geteuid", "geteuid32", "getgid", "getgid32", "getegid", "getegid32",
	"getresuid", "getresuid32", "getresgid", "getresgid32", "getgroups", "getgroups32",
	"setuid", "setuid32", "setgid", "setgid32", "setreuid", "setreuid32", "setregid", "setregid32",
	"setresuid", "setresuid32", "setresgid", "setresgid32", "setgroups", "setgroups32",
	"setfsuid", "setfsuid32", "setfsgid", "setfsgid32", "capget", "capset",
}

// Signals.
var syscallsSignals = []string{
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend", "rt_sigpending",
	"rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
	"sigaction", "sigaltstack", "signal", "sigpending", "sigprocmask", "sigreturn", "sigsuspend",
	"pause", "signalfd", "signalfd4",
}

// Reading clocks, sleeping and timers (setting the clock needs CAP_SYS_TIME).
var syscallsTime = []string{
	"time", "gettimeofday", "clock_gettime", "clock_gettime64", "clock_getres", "clock_getres_time64",
	"nanosleep", "clock_nanosleep", "clock_nanosleep_time64", "alarm", "getitimer", "setitimer",
	"timer_create", "timer_delete", "timer_getoverrun",
	"timer_settime", "timer_settime64", "timer_gettime", "timer_gettime64",
	"timerfd_create", "timerfd_settime", "timerfd_settime64", "timerfd_gettime", "timerfd_gettime64",
}

// Waiting on many file descriptors.
var syscallsPolling = []string{
	"select", "_newselect", "pselect6", "pselect6_time64", "poll", "ppoll", "ppoll_time64",
	"epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_wait", "epoll_wait_old",
	"epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2",
}

// Sockets.
var syscallsNetwork = []string{
	"socket", "socketpair", "socketcall", "bind", "connect", "listen", "accept", "accept4",
	"getsockname", "getpeername", "getsockopt", "setsockopt", "shutdown",
	"send", "sendto", "sendmsg", "sendmmsg", "recv", "recvfrom", "recvmsg", "recvmmsg",
	"recvmmsg_time64",
}

// System V and POSIX message queues, semaphores and shared memory.
var syscallsIPC = []string{
	"ipc", "shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop",
	"semtimedop_time64", "semctl", "msgget", "msgsnd", "msgrcv", "msgctl",
	"mq_open", "mq_unlink", "mq_notify", "mq_getsetattr",
	"mq_timedsend", "mq_timedsend_time64", "mq_timedreceive", "mq_timedreceive_time64",
}

// Everything else.
var syscallsMisc = []string{
	"uname", "sysinfo", "getrandom",
}
