package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"pea/internal/model"
)

// The two documents a listing decodes for every container, its listed config and its state,
// are read here by hand: encoding/json was half of `pea ps -a` with 300 containers (about 8 µs
// a container, most of it generic machinery around 1.3 KB of JSON).
//
// The fast path reads what json.Marshal writes for these types. Anything it is not sure to read
// as encoding/json would (an escape in a string, a key that only differs in case from a field's,
// a number that is not a plain integer, a syntax error) makes it give up, and the document goes
// through json.Unmarshal instead, so the result is always encoding/json's. A fuzz test compares
// the two on random values.

var errFallback = errors.New("fastjson: not for the fast path")

// decodeListedConfig decodes the listedConfig members of a container config.
func decodeListedConfig(b []byte, l *listedConfig) error {
	if fastListedConfig(b, l) == nil {
		return nil
	}
	*l = listedConfig{}
	return json.Unmarshal(b, l)
}

// decodeState decodes a container state.
func decodeState(b []byte, into *model.ContainerState) error {
	if fastState(b, into) == nil {
		return nil
	}
	*into = model.ContainerState{}
	if err := json.Unmarshal(b, into); err != nil {
		return fmt.Errorf("decode container state: %w", err)
	}
	return nil
}

// jsonScanner reads one JSON document from b.
type jsonScanner struct {
	b []byte
	i int
}

func (s *jsonScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek is the next non-blank byte, or 0 at the end.
func (s *jsonScanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *jsonScanner) eat(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	return false
}

func (s *jsonScanner) literal(word string) bool {
	s.ws()
	if bytes.HasPrefix(s.b[s.i:], []byte(word)) {
		s.i += len(word)
		return true
	}
	return false
}

// end checks that nothing but blanks follows the document.
func (s *jsonScanner) end() error {
	s.ws()
	if s.i != len(s.b) {
		return errFallback
	}
	return nil
}

// object reads an object (null reads as none), calling member with each key, unescaped; member
// reads the value. The key's bytes are only valid during the call.
func (s *jsonScanner) object(member func(key []byte) error) error {
	if s.literal("null") {
		return nil
	}
	if !s.eat('{') {
		return errFallback
	}
	if s.eat('}') {
		return nil
	}
	for {
		key, err := s.rawString()
		if err != nil {
			return err
		}
		if !s.eat(':') {
			return errFallback
		}
		if err := member(key); err != nil {
			return err
		}
		if s.eat(',') {
			continue
		}
		if s.eat('}') {
			return nil
		}
		return errFallback
	}
}

// rawString reads a string and returns its bytes: inside b when it holds no escape, else a new
// slice of the unescaped bytes.
func (s *jsonScanner) rawString() ([]byte, error) {
	if !s.eat('"') {
		return nil, errFallback
	}
	start := s.i
	// Most strings (IDs, names, paths, times) are plain ASCII without escapes: find the closing
	// quote with IndexByte (vectorised) and check the bytes in one tight loop. Anything else
	// takes the byte-by-byte path below from the start.
	if end := plainString(s.b[start:]); end >= 0 {
		s.i = start + end + 1
		return s.b[start : start+end], nil
	}
	ascii := true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			v := s.b[start:s.i]
			s.i++
			if !ascii && !utf8.Valid(v) {
				return nil, errFallback // encoding/json would replace the invalid bytes
			}
			return v, nil
		case c == '\\':
			return s.escapedString(start)
		case c < 0x20:
			return nil, errFallback
		case c >= 0x80:
			ascii = false
		}
		s.i++
	}
	return nil, errFallback
}

// plainString returns the index of the quote that ends the string b starts with, when the
// string is printable ASCII without escapes, and -1 otherwise.
func plainString(b []byte) int {
	end := bytes.IndexByte(b, '"')
	if end < 0 {
		return -1
	}
	for _, c := range b[:end] {
		if c < 0x20 || c >= 0x80 || c == '\\' {
			return -1
		}
	}
	return end
}

