package harness

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// RSS returns the resident memory of the server process in bytes (VmRSS
// of /proc/<pid>/status).
func (s *Server) RSS() (int64, error) { return s.procStatusBytes("VmRSS") }

// PeakRSS returns the largest resident memory of the server process since
// it started or since the last ResetPeakRSS, in bytes (VmHWM).
func (s *Server) PeakRSS() (int64, error) { return s.procStatusBytes("VmHWM") }

// ResetPeakRSS makes the peak that PeakRSS reports start again from the
// current resident memory (Linux's clear_refs, value 5).
func (s *Server) ResetPeakRSS() error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.Pid()), []byte("5"), 0)
}

// procStatusBytes reads a "<key>: <n> kB" line of /proc/<pid>/status.
func (s *Server) procStatusBytes(key string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.Pid()))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		v, ok := strings.CutPrefix(line, key+":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("harness: %s line %q: %v", key, line, err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("harness: no %s line in /proc/%d/status", key, s.Pid())
}
