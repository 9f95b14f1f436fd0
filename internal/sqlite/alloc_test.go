package sqlite

import (
	"bytes"
	"strconv"
	"testing"
	"time"
)

func TestAllocatorChecks(t *testing.T) {
	if line := allocCheck(); line != 0 {
		t.Fatalf("alloc.c: the check at line %d failed", line)
	}
}

// SQLite allocates from pea's arena, gets back what it stored (blobs above and below the largest
// class, which take malloc and the arena), and a process that opens, writes, reads and closes
// the database over and over reuses the blocks it freed instead of taking more of the arena.
func TestSQLiteAllocatesFromTheArenaAndReusesIt(t *testing.T) {
	_, path := open(t)
	if arenaUsed() == 0 {
		t.Fatal("SQLite took nothing from the arena")
	}
	round := func(i int) {
		db, err := Open(path, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, size := range []int{10, 3000, 70000} {
			want := bytes.Repeat([]byte{byte(i), byte(size)}, size/2)
			k := strconv.Itoa(size)
			if _, err := db.Exec(`INSERT OR REPLACE INTO t (k, b) VALUES (?, ?)`, k, want); err != nil {
				t.Fatal(err)
			}
			var got []byte
			if err := db.QueryRow(`SELECT b FROM t WHERE k = ?`, k).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("round %d: a blob of %d bytes came back as %d different bytes", i, size, len(got))
			}
		}
	}
	for i := range 5 {
		round(i)
	}
	warm := arenaUsed()
	if warm > arenaBytes-512<<10 {
		t.Fatalf("the arena is nearly full (%d of %d bytes) before the rounds: reuse would go unseen", warm, arenaBytes)
	}
	for i := 5; i < 40; i++ {
		round(i)
	}
	if grown := arenaUsed() - warm; grown > 64<<10 {
		t.Fatalf("35 more rounds took %d more bytes of the arena (%d after 5): freed blocks are not reused", grown, warm)
	}
}
