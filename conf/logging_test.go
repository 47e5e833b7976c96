package conf

import (
	"strings"
	"testing"
)

func TestLoggingKeys(t *testing.T) {
	_, path := setup(t, "dataDir={dir}\nclientPort=2181\nlog.level=WARN\nlog.format=json\nlog.file={dir}/zk.log\nfsync.warningthresholdms=50\n", nil)
	c, err := LoadEnv(path, env{}.get)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "Log", c.Log, Logging{Level: "warn", Format: "json", File: strings.TrimSuffix(path, "zoo.cfg") + "zk.log"})
	eq(t, "FsyncWarningThresholdMs", c.FsyncWarningThresholdMs, int64(50))
	eq(t, "UnknownKeys", len(c.UnknownKeys), 0)

	_, path = setup(t, "dataDir={dir}\nclientPort=2181\n", nil)
	c, err = LoadEnv(path, env{"SERVER_JVMFLAGS": "-Dfsync.warningthresholdms=7"}.get)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "FsyncWarningThresholdMs from -Dfsync.warningthresholdms", c.FsyncWarningThresholdMs, int64(7))

	// zkServer.sh's -Dzookeeper.root.logger sets the level unless
	// log.level does.
	_, path = setup(t, "dataDir={dir}\nclientPort=2181\n", nil)
	c, err = LoadEnv(path, env{"SERVER_JVMFLAGS": "-Dzookeeper.root.logger=DEBUG,CONSOLE"}.get)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "Log.Level from zookeeper.root.logger", c.Log.Level, "debug")
	_, path = setup(t, "dataDir={dir}\nclientPort=2181\nlog.level=error\n", nil)
	c, err = LoadEnv(path, env{"SERVER_JVMFLAGS": "-Dzookeeper.root.logger=DEBUG,CONSOLE"}.get)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "Log.Level with log.level and zookeeper.root.logger", c.Log.Level, "error")
	_, path = setup(t, "dataDir={dir}\nclientPort=2181\n", nil)
	c, err = LoadEnv(path, env{"SERVER_JVMFLAGS": "-Dzookeeper.root.logger=LOUD"}.get)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "Log.Level from zookeeper.root.logger=LOUD", c.Log.Level, "")
	wantWarning(t, c, "zookeeper.root.logger=LOUD does not start with a log4j level")

	for _, tc := range []struct{ line, want string }{
		{"log.level=loud", `zoo.cfg:3: log.level: "loud" is not a log level; choose debug, info, warn, error`},
		{"log.format=xml", `zoo.cfg:3: log.format: "xml" is not a log format; choose console or json`},
		{"log.file=", `zoo.cfg:3: log.file: is empty`},
		{"fsync.warningthresholdms=soon", `zoo.cfg:3: fsync.warningthresholdms: "soon" is not a number`},
	} {
		_, path := setup(t, "dataDir={dir}\nclientPort=2181\n"+tc.line+"\n", nil)
		_, err := LoadEnv(path, env{}.get)
		want := strings.Replace(tc.want, "zoo.cfg:", path+":", 1)
		if err == nil || err.Error() != want {
			t.Errorf("%s: error %v, want %s", tc.line, err, want)
		}
	}
}