// escapedString goes on reading the string that began at start (after its quote) at its first
// escape, at s.i, and returns the unescaped bytes. encoding/json writes '&', '<' and '>' as
// \u0026, \u003c and \u003e, so every shell command with a pipe, a redirection or a background
// job has escapes, as has one with a quote. What encoding/json reads into U+FFFD (a lone
// surrogate, invalid UTF-8) goes to the fallback.
func (s *jsonScanner) escapedString(start int) ([]byte, error) {
	out := make([]byte, 0, s.i-start+16)
	out = append(out, s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			if !utf8.Valid(out) {
				return nil, errFallback
			}
			return out, nil
		case c < 0x20:
			return nil, errFallback
		case c != '\\':
			out = append(out, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			return nil, errFallback
		}
		e := s.b[s.i+1]
		s.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return nil, errFallback
			}
			if utf16.IsSurrogate(r) {
				// Only a high surrogate followed by an escaped low one is a character.
				if s.i+2 > len(s.b) || s.b[s.i] != '\\' || s.b[s.i+1] != 'u' {
					return nil, errFallback
				}
				s.i += 2
				low, ok := s.hex4()
				if !ok {
					return nil, errFallback
				}
				if r = utf16.DecodeRune(r, low); r == utf8.RuneError {
					return nil, errFallback
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, errFallback
		}
	}
	return nil, errFallback
}

// hex4 reads the four hexadecimal digits of a \u escape.
func (s *jsonScanner) hex4() (rune, bool) {
	if s.i+4 > len(s.b) {
		return 0, false
	}
	var r rune
	for _, h := range s.b[s.i : s.i+4] {
		switch {
		case h >= '0' && h <= '9':
			h -= '0'
		case h >= 'a' && h <= 'f':
			h -= 'a' - 10
		case h >= 'A' && h <= 'F':
			h -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(h)
	}
	s.i += 4
	return r, true
}

func (s *jsonScanner) str(into *string) error {
	if s.literal("null") {
		return nil
	}
	v, err := s.rawString()
	if err != nil {
		return err
	}
	*into = string(v)
	return nil
}

func (s *jsonScanner) boolean(into *bool) error {
	switch {
	case s.literal("true"):
		*into = true
	case s.literal("false"):
		*into = false
	case s.literal("null"):
	default:
		return errFallback
	}
	return nil
}

// integer reads a plain integer that fits in bits (signed or not).
func (s *jsonScanner) integer(bits int, signed bool) (int64, uint64, bool, error) {
	if s.literal("null") {
		return 0, 0, true, nil
	}
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	digits := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	if s.i == digits || s.i < len(s.b) && (s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		return 0, 0, false, errFallback
	}
	if s.b[digits] == '0' && s.i-digits > 1 {
		return 0, 0, false, errFallback // a leading zero is not JSON
	}
	text := string(s.b[start:s.i])
	if signed {
		v, err := strconv.ParseInt(text, 10, bits)
		if err != nil {
			return 0, 0, false, errFallback
		}
		return v, 0, false, nil
	}
	v, err := strconv.ParseUint(text, 10, bits)
	if err != nil {
		return 0, 0, false, errFallback
	}
	return 0, v, false, nil
}

func (s *jsonScanner) int(into *int) error {
	v, _, null, err := s.integer(strconv.IntSize, true)
	if err == nil && !null {
		*into = int(v)
	}
	return err
}

func (s *jsonScanner) int32(into *int32) error {
	v, _, null, err := s.integer(32, true)
	if err == nil && !null {
		*into = int32(v)
	}
	return err
}

func (s *jsonScanner) uint16(into *uint16) error {
	_, v, null, err := s.integer(16, false)
	if err == nil && !null {
		*into = uint16(v)
	}
	return err
}

func (s *jsonScanner) time(into *time.Time) error {
	if s.literal("null") {
		return nil
	}
	v, err := s.rawString()
	if err != nil {
		return err
	}
	var t time.Time
	if t.UnmarshalText(v) != nil {
		return errFallback
	}
	*into = t
	return nil
}

func (s *jsonScanner) strings(into *[]string) error {
	if s.literal("null") {
		*into = nil
		return nil
	}
	if !s.eat('[') {
		return errFallback
	}
	out := []string{}
	if !s.eat(']') {
		for {
			v, err := s.rawString()
			if err != nil {
				return err
			}
			out = append(out, string(v))
			if s.eat(',') {
				continue
			}
			if s.eat(']') {
				break
			}
			return errFallback
		}
	}
	*into = out
	return nil
}

// array reads an array (null reads as none), calling elem for each element.
func (s *jsonScanner) array(elem func() error) error {
	if s.literal("null") {
		return nil
	}
	if !s.eat('[') {
		return errFallback
	}
	if s.eat(']') {
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		if s.eat(',') {
			continue
		}
		if s.eat(']') {
			return nil
		}
		return errFallback
	}
}

func (s *jsonScanner) stringMap(into *map[string]string) error {
	if s.literal("null") {
		*into = nil
		return nil
	}
	m := *into
	if m == nil {
		m = map[string]string{}
	}
	err := s.object(func(key []byte) error {
		var v string
		if err := s.str(&v); err != nil {
			return err
		}
		m[string(key)] = v
		return nil
	})
	*into = m
	return err
}

// skip reads any value and drops it.
func (s *jsonScanner) skip() error {
	switch s.peek() {
	case '"':
		s.i++
		if end := plainString(s.b[s.i:]); end >= 0 {
			s.i += end + 1
			return nil
		}
		for s.i < len(s.b) {
			switch c := s.b[s.i]; {
			case c == '"':
				s.i++
				return nil
			case c == '\\':
				if s.i+1 >= len(s.b) {
					return errFallback
				}
				switch s.b[s.i+1] {
				case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
					s.i += 2
				case 'u':
					s.i += 2
					if _, ok := s.hex4(); !ok {
						return errFallback
					}
				default:
					return errFallback
				}
			case c < 0x20:
				return errFallback
			default:
				s.i++
			}
		}
		return errFallback
	case '{':
		return s.object(func([]byte) error { return s.skip() })
	case '[':
		return s.array(s.skip)
	case 't':
		if s.literal("true") {
			return nil
		}
	case 'f':
		if s.literal("false") {
			return nil
		}
	case 'n':
		if s.literal("null") {
			return nil
		}
	default:
		return s.skipNumber()
	}
	return errFallback
}

// skipNumber reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *jsonScanner) skipNumber() error {
	digits := func() int {
		start := s.i
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
		}
		return s.i - start
	}
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	first := s.i
	if n := digits(); n == 0 || n > 1 && s.b[first] == '0' {
		return errFallback
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return errFallback
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return errFallback
		}
	}
	return nil
}

