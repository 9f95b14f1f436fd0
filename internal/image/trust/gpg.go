package trust

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"pea/internal/cpupin"
)

// gpgPath finds gpg (gpg2 where a distribution names it so).
func gpgPath() (string, error) {
	for _, n := range []string{"gpg2", "gpg"} {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", errors.New("signing needs gpg, which is not installed (Debian: apt-get install gpg)")
}

// SignGPG signs payload with the key keyID of the user's keyring ($GNUPGHOME, else ~/.gnupg):
// an OpenPGP signed message, the form simple signatures take. passphraseFile, when given, holds
// the key's passphrase.
func SignGPG(keyID string, payload []byte, passphraseFile string) ([]byte, error) {
	gpg, err := gpgPath()
	if err != nil {
		return nil, err
	}
	args := []string{"--batch", "--no-tty", "--sign", "--local-user", keyID, "--output", "-"}
	if passphraseFile != "" {
		args = append(args, "--pinentry-mode", "loopback", "--passphrase-file", passphraseFile)
	}
	cmd := cpupin.Command(gpg, args...)
	cmd.Stdin = bytes.NewReader(payload)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "No secret key") || strings.Contains(msg, "No public key") {
			return nil, fmt.Errorf("key %q not found", keyID)
		}
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("signing with gpg: %s", msg)
	}
	return out.Bytes(), nil
}

// CheckSigningKey fails unless the user's keyring has a secret key keyID, so that a push with
// --sign-by is refused before anything is sent rather than after.
func CheckSigningKey(keyID string) error {
	gpg, err := gpgPath()
	if err != nil {
		return err
	}
	cmd := cpupin.Command(gpg, "--batch", "--no-tty", "--list-secret-keys", "--with-colons", "--", keyID)
	if out, err := cmd.Output(); err != nil || !bytes.Contains(out, []byte("sec:")) {
		return fmt.Errorf("key %q not found", keyID)
	}
	return nil
}

// KeyIdentities lists the user IDs (the e-mail address where there is one) of the keys in a
// key file, as `image trust show` shows them; nil when gpg cannot read them.
func KeyIdentities(path string) ([]string, error) {
	gpg, err := gpgPath()
	if err != nil {
		return nil, err
	}
	home, err := os.MkdirTemp("", "pea-gpg-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(home)
	cmd := cpupin.Command(gpg, "--homedir", home, "--batch", "--no-tty", "--with-colons", "--show-keys", path)
	out, err := cmd.Output()
	if err != nil {
		return nil, err
	}
	var ids []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "uid:") && !strings.HasPrefix(line, "pub:") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) < 10 || f[9] == "" {
			continue
		}
		id := f[9]
		if _, rest, ok := strings.Cut(id, "<"); ok {
			if addr, _, ok := strings.Cut(rest, ">"); ok {
				id = addr
			}
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// KeyDataIdentities is KeyIdentities for key data held in the policy.
func KeyDataIdentities(data []byte) ([]string, error) {
	f, err := os.CreateTemp("", "pea-key-")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return KeyIdentities(f.Name())
}
