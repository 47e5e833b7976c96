package conf

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// env is a fake environment for LoadEnv.
type env map[string]string

func (e env) get(k string) string { return e[k] }

// setup writes zoo.cfg (and the extra files, named relative to the
// directory) into a new temporary directory, after replacing {dir} with
// it, and returns the directory and the path of zoo.cfg.
func setup(t *testing.T, cfg string, files map[string]string) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	write := func(name, body string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(body, "{dir}", dir)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path = filepath.Join(dir, "zoo.cfg")
	write("zoo.cfg", cfg)
	for name, body := range files {
		write(name, body)
	}
	return dir, path
}

func TestDefault(t *testing.T) {
	c := Default()
	checks := []struct {
		name      string
		got, want any
	}{
		{"File", c.File, ""},
		{"TickTime", c.TickTime, 3000},
		{"DataDir", c.DataDir, "./data"},
		{"DataLogDir", c.DataLogDir, "./data"},
		{"ClientPort", c.ClientPort, 2181},
		{"MaxClientCnxns", c.MaxClientCnxns, 60},
		{"MinSessionTimeout", c.MinSessionTimeout, 6000},
		{"MaxSessionTimeout", c.MaxSessionTimeout, 60000},
		{"LeaderLossHoldMs", c.LeaderLossHoldMs, 3000},
		{"SnapCount", c.SnapCount, 100000},
		{"AutopurgeSnapRetainCount", c.AutopurgeSnapRetainCount, 3},
		{"AutopurgePurgeInterval", c.AutopurgePurgeInterval, 0},
		{"FourLetterWords", c.FourLetterWords, []string{"srvr"}},
		{"AdminEnableServer", c.AdminEnableServer, true},
		{"AdminServerAddress", c.AdminServerAddress, "0.0.0.0"},
		{"AdminServerPort", c.AdminServerPort, 8080},
		{"AdminCommandURL", c.AdminCommandURL, "/commands"},
		{"MetricsProviderClassName", c.MetricsProviderClassName, ""},
		{"MetricsHTTPPort", c.MetricsHTTPPort, 7000},
		{"MetricsHTTPHost", c.MetricsHTTPHost, "0.0.0.0"},
		{"StandaloneEnabled", c.StandaloneEnabled, true},
		{"ReconfigEnabled", c.ReconfigEnabled, false},
		{"PeerType", c.PeerType, "participant"},
		{"ForceSync", c.ForceSync, true},
		{"JuteMaxBuffer", c.JuteMaxBuffer, 1048575},
		{"SyncEnabled", c.SyncEnabled, true},
		{"ElectionAlg", c.ElectionAlg, 3},
		{"ClientPortListenBacklog", c.ClientPortListenBacklog, -1},
		{"ContainerCheckIntervalMs", c.ContainerCheckIntervalMs, 60000},
		{"ContainerMaxPerMinute", c.ContainerMaxPerMinute, 10000},
		{"ContainerMaxNeverUsedIntervalMs", c.ContainerMaxNeverUsedIntervalMs, int64(0)},
		{"Standalone", c.Standalone(), true},
		{"srvr", c.FourLetterWordEnabled("srvr"), true},
		{"ruok", c.FourLetterWordEnabled("ruok"), false},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %#v, want %#v", ch.name, ch.got, ch.want)
		}
	}
	if c.Properties == nil || len(c.Properties) != 0 {
		t.Errorf("Properties = %#v, want empty map", c.Properties)
	}
}

