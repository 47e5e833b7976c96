// Package conf turns a ZooKeeper zoo.cfg (a Java properties file), the
// myid file, an optional dynamic configuration file and the -D system
// properties of SERVER_JVMFLAGS/JVMFLAGS into one typed Config, with
// Apache ZooKeeper's keys, defaults and rules (QuorumPeerConfig).
//
// As in Apache ZooKeeper, a zoo.cfg key k that is not a configuration key
// becomes the system property "zookeeper."+k, so extendedTypesEnabled=true
// in zoo.cfg means the same as -Dzookeeper.extendedTypesEnabled=true, and
// zoo.cfg wins over a -D flag for the same property. Every error names the
// file, the line and the key, e.g. `zoo.cfg:7: tickTime: "abc" is not a
// number`.
package conf

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Defaults, as in Apache ZooKeeper.
const (
	DefaultTickTime       = 3000    // ms
	DefaultMaxClientCnxns = 60      // per client IP
	DefaultSnapCount      = 100000  // txns between snapshots
	DefaultJuteMaxBuffer  = 0xfffff // bytes (1048575)
	DefaultSnapRetain     = 3       // also the minimum
	DefaultAdminPort      = 8080
	DefaultMetricsPort    = 7000
	DefaultClientPort     = 2181 // used by Default only; a file without clientPort has none

	DefaultContainerCheckIntervalMs = 60000 // znode.container.checkIntervalMs
	DefaultContainerMaxPerMinute    = 10000 // znode.container.maxPerMinute
	// DefaultMaxClientOutputBytes is the default of maxClientOutputBytes,
	// a key of this server (Apache ZooKeeper has no such bound).
	DefaultMaxClientOutputBytes = 16 << 20
)

