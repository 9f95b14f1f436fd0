package trust

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
)

// maxSignatures bounds how many signatures of one manifest are read.
const maxSignatures = 128

// maxSignatureSize bounds one signature.
const maxSignatureSize = 4 << 20

// FetchFunc fetches one signature over http(s): found false when there is none (a 404).
type FetchFunc func(u *url.URL) (data []byte, found bool, err error)

// ReadSignatures reads the signatures of the manifest digest under base, signature-1 onwards until
// one is missing. file:// URLs are read here; http(s) ones through fetch (nil: not supported).
func ReadSignatures(base *url.URL, digest string, fetch FetchFunc) ([][]byte, error) {
	var sigs [][]byte
	for n := 1; n <= maxSignatures; n++ {
		u := SignatureURL(base, digest, n)
		var data []byte
		found := true
		var err error
		switch u.Scheme {
		case "file":
			data, err = os.ReadFile(u.Path)
			if errors.Is(err, os.ErrNotExist) {
				found, err = false, nil
			}
		case "http", "https":
			if fetch == nil {
				return nil, fmt.Errorf("reading signatures from %s: pea reads http(s) lookasides only in its registry helper", u)
			}
			data, found, err = fetch(u)
		default:
			return nil, fmt.Errorf("Unsupported scheme when reading signatures from %s", u)
		}
		if err != nil {
			return nil, fmt.Errorf("reading signature from %s: %w", u, err)
		}
		if !found {
			break
		}
		if len(data) > maxSignatureSize {
			return nil, fmt.Errorf("signature %s is larger than %d bytes", u, maxSignatureSize)
		}
		sigs = append(sigs, data)
	}
	return sigs, nil
}

// StoreSignature writes sig as the next free signature-N of the manifest digest under base, a
// file:// URL (a local directory, as podman writes them), and returns its path.
func StoreSignature(base *url.URL, digest string, sig []byte) (string, error) {
	if base.Scheme != "file" {
		return "", fmt.Errorf("writing to %s is not supported. Use a supported scheme", base)
	}
	dir := filepath.Dir(SignatureURL(base, digest, 1).Path)
	if err := os.MkdirAll(dir, 0o751); err != nil {
		return "", err
	}
	for n := 1; n <= maxSignatures; n++ {
		p := SignatureURL(base, digest, n).Path
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		_, err = f.Write(sig)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(p)
			return "", err
		}
		return p, nil
	}
	return "", fmt.Errorf("%s has %d signatures already", dir, maxSignatures)
}
