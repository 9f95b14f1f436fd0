package engine

import (
	"reflect"
	"testing"
)

func TestPSRows(t *testing.T) {
	out := `  PID TTY      STAT   TIME COMMAND
    1 ?        Ss     0:01 /sbin/init splash
  812 ?        S      0:00 sleep 1000
    - -        S      0:00 -
  900 pts/0    R+     0:00 ps aux
`
	for _, tc := range []struct {
		name string
		out  string
		pids []int
		want [][]string
	}{
		{"the container's rows, arguments in the last column", out, []int{812},
			[][]string{{"PID", "TTY", "STAT", "TIME", "COMMAND"}, {"812", "?", "S", "0:00", "sleep 1000"}, {"-", "-", "S", "0:00", "-"}}},
		{"a thread goes with its process only", out, []int{1},
			[][]string{{"PID", "TTY", "STAT", "TIME", "COMMAND"}, {"1", "?", "Ss", "0:01", "/sbin/init splash"}}},
		{"none", out, []int{4242}, [][]string{{"PID", "TTY", "STAT", "TIME", "COMMAND"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := psRows(tc.out, tc.pids)
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("psRows: %q %v, want %q", got, err, tc.want)
			}
		})
	}
	if _, err := psRows("COMMAND\nsleep\n", []int{1}); err == nil {
		t.Fatal("ps output without a PID column: no error")
	}
}
