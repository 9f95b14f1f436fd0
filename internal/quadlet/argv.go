package quadlet

import "fmt"

// argv gathers a command line from a file's keys; the first error stays in err.
type argv struct {
	u    *unitFile
	sec  string
	args []string
	deps []string
	err  error
}

func (a *argv) add(w ...string) { a.args = append(a.args, w...) }

// scalar adds flag with the key's last value.
func (a *argv) scalar(key, flagName string) {
	if v, ok := a.u.last(a.sec, key); ok && v != "" {
		a.add(flag(flagName, v)...)
	}
}

// scalarJoined adds prefix+value as one word.
func (a *argv) scalarJoined(key, prefix string) {
	if v, ok := a.u.last(a.sec, key); ok && v != "" {
		a.add(prefix + v)
	}
}

// list adds flag once for every value of a repeatable key.
func (a *argv) list(key, flagName string) {
	for _, v := range a.u.all(a.sec, key) {
		a.add(flag(flagName, v)...)
	}
}

// eachWord adds prefix+word for every word of a space-separated list key.
func (a *argv) eachWord(key, prefix string) {
	ws, err := words(a.u, a.sec, key)
	a.keep(err)
	for _, w := range ws {
		a.add(prefix + w)
	}
}

// env adds flag KEY=VALUE for every assignment of an Environment=-like key.
func (a *argv) env(key, flagName string) {
	ws, err := assignments(a.u, a.sec, key)
	a.keep(err)
	for _, w := range ws {
		a.add(flag(flagName, w)...)
	}
}

// flagIf adds w when the boolean key is true.
func (a *argv) flagIf(key string, w ...string) {
	on, err := boolean(a.u, a.sec, key, false)
	a.keep(err)
	if on {
		a.add(w...)
	}
}

// boolFlag adds flag=true or flag=false (one word) when the boolean key is set.
func (a *argv) boolFlag(key, flagName string) {
	if !a.u.has(a.sec, key) {
		return
	}
	on, err := boolean(a.u, a.sec, key, false)
	a.keep(err)
	a.add(fmt.Sprintf("%s=%t", flagName, on))
}

// words adds the words of a list key as they are.
func (a *argv) words(key string) {
	ws, err := words(a.u, a.sec, key)
	a.keep(err)
	a.add(ws...)
}

func (a *argv) keep(err error) {
	if a.err == nil {
		a.err = err
	}
}
