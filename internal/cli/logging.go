package cli

import (
	"io"
	"log/slog"
	"strings"
)

// setupLogging sends pea's own diagnostics at and above level to stderr.
func setupLogging(w io.Writer, level string) error {
	var l slog.Level
	switch strings.ToLower(level) {
	case "trace", "debug":
		l = slog.LevelDebug
	case "info":
		l = slog.LevelInfo
	case "warn", "warning", "":
		l = slog.LevelWarn
	case "error", "fatal", "panic":
		l = slog.LevelError
	default:
		return invalid("invalid --log-level %q (debug, info, warn, error)", level)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})))
	return nil
}
