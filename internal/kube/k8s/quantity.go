package k8s

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
)

// Format is how a quantity is written: with a binary suffix (Ki, Mi …), a decimal one (m, k,
// M …) or a decimal exponent (e3). A quantity keeps the format it was parsed or made with.
type Format string

const (
	DecimalExponent Format = "DecimalExponent" // 1e3
	BinarySI        Format = "BinarySI"        // 1Ki
	DecimalSI       Format = "DecimalSI"       // 1k, 500m
)

// Quantity is an exact amount of a resource: bytes of memory or storage, cores of CPU.
// The zero value is 0.
type Quantity struct {
	v      *big.Rat // nil is 0; never modified once set
	Format Format
}

// NewQuantity is value in units (bytes, cores), written in format.
func NewQuantity(value int64, format Format) *Quantity {
	return &Quantity{v: new(big.Rat).SetInt64(value), Format: format}
}

// NewMilliQuantity is value thousandths of a unit (millicores), written in format.
func NewMilliQuantity(milli int64, format Format) *Quantity {
	return &Quantity{v: big.NewRat(milli, 1000), Format: format}
}

// MustParse parses s, and panics when it is not a quantity; for constants.
func MustParse(s string) Quantity {
	q, err := ParseQuantity(s)
	if err != nil {
		panic(err)
	}
	return q
}

// binarySuffixes[i] stands for 1024^i; decimalSuffixes[i] for 1000^(i-3).
var (
	binarySuffixes  = []string{"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"}
	decimalSuffixes = []string{"n", "u", "m", "", "k", "M", "G", "T", "P", "E"}
)

// ParseQuantity reads a quantity as Kubernetes writes them: a decimal number ("2", "0.5", "+1.",
// ".5") and an optional suffix: binary (Ki Mi Gi Ti Pi Ei), decimal (n u m k M G T P E) or an
// exponent (e3, E-2).
func ParseQuantity(s string) (Quantity, error) {
	bad := func() (Quantity, error) {
		return Quantity{}, fmt.Errorf("quantity %q: want a number and an optional suffix (Ki, Mi, Gi, Ti, Pi, Ei, n, u, m, k, M, G, T, P, E, or an exponent such as e3)", s)
	}
	num := s
	if num != "" && (num[0] == '+' || num[0] == '-') {
		num = num[1:]
	}
	end, digits, dots := 0, 0, 0
	for end < len(num) && (num[end] >= '0' && num[end] <= '9' || num[end] == '.') {
		if num[end] == '.' {
			dots++
		} else {
			digits++
		}
		end++
	}
	if digits == 0 || dots > 1 {
		return bad()
	}
	suffix := num[end:]
	num = s[:len(s)-len(suffix)]
	v, ok := new(big.Rat).SetString(strings.TrimPrefix(num, "+"))
	if !ok {
		return bad()
	}
	q := Quantity{Format: DecimalSI}
	if i := indexOf(decimalSuffixes, suffix); i >= 0 {
		v.Mul(v, pow(10, 3*(i-3)))
	} else if i := indexOf(binarySuffixes, suffix); i > 0 {
		q.Format = BinarySI
		v.Mul(v, pow(1024, i))
	} else if suffix[0] == 'e' || suffix[0] == 'E' {
		exp, ok := smallInt(suffix[1:])
		if !ok {
			return bad()
		}
		q.Format = DecimalExponent
		v.Mul(v, pow(10, exp))
	} else {
		return bad()
	}
	q.v = v
	return q, nil
}

// smallInt reads an optionally signed exponent of at most three digits.
func smallInt(s string) (int, bool) {
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	if s == "" || len(s) > 3 {
		return 0, false
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

func indexOf(list []string, s string) int {
	for i, e := range list {
		if e == s {
			return i
		}
	}
	return -1
}

// pow is base^exp (exp may be negative).
func pow(base int64, exp int) *big.Rat {
	neg := exp < 0
	if neg {
		exp = -exp
	}
	p := new(big.Int).Exp(big.NewInt(base), big.NewInt(int64(exp)), nil)
	if neg {
		return new(big.Rat).SetFrac(big.NewInt(1), p)
	}
	return new(big.Rat).SetInt(p)
}

func (q Quantity) rat() *big.Rat {
	if q.v == nil {
		return new(big.Rat)
	}
	return q.v
}

// IsZero says whether the quantity is 0.
func (q Quantity) IsZero() bool { return q.v == nil || q.v.Sign() == 0 }

// Value is the quantity in units, rounded away from zero (bytes, whole cores).
func (q Quantity) Value() int64 { return roundUp(q.rat()) }

// MilliValue is the quantity in thousandths of a unit, rounded away from zero (millicores).
func (q Quantity) MilliValue() int64 {
	return roundUp(new(big.Rat).Mul(q.rat(), big.NewRat(1000, 1)))
}

// roundUp rounds r away from zero to an integer, clamped to int64.
func roundUp(r *big.Rat) int64 {
	n, rem := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if rem.Sign() != 0 {
		n.Add(n, big.NewInt(int64(r.Sign())))
	}
	if !n.IsInt64() {
		if n.Sign() < 0 {
			return -1 << 63
		}
		return 1<<63 - 1
	}
	return n.Int64()
}

// String writes the quantity canonically in its format: the largest suffix that keeps the
// number whole ("512Mi", "1536", "500m", "2k", "1e3"). A binary quantity below 1024 is written
// with decimal suffixes, and nothing is finer than a nano-unit (it is rounded up to one).
func (q Quantity) String() string {
	v := q.rat()
	if q.Format == BinarySI && v.Cmp(big.NewRat(-1024, 1)) > 0 && v.Cmp(big.NewRat(1024, 1)) < 0 {
		return Quantity{v: v, Format: DecimalSI}.String()
	}
	if q.Format == BinarySI {
		n := big.NewInt(roundUp(v))
		for i := len(binarySuffixes) - 1; i > 0; i-- {
			d := new(big.Int).Exp(big.NewInt(1024), big.NewInt(int64(i)), nil)
			if m, rem := new(big.Int).QuoRem(n, d, new(big.Int)); rem.Sign() == 0 {
				return m.String() + binarySuffixes[i]
			}
		}
		return n.String()
	}
	nano := new(big.Rat).Mul(v, pow(10, 9))
	if !nano.IsInt() {
		nano.SetInt64(roundUp(nano))
	}
	n := nano.Num()
	exp := -9 // n is the quantity in 10^exp units
	ten3 := big.NewInt(1000)
	for n.Sign() != 0 && exp < 18 {
		m, rem := new(big.Int).QuoRem(n, ten3, new(big.Int))
		if rem.Sign() != 0 {
			break
		}
		n, exp = m, exp+3
	}
	if n.Sign() == 0 {
		return "0"
	}
	if q.Format == DecimalExponent {
		if exp == 0 {
			return n.String()
		}
		return fmt.Sprintf("%se%d", n, exp)
	}
	return n.String() + decimalSuffixes[exp/3+3]
}

// MarshalJSON writes the quantity as a string.
func (q Quantity) MarshalJSON() ([]byte, error) {
	return json.Marshal(q.String())
}

// UnmarshalJSON reads a quantity from a string ("128Mi") or a number (0.5).
func (q *Quantity) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	s := string(b)
	switch {
	case s == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*q = Quantity{}
			return nil
		}
	}
	v, err := ParseQuantity(s)
	if err != nil {
		return err
	}
	*q = v
	return nil
}
