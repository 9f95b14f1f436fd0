#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"

// Top-level verbs and group subcommands whose work is bounded by the store (listings,
// inspections, one object's change) and that neither stream nor pull: they run without the
// collector. Everything else (run, start, exec, attach, logs, wait, stats, pull, push, load,
// save, import, cp, kube, system, update, rmi, ...) runs with it.
static const char *const pea_short_verbs[] = {
	"version", "info", "ps", "list", "ls", "images", "inspect", "exists", "port", "top",
	"create", "rm", "remove", "stop", "kill", "pause", "unpause", "rename", "tag", "untag",
	"cleanup", "stats", NULL,
};

// The verbs that act on every object with --all (as many as the store holds), and the
// subcommands of the pod group that are short (a pod's start starts its members: bounded).
static const char *const pea_bulk_verbs[] = {
	"rm", "remove", "stop", "kill", "pause", "unpause", "start", "restart", NULL,
};

static const char *const pea_groups[] = {
	"container", "pod", "image", "network", "volume", NULL,
};

// More arguments than this (names of objects to act on) make a command a bulk one.
#define PEA_SHORT_MAX_ARGS 32

static int pea_in(const char *s, const char *const *list) {
	for (int i = 0; list[i]; i++)
		if (strcmp(s, list[i]) == 0) return 1;
	return 0;
}

int pea_short_command(const char *group, const char *verb, int all, int no_stream, int infra_image, int nargs) {
	if (nargs > PEA_SHORT_MAX_ARGS) return 0;
	if (all && pea_in(verb, pea_bulk_verbs)) return 0;
	if (strcmp(verb, "stats") == 0) return no_stream;
	if (*group == 0) return pea_in(verb, pea_short_verbs) && strcmp(verb, "cleanup") != 0;
	if (!pea_in(group, pea_groups)) return 0;
	if (strcmp(group, "pod") == 0) {
		if (strcmp(verb, "create") == 0) return !infra_image; // the infra image may need a pull
		if (strcmp(verb, "start") == 0 || strcmp(verb, "restart") == 0) return 1;
	}
	if ((strcmp(group, "image") == 0 || strcmp(group, "volume") == 0) && (strcmp(verb, "rm") == 0 || strcmp(verb, "remove") == 0))
		return 0; // removing an image or a volume deletes its files one by one, as many as it has
	return pea_in(verb, pea_short_verbs);
}

// The persistent flags that take their value as the next argument (internal/cli's
// globalValueFlags).
static const char *const pea_global_value_flags[] = {
	"--root", "--runroot", "--log-level", "--runtime", "--namespace", NULL,
};

// pea_short_argv classifies a whole command line as the CLI will parse it: the first word that
// is not a global flag or its value is the verb (or the group, then the next word the verb).
// A command line it does not understand counts as long: the cost of a wrong guess that way is
// one more exec, the other way a process that never frees memory.
int pea_short_argv(int argc, char **argv) {
	const char *words[2] = {NULL, NULL};
	int nw = 0, all = 0, no_stream = 0, infra_image = 0, nargs = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			nargs += argc - i - 1;
			break;
		}
		if (a[0] == '-' && a[1] != 0) {
			if (nw == 0 && pea_in(a, pea_global_value_flags)) {
				i++;
				continue;
			}
			if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return 1;
			if (strcmp(a, "--all") == 0 || (a[1] != '-' && strchr(a + 1, 'a') != NULL)) all = 1;
			if (strcmp(a, "--no-stream") == 0) no_stream = 1;
			if (strcmp(a, "--infra-image") == 0 || strncmp(a, "--infra-image=", 14) == 0) infra_image = 1;
			continue;
		}
		if (nw == 0 || (nw == 1 && pea_in(words[0], pea_groups))) {
			words[nw++] = a;
			continue;
		}
		nargs++;
	}
	if (nw == 0) return 1; // pea's own usage
	if (strcmp(words[0], "help") == 0) return 1;
	if (nw == 1 && pea_in(words[0], pea_groups)) return 1; // a group's usage
	if (nw == 1) return pea_short_command("", words[0], all, no_stream, infra_image, nargs);
	return pea_short_command(words[0], words[1], all, no_stream, infra_image, nargs);
}

// pea_cmdline reads the process's command line once (the constructors run before Go has it).
// It returns the number of arguments, or 0 when the line could not be read or is longer than
// 64 KiB or 1024 arguments.
int pea_cmdline(char ***argv) {
	static char buf[64 << 10];
	static char *args[1025];
	static int argc = -1;
	if (argc < 0) {
		argc = 0;
		int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
		if (fd < 0) return 0;
		ssize_t n = 0, r;
		while (n < (ssize_t)sizeof buf - 1 && (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0) n += r;
		close(fd);
		if (n <= 0 || n >= (ssize_t)sizeof buf - 1) return 0;
		buf[n] = 0;
		int c = 0;
		for (char *p = buf; p < buf + n; p += strlen(p) + 1) {
			if (c == 1024) return 0;
			args[c++] = p;
		}
		args[c] = NULL;
		argc = c;
	}
	*argv = args;
	return argc;
}

// pea_has_sbrk reports whether a GODEBUG value sets sbrk itself.
static int pea_has_sbrk(const char *v) {
	for (const char *p = v; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, "sbrk=", 5) == 0) return 1;
	return 0;
}

extern char **environ;

void pea_collector_start(void) {
	char **argv;
	int argc = pea_cmdline(&argv);
	const char *was = getenv("GODEBUG");
	if (pea_has_sbrk(was) || getenv("PEA_GODEBUG_WAS") != NULL) return;
	if (argc > 0 && pea_short_argv(argc, argv)) return;
	if (argc == 0) return; // unreadable: the Go side decides (and executes again if it must)
	int n = 0;
	while (environ[n]) n++;
	char **env = malloc((n + 3) * sizeof *env);
	if (env == NULL) return;
	int k = 0;
	for (int i = 0; i < n; i++)
		if (strncmp(environ[i], "GODEBUG=", 8) != 0 && strncmp(environ[i], "PEA_GODEBUG_WAS=", 16) != 0)
			env[k++] = environ[i];
	size_t wl = was ? strlen(was) : 0;
	char *godebug = malloc(wl + 32), *keep = malloc(wl + 32);
	if (godebug == NULL || keep == NULL) return;
	strcpy(godebug, "GODEBUG=");
	if (wl) {
		strcat(godebug, was);
		strcat(godebug, ",");
	}
	strcat(godebug, "sbrk=0");
	strcpy(keep, "PEA_GODEBUG_WAS=");
	if (wl) strcat(keep, was);
	env[k++] = godebug;
	env[k++] = keep;
	env[k] = NULL;
	execve("/proc/self/exe", argv, env);
	// Not executed (no /proc?): the command goes on without the collector's fast path; the Go
	// side tries again before it runs.
}
