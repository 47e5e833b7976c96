package test

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkgo/zkgo/test/harness"
)

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}

// connect opens a go-zookeeper session and waits until it is established.
func connect(t *testing.T, addr string) *zk.Conn {
	t.Helper()
	return connectWith(t, addr, 10*time.Second, net.DialTimeout)
}

// connectWith opens a session with the given timeout through dialer and
// waits until it is established.
func connectWith(t *testing.T, addr string, timeout time.Duration, dialer zk.Dialer) *zk.Conn {
	t.Helper()
	c, events, err := zk.Connect([]string{addr}, timeout, zk.WithLogger(quietLogger{}), zk.WithDialer(dialer))
	if err != nil {
		t.Fatal(err)
	}
	if !harness.AwaitSession(events, 20*time.Second) {
		c.Close()
		t.Fatalf("no session with %s", addr)
	}
	return c
}

// TestCrashLosesNoAcknowledgedWrite writes at full speed from many
// goroutines, kills the server with SIGKILL at a random moment, restarts it
// and checks that every acknowledged write is there and nothing that was
// never attempted appeared. CRASH_ROUNDS sets the number of rounds
// (default 5) and CRASH_SEED the seed.
func TestCrashLosesNoAcknowledgedWrite(t *testing.T) {
	rounds := envInt("CRASH_ROUNDS", 5)
	seed := uint64(envInt("CRASH_SEED", int(time.Now().UnixNano()%1_000_000)))
	t.Logf("seed %d (rerun with CRASH_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	srv := harness.StartOurs(t, map[string]string{"snapCount": "300"})
	setup := connect(t, srv.Addr())
	if _, err := setup.Create("/crash", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	setup.Close()

	const writers = 8
	acked := map[string]string{}   // path -> data of acknowledged creates
	attempted := map[string]bool{} // every create sent
	counters := map[string]int{}   // counter path -> last acknowledged value
	for round := 0; round < rounds; round++ {
		c := connect(t, srv.Addr())
		var mu sync.Mutex
		var wg sync.WaitGroup
		for g := 0; g < writers; g++ {
			counter := fmt.Sprintf("/crash/counter-%d", g)
			if round == 0 {
				if _, err := c.Create(counter, []byte("0"), 0, zk.WorldACL(zk.PermAll)); err != nil {
					t.Fatal(err)
				}
				counters[counter] = 0
			}
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for n := 0; ; n++ {
					path := fmt.Sprintf("/crash/r%d-g%d-%d", round, g, n)
					data := strconv.Itoa(n)
					mu.Lock()
					attempted[path] = true
					mu.Unlock()
					if _, err := c.Create(path, []byte(data), 0, zk.WorldACL(zk.PermAll)); err != nil {
						return
					}
					mu.Lock()
					acked[path] = data
					value := counters[counter] + 1
					mu.Unlock()
					if _, err := c.Set(counter, []byte(strconv.Itoa(value)), -1); err != nil {
						return
					}
					mu.Lock()
					counters[counter] = value
					mu.Unlock()
				}
			}(g)
		}
		time.Sleep(time.Duration(50+rng.IntN(400)) * time.Millisecond) // the crash moment, not synchronisation
		srv.Kill()
		wg.Wait()
		c.Close()
		if err := srv.Restart(); err != nil {
			t.Fatalf("round %d: restart: %v", round, err)
		}
		verify(t, srv.Addr(), round, acked, attempted, counters)
	}
	t.Logf("%d rounds, %d acknowledged creates", rounds, len(acked))
}

func verify(t *testing.T, addr string, round int, acked map[string]string, attempted map[string]bool, counters map[string]int) {
	t.Helper()
	c := connect(t, addr)
	defer c.Close()
	children, _, err := c.Children("/crash")
	if err != nil {
		t.Fatal(err)
	}
	present := map[string]bool{}
	for _, name := range children {
		present["/crash/"+name] = true
	}
	for path, data := range acked {
		if !present[path] {
			t.Fatalf("round %d: acknowledged create %s lost", round, path)
		}
		got, _, err := c.Get(path)
		if err != nil || string(got) != data {
			t.Fatalf("round %d: %s holds %q (%v), want %q", round, path, got, err, data)
		}
	}
	for path := range present {
		if _, ok := counters[path]; !ok && !attempted[path] {
			t.Fatalf("round %d: %s exists but was never written", round, path)
		}
	}
	for path, min := range counters {
		got, _, err := c.Get(path)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := strconv.Atoi(string(got))
		if v < min {
			t.Fatalf("round %d: %s is %d, but %d was acknowledged", round, path, v, min)
		}
		counters[path] = v // an unacknowledged write may have landed
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}