// Config is the typed server configuration.
type Config struct {
	// File is the path of zoo.cfg as given to Load ("" for Default).
	File string

	// TickTime is the basic time unit in ms (tickTime, default 3000).
	TickTime int
	// InitLimit is the number of ticks a follower may take to connect
	// and sync to the leader (initLimit; required in a quorum).
	InitLimit int
	// SyncLimit is the number of ticks a follower may lag behind the
	// leader (syncLimit; required in a quorum).
	SyncLimit int
	// ConnectToLearnerMasterLimit is the number of ticks a follower may
	// take to connect to the leader after an election
	// (connectToLearnerMasterLimit, default 0: use InitLimit).
	ConnectToLearnerMasterLimit int

	// DataDir holds snapshots and myid (dataDir, required in a file).
	// A relative path is kept relative to the working directory.
	DataDir string
	// DataLogDir holds the transaction log (dataLogDir, default DataDir).
	DataLogDir string

	// ClientPort is the plaintext client port (clientPort; 0 if unset).
	// In a quorum, a client port on this server's server.N line wins.
	ClientPort int
	// ClientPortAddress is the address the client port binds to
	// (clientPortAddress; "" for every address).
	ClientPortAddress string
	// SecureClientPort is the TLS client port (secureClientPort; 0 if unset).
	SecureClientPort int
	// SecureClientPortAddress is the address of SecureClientPort
	// (secureClientPortAddress; "" for every address).
	SecureClientPortAddress string
	// ClientPortListenBacklog is the listen backlog of the client port
	// (clientPortListenBacklog, default -1: the system's).
	ClientPortListenBacklog int
	// ObserverMasterPort is the port followers serve observers on
	// (observerMasterPort, default 0: unset).
	ObserverMasterPort int

	// MaxClientCnxns limits the connections from one client IP
	// (maxClientCnxns, default 60; 0 for no limit).
	MaxClientCnxns int
	// MaxCnxns limits the client connections in total (property
	// zookeeper.maxCnxns, zoo.cfg maxCnxns; default 0 for no limit).
	MaxCnxns int
	// MinSessionTimeout is the least session timeout granted, in ms
	// (minSessionTimeout, default 2*TickTime).
	MinSessionTimeout int
	// MaxSessionTimeout is the greatest session timeout granted, in ms
	// (maxSessionTimeout, default 20*TickTime).
	MaxSessionTimeout int
	// LeaderLossHoldMs is how long a follower or observer that lost its
	// leader keeps its client connections, holding their requests, while
	// it finds and syncs with the next leader (leaderLossHoldMs, ours
	// only; default MinSessionTimeout/2; 0 closes them at once, as Apache
	// ZooKeeper does). Past it the server closes them, so that clients of
	// a server cut off from the quorum move to another one while their
	// sessions live.
	LeaderLossHoldMs int
	// GlobalOutstandingLimit caps the requests queued in the server
	// (property zookeeper.globalOutstandingLimit, default 1000): past it
	// the server stops reading from connections that have requests of
	// their own outstanding until the count drops.
	GlobalOutstandingLimit int
	// RequestThrottleMaxRequests is how many requests may be in process at
	// once; later ones wait (property
	// zookeeper.request_throttle_max_requests, default 0: no limit).
	RequestThrottleMaxRequests int
	// RequestThrottleStallTime is how long, in ms, a request held by the
	// throttle waits before it looks again (property
	// zookeeper.request_throttle_stall_time, default 100).
	RequestThrottleStallTime int
	// RequestThrottleDropStale drops a held request that has gone stale
	// and closes its connection (property
	// zookeeper.request_throttle_drop_stale, default true).
	RequestThrottleDropStale bool
	// RequestStaleConnectionCheck makes a request stale once its
	// connection has closed (property
	// zookeeper.request_stale_connection_check, default true).
	RequestStaleConnectionCheck bool
	// RequestStaleLatencyCheck makes a request stale once it has waited
	// longer than its session timeout (property
	// zookeeper.request_stale_latency_check, default false).
	RequestStaleLatencyCheck bool
	// MaxClientOutputBytes bounds the replies and notifications a client
	// connection may have waiting to be sent (maxClientOutputBytes, a key
	// of this server; default DefaultMaxClientOutputBytes, never less than
	// JuteMaxBuffer). A connection with that much unsent is not read from
	// until its client takes some, and is closed when its client takes
	// nothing for its session timeout or when notifications and write
	// replies bring it to twice the bound.
	MaxClientOutputBytes int

	// SnapCount is the number of transactions between snapshots
	// (property zookeeper.snapCount, zoo.cfg snapCount; default 100000,
	// at least 2).
	SnapCount int
	// AutopurgeSnapRetainCount is how many snapshots the purge task keeps
	// (autopurge.snapRetainCount, default and minimum 3).
	AutopurgeSnapRetainCount int
	// AutopurgePurgeInterval is the purge task's interval in whole hours
	// (autopurge.purgeInterval, default 0: no purging).
	AutopurgePurgeInterval int
	// AutopurgePurgeIntervalMs is the same interval in ms; the key takes
	// a plain number of hours or a number with a unit: ms, s, m, h, d.
	AutopurgePurgeIntervalMs int64

	// FourLetterWords are the enabled four-letter-word commands
	// (property zookeeper.4lw.commands.whitelist, zoo.cfg
	// 4lw.commands.whitelist, comma or space separated). "srvr" is always
	// enabled (zkServer.sh needs it), "isro" too with
	// -Dreadonlymode.enabled=true; a "*" anywhere gives ["*"]: all.
	FourLetterWords []string

	// AdminEnableServer turns the admin HTTP server on (property
	// zookeeper.admin.enableServer, default true).
	AdminEnableServer bool
	// AdminServerAddress is its listen address (zookeeper.admin.serverAddress,
	// default "0.0.0.0").
	AdminServerAddress string
	// AdminServerPort is its port (zookeeper.admin.serverPort, default 8080).
	AdminServerPort int
	// AdminCommandURL is the URL path of its commands
	// (zookeeper.admin.commandURL, default "/commands").
	AdminCommandURL string
	// AdminIdleTimeout is its connection idle timeout in ms
	// (zookeeper.admin.idleTimeout, default 30000).
	AdminIdleTimeout int

	// MetricsProviderClassName is metricsProvider.className ("" if unset;
	// Apache's default is its DefaultMetricsProvider, which exports
	// nothing over HTTP).
	MetricsProviderClassName string
	// MetricsHTTPPort is metricsProvider.httpPort (default 7000).
	MetricsHTTPPort int
	// MetricsHTTPHost is metricsProvider.httpHost (default "0.0.0.0").
	MetricsHTTPHost string
	// MetricsProviderConfig holds every metricsProvider.x key but
	// className, keyed by x (httpPort, httpHost, exportJvmInfo, ...).
	MetricsProviderConfig map[string]string

	// StandaloneEnabled lets a configuration with one participant run
	// standalone (standaloneEnabled, default true).
	StandaloneEnabled bool
	// ReconfigEnabled turns dynamic reconfiguration on (reconfigEnabled,
	// default false).
	ReconfigEnabled bool
	// DynamicConfigFile names the file holding the server.N lines
	// (dynamicConfigFile; "" if they are in zoo.cfg).
	DynamicConfigFile string
	// ConfigVersion is the version of the quorum configuration: the hex
	// suffix of DynamicConfigFile (zoo.cfg.dynamic.100000000) or the
	// version key of zoo.cfg; 0 if none.
	ConfigVersion int64

	// LocalSessionsEnabled allows local sessions (localSessionsEnabled).
	LocalSessionsEnabled bool
	// LocalSessionsUpgradingEnabled lets a local session become global
	// when it creates an ephemeral (localSessionsUpgradingEnabled).
	LocalSessionsUpgradingEnabled bool

	// PeerType is "participant" or "observer" (peerType); when myid is
	// known, this server's own server.N line decides.
	PeerType string
	// QuorumProtocol is the protocol this server speaks to the other
	// servers (quorumProtocol): QuorumProtocolZkgo, ours, or
	// QuorumProtocolApache, Apache ZooKeeper's, for an observer that
	// joins a running Apache ensemble.
	QuorumProtocol string
	// SyncEnabled makes observers log and snapshot like followers
	// (syncEnabled, default true).
	SyncEnabled bool
	// ElectionAlg is the election algorithm (electionAlg; only 3).
	ElectionAlg int
	// QuorumListenOnAllIPs makes the quorum and election ports listen on
	// every address (quorumListenOnAllIPs, default false).
	QuorumListenOnAllIPs bool
	// QuorumCnxnThreadsSize is quorum.cnxn.threads.size (default 0).
	QuorumCnxnThreadsSize int

	// SSLQuorum encrypts quorum traffic (sslQuorum, default false).
	SSLQuorum bool
	// PortUnification accepts TLS and plaintext on the client port
	// (portUnification, default false).
	PortUnification bool
	// SSLQuorumReloadCertFiles reloads quorum certificates when their
	// files change (sslQuorumReloadCertFiles, default false).
	SSLQuorumReloadCertFiles bool

	// QuorumSASLEnabled is quorum.auth.enableSasl.
	QuorumSASLEnabled bool
	// QuorumServerRequireSASL is quorum.auth.serverRequireSasl.
	QuorumServerRequireSASL bool
	// QuorumLearnerRequireSASL is quorum.auth.learnerRequireSasl.
	QuorumLearnerRequireSASL bool
	// QuorumLearnerLoginContext is quorum.auth.learner.saslLoginContext
	// (default "QuorumLearner").
	QuorumLearnerLoginContext string
	// QuorumServerLoginContext is quorum.auth.server.saslLoginContext
	// (default "QuorumServer").
	QuorumServerLoginContext string
	// QuorumServicePrincipal is quorum.auth.kerberos.servicePrincipal
	// (default "zkquorum/localhost").
	QuorumServicePrincipal string

	// MultiAddressEnabled allows several '|'-separated addresses on a
	// server.N line (multiAddress.enabled or -Dzookeeper.multiAddress.enabled).
	MultiAddressEnabled bool
	// MultiAddressReachabilityCheckEnabled is
	// multiAddress.reachabilityCheckEnabled (default true).
	MultiAddressReachabilityCheckEnabled bool
	// MultiAddressReachabilityCheckTimeoutMs is
	// multiAddress.reachabilityCheckTimeoutMs (default 1000).
	MultiAddressReachabilityCheckTimeoutMs int
	// OraclePath is oraclePath (the QuorumOracleMaj failure detector file).
	OraclePath string

	// JVMPauseMonitor is jvm.pause.monitor (default false).
	JVMPauseMonitor bool
	// JVMPauseInfoThresholdMs is jvm.pause.info-threshold.ms (default 1000).
	JVMPauseInfoThresholdMs int64
	// JVMPauseWarnThresholdMs is jvm.pause.warn-threshold.ms (default 10000).
	JVMPauseWarnThresholdMs int64
	// JVMPauseSleepTimeMs is jvm.pause.sleep.time.ms (default 500).
	JVMPauseSleepTimeMs int64

	// ForceSync makes the transaction log fsync (property
	// zookeeper.forceSync, zoo.cfg forceSync; default true; only "no"
	// turns it off, as in Apache).
	ForceSync bool
	// JuteMaxBuffer is the largest jute record accepted, in bytes
	// (property jute.maxbuffer, else zookeeper.jute.maxbuffer, i.e.
	// zoo.cfg jute.maxbuffer; default 1048575).
	JuteMaxBuffer int
	// ExtendedTypesEnabled allows TTL nodes (property
	// zookeeper.extendedTypesEnabled, zoo.cfg extendedTypesEnabled).
	ExtendedTypesEnabled bool
	// SuperDigest is "super:base64(sha1(super:password))" (property
	// zookeeper.DigestAuthenticationProvider.superDigest).
	SuperDigest string
	// SkipACL disables ACL checks (property zookeeper.skipACL = "yes").
	SkipACL bool
	// ContainerCheckIntervalMs is how often the leader looks for empty
	// containers and expired TTL nodes to delete (property
	// znode.container.checkIntervalMs, without the zookeeper. prefix: as
	// in Apache, a -D flag only, not a zoo.cfg key).
	ContainerCheckIntervalMs int
	// ContainerMaxPerMinute bounds those deletions: at least a minute
	// divided by it apart (property znode.container.maxPerMinute).
	ContainerMaxPerMinute int
	// ContainerMaxNeverUsedIntervalMs is how long a container that never
	// had a child is kept; 0, the default, keeps it for ever (property
	// znode.container.maxNeverUsedIntervalMs).
	ContainerMaxNeverUsedIntervalMs int64
	// ReadOnlyModeEnabled is -Dreadonlymode.enabled=true.
	ReadOnlyModeEnabled bool
	// FsyncWarningThresholdMs is how long a sync of the transaction log
	// may take before a warning is logged (property
	// zookeeper.fsync.warningthresholdms, zoo.cfg fsync.warningthresholdms;
	// 0 means DefaultFsyncWarningThresholdMs).
	FsyncWarningThresholdMs int64
	// Log is how the server logs (log.level, log.format, log.file).
	Log Logging
	// Auth is the configuration of client authentication: SASL users
	// from the JAAS file, the auth schemes, enforce.auth.* (see jaas.go).
	Auth Auth

	// MyID is this server's id from dataDir/myid (0 if there is no myid
	// file; required when the configuration is not standalone).
	MyID int64
	// Servers are the server.N lines, sorted by ID.
	Servers []Server
	// Hierarchical is true when group.N or weight.N lines define
	// hierarchical quorums; see Server.Group and Server.Weight.
	Hierarchical bool

	// Properties holds every system property: each -D flag of
	// SERVER_JVMFLAGS and JVMFLAGS, then each zoo.cfg key k that is not a
	// configuration key as "zookeeper."+k (zoo.cfg wins, as in Apache).
	Properties map[string]string
	// UnknownKeys are the zoo.cfg keys that are neither configuration
	// keys nor system properties Apache ZooKeeper documents: likely typos.
	// They are kept in Properties all the same; the caller logs them once.
	UnknownKeys []string
	// Warnings are the problems Apache ZooKeeper logs and then works
	// around (a snapRetainCount below 3, a peerType that contradicts the
	// server list, an even number of participants, ...), for the caller
	// to log.
	Warnings []string
}

