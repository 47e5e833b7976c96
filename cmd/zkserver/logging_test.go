package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/zkgo/zkgo/conf"
)

func TestSplitLogFlags(t *testing.T) {
	rest, set, err := splitLogFlags([]string{"--log-level=DEBUG", "zoo.cfg", "--log-format", "json", "--log-file=/tmp/x.log"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rest) != 1 || rest[0] != "zoo.cfg" {
		t.Errorf("rest %q", rest)
	}
	if want := (conf.Logging{Level: "debug", Format: "json", File: "/tmp/x.log"}); set != want {
		t.Errorf("flags %+v, want %+v", set, want)
	}
	for _, bad := range [][]string{{"--log-level=loud"}, {"--log-format=xml"}, {"--log-file="}, {"--log-level"}} {
		if _, _, err := splitLogFlags(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestLoggerFromConfigAndFlags checks that the flags win over zoo.cfg and
// that a JSON file gets one object per event at or above the level.
func TestLoggerFromConfigAndFlags(t *testing.T) {
	path := filepath.Join(t.TempDir(), "zk.log")
	log, err := newLogger(conf.Logging{Level: "debug", Format: "console", File: "stderr"},
		conf.Logging{Level: "warn", Format: "json", File: path})
	if err != nil {
		t.Fatal(err)
	}
	log.Info("not logged")
	log.Warn("snapshot slow", zap.Int64("size", 42))
	log.Sync()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 1 {
		t.Fatalf("log file has %d lines, want 1:\n%s", len(lines), b)
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &ev); err != nil {
		t.Fatalf("not JSON: %v: %s", err, lines[0])
	}
	if ev["msg"] != "snapshot slow" || ev["level"] != "warn" || ev["size"] != 42.0 {
		t.Errorf("event %v", ev)
	}
	if _, err := newLogger(conf.Logging{File: filepath.Join(t.TempDir(), "no", "such", "dir", "x.log")}, conf.Logging{}); err == nil {
		t.Error("a log file in a missing directory was accepted")
	}
}
