package image

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"

	"pea/internal/cpupin"
	"pea/internal/errdefs"
)

// zstdMagic starts every zstd frame.
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// unzstd decompresses a zstd stream with the zstd program: pea carries no zstd decoder of its own
// (every package linked into pea costs start-up time on every command, and zstd layers are rare).
func unzstd(r io.Reader) (io.ReadCloser, error) {
	path, err := exec.LookPath("zstd")
	if err != nil {
		return nil, fmt.Errorf("zstd-compressed layers are not supported without the zstd program (apt-get install zstd): %w", errdefs.ErrInvalid)
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	z := &zstdReader{out: outR, in: inW, copied: make(chan error, 1)}
	z.cmd = cpupin.Command(path, "-d", "-c", "-q")
	z.cmd.Stdin, z.cmd.Stdout, z.cmd.Stderr = inR, outW, &z.stderr
	err = z.cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("zstd: %w", err)
	}
	// Feed the compressed stream from a goroutine of our own, which Close does not wait for: it
	// may be blocked reading the network until the caller closes that.
	go func() {
		_, err := io.Copy(inW, r)
		inW.Close()
		z.copied <- err
	}()
	return z, nil
}

type zstdReader struct {
	cmd    *exec.Cmd
	out    *os.File
	in     *os.File
	stderr limitedBuffer
	copied chan error
	once   sync.Once
	err    error // the outcome, once the output ended
	ended  bool
}

func (z *zstdReader) Read(p []byte) (int, error) {
	if z.ended {
		return 0, z.err
	}
	n, err := z.out.Read(p)
	if err == io.EOF {
		z.ended = true
		z.err = z.finish()
		return n, z.err
	}
	return n, err
}

// finish collects the input copy's and the program's outcome once its output has ended.
func (z *zstdReader) finish() error {
	cerr := <-z.copied
	werr := z.wait()
	switch {
	case cerr != nil && !errors.Is(cerr, os.ErrClosed) && !strings.Contains(cerr.Error(), "broken pipe"):
		return cerr
	case werr != nil:
		msg := strings.TrimSpace(z.stderr.String())
		if msg == "" {
			msg = werr.Error()
		}
		return fmt.Errorf("zstd: %s: %w", msg, errdefs.ErrInvalid)
	}
	return io.EOF
}

func (z *zstdReader) wait() error {
	var err error
	z.once.Do(func() {
		err = z.cmd.Wait()
		z.out.Close()
	})
	return err
}

func (z *zstdReader) Close() error {
	if !z.ended {
		z.cmd.Process.Kill()
		z.in.Close()
		z.wait()
	}
	return nil
}

// limitedBuffer keeps the first 4 KiB written to it.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := 4096 - b.Len(); room > 0 {
		if len(p) < room {
			room = len(p)
		}
		b.Buffer.Write(p[:room])
	}
	return len(p), nil
}

// CheckCompression checks a push's --compression-format: "" (as stored), gzip or zstd (with
// the zstd program, as pea decompresses zstd layers).
func CheckCompression(format string) error {
	switch format {
	case "", "gzip":
		return nil
	case "zstd":
		if _, err := exec.LookPath("zstd"); err != nil {
			return fmt.Errorf("--compression-format zstd: pea compresses zstd with the zstd program, which is not installed: %w", errdefs.ErrInvalid)
		}
		return nil
	case "zstd:chunked":
		return fmt.Errorf("--compression-format zstd:chunked is not supported: pea writes gzip or zstd layers: %w", errdefs.ErrInvalid)
	}
	return fmt.Errorf("invalid --compression-format %q (gzip, zstd): %w", format, errdefs.ErrInvalid)
}
