package monitor

import (
	"net"
	"testing"
	"time"
)

func TestFourLetterFormatting(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0.0", 1: "1.0", 2.5833: "2.5833", 0.001: "0.001", 0.0001: "1.0E-4",
		1e7: "1.0E7", 1234567.5: "1234567.5", 12345678: "1.2345678E7",
	} {
		if got := javaDouble(v); got != want {
			t.Errorf("javaDouble(%v) = %q, want %q", v, got, want)
		}
	}
	for _, c := range []struct{ in, want float64 }{
		{31.0 / 12, 2.5833}, {33.0 / 32, 1.0313}, {1.0 / 3, 0.3333}, {2.0 / 3, 0.6667}, {5, 5},
	} {
		if got := roundHalfUp4(c.in); got != c.want {
			t.Errorf("roundHalfUp4(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	for addr, want := range map[string]string{
		"127.0.0.1:53412":        "/127.0.0.1:53412",
		"[::1]:2181":             "/0:0:0:0:0:0:0:1:2181",
		"[fe80::1%eth0]:2181":    "/fe80:0:0:0:0:0:0:1%eth0:2181",
		"[::ffff:10.0.0.1]:2181": "/10.0.0.1:2181",
	} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := javaSocketAddr(a); got != want {
			t.Errorf("javaSocketAddr(%s) = %q, want %q", addr, got, want)
		}
	}
	if got := javaDate(time.Date(2026, 11, 22, 4, 6, 29, 0, time.UTC)); got != "Sun Nov 22 04:06:29 UTC 2026" {
		t.Errorf("javaDate: %q", got)
	}
}