// The values of quorumProtocol.
const (
	// QuorumProtocolZkgo is our own peer protocol (the default).
	QuorumProtocolZkgo = "zkgo"
	// QuorumProtocolApache is Apache ZooKeeper's quorum protocol, spoken
	// by an observer of an Apache ensemble (live migration).
	QuorumProtocolApache = "apache"
)

// Server is one server.N=host:quorumPort:electionPort[:participant|observer][;[clientAddr:]clientPort[;[secureAddr:]securePort]]
// line. An IPv6 host is written in brackets ([::1]:2888:3888) and kept
// without them.
type Server struct {
	// ID is N, the server id (myid).
	ID int64
	// Host is the quorum and election host.
	Host string
	// QuorumPort is the port followers connect to the leader on.
	QuorumPort int
	// ElectionPort is the leader election port.
	ElectionPort int
	// Observer is true for ":observer" (false for ":participant" or none).
	Observer bool
	// ClientAddr is the client address from the line ("0.0.0.0" when only
	// a port is given; "" when the line has no client part).
	ClientAddr string
	// ClientPort is the client port from the line (0 if none).
	ClientPort int
	// SecureClientAddr is the secure client address (third ';' part).
	SecureClientAddr string
	// SecureClientPort is the secure client port (0 if none).
	SecureClientPort int
	// Addrs lists every quorum address of the line; it has more than one
	// entry only with multiAddress.enabled and "a:1:2|b:1:2". Addrs[0]
	// is Host, QuorumPort, ElectionPort.
	Addrs []QuorumAddr
	// Group is the group.G that lists this server (Config.Hierarchical).
	Group int64
	// Weight is the weight.N of this server (default 1; observers 0).
	Weight int64
	// File and Line locate the server.N line.
	File string
	Line int
}

