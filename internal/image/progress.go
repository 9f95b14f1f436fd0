package image

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// progress writes podman-like progress lines. On a terminal each blob gets a live line with a
// byte count; elsewhere one line per step. A nil progress is silent.
type progress struct {
	w   io.Writer
	tty bool
	mu  sync.Mutex
}

func newProgress(w io.Writer) *progress {
	if w == nil {
		return nil
	}
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
		p.tty = err == nil
	}
	return p
}

func (p *progress) printf(format string, args ...any) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format, args...)
}

// blob wraps r, the stream of blob digest (size bytes), with a live line on a terminal.
func (p *progress) blob(kind, digest string, size int64, r io.Reader) io.Reader {
	if p == nil {
		return r
	}
	if !p.tty {
		p.printf("Copying %s %s\n", kind, digest)
		return r
	}
	return &progressReader{p: p, r: r, label: fmt.Sprintf("Copying %s %s", kind, shortDigest(digest)), total: size}
}

// done ends a blob's live line.
func (p *progress) done(kind, digest string, size int64) {
	if p != nil && p.tty {
		p.printf("\r\x1b[KCopying %s %s done %s\n", kind, shortDigest(digest), humanBytes(size))
	}
}

// step prints a one-line step about a blob: a short digest on a terminal, the full one elsewhere.
func (p *progress) step(kind, digest, suffix string) {
	if p == nil {
		return
	}
	d := digest
	if p.tty {
		d = shortDigest(digest)
	}
	p.printf("Copying %s %s%s\n", kind, d, suffix)
}

func shortDigest(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

type progressReader struct {
	p     *progress
	r     io.Reader
	label string
	total int64
	n     int64
	last  time.Time
}

func (pr *progressReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	pr.n += int64(n)
	if now := time.Now(); now.Sub(pr.last) > 100*time.Millisecond {
		pr.last = now
		line := fmt.Sprintf("\r\x1b[K%s %s", pr.label, humanBytes(pr.n))
		if pr.total > 0 {
			width := 30
			fill := int(float64(width) * float64(pr.n) / float64(pr.total))
			if fill > width {
				fill = width
			}
			line = fmt.Sprintf("\r\x1b[K%s [%s%s] %s / %s", pr.label, strings.Repeat("=", fill), strings.Repeat(" ", width-fill), humanBytes(pr.n), humanBytes(pr.total))
		}
		pr.p.printf("%s", line)
	}
	return n, err
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