// unknown skips the value of a key the decoder does not read; a key that matches one of the
// known ones only when case is ignored is what encoding/json would read into that field, so
// the fast path gives up.
func (s *jsonScanner) unknown(key []byte, known keySet) error {
	for _, k := range known {
		if equalFoldASCII(key, k) {
			return errFallback
		}
	}
	return s.skip()
}

// keySet lists the keys of one JSON object that the fast path knows. A slice, searched in
// order: it is only looked at for a key the fast path did not expect, and a map would have to be
// built when the program starts or on first use.
type keySet []string

// equalFoldASCII reports whether key and k are equal under ASCII case folding, as encoding/json
// matches object keys to fields.
func equalFoldASCII(key []byte, k string) bool {
	if len(key) != len(k) {
		return false
	}
	for i := range len(key) {
		a, b := key[i], k[i]
		if a >= 'A' && a <= 'Z' {
			a += 'a' - 'A'
		}
		if b >= 'A' && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

var (
	listedKeys = keySet{"id", "name", "namespace", "pod", "isInfra", "created", "image", "imageName",
		"entrypoint", "cmd", "labels", "mounts", "network", "autoRemove"}
	mountKeys   = keySet{"type", "source", "destination", "options", "readOnly"}
	networkKeys = keySet{"networks", "ports", "staticIP", "staticMAC", "dnsServers", "dnsSearch", "dnsOptions",
		"addHosts", "noHosts"}
	portKeys  = keySet{"hostIP", "hostPort", "containerPort", "protocol", "range"}
	stateKeys = keySet{"status", "pid", "conmonPid", "exitCode", "oomKilled", "startedAt", "finishedAt",
		"mounted", "mountPoint", "netNS", "networks", "error", "restartCount", "stoppedByUser"}
	netStatusKeys = keySet{"interface", "ipAddress", "prefixLen", "gateway", "macAddress", "ipv6"}
)

func fastListedConfig(b []byte, l *listedConfig) error {
	return document(b, func(s *jsonScanner, key []byte) error {
		switch string(key) {
		case "id":
			return s.str(&l.ID)
		case "name":
			return s.str(&l.Name)
		case "namespace":
			return s.str(&l.Namespace)
		case "pod":
			return s.str(&l.Pod)
		case "isInfra":
			return s.boolean(&l.IsInfra)
		case "created":
			return s.time(&l.Created)
		case "image":
			return s.str(&l.Image)
		case "imageName":
			return s.str(&l.ImageName)
		case "entrypoint":
			return s.strings(&l.Entrypoint)
		case "cmd":
			return s.strings(&l.Cmd)
		case "labels":
			return s.stringMap(&l.Labels)
		case "mounts":
			return s.mounts(&l.Mounts)
		case "network":
			return s.network(&l.Network)
		case "autoRemove":
			return s.boolean(&l.AutoRemove)
		}
		return s.unknown(key, listedKeys)
	})
}

// document reads b as one object, each member through member, with nothing after it.
func document(b []byte, member func(s *jsonScanner, key []byte) error) error {
	s := &jsonScanner{b: b}
	if err := s.object(func(key []byte) error { return member(s, key) }); err != nil {
		return err
	}
	return s.end()
}

func (s *jsonScanner) mounts(into *[]model.Mount) error {
	return objects(s, into, func(m *model.Mount, key []byte) error {
		switch string(key) {
		case "type":
			return s.str(&m.Type)
		case "source":
			return s.str(&m.Source)
		case "destination":
			return s.str(&m.Destination)
		case "options":
			return s.strings(&m.Options)
		case "readOnly":
			return s.boolean(&m.ReadOnly)
		}
		return s.unknown(key, mountKeys)
	})
}

// objects reads an array of objects (null reads as nil), each member through member.
func objects[T any](s *jsonScanner, into *[]T, member func(v *T, key []byte) error) error {
	if s.literal("null") {
		*into = nil
		return nil
	}
	out := []T{}
	err := s.array(func() error {
		var v T
		err := s.object(func(key []byte) error { return member(&v, key) })
		out = append(out, v)
		return err
	})
	*into = out
	return err
}

func (s *jsonScanner) network(n *model.NetworkConfig) error {
	return s.object(func(key []byte) error {
		switch string(key) {
		case "networks":
			return s.strings(&n.Networks)
		case "ports":
			return s.ports(&n.Ports)
		case "staticIP":
			return s.str(&n.StaticIP)
		case "staticMAC":
			return s.str(&n.StaticMAC)
		case "dnsServers":
			return s.strings(&n.DNSServers)
		case "dnsSearch":
			return s.strings(&n.DNSSearch)
		case "dnsOptions":
			return s.strings(&n.DNSOptions)
		case "addHosts":
			return s.strings(&n.AddHosts)
		case "noHosts":
			return s.boolean(&n.NoHosts)
		}
		return s.unknown(key, networkKeys)
	})
}

func (s *jsonScanner) ports(into *[]model.PortMapping) error {
	return objects(s, into, func(p *model.PortMapping, key []byte) error {
		switch string(key) {
		case "hostIP":
			return s.str(&p.HostIP)
		case "hostPort":
			return s.uint16(&p.HostPort)
		case "containerPort":
			return s.uint16(&p.ContainerPort)
		case "protocol":
			return s.str(&p.Protocol)
		case "range":
			return s.uint16(&p.Range)
		}
		return s.unknown(key, portKeys)
	})
}

func fastState(b []byte, st *model.ContainerState) error {
	return document(b, func(s *jsonScanner, key []byte) error {
		switch string(key) {
		case "status":
			return s.str(&st.Status)
		case "pid":
			return s.int(&st.Pid)
		case "conmonPid":
			return s.int(&st.ConmonPid)
		case "exitCode":
			return s.int32(&st.ExitCode)
		case "oomKilled":
			return s.boolean(&st.OOMKilled)
		case "startedAt":
			return s.time(&st.StartedAt)
		case "finishedAt":
			return s.time(&st.FinishedAt)
		case "mounted":
			return s.boolean(&st.Mounted)
		case "mountPoint":
			return s.str(&st.MountPoint)
		case "netNS":
			return s.str(&st.NetNS)
		case "networks":
			return s.netStatuses(&st.Networks)
		case "error":
			return s.str(&st.Error)
		case "restartCount":
			return s.int(&st.RestartCount)
		case "stoppedByUser":
			return s.boolean(&st.StoppedByUser)
		}
		return s.unknown(key, stateKeys)
	})
}

func (s *jsonScanner) netStatuses(into *map[string]model.NetworkStatus) error {
	if s.literal("null") {
		*into = nil
		return nil
	}
	m := *into
	if m == nil {
		m = map[string]model.NetworkStatus{}
	}
	err := s.object(func(name []byte) error {
		var n model.NetworkStatus // a repeated name starts afresh, as in encoding/json
		err := s.object(func(key []byte) error {
			switch string(key) {
			case "interface":
				return s.str(&n.Interface)
			case "ipAddress":
				return s.str(&n.IPAddress)
			case "prefixLen":
				return s.int(&n.PrefixLen)
			case "gateway":
				return s.str(&n.Gateway)
			case "macAddress":
				return s.str(&n.MacAddress)
			case "ipv6":
				return s.str(&n.IPv6)
			}
			return s.unknown(key, netStatusKeys)
		})
		m[string(name)] = n
		return err
	})
	*into = m
	return err
}