// QuorumAddr is one host:quorumPort:electionPort of a server.N line.
type QuorumAddr struct {
	Host         string
	QuorumPort   int
	ElectionPort int
}

// String formats s the way Apache ZooKeeper writes a server.N value
// (as in the dynamic configuration file and the "conf" command):
// host:quorumPort:electionPort:participant|observer[;clientAddr:clientPort].
func (s Server) String() string {
	var b strings.Builder
	addrs := s.Addrs
	if len(addrs) == 0 {
		addrs = []QuorumAddr{{s.Host, s.QuorumPort, s.ElectionPort}}
	}
	for i, a := range addrs {
		if i > 0 {
			b.WriteByte('|')
		}
		fmt.Fprintf(&b, "%s:%d:%d", bracketHost(a.Host), a.QuorumPort, a.ElectionPort)
	}
	if s.Observer {
		b.WriteString(":observer")
	} else {
		b.WriteString(":participant")
	}
	hasClient := s.ClientPort != 0 || s.ClientAddr != ""
	if hasClient {
		fmt.Fprintf(&b, ";%s:%d", bracketHost(s.ClientAddr), s.ClientPort)
	}
	if s.SecureClientPort != 0 || s.SecureClientAddr != "" {
		if !hasClient {
			b.WriteByte(';')
		}
		fmt.Fprintf(&b, ";%s:%d", bracketHost(s.SecureClientAddr), s.SecureClientPort)
	}
	return b.String()
}