func TestParseProperties(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []property
	}{
		{"equals", "a=1\nb = 2 \n", []property{{"a", "1", 1}, {"b", "2 ", 2}}},
		{"colon and blank separators", "a:1\nb 2\nc\t:\t3\nd   =   4", []property{{"a", "1", 1}, {"b", "2", 2}, {"c", "3", 3}, {"d", "4", 4}}},
		{"comments and blanks", "# c\n! c\n\n   \n  # indented\na=1\n", []property{{"a", "1", 6}}},
		{"leading whitespace", "   \t a=1", []property{{"a", "1", 1}}},
		{"continuation", "a=x\\\n    y\\\n  z\nb=2", []property{{"a", "xyz", 1}, {"b", "2", 4}}},
		{"escaped backslash is no continuation", "a=x\\\\\nb=2", []property{{"a", `x\`, 1}, {"b", "2", 2}}},
		{"continuation at end of file", "a=x\\", []property{{"a", "x", 1}}},
		{"comment does not continue", "# c \\\na=1", []property{{"a", "1", 2}}},
		{"continued line may start with #", "a=x\\\n#y", []property{{"a", "x#y", 1}}},
		{"unicode escapes", `k\u0041=\u00e9t\u00E9`, []property{{"kA", "été", 1}}},
		{"surrogate pair", `k=\ud83d\ude00`, []property{{"k", "😀", 1}}},
		{"escaped separators in key", `a\=b\:c\ d=v`, []property{{"a=b:c d", "v", 1}}},
		{"other escapes", `k=\t\n\r\f\q\\`, []property{{"k", "\t\n\r\fq\\", 1}}},
		{"empty value", "k=\nj", []property{{"k", "", 1}, {"j", "", 2}}},
		{"CRLF and CR", "a=1\r\nb=2\rc=3", []property{{"a", "1", 1}, {"b", "2", 2}, {"c", "3", 3}}},
		{"BOM", "\xef\xbb\xbfa=1", []property{{"a", "1", 1}}},
		{"duplicates kept in order", "a=1\na=2", []property{{"a", "1", 1}, {"a", "2", 2}}},
		{"UTF-8 value", "dataDir=/var/lib/zoo/été", []property{{"dataDir", "/var/lib/zoo/été", 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProperties([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v\nwant %#v", got, tt.want)
			}
		})
	}

	_, err := parseProperties([]byte("a=1\nk=\\u12x4\n"))
	var e *Error
	if !errors.As(err, &e) || e.Line != 2 || e.Key != "k" {
		t.Errorf("malformed \\u: err = %v, want an *Error at line 2, key k", err)
	}
}

func TestPropertiesCodecRoundTrip(t *testing.T) {
	codec := &PropertiesCodec{}
	in := map[string]any{"a b": " x", "c=d": "#y", "e": "tab\there\\", "é": "ü"}
	data, err := codec.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	if err := codec.Decode(data, out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip: got %#v from %q, want %#v", out, data, in)
	}
}

func TestParseJVMFlags(t *testing.T) {
	got := ParseJVMFlags(`-Xmx1g -Dzookeeper.snapCount=10 -Djute.maxbuffer=4194304 -server -Dflag -Dk=a=b -Dzookeeper.snapCount=20 "-Dq=a b" -Dr='c d' -D`)
	want := map[string]string{
		"zookeeper.snapCount": "20",
		"jute.maxbuffer":      "4194304",
		"flag":                "",
		"k":                   "a=b",
		"q":                   "a b",
		"r":                   "c d",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
	if got := ParseJVMFlags(""); len(got) != 0 {
		t.Errorf("empty: got %#v", got)
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name  string
		cfg   string
		files map[string]string
		env   env
		check func(t *testing.T, dir string, c *Config)
	}{
		{
			name: "defaults",
			cfg:  "dataDir={dir}/data\n",
			check: func(t *testing.T, dir string, c *Config) {
				want := newConfig()
				want.File = filepath.Join(dir, "zoo.cfg")
				want.DataDir = dir + "/data"
				want.DataLogDir = want.DataDir
				want.MinSessionTimeout, want.MaxSessionTimeout = 6000, 60000
				want.LeaderLossHoldMs = 3000
				if !reflect.DeepEqual(c, want) {
					t.Errorf("got  %+v\nwant %+v", c, want)
				}
				if c.ClientPort != 0 || !c.Standalone() {
					t.Errorf("ClientPort %d, Standalone %v", c.ClientPort, c.Standalone())
				}
			},
		},
		{
			name: "basic keys",
			cfg: `# sample
tickTime=2000
initLimit=10
syncLimit=5
dataDir={dir}/data
dataLogDir={dir}/log
clientPort=2182
clientPortAddress=127.0.0.1
secureClientPort=2281
secureClientPortAddress=::1
maxClientCnxns=0
clientPortListenBacklog=128
observerMasterPort=2191
connectToLearnerMasterLimit=20
`,
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "TickTime", c.TickTime, 2000)
				eq(t, "InitLimit", c.InitLimit, 10)
				eq(t, "SyncLimit", c.SyncLimit, 5)
				eq(t, "DataDir", c.DataDir, dir+"/data")
				eq(t, "DataLogDir", c.DataLogDir, dir+"/log")
				eq(t, "ClientPort", c.ClientPort, 2182)
				eq(t, "ClientPortAddress", c.ClientPortAddress, "127.0.0.1")
				eq(t, "SecureClientPort", c.SecureClientPort, 2281)
				eq(t, "SecureClientPortAddress", c.SecureClientPortAddress, "::1")
				eq(t, "MaxClientCnxns", c.MaxClientCnxns, 0)
				eq(t, "ClientPortListenBacklog", c.ClientPortListenBacklog, 128)
				eq(t, "ObserverMasterPort", c.ObserverMasterPort, 2191)
				eq(t, "ConnectToLearnerMasterLimit", c.ConnectToLearnerMasterLimit, 20)
				eq(t, "MinSessionTimeout", c.MinSessionTimeout, 4000)
				eq(t, "MaxSessionTimeout", c.MaxSessionTimeout, 40000)
			},
		},
		{
			name: "session timeouts",
			cfg:  "dataDir=d\ntickTime=1000\nminSessionTimeout=500\nmaxSessionTimeout=90000\n",
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "MinSessionTimeout", c.MinSessionTimeout, 500)
				eq(t, "MaxSessionTimeout", c.MaxSessionTimeout, 90000)
				eq(t, "LeaderLossHoldMs", c.LeaderLossHoldMs, 250)
			},
		},
		{
			name: "only min session timeout, max from tick",
			cfg:  "dataDir=d\ntickTime=1000\nminSessionTimeout=3000\n",
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "MinSessionTimeout", c.MinSessionTimeout, 3000)
				eq(t, "MaxSessionTimeout", c.MaxSessionTimeout, 20000)
			},
		},
		{
			name: "leader loss hold",
			cfg:  "dataDir=d\ntickTime=1000\nleaderLossHoldMs=0\n",
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "LeaderLossHoldMs", c.LeaderLossHoldMs, 0)
			},
		},
		{
			name: "autopurge hours",
			cfg:  "dataDir=d\nautopurge.snapRetainCount=5\nautopurge.purgeInterval=24\n",
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "AutopurgeSnapRetainCount", c.AutopurgeSnapRetainCount, 5)
				eq(t, "AutopurgePurgeInterval", c.AutopurgePurgeInterval, 24)
				eq(t, "AutopurgePurgeIntervalMs", c.AutopurgePurgeIntervalMs, int64(24*3600000))
			},
		},
		{
			name: "autopurge with unit and low retain count",
			cfg:  "dataDir=d\nautopurge.snapRetainCount=1\nautopurge.purgeInterval=90m\n",
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "AutopurgeSnapRetainCount", c.AutopurgeSnapRetainCount, 3)
				eq(t, "AutopurgePurgeInterval", c.AutopurgePurgeInterval, 1)
				eq(t, "AutopurgePurgeIntervalMs", c.AutopurgePurgeIntervalMs, int64(90*60000))
				wantWarning(t, c, "snapRetainCount 1 is below the minimum")
			},
		},
		{
			name: "snapCount and four letter words",
			cfg:  "dataDir=d\nsnapCount=5000\n4lw.commands.whitelist=stat, ruok conf,,\n",
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "SnapCount", c.SnapCount, 5000)
				eq(t, "FourLetterWords", c.FourLetterWords, []string{"stat", "ruok", "conf", "srvr"})
				eq(t, "ruok enabled", c.FourLetterWordEnabled("ruok"), true)
				eq(t, "srvr enabled", c.FourLetterWordEnabled("srvr"), true)
				eq(t, "mntr enabled", c.FourLetterWordEnabled("mntr"), false)
				eq(t, "property", c.Properties["zookeeper.snapCount"], "5000")
				eq(t, "UnknownKeys", len(c.UnknownKeys), 0)
			},
		},
		{
			name: "four letter words star",
			cfg:  "dataDir=d\n4lw.commands.whitelist=srvr, *\n",
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "FourLetterWords", c.FourLetterWords, []string{"*"})
				eq(t, "mntr enabled", c.FourLetterWordEnabled("mntr"), true)
			},
		},
		{
			name: "read-only mode enables isro",
			cfg:  "dataDir=d\n",
			env:  env{"JVMFLAGS": "-Dreadonlymode.enabled=true"},
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "ReadOnlyModeEnabled", c.ReadOnlyModeEnabled, true)
				eq(t, "FourLetterWords", c.FourLetterWords, []string{"srvr", "isro"})
			},
		},
		{
			name: "admin server",
			cfg:  "dataDir=d\nadmin.enableServer=false\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=9090\nadmin.commandURL=/cmds\nadmin.idleTimeout=1000\n",
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "AdminEnableServer", c.AdminEnableServer, false)
				eq(t, "AdminServerAddress", c.AdminServerAddress, "127.0.0.1")
				eq(t, "AdminServerPort", c.AdminServerPort, 9090)
				eq(t, "AdminCommandURL", c.AdminCommandURL, "/cmds")
				eq(t, "AdminIdleTimeout", c.AdminIdleTimeout, 1000)
				eq(t, "property", c.Properties["zookeeper.admin.serverPort"], "9090")
			},
		},
		{
			name: "metrics provider",
			cfg: "dataDir=d\nmetricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\n" +
				"metricsProvider.httpPort=7001\nmetricsProvider.httpHost=127.0.0.1\nmetricsProvider.exportJvmInfo=false\n",
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "MetricsProviderClassName", c.MetricsProviderClassName, "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider")
				eq(t, "MetricsHTTPPort", c.MetricsHTTPPort, 7001)
				eq(t, "MetricsHTTPHost", c.MetricsHTTPHost, "127.0.0.1")
				eq(t, "MetricsProviderConfig", c.MetricsProviderConfig, map[string]string{
					"httpPort": "7001", "httpHost": "127.0.0.1", "exportJvmInfo": "false"})
			},
		},
		{
			name: "switches",
			cfg: `standaloneEnabled=false
reconfigEnabled=TRUE
localSessionsEnabled=true
localSessionsUpgradingEnabled=true
syncEnabled=false
quorumListenOnAllIPs=true
electionAlg=3
sslQuorum=true
portUnification=true
sslQuorumReloadCertFiles=true
peerType=OBSERVER
initLimit=5
syncLimit=2
quorum.auth.enableSasl=true
quorum.auth.learnerRequireSasl=true
quorum.auth.serverRequireSasl=true
quorum.auth.learner.saslLoginContext=L
quorum.auth.server.saslLoginContext=S
quorum.auth.kerberos.servicePrincipal=zk/_HOST
quorum.cnxn.threads.size=20
jvm.pause.monitor=true
jvm.pause.info-threshold.ms=2000
jvm.pause.warn-threshold.ms=20000
jvm.pause.sleep.time.ms=700
multiAddress.reachabilityCheckEnabled=false
multiAddress.reachabilityCheckTimeoutMs=50
oraclePath=/tmp/oracle
dataDir={dir}
server.1=localhost:2888:3888
`,
			files: map[string]string{"myid": "1"},
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "StandaloneEnabled", c.StandaloneEnabled, false)
				eq(t, "ReconfigEnabled", c.ReconfigEnabled, true)
				eq(t, "LocalSessionsEnabled", c.LocalSessionsEnabled, true)
				eq(t, "LocalSessionsUpgradingEnabled", c.LocalSessionsUpgradingEnabled, true)
				eq(t, "SyncEnabled", c.SyncEnabled, false)
				eq(t, "QuorumListenOnAllIPs", c.QuorumListenOnAllIPs, true)
				eq(t, "SSLQuorum", c.SSLQuorum, true)
				eq(t, "PortUnification", c.PortUnification, true)
				eq(t, "SSLQuorumReloadCertFiles", c.SSLQuorumReloadCertFiles, true)
				eq(t, "PeerType", c.PeerType, "participant") // server.1 decides
				wantWarning(t, c, "peerType is observer but server.1 is a participant")
				eq(t, "QuorumSASLEnabled", c.QuorumSASLEnabled, true)
				eq(t, "QuorumLearnerRequireSASL", c.QuorumLearnerRequireSASL, true)
				eq(t, "QuorumServerRequireSASL", c.QuorumServerRequireSASL, true)
				eq(t, "QuorumLearnerLoginContext", c.QuorumLearnerLoginContext, "L")
				eq(t, "QuorumServerLoginContext", c.QuorumServerLoginContext, "S")
				eq(t, "QuorumServicePrincipal", c.QuorumServicePrincipal, "zk/_HOST")
				eq(t, "QuorumCnxnThreadsSize", c.QuorumCnxnThreadsSize, 20)
				eq(t, "JVMPauseMonitor", c.JVMPauseMonitor, true)
				eq(t, "JVMPauseInfoThresholdMs", c.JVMPauseInfoThresholdMs, int64(2000))
				eq(t, "JVMPauseWarnThresholdMs", c.JVMPauseWarnThresholdMs, int64(20000))
				eq(t, "JVMPauseSleepTimeMs", c.JVMPauseSleepTimeMs, int64(700))
				eq(t, "MultiAddressReachabilityCheckEnabled", c.MultiAddressReachabilityCheckEnabled, false)
				eq(t, "MultiAddressReachabilityCheckTimeoutMs", c.MultiAddressReachabilityCheckTimeoutMs, 50)
				eq(t, "OraclePath", c.OraclePath, "/tmp/oracle")
				eq(t, "UnknownKeys", len(c.UnknownKeys), 0)
			},
		},
		{
			name: "system properties from zoo.cfg",
			cfg: `dataDir=d
forceSync=no
jute.maxbuffer=4194304
extendedTypesEnabled=true
DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=
maxCnxns=100
globalOutstandingLimit=500
request_throttle_max_requests=200
request_throttle_stall_time=50
request_throttle_drop_stale=false
request_stale_latency_check=true
maxClientOutputBytes=8388608
skipACL=yes
ssl.keyStore.location=/etc/zk/keystore.jks
ssl.quorum.trustStore.password=secret
authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider
`,
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "ForceSync", c.ForceSync, false)
				eq(t, "JuteMaxBuffer", c.JuteMaxBuffer, 4194304)
				eq(t, "ExtendedTypesEnabled", c.ExtendedTypesEnabled, true)
				eq(t, "SuperDigest", c.SuperDigest, "super:D/InIHSb7yEEbrWz8b9l71RjZJU=")
				eq(t, "MaxCnxns", c.MaxCnxns, 100)
				eq(t, "GlobalOutstandingLimit", c.GlobalOutstandingLimit, 500)
				eq(t, "RequestThrottleMaxRequests", c.RequestThrottleMaxRequests, 200)
				eq(t, "RequestThrottleStallTime", c.RequestThrottleStallTime, 50)
				eq(t, "RequestThrottleDropStale", c.RequestThrottleDropStale, false)
				eq(t, "RequestStaleConnectionCheck", c.RequestStaleConnectionCheck, true)
				eq(t, "RequestStaleLatencyCheck", c.RequestStaleLatencyCheck, true)
				eq(t, "MaxClientOutputBytes", c.MaxClientOutputBytes, 8388608)
				eq(t, "SkipACL", c.SkipACL, true)
				for name, want := range map[string]string{
					"zookeeper.forceSync":                                "no",
					"zookeeper.jute.maxbuffer":                           "4194304",
					"zookeeper.extendedTypesEnabled":                     "true",
					"zookeeper.DigestAuthenticationProvider.superDigest": "super:D/InIHSb7yEEbrWz8b9l71RjZJU=",
					"zookeeper.ssl.keyStore.location":                    "/etc/zk/keystore.jks",
					"zookeeper.ssl.quorum.trustStore.password":           "secret",
					"zookeeper.authProvider.1":                           "org.apache.zookeeper.server.auth.SASLAuthenticationProvider",
				} {
					got, ok := c.Property(name)
					if !ok || got != want {
						t.Errorf("Property(%q) = %q, %v; want %q", name, got, ok, want)
					}
				}
				if _, ok := c.Property("zookeeper.nothing"); ok {
					t.Error("Property(zookeeper.nothing) is set")
				}
				eq(t, "UnknownKeys", len(c.UnknownKeys), 0)
			},
		},
		{
			name: "peerType without servers",
			cfg:  "dataDir=d\npeerType=Observer\n",
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "PeerType", c.PeerType, "observer")
			},
		},
		{
			name: "forceSync other than no stays on",
			cfg:  "dataDir=d\nforceSync=false\n",
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "ForceSync", c.ForceSync, true)
			},
		},
		{
			name: "unknown keys",
			cfg:  "dataDir=d\nfooBar=1\ntickTim=2000\nleaderServes=no\nzookeeper.x=y\n",
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "UnknownKeys", c.UnknownKeys, []string{"fooBar", "tickTim", "zookeeper.x"})
				eq(t, "fooBar", c.Properties["zookeeper.fooBar"], "1")
				eq(t, "tickTim", c.Properties["zookeeper.tickTim"], "2000")
				eq(t, "leaderServes", c.Properties["zookeeper.leaderServes"], "no")
				eq(t, "zookeeper.x", c.Properties["zookeeper.zookeeper.x"], "y")
				eq(t, "TickTime", c.TickTime, 3000)
			},
		},
		{
			name: "keys are case sensitive",
			cfg:  "dataDir=d\nticktime=10\n",
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "TickTime", c.TickTime, 3000)
				eq(t, "UnknownKeys", c.UnknownKeys, []string{"ticktime"})
			},
		},
		{
			name: "JVM flags",
			cfg:  "dataDir=d\nsnapCount=700\n",
			env: env{
				"SERVER_JVMFLAGS": "-Xmx1g -Dzookeeper.snapCount=500 -Djute.maxbuffer=0x200000 -Dzookeeper.extendedTypesEnabled=true -Dzookeeper.admin.serverPort=9999 -Dzookeeper.4lw.commands.whitelist=ruok",
				"JVMFLAGS":        "-Dzookeeper.admin.serverPort=8888 -Dzookeeper.DigestAuthenticationProvider.superDigest=super:x",
			},
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "SnapCount (zoo.cfg wins)", c.SnapCount, 700)
				eq(t, "JuteMaxBuffer (hex)", c.JuteMaxBuffer, 0x200000)
				eq(t, "ExtendedTypesEnabled", c.ExtendedTypesEnabled, true)
				eq(t, "AdminServerPort (JVMFLAGS after SERVER_JVMFLAGS)", c.AdminServerPort, 8888)
				eq(t, "SuperDigest", c.SuperDigest, "super:x")
				eq(t, "FourLetterWords", c.FourLetterWords, []string{"ruok", "srvr"})
				eq(t, "jute.maxbuffer property", c.Properties["jute.maxbuffer"], "0x200000")
			},
		},
		{
			name: "container manager properties",
			cfg:  "dataDir=d\n",
			env: env{"SERVER_JVMFLAGS": "-Dznode.container.checkIntervalMs=100 -Dznode.container.maxPerMinute=0x10 " +
				"-Dznode.container.maxNeverUsedIntervalMs=5000000000"},
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "ContainerCheckIntervalMs", c.ContainerCheckIntervalMs, 100)
				eq(t, "ContainerMaxPerMinute", c.ContainerMaxPerMinute, 16)
				eq(t, "ContainerMaxNeverUsedIntervalMs", c.ContainerMaxNeverUsedIntervalMs, int64(5000000000))
			},
		},
		{
			// As Apache: zookeeper.znode.container.checkIntervalMs is no
			// property it reads.
			name: "container manager keys in zoo.cfg",
			cfg:  "dataDir=d\nznode.container.checkIntervalMs=100\n",
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "ContainerCheckIntervalMs", c.ContainerCheckIntervalMs, 60000)
				eq(t, "UnknownKeys", len(c.UnknownKeys), 0)
				wantWarning(t, c, "znode.container.checkIntervalMs has no effect in zoo.cfg")
			},
		},
		{
			name: "jute.maxbuffer flag wins over zoo.cfg",
			cfg:  "dataDir=d\njute.maxbuffer=1000\n",
			env:  env{"SERVER_JVMFLAGS": "-Djute.maxbuffer=2000"},
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "JuteMaxBuffer", c.JuteMaxBuffer, 2000)
			},
		},
		{
			name: "Java properties syntax",
			cfg:  "  tickTime : 2500\n\tclientPort 2183\ndataDir = {dir}/da\\\n     ta\\u00e9\n! comment\n4lw.commands.whitelist=ruok,\\\n   stat\n",
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "TickTime", c.TickTime, 2500)
				eq(t, "ClientPort", c.ClientPort, 2183)
				eq(t, "DataDir", c.DataDir, dir+"/dataé")
				eq(t, "FourLetterWords", c.FourLetterWords, []string{"ruok", "stat", "srvr"})
			},
		},
		{
			name: "duplicate key: last wins",
			cfg:  "dataDir=d\ntickTime=1000\ntickTime=2000\n",
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "TickTime", c.TickTime, 2000)
				wantWarning(t, c, "tickTime is set again on line 3")
			},
		},
		{
			name: "quorum",
			cfg: `tickTime=2000
dataDir={dir}/data
initLimit=5
syncLimit=2
clientPort=2181
server.3=zk3:2888:3888
server.1=zk1:2888:3888
server.2=zk2:2888:3888:participant
server.4=zk4:2888:3888:observer
`,
			files: map[string]string{"data/myid": "2\n"},
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "MyID", c.MyID, int64(2))
				eq(t, "Standalone", c.Standalone(), false)
				var ids []int64
				for _, s := range c.Servers {
					ids = append(ids, s.ID)
				}
				eq(t, "server ids", ids, []int64{1, 2, 3, 4})
				eq(t, "server 4 observer", c.Servers[3].Observer, true)
				eq(t, "server 1 line", c.Servers[0].Line, 7)
				eq(t, "server 1 file", c.Servers[0].File, filepath.Join(dir, "zoo.cfg"))
				eq(t, "server 1 weight", c.Servers[0].Weight, int64(1))
				eq(t, "PeerType", c.PeerType, "participant")
				eq(t, "ClientPort", c.ClientPort, 2181)
				eq(t, "Hierarchical", c.Hierarchical, false)
				s, ok := c.Server(3)
				eq(t, "Server(3)", s.Host+":"+boolStr(ok), "zk3:true")
				_, ok = c.Server(9)
				eq(t, "Server(9) found", ok, false)
				if _, ok := c.Properties["zookeeper.server.1"]; ok {
					t.Error("server.1 is in Properties")
				}
			},
		},
		{
			name: "relative dataDir and myid",
			cfg:  "dataDir=rel/data\ninitLimit=5\nsyncLimit=2\nserver.1=a:2888:3888\nserver.2=b:2888:3888\nserver.3=c:2888:3888\n",
			files: map[string]string{
				"rel/data/myid": "3",
			},
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "DataDir", c.DataDir, "rel/data")
				eq(t, "MyID", c.MyID, int64(3))
			},
		},
		{
			name: "observer from the server list wins over peerType",
			cfg:  "dataDir={dir}\ninitLimit=5\nsyncLimit=2\npeerType=participant\nserver.1=a:2888:3888\nserver.2=b:2888:3888\nserver.3=c:2888:3888\nserver.4=d:2888:3888:observer\n",
			files: map[string]string{
				"myid": "4",
			},
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "PeerType", c.PeerType, "observer")
				wantWarning(t, c, "peerType is participant but server.4 is a observer")
			},
		},
		{
			name: "an observer of an Apache ensemble",
			cfg:  "dataDir={dir}\ninitLimit=5\nsyncLimit=2\npeerType=observer\nquorumProtocol=apache\nserver.1=a:2888:3888\nserver.2=b:2888:3888\nserver.3=c:2888:3888\nserver.4=d:2888:3888:observer\n",
			files: map[string]string{
				"myid": "4",
			},
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "PeerType", c.PeerType, "observer")
				eq(t, "QuorumProtocol", c.QuorumProtocol, QuorumProtocolApache)
			},
		},
		{
			name: "client port from this server's line",
			cfg:  "dataDir={dir}\ninitLimit=5\nsyncLimit=2\nserver.1=a:2888:3888;2191\nserver.2=b:2888:3888;127.0.0.1:2192;2292\nserver.3=c:2888:3888\n",
			files: map[string]string{
				"myid": "2",
			},
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "ClientPort", c.ClientPort, 2192)
				eq(t, "ClientPortAddress", c.ClientPortAddress, "127.0.0.1")
				eq(t, "SecureClientPort", c.SecureClientPort, 2292)
				eq(t, "SecureClientPortAddress", c.SecureClientPortAddress, "0.0.0.0")
			},
		},
		{
			name: "client port on the line agrees with zoo.cfg",
			cfg:  "dataDir={dir}\nclientPort=2191\ninitLimit=5\nsyncLimit=2\nserver.1=a:2888:3888;2191\nserver.2=b:2888:3888\nserver.3=c:2888:3888\n",
			files: map[string]string{
				"myid": "1",
			},
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "ClientPort", c.ClientPort, 2191)
				eq(t, "ClientPortAddress", c.ClientPortAddress, "0.0.0.0")
			},
		},
		{
			name: "single server runs standalone",
			cfg:  "dataDir={dir}\nclientPort=2181\nserver.1=localhost:2888:3888\n",
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "Standalone", c.Standalone(), true)
				eq(t, "MyID", c.MyID, int64(0))
				wantWarning(t, c, "only one server is configured")
			},
		},
		{
			name: "single server quorum with standaloneEnabled=false",
			cfg:  "dataDir={dir}\nstandaloneEnabled=false\ninitLimit=5\nsyncLimit=2\nserver.1=localhost:2888:3888\n",
			files: map[string]string{
				"myid": "1",
			},
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "Standalone", c.Standalone(), false)
				eq(t, "MyID", c.MyID, int64(1))
				wantWarning(t, c, "no server failure will be tolerated")
			},
		},
		{
			name: "even number of servers",
			cfg:  "dataDir={dir}\ninitLimit=5\nsyncLimit=2\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\nserver.4=d:1:2\n",
			files: map[string]string{
				"myid": "1",
			},
			check: func(t *testing.T, dir string, c *Config) {
				wantWarning(t, c, "4 participants: consider an odd number")
			},
		},
		{
			name: "dynamic config file",
			cfg:  "dataDir={dir}\ninitLimit=5\nsyncLimit=2\nreconfigEnabled=true\ndynamicConfigFile={dir}/zoo.cfg.dynamic.100000000\n",
			files: map[string]string{
				"myid":                      "1",
				"zoo.cfg.dynamic.100000000": "server.1=a:2888:3888:participant;0.0.0.0:2181\nserver.2=b:2888:3888:participant;0.0.0.0:2181\nserver.3=c:2888:3888:participant;0.0.0.0:2181\n",
			},
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "servers", len(c.Servers), 3)
				eq(t, "ConfigVersion", c.ConfigVersion, int64(0x100000000))
				eq(t, "ClientPort", c.ClientPort, 2181)
				eq(t, "server file", c.Servers[1].File, dir+"/zoo.cfg.dynamic.100000000")
				eq(t, "server line", c.Servers[1].Line, 2)
				eq(t, "DynamicConfigFile", c.DynamicConfigFile, dir+"/zoo.cfg.dynamic.100000000")
			},
		},
		{
			name: "version in static file",
			cfg:  "dataDir={dir}\nversion=a\nserver.1=a:2888:3888\n",
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "ConfigVersion", c.ConfigVersion, int64(10))
				eq(t, "UnknownKeys", len(c.UnknownKeys), 0)
			},
		},
		{
			name: "hierarchical quorums",
			cfg: `dataDir={dir}
initLimit=5
syncLimit=2
server.1=a:2888:3888
server.2=b:2888:3888
server.3=c:2888:3888
server.4=d:2888:3888
server.5=e:2888:3888:observer
group.1=1:2
group.2=3:4
weight.1=3
weight.4=0
`,
			files: map[string]string{
				"myid": "1",
			},
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "Hierarchical", c.Hierarchical, true)
				var got [][2]int64
				for _, s := range c.Servers {
					got = append(got, [2]int64{s.Group, s.Weight})
				}
				eq(t, "group, weight", got, [][2]int64{{1, 3}, {1, 1}, {2, 1}, {2, 0}, {0, 0}})
			},
		},
		{
			name: "multi-address server lines",
			cfg:  "dataDir={dir}\nmultiAddress.enabled=true\ninitLimit=5\nsyncLimit=2\nserver.1=a1:2888:3888|a2:2889:3889\nserver.2=b:2888:3888\nserver.3=c:2888:3888\n",
			files: map[string]string{
				"myid": "1",
			},
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "Addrs", c.Servers[0].Addrs, []QuorumAddr{{"a1", 2888, 3888}, {"a2", 2889, 3889}})
				eq(t, "Host", c.Servers[0].Host, "a1")
			},
		},
		{
			name: "multi-address enabled by a -D flag",
			cfg:  "dataDir={dir}\nserver.1=a1:2888:3888|a2:2889:3889\n",
			env:  env{"SERVER_JVMFLAGS": "-Dzookeeper.multiAddress.enabled=true"},
			check: func(t *testing.T, dir string, c *Config) {
				eq(t, "MultiAddressEnabled", c.MultiAddressEnabled, true)
				eq(t, "addresses", len(c.Servers[0].Addrs), 2)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, path := setup(t, tt.cfg, tt.files)
			t.Chdir(dir)
			c, err := LoadEnv(path, tt.env.get)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, dir, c)
		})
	}
}

func TestLoadReadsEnvironment(t *testing.T) {
	_, path := setup(t, "dataDir=d\n", nil)
	t.Setenv("SERVER_JVMFLAGS", "-Dzookeeper.snapCount=1234")
	t.Setenv("JVMFLAGS", "-Dzookeeper.forceSync=no")
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "SnapCount", c.SnapCount, 1234)
	eq(t, "ForceSync", c.ForceSync, false)
}

func TestServerLines(t *testing.T) {
	tests := []struct {
		value   string
		want    Server // ID, Addrs, File, Line not compared
		str     string // Server.String(); "" for value
		wantErr string
	}{
		{value: "zk1:2888:3888", want: Server{Host: "zk1", QuorumPort: 2888, ElectionPort: 3888},
			str: "zk1:2888:3888:participant"},
		{value: "zk1:2888:3888:participant", want: Server{Host: "zk1", QuorumPort: 2888, ElectionPort: 3888}},
		{value: "zk1:2888:3888:observer", want: Server{Host: "zk1", QuorumPort: 2888, ElectionPort: 3888, Observer: true}},
		{value: "zk1:2888:3888:Observer", want: Server{Host: "zk1", QuorumPort: 2888, ElectionPort: 3888, Observer: true},
			str: "zk1:2888:3888:observer"},
		{value: "10.0.0.1:2888:3888", want: Server{Host: "10.0.0.1", QuorumPort: 2888, ElectionPort: 3888},
			str: "10.0.0.1:2888:3888:participant"},
		{value: "[::1]:2888:3888", want: Server{Host: "::1", QuorumPort: 2888, ElectionPort: 3888},
			str: "[::1]:2888:3888:participant"},
		{value: "[2001:db8::1]:2888:3888:observer", want: Server{Host: "2001:db8::1", QuorumPort: 2888, ElectionPort: 3888, Observer: true}},
		{value: "zk1:2888:3888;2181", want: Server{Host: "zk1", QuorumPort: 2888, ElectionPort: 3888, ClientAddr: "0.0.0.0", ClientPort: 2181},
			str: "zk1:2888:3888:participant;0.0.0.0:2181"},
		{value: "zk1:2888:3888:participant;127.0.0.1:2181", want: Server{Host: "zk1", QuorumPort: 2888, ElectionPort: 3888, ClientAddr: "127.0.0.1", ClientPort: 2181}},
		{value: "[::1]:2888:3888:participant;[::1]:2181", want: Server{Host: "::1", QuorumPort: 2888, ElectionPort: 3888, ClientAddr: "::1", ClientPort: 2181}},
		{value: "zk1:2888:3888;", want: Server{Host: "zk1", QuorumPort: 2888, ElectionPort: 3888},
			str: "zk1:2888:3888:participant"},
		{value: "zk1:2888:3888;;3181", want: Server{Host: "zk1", QuorumPort: 2888, ElectionPort: 3888, SecureClientAddr: "0.0.0.0", SecureClientPort: 3181},
			str: "zk1:2888:3888:participant;;0.0.0.0:3181"},
		{value: "zk1:2888:3888:observer;2181;h:3181", want: Server{Host: "zk1", QuorumPort: 2888, ElectionPort: 3888, Observer: true,
			ClientAddr: "0.0.0.0", ClientPort: 2181, SecureClientAddr: "h", SecureClientPort: 3181},
			str: "zk1:2888:3888:observer;0.0.0.0:2181;h:3181"},
		{value: "zk1:2888", wantErr: `"zk1:2888": want host:quorumPort`},
		{value: "zk1", wantErr: `"zk1": want host:quorumPort`},
		{value: "zk1:2888:3888:observer:x", wantErr: "want host:quorumPort"},
		{value: "", wantErr: "empty"},
		{value: ":2888:3888", wantErr: "has no host"},
		{value: "zk1:abc:3888", wantErr: `quorum port "abc" is not a number`},
		{value: "zk1:2888:x", wantErr: `election port "x" is not a number`},
		{value: "zk1:2888:70000", wantErr: "election port 70000 is not a port"},
		{value: "zk1:2888:2888", wantErr: "must differ"},
		{value: "zk1:2888:3888:leader", wantErr: `unknown peer type "leader"`},
		{value: "[::1:2888:3888", wantErr: "no matching ']'"},
		{value: "[::1]2888:3888", wantErr: "want ':' after ']'"},
		{value: "[::1]:", wantErr: "no port after the colon"},
		{value: "::1:2888:3888", wantErr: "want host:quorumPort"},
		{value: "zk1:2888:3888;a:b:2181", wantErr: "client address"},
		{value: "zk1:2888:3888;abc", wantErr: `client address "abc" is not a number`},
		{value: "zk1:2888:3888;2181;3181;4181", wantErr: "too many ';' parts"},
		{value: "a:1:2|b:1:2", wantErr: "multiAddress.enabled is false"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := parseServer(1, tt.value, false)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			str := got.String()
			got.ID, got.Addrs = 0, nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			want := tt.str
			if want == "" {
				want = tt.value
			}
			if str != want {
				t.Errorf("String() = %q, want %q", str, want)
			}
		})
	}

	// A mix of roles across addresses is refused.
	if _, err := parseServer(1, "a:1:2:observer|b:1:2:participant", true); err == nil {
		t.Error("mixed roles accepted")
	}
}

func TestErrors(t *testing.T) {
	const quorum = "initLimit=5\nsyncLimit=2\nserver.1=a:2888:3888\nserver.2=b:2888:3888\nserver.3=c:2888:3888\n"
	tests := []struct {
		name  string
		cfg   string // "" with noFile: no zoo.cfg
		files map[string]string
		env   env
		// want is the error text; {cfg} is the path of zoo.cfg, {dir} its directory.
		want string
		// line and key are the fields of the *Error.
		line int
		key  string
	}{
		{name: "tickTime not a number", cfg: "dataDir=d\n\n# x\n\n\n\ntickTime=abc\n",
			want: `{cfg}:7: tickTime: "abc" is not a number`, line: 7, key: "tickTime"},
		{name: "initLimit out of range", cfg: "dataDir=d\ninitLimit=99999999999\n",
			want: `{cfg}:2: initLimit: "99999999999" is out of range`, line: 2, key: "initLimit"},
		{name: "clientPort not a port", cfg: "dataDir=d\nclientPort=70000\n",
			want: `{cfg}:2: clientPort: 70000 is not a port (0-65535)`, line: 2, key: "clientPort"},
		{name: "maxClientCnxns empty", cfg: "dataDir=d\nmaxClientCnxns=\n",
			want: `{cfg}:2: maxClientCnxns: "" is not a number`, line: 2, key: "maxClientCnxns"},
		{name: "tickTime zero", cfg: "dataDir=d\ntickTime=0\n",
			want: `{cfg}:2: tickTime: 0: must be positive`, line: 2, key: "tickTime"},
		{name: "bad boolean", cfg: "dataDir=d\nstandaloneEnabled=yes\n",
			want: `{cfg}:2: standaloneEnabled: "yes" is not a boolean; choose true or false`, line: 2, key: "standaloneEnabled"},
		{name: "bad peerType", cfg: "dataDir=d\npeerType=leader\n",
			want: `{cfg}:2: peerType: "leader" is not a peer type`, line: 2, key: "peerType"},
		{name: "electionAlg", cfg: "dataDir=d\nelectionAlg=1\n",
			want: `{cfg}:2: electionAlg: 1 is not supported; only 3 is`, line: 2, key: "electionAlg"},
		{name: "purge interval unit", cfg: "dataDir=d\nautopurge.purgeInterval=5x\n",
			want: `{cfg}:2: autopurge.purgeInterval: "5x" has an unknown time unit`, line: 2, key: "autopurge.purgeInterval"},
		{name: "metrics port", cfg: "dataDir=d\nmetricsProvider.httpPort=abc\n",
			want: `{cfg}:2: metricsProvider.httpPort: "abc" is not a number`, line: 2, key: "metricsProvider.httpPort"},
		{name: "snapCount from zoo.cfg", cfg: "dataDir=d\nsnapCount=10k\n",
			want: `{cfg}:2: snapCount: "10k" is not a number`, line: 2, key: "snapCount"},
		{name: "admin port from zoo.cfg", cfg: "dataDir=d\nadmin.serverPort=-5\n",
			want: `{cfg}:2: admin.serverPort: -5 is not a port`, line: 2, key: "admin.serverPort"},
		{name: "extendedTypesEnabled not a boolean", cfg: "dataDir=d\nextendedTypesEnabled=yes\n",
			want: `{cfg}:2: extendedTypesEnabled: "yes" is not a boolean`, line: 2, key: "extendedTypesEnabled"},
		{name: "snapCount from a -D flag", cfg: "dataDir=d\n", env: env{"SERVER_JVMFLAGS": "-Dzookeeper.snapCount=abc"},
			want: `SERVER_JVMFLAGS: -Dzookeeper.snapCount: "abc" is not a number`, key: "-Dzookeeper.snapCount"},
		{name: "container check interval not positive", cfg: "dataDir=d\n", env: env{"SERVER_JVMFLAGS": "-Dznode.container.checkIntervalMs=0"},
			want: `SERVER_JVMFLAGS: -Dznode.container.checkIntervalMs: 0: must be positive`, key: "-Dznode.container.checkIntervalMs"},
		{name: "container maxPerMinute not positive", cfg: "dataDir=d\n", env: env{"SERVER_JVMFLAGS": "-Dznode.container.maxPerMinute=-1"},
			want: `SERVER_JVMFLAGS: -Dznode.container.maxPerMinute: -1: must be positive`, key: "-Dznode.container.maxPerMinute"},
		{name: "container maxNeverUsedIntervalMs not a number", cfg: "dataDir=d\n", env: env{"JVMFLAGS": "-Dznode.container.maxNeverUsedIntervalMs=1h"},
			want: `JVMFLAGS: -Dznode.container.maxNeverUsedIntervalMs: "1h" is not a number`, key: "-Dznode.container.maxNeverUsedIntervalMs"},
		{name: "jute.maxbuffer from a -D flag", cfg: "dataDir=d\n", env: env{"JVMFLAGS": "-Djute.maxbuffer=lots"},
			want: `JVMFLAGS: -Djute.maxbuffer: "lots" is not a number`, key: "-Djute.maxbuffer"},
		{name: "missing file", want: `{cfg}: no such file`},
		{name: "malformed unicode escape", cfg: "dataDir=d\nclientPortAddress=\\u00zz\n",
			want: `{cfg}:2: clientPortAddress: malformed \uXXXX escape`, line: 2, key: "clientPortAddress"},
		{name: "dataDir missing", cfg: "tickTime=2000\nclientPort=2181\n",
			want: `{cfg}: dataDir: is not set`, key: "dataDir"},
		{name: "dataDir empty", cfg: "dataDir=\n",
			want: `{cfg}:1: dataDir: is empty`, line: 1, key: "dataDir"},
		{name: "clientPortAddress without clientPort", cfg: "dataDir=d\nclientPortAddress=127.0.0.1\n",
			want: `{cfg}:2: clientPortAddress: is set but clientPort is not`, line: 2, key: "clientPortAddress"},
		{name: "secureClientPortAddress without secureClientPort", cfg: "dataDir=d\nsecureClientPortAddress=::1\n",
			want: `{cfg}:2: secureClientPortAddress: is set but secureClientPort is not`, line: 2, key: "secureClientPortAddress"},
		{name: "negative leader loss hold", cfg: "dataDir=d\nleaderLossHoldMs=-5\n",
			want: `{cfg}:2: leaderLossHoldMs: -5: must not be negative`, line: 2, key: "leaderLossHoldMs"},
		{name: "min over max session timeout", cfg: "dataDir=d\nminSessionTimeout=10000\nmaxSessionTimeout=5000\n",
			want: `{cfg}:2: minSessionTimeout: minSessionTimeout (10000 ms) must not be larger than maxSessionTimeout (5000 ms)`, line: 2, key: "minSessionTimeout"},
		{name: "max under the default min", cfg: "dataDir=d\nmaxSessionTimeout=1000\n",
			want: `{cfg}:2: maxSessionTimeout: minSessionTimeout (6000 ms) must not be larger than maxSessionTimeout (1000 ms)`, line: 2, key: "maxSessionTimeout"},
		{name: "sasl required but disabled", cfg: "dataDir=d\nquorum.auth.learnerRequireSasl=true\nquorum.auth.serverRequireSasl=true\n",
			want: `{cfg}:3: quorum.auth.serverRequireSasl: needs quorum.auth.enableSasl=true`, line: 3, key: "quorum.auth.serverRequireSasl"},
		{name: "bad server line", cfg: "dataDir=d\nserver.1=a:2888:3888\nserver.2=b:2888\n",
			want: `{cfg}:3: server.2: "b:2888": want host:quorumPort:electionPort`, line: 3, key: "server.2"},
		{name: "bad server id", cfg: "dataDir=d\nserver.x=a:2888:3888\n",
			want: `{cfg}:2: server.x: id "x" is not a number`, line: 2, key: "server.x"},
		{name: "duplicate server id", cfg: "dataDir=d\nserver.1=a:2888:3888\nserver.01=b:2888:3888\n",
			want: `{cfg}:3: server.01: server 1 is already defined on line 2`, line: 3, key: "server.01"},
		{name: "IPv6 without brackets", cfg: "dataDir=d\nserver.1=::1:2888:3888\n",
			want: `{cfg}:2: server.1: "::1:2888:3888": want host:quorumPort`, line: 2, key: "server.1"},
		{name: "standaloneEnabled=false without servers", cfg: "dataDir=d\nstandaloneEnabled=false\n",
			want: `{cfg}:2: standaloneEnabled: is false, so at least one participant server.N line is needed`, line: 2, key: "standaloneEnabled"},
		{name: "observers without participants", cfg: "dataDir=d\nserver.1=a:2888:3888:observer\n",
			want: `{cfg}:2: server.1: an observer needs participants`, line: 2, key: "server.1"},
		{name: "observer with a standalone participant", cfg: "dataDir=d\nserver.1=a:2888:3888\nserver.2=b:2888:3888:observer\n",
			want: `{cfg}:3: server.2: an observer needs a quorum`, line: 3, key: "server.2"},
		{name: "myid missing", cfg: "dataDir={dir}\n" + quorum,
			want: `{dir}/myid: myid: file is missing; it is needed because {cfg} configures a quorum of 3 servers`, key: "myid"},
		{name: "myid not a number", cfg: "dataDir={dir}\n" + quorum, files: map[string]string{"myid": "one\n"},
			want: `{dir}/myid:1: myid: "one" is not a number`, line: 1, key: "myid"},
		{name: "myid empty", cfg: "dataDir={dir}\n" + quorum, files: map[string]string{"myid": ""},
			want: `{dir}/myid:1: myid: "" is not a number`, line: 1, key: "myid"},
		{name: "myid not among the servers", cfg: "dataDir={dir}\n" + quorum, files: map[string]string{"myid": "7"},
			want: `{dir}/myid:1: myid: 7 is not one of the configured servers (1, 2, 3)`, line: 1, key: "myid"},
		{name: "quorumProtocol=apache on a participant", cfg: "dataDir={dir}\nquorumProtocol=apache\n" + quorum, files: map[string]string{"myid": "2"},
			want: `{cfg}:2: quorumProtocol: apache is only spoken by an observer (peerType=observer and :observer on server.2's line): our servers join an Apache ZooKeeper ensemble as observers`,
			line: 2, key: "quorumProtocol"},
		{name: "unknown quorumProtocol", cfg: "dataDir=d\nquorumProtocol=jgroups\n",
			want: `{cfg}:2: quorumProtocol: "jgroups" is not a quorum protocol; choose zkgo or apache`, line: 2, key: "quorumProtocol"},
		{name: "initLimit missing in a quorum", cfg: "dataDir={dir}\nsyncLimit=2\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\n",
			files: map[string]string{"myid": "1"},
			want:  `{cfg}: initLimit: is not set; a quorum needs it`, key: "initLimit"},
		{name: "syncLimit zero in a quorum", cfg: "dataDir={dir}\ninitLimit=5\nsyncLimit=0\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\n",
			files: map[string]string{"myid": "1"},
			want:  `{cfg}:3: syncLimit: 0 must be positive; a quorum needs it`, line: 3, key: "syncLimit"},
		{name: "client port differs from the server line", cfg: "dataDir={dir}\nclientPort=2181\n" + quorum[:len(quorum)-len("server.3=c:2888:3888\n")] + "server.3=c:2888:3888;2999\n",
			files: map[string]string{"myid": "3"},
			want:  `{cfg}:2: clientPort: client address 0.0.0.0:2181 differs from 0.0.0.0:2999 on server.3 ({cfg}:7)`, line: 2, key: "clientPort"},
		{name: "client address differs from the server line", cfg: "dataDir={dir}\nclientPort=2181\nclientPortAddress=10.0.0.1\n" + quorum[:len(quorum)-len("server.3=c:2888:3888\n")] + "server.3=c:2888:3888;10.0.0.2:2181\n",
			files: map[string]string{"myid": "3"},
			want:  `{cfg}:2: clientPort: client address 10.0.0.1:2181 differs from 10.0.0.2:2181 on server.3`, line: 2, key: "clientPort"},
		{name: "secure client port differs from the server line", cfg: "dataDir={dir}\nsecureClientPort=3181\n" + quorum[:len(quorum)-len("server.3=c:2888:3888\n")] + "server.3=c:2888:3888;;3999\n",
			files: map[string]string{"myid": "3"},
			want:  `{cfg}:2: secureClientPort: secure client address 0.0.0.0:3181 differs from 0.0.0.0:3999 on server.3`, line: 2, key: "secureClientPort"},
		{name: "server lines beside dynamicConfigFile", cfg: "dataDir={dir}\ndynamicConfigFile={dir}/dyn\nserver.1=a:2888:3888\n",
			files: map[string]string{"dyn": "server.1=a:2888:3888\n"},
			want:  `{cfg}:3: server.1: must be in the dynamic configuration file, since dynamicConfigFile is set`, line: 3, key: "server.1"},
		{name: "dynamic file missing", cfg: "dataDir={dir}\ndynamicConfigFile={dir}/nope\n",
			want: `{cfg}:2: dynamicConfigFile: cannot read {dir}/nope: no such file`, line: 2, key: "dynamicConfigFile"},
		{name: "dynamic file with another key", cfg: "dataDir={dir}\ndynamicConfigFile={dir}/dyn\n",
			files: map[string]string{"dyn": "server.1=a:2888:3888\ntickTime=100\n"},
			want:  `{dir}/dyn:2: tickTime: is not allowed in a dynamic configuration file`, line: 2, key: "tickTime"},
		{name: "dynamic file with version", cfg: "dataDir={dir}\ndynamicConfigFile={dir}/dyn\n",
			files: map[string]string{"dyn": "server.1=a:2888:3888\nversion=1\n"},
			want:  `{dir}/dyn:2: version: must not be in a dynamic configuration file`, line: 2, key: "version"},
		{name: "bad server line in dynamic file", cfg: "dataDir={dir}\ndynamicConfigFile={dir}/dyn\n",
			files: map[string]string{"dyn": "\nserver.1=a:2888:3888:boss\n"},
			want:  `{dir}/dyn:2: server.1: unknown peer type "boss"`, line: 2, key: "server.1"},
		{name: "participant outside every group", cfg: "dataDir=d\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\ngroup.1=1:2\n",
			want: `{cfg}:4: server.3: is in no group.G line`, line: 4, key: "server.3"},
		{name: "server in two groups", cfg: "dataDir=d\nserver.1=a:1:2\ngroup.1=1\ngroup.2=1\n",
			want: `{cfg}:4: group.2: server 1 is already in group 1 (line 3)`, line: 4, key: "group.2"},
		{name: "bad weight", cfg: "dataDir=d\nserver.1=a:1:2\nweight.1=heavy\n",
			want: `{cfg}:3: weight.1: "heavy" is not a number`, line: 3, key: "weight.1"},
		{name: "bad version", cfg: "dataDir=d\nversion=xyz\n",
			want: `{cfg}:2: version: "xyz" is not a hexadecimal number`, line: 2, key: "version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dir, path string
			if tt.cfg == "" {
				dir = t.TempDir()
				path = filepath.Join(dir, "zoo.cfg")
			} else {
				dir, path = setup(t, tt.cfg, tt.files)
			}
			t.Chdir(dir)
			c, err := LoadEnv(path, tt.env.get)
			if err == nil {
				t.Fatalf("no error; config %+v", c)
			}
			want := strings.NewReplacer("{cfg}", path, "{dir}", dir).Replace(tt.want)
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error\n  %s\nwant it to start with\n  %s", err, want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not an *Error", err)
			}
			if e.Line != tt.line || e.Key != tt.key {
				t.Errorf("Line, Key = %d, %q; want %d, %q", e.Line, e.Key, tt.line, tt.key)
			}
		})
	}
}

