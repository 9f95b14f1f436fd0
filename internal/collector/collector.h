// The C side of package collector: the table of short commands, shared by the constructor that
// runs before the Go runtime (cmd/pea) and the Go side's own check.

// pea_short_command reports whether a command runs without the garbage collector (see
// collector.go): group is the command's group ("pod", "container", ..., or "" for a top-level
// verb), verb its name; all, no_stream and infra_image whether --all, --no-stream and
// --infra-image were given; nargs how many arguments it got.
int pea_short_command(const char *group, const char *verb, int all, int no_stream, int infra_image, int nargs);

// pea_collector_start runs in pea's constructor, before the Go runtime: when the binary starts
// without the collector and the command line is not a short command, it executes the binary
// again with the collector on (GODEBUG sbrk=0, the environment's GODEBUG kept in
// PEA_GODEBUG_WAS for the Go side to restore). It returns when it does not (or cannot).
void pea_collector_start(void);

// pea_cmdline reads the process's command line once, for the constructors that run before the
// Go runtime: the number of arguments, *argv pointing at them (NULL-terminated); 0 when it could
// not be read or is longer than 64 KiB or 1024 arguments.
int pea_cmdline(char ***argv);

// pea_short_argv classifies a whole command line (argv[0] is the program) as pea_collector_start
// does: 1 for a short command.
int pea_short_argv(int argc, char **argv);