// bracketHost puts an IPv6 literal in brackets.
func bracketHost(h string) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]"
	}
	return h
}

// Error is a configuration error. Its text names the file, the line and
// the key: `zoo.cfg:7: tickTime: "abc" is not a number`. Line is 0 when
// the problem is a key that is missing; File is the name of the
// environment variable for a -D flag of SERVER_JVMFLAGS or JVMFLAGS.
type Error struct {
	File string
	Line int
	Key  string
	Msg  string
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// newConfig returns a Config with every Apache default and nothing from
// a file: no dataDir, no client port.
func newConfig() *Config {
	return &Config{
		TickTime:                               DefaultTickTime,
		MaxClientCnxns:                         DefaultMaxClientCnxns,
		ClientPortListenBacklog:                -1,
		MinSessionTimeout:                      -1,
		MaxSessionTimeout:                      -1,
		LeaderLossHoldMs:                       -1,
		GlobalOutstandingLimit:                 1000,
		RequestThrottleStallTime:               100,
		RequestThrottleDropStale:               true,
		RequestStaleConnectionCheck:            true,
		MaxClientOutputBytes:                   DefaultMaxClientOutputBytes,
		SnapCount:                              DefaultSnapCount,
		AutopurgeSnapRetainCount:               DefaultSnapRetain,
		FourLetterWords:                        []string{"srvr"},
		AdminEnableServer:                      true,
		AdminServerAddress:                     "0.0.0.0",
		AdminServerPort:                        DefaultAdminPort,
		AdminCommandURL:                        "/commands",
		AdminIdleTimeout:                       30000,
		MetricsHTTPPort:                        DefaultMetricsPort,
		MetricsHTTPHost:                        "0.0.0.0",
		MetricsProviderConfig:                  map[string]string{},
		StandaloneEnabled:                      true,
		PeerType:                               "participant",
		QuorumProtocol:                         QuorumProtocolZkgo,
		SyncEnabled:                            true,
		ElectionAlg:                            3,
		QuorumLearnerLoginContext:              "QuorumLearner",
		QuorumServerLoginContext:               "QuorumServer",
		QuorumServicePrincipal:                 "zkquorum/localhost",
		MultiAddressReachabilityCheckEnabled:   true,
		MultiAddressReachabilityCheckTimeoutMs: 1000,
		JVMPauseInfoThresholdMs:                1000,
		JVMPauseWarnThresholdMs:                10000,
		JVMPauseSleepTimeMs:                    500,
		ForceSync:                              true,
		JuteMaxBuffer:                          DefaultJuteMaxBuffer,
		ContainerCheckIntervalMs:               DefaultContainerCheckIntervalMs,
		ContainerMaxPerMinute:                  DefaultContainerMaxPerMinute,
		Properties:                             map[string]string{},
	}
}

// Default returns the standalone configuration used without a zoo.cfg:
// DataDir "./data", ClientPort 2181, every other setting at its default.
func Default() *Config {
	c := newConfig()
	c.DataDir = "./data"
	c.DataLogDir = c.DataDir
	c.ClientPort = DefaultClientPort
	c.MinSessionTimeout = 2 * c.TickTime
	c.MaxSessionTimeout = 20 * c.TickTime
	c.LeaderLossHoldMs = c.MinSessionTimeout / 2
	return c
}

// Standalone reports whether the server runs alone rather than in a
// quorum: there are no servers, or there is at most one participant and
// StandaloneEnabled is set (as Apache ZooKeeper, which then ignores the
// single server.N line).
func (c *Config) Standalone() bool {
	if len(c.Servers) == 0 {
		return true
	}
	return c.StandaloneEnabled && c.participants() <= 1
}

// participants counts the servers that vote.
func (c *Config) participants() int {
	n := 0
	for _, s := range c.Servers {
		if !s.Observer {
			n++
		}
	}
	return n
}

// Server returns the server with the given id.
func (c *Config) Server(id int64) (Server, bool) {
	for _, s := range c.Servers {
		if s.ID == id {
			return s, true
		}
	}
	return Server{}, false
}

// Property returns the system property name (a -D flag, or "zookeeper."+k
// for a zoo.cfg key k) and whether it is set.
func (c *Config) Property(name string) (string, bool) {
	v, ok := c.Properties[name]
	return v, ok
}

// FourLetterWordEnabled reports whether the four-letter word cmd (e.g.
// "ruok") may be run: it is whitelisted, or the whitelist is "*".
func (c *Config) FourLetterWordEnabled(cmd string) bool {
	return slices.Contains(c.FourLetterWords, "*") || slices.Contains(c.FourLetterWords, cmd)
}
