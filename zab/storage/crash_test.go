package storage

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// crashDirEnv, when set, makes TestCrashMidAppend act as the child process
// that appends to the log in that directory until it is killed.
const crashDirEnv = "ZKGO_STORAGE_CRASH_CHILD_DIR"

// crashChild appends entries from four goroutines and prints "acked <zxid>"
// after each Append returns; it stops by itself after a while.
func crashChild(dir string) {
	l, err := OpenLog(dir, Options{ForceSync: true})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	var mu sync.Mutex
	next := l.LastZxid() + 1
	deadline := time.Now().Add(20 * time.Second)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				mu.Lock()
				from, n := next, 1+rand.Int64N(3)
				next += n
				p, err := l.AppendAsync(entries(from, from+n-1))
				mu.Unlock()
				if err == nil {
					err = p.Wait()
				}
				if err != nil {
					fmt.Println("error", err)
					os.Exit(1)
				}
				fmt.Printf("acked %d\n", from+n-1)
			}
		})
	}
	wg.Wait()
	os.Exit(0)
}

// TestCrashMidAppend kills a process appending to the log with SIGKILL, then
// checks that the reopened log is a contiguous prefix holding every entry
// whose Append returned; and that cutting the newest WAL file anywhere (a torn
// tail) still opens as a contiguous prefix.
func TestCrashMidAppend(t *testing.T) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		crashChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir, killed := t.TempDir(), t.TempDir()
	for round := range 4 {
		acked := runAndKill(t, dir, 30*time.Millisecond+time.Duration(rand.IntN(400))*time.Millisecond)
		if round == 3 {
			copyDir(t, dir, killed) // the state right after a crash, for the torn tails below
		}
		l := openTestLog(t, dir, Options{ForceSync: true})
		last := checkPrefix(t, l)
		l.Close()
		if last < acked {
			t.Fatalf("round %d: log ends at %d but %d was acknowledged", round, last, acked)
		}
		t.Logf("round %d: acknowledged up to %d, recovered up to %d", round, acked, last)
	}

	// A cut anywhere in the newest WAL file: beyond the high-water mark
	// it is a torn tail, dropped; below it, acknowledged entries are gone,
	// which the log must refuse to hide.
	for i := range 8 {
		torn := t.TempDir()
		copyDir(t, killed, torn)
		wal, size := newestWAL(t, torn)
		cut := rand.Int64N(size + 1)
		if err := os.Truncate(wal, cut); err != nil {
			t.Fatal(err)
		}
		l, err := OpenLog(torn, Options{ForceSync: true})
		if err != nil {
			var ce *CorruptionError
			if !errors.As(err, &ce) || ce.Path != wal {
				t.Fatalf("cut at %d of %d: %v; want a CorruptionError naming %s", cut, size, err, wal)
			}
			l = openTestLog(t, torn, Options{ForceSync: true, AcceptLoss: true})
			last := checkPrefix(t, l)
			if l.Lost() == nil || last >= l.HighWater() {
				t.Fatalf("cut at %d of %d refused (%v), but the log opens to %d with mark %d and no loss", cut, size, err, last, l.HighWater())
			}
			l.Close()
			t.Logf("cut %d: %s at %d of %d bytes loses acknowledged entries: %v", i, filepath.Base(wal), cut, size, err)
			continue
		}
		last := checkPrefix(t, l)
		if last < l.HighWater() {
			t.Fatalf("cut at %d of %d: opened up to %d, below the mark %d", cut, size, last, l.HighWater())
		}
		if err := l.Append(entries(last+1, last+3)); err != nil {
			t.Fatal(err)
		}
		l.Close()
		t.Logf("cut %d: %s at %d of %d bytes is a torn tail, recovered up to %d", i, filepath.Base(wal), cut, size, last)
	}
}

// runAndKill runs the child on dir, kills it after at least one acknowledged
// append and the given delay, and returns the highest acknowledged zxid.
func runAndKill(t *testing.T, dir string, after time.Duration) int64 {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashMidAppend$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked int64
	sc := bufio.NewScanner(out)
	var timer *time.Timer
	for sc.Scan() {
		line := sc.Text()
		z, ok := strings.CutPrefix(line, "acked ")
		if !ok {
			if strings.HasPrefix(line, "error") {
				t.Fatalf("child: %s", line)
			}
			continue
		}
		n, err := strconv.ParseInt(z, 10, 64)
		if err != nil {
			t.Fatalf("child printed %q", line)
		}
		acked = max(acked, n)
		if timer == nil {
			timer = time.AfterFunc(after, func() { cmd.Process.Kill() })
		}
	}
	cmd.Wait()
	if acked == 0 {
		t.Fatal("child acknowledged nothing")
	}
	return acked
}

// checkPrefix checks that the log holds exactly 1..LastZxid with the right
// data, and returns LastZxid.
func checkPrefix(t *testing.T, l *Log) int64 {
	t.Helper()
	want := int64(1)
	err := l.Iterate(0, func(z int64, data []byte) error {
		if z != want {
			return fmt.Errorf("found zxid %d, want %d: not a contiguous prefix", z, want)
		}
		if !slices.Equal(data, payload(z)) {
			return fmt.Errorf("zxid %d: wrong data", z)
		}
		want++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if first, last := l.FirstZxid(), l.LastZxid(); last != want-1 || (last > 0 && first != 1) {
		t.Fatalf("FirstZxid, LastZxid = %d, %d; iterated 1..%d", first, last, want-1)
	}
	return want - 1
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		src, err := os.Open(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		dst, err := os.Create(filepath.Join(to, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(dst, src); err != nil {
			t.Fatal(err)
		}
		src.Close()
		if err := dst.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// newestWAL returns the path and size of the highest-numbered pebble WAL file.
func newestWAL(t *testing.T, dir string) (string, int64) {
	t.Helper()
	wals, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil || len(wals) == 0 {
		t.Fatalf("no WAL in %s: %v", dir, err)
	}
	slices.Sort(wals) // zero-padded numbers sort as strings
	st, err := os.Stat(wals[len(wals)-1])
	if err != nil {
		t.Fatal(err)
	}
	return wals[len(wals)-1], st.Size()
}