func TestLoadDirectory(t *testing.T) {
	dir := t.TempDir()
	_, err := LoadEnv(dir, nil)
	var e *Error
	if !errors.As(err, &e) || e.File != dir || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("err = %v, want an *Error for %s saying it is a directory", err, dir)
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{File: "zoo.cfg", Line: 7, Key: "tickTime", Msg: `"abc" is not a number`}, `zoo.cfg:7: tickTime: "abc" is not a number`},
		{Error{File: "zoo.cfg", Key: "dataDir", Msg: "is not set"}, `zoo.cfg: dataDir: is not set`},
		{Error{File: "zoo.cfg", Msg: "no such file"}, `zoo.cfg: no such file`},
		{Error{Line: 3, Key: "k", Msg: "m"}, `line 3: k: m`},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

func TestPurgeInterval(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"1", 3600000, true}, {"500ms", 500, true}, {"500MS", 500, true}, {"30s", 30000, true},
		{"2m", 120000, true}, {"3H", 3 * 3600000, true}, {"1d", 86400000, true},
		{"", 0, false}, {"h", 0, false}, {"1w", 0, false}, {"xms", 0, false},
	}
	for _, tt := range tests {
		got, err := parsePurgeInterval(tt.in)
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("parsePurgeInterval(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestJavaDecode(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"10", 10, true}, {"+10", 10, true}, {"-10", -10, true}, {"0x1F", 31, true}, {"0X1f", 31, true},
		{"#ff", 255, true}, {"010", 8, true}, {"0", 0, true}, {"-2147483648", -2147483648, true},
		{"2147483647", 2147483647, true}, {"2147483648", 0, false}, {"", 0, false}, {"0x", 0, false},
		{"1_000", 0, false}, {"--1", 0, false}, {"08", 0, false}, {"abc", 0, false}, {"1.5", 0, false},
	}
	for _, tt := range tests {
		got, err := javaDecode(tt.in, 32)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("javaDecode(%q, 32) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	// Long.decode: the same syntax over 64 bits.
	longs := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"2147483648", 2147483648, true}, {"-9223372036854775808", -9223372036854775808, true},
		{"9223372036854775807", 9223372036854775807, true}, {"0x7fffffffffffffff", 9223372036854775807, true},
		{"9223372036854775808", 0, false}, {"-9223372036854775809", 0, false}, {"18446744073709551616", 0, false},
	}
	for _, tt := range longs {
		got, err := javaDecode(tt.in, 64)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("javaDecode(%q, 64) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestStandalone(t *testing.T) {
	p := Server{ID: 1}
	o := Server{ID: 9, Observer: true}
	tests := []struct {
		servers           []Server
		standaloneEnabled bool
		want              bool
	}{
		{nil, true, true},
		{nil, false, true},
		{[]Server{p}, true, true},
		{[]Server{p}, false, false},
		{[]Server{p, {ID: 2}}, true, false},
		{[]Server{p, {ID: 2}, {ID: 3}, o}, true, false},
	}
	for i, tt := range tests {
		c := Default()
		c.Servers, c.StandaloneEnabled = tt.servers, tt.standaloneEnabled
		if got := c.Standalone(); got != tt.want {
			t.Errorf("%d: Standalone() = %v, want %v", i, got, tt.want)
		}
	}
}

func TestViperReadsZooCfg(t *testing.T) {
	_, path := setup(t, "tickTime=2000\nserver.1=a:2888:3888\njute.maxbuffer=1\njute.maxbuffer.extrasize=2\n", nil)
	codec := &PropertiesCodec{}
	v := NewViper(codec)
	v.SetConfigFile(path)
	if err := v.ReadInConfig(); err != nil {
		t.Fatal(err)
	}
	eq(t, "tickTime", v.GetInt("tickTime"), 2000)
	eq(t, "server.1", v.GetString("server.1"), "a:2888:3888")
	eq(t, "jute.maxbuffer", v.GetString("jute.maxbuffer"), "1")
	eq(t, "jute.maxbuffer.extrasize", v.GetString("jute.maxbuffer.extrasize"), "2")
	eq(t, "codec keeps case and lines", codec.props[0], property{"tickTime", "2000", 1})
}

func eq(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func wantWarning(t *testing.T, c *Config, sub string) {
	t.Helper()
	if !slices.ContainsFunc(c.Warnings, func(w string) bool { return strings.Contains(w, sub) }) {
		t.Errorf("no warning contains %q; warnings: %q", sub, c.Warnings)
	}
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
