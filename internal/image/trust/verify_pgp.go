//go:build !pea_split

package trust

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
)

// maxPayload bounds a signature's payload (a few hundred bytes of JSON).
const maxPayload = 4 << 20

// VerifyGPG checks a simple signature (an OpenPGP signed message, as gpg --sign writes it)
// against the keyrings in keys, armored or binary, and returns its payload. It links an OpenPGP
// implementation, so only the registry helper (and the unsplit pea) has it.
func VerifyGPG(keys [][]byte, sig []byte) ([]byte, error) {
	var ring openpgp.EntityList
	for _, k := range keys {
		l, err := readKeyRing(k)
		if err != nil {
			return nil, err
		}
		ring = append(ring, l...)
	}
	if len(ring) == 0 {
		return nil, errors.New("No public keys imported")
	}
	md, err := openpgp.ReadMessage(bytes.NewReader(sig), ring, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("Invalid GPG signature: %v", err)
	}
	if !md.IsSigned {
		return nil, errors.New("Invalid GPG signature: not signed")
	}
	payload, err := io.ReadAll(io.LimitReader(md.UnverifiedBody, maxPayload+1))
	if err != nil {
		return nil, fmt.Errorf("Invalid GPG signature: %v", err)
	}
	if len(payload) > maxPayload {
		return nil, errors.New("Invalid GPG signature: payload too large")
	}
	if md.SignedBy == nil {
		return nil, fmt.Errorf("Invalid GPG signature: signed by key %016X, which is not among the trusted keys", md.SignedByKeyId)
	}
	if md.SignatureError != nil {
		return nil, fmt.Errorf("Invalid GPG signature: key %X: %v", md.SignedBy.Entity.PrimaryKey.Fingerprint, md.SignatureError)
	}
	return payload, nil
}

func readKeyRing(b []byte) (openpgp.EntityList, error) {
	if strings.HasPrefix(strings.TrimSpace(string(b[:min(len(b), 64)])), "-----BEGIN") {
		var all openpgp.EntityList
		r := bytes.NewReader(b)
		for {
			block, err := armor.Decode(r)
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("reading the public keys: %v", err)
			}
			l, err := openpgp.ReadKeyRing(block.Body)
			if err != nil {
				return nil, fmt.Errorf("reading the public keys: %v", err)
			}
			all = append(all, l...)
		}
		return all, nil
	}
	l, err := openpgp.ReadKeyRing(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("reading the public keys: %v", err)
	}
	return l, nil
}
