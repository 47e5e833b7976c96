package conf

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Load reads the zoo.cfg at path the way Apache ZooKeeper's
// QuorumPeerConfig does: first the -D system properties of the
// environment variables SERVER_JVMFLAGS and JVMFLAGS (in that order, as
// zkServer.sh passes them), then the file, whose unknown keys k override
// them as "zookeeper."+k, then the dynamic configuration file if
// dynamicConfigFile names one, then dataDir/myid if servers are
// configured. Errors are *Error values naming the file, line and key.
func Load(path string) (*Config, error) {
	return LoadEnv(path, os.Getenv)
}

// LoadEnv is Load with the environment read through getenv (os.Getenv
// if nil).
func LoadEnv(path string, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	l := &loader{
		c:     newConfig(),
		file:  path,
		lines: map[string]int{},
		src:   map[string]source{},
	}
	l.c.File = path
	for _, env := range []string{"SERVER_JVMFLAGS", "JVMFLAGS"} {
		for _, kv := range parseJVMFlags(getenv(env)) {
			l.setProperty(kv[0], kv[1], source{file: env, key: "-D" + kv[0]})
		}
	}
	props, dups, err := readPropertiesFile(path)
	if err != nil {
		return nil, err
	}
	l.warnDuplicates(path, props, dups)
	hasDynamic := false
	for _, p := range props {
		if strings.TrimSpace(p.Key) == "dynamicConfigFile" {
			hasDynamic = true
		}
	}
	for _, p := range props {
		if err := l.setKey(p, hasDynamic); err != nil {
			return nil, err
		}
	}
	if err := l.finish(); err != nil {
		return nil, err
	}
	return l.c, nil
}

// source is where a system property was set: a zoo.cfg line or a -D flag
// of an environment variable.
type source struct {
	file string
	line int
	key  string
}

// loader carries the state of one Load.
type loader struct {
	c     *Config
	file  string
	lines map[string]int    // zoo.cfg key -> line
	src   map[string]source // system property -> where it was set
	// quorum holds the server.N, group.N, weight.N and version lines of
	// zoo.cfg (when there is no dynamic configuration file).
	quorum []property
	// which keys were given, where Apache tells "unset" from a value
	clientPortSet, clientPortAddressSet             bool
	secureClientPortSet, secureClientPortAddressSet bool
	minSessionSet, maxSessionSet                    bool
	haveMyID                                        bool
	myidPath                                        string
}

// setProperty records a system property and where it was set.
func (l *loader) setProperty(name, value string, s source) {
	l.c.Properties[name] = value
	l.src[name] = s
}

// errAt returns an error at the zoo.cfg line of key.
func (l *loader) errAt(key, format string, args ...any) *Error {
	return &Error{File: l.file, Line: l.lines[key], Key: key, Msg: fmt.Sprintf(format, args...)}
}

// propErr returns an error at the place the system property was set.
func (l *loader) propErr(name, format string, args ...any) *Error {
	s := l.src[name]
	return &Error{File: s.file, Line: s.line, Key: s.key, Msg: fmt.Sprintf(format, args...)}
}

func (l *loader) warnf(format string, args ...any) {
	l.c.Warnings = append(l.c.Warnings, fmt.Sprintf(format, args...))
}

// warnDuplicates notes keys given more than once (the last one wins).
func (l *loader) warnDuplicates(file string, kept, dropped []property) {
	last := map[string]int{}
	for _, p := range kept {
		last[p.Key] = p.Line
	}
	for _, p := range dropped {
		l.warnf("%s:%d: %s is set again on line %d; the last value wins", file, p.Line, p.Key, last[p.Key])
	}
}

// numErr words a failed integer parse of v.
func numErr(v string, err error) string {
	if errors.Is(err, strconv.ErrRange) {
		return fmt.Sprintf("%q is out of range", v)
	}
	return fmt.Sprintf("%q is not a number", v)
}

// setKey applies one zoo.cfg line, as QuorumPeerConfig.parseProperties.
func (l *loader) setKey(p property, hasDynamic bool) error {
	c := l.c
	key := strings.TrimSpace(p.Key)
	value := strings.TrimSpace(p.Value)
	l.lines[key] = p.Line
	intVal := func(dst *int) error {
		n, err := strconv.ParseInt(value, 10, 32)
		if err != nil {
			return l.errAt(key, "%s", numErr(value, err))
		}
		*dst = int(n)
		return nil
	}
	int64Val := func(dst *int64) error {
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return l.errAt(key, "%s", numErr(value, err))
		}
		*dst = n
		return nil
	}
	portVal := func(dst *int) error {
		n, err := strconv.ParseInt(value, 10, 32)
		if err != nil {
			return l.errAt(key, "%s", numErr(value, err))
		}
		if n < 0 || n > 65535 {
			return l.errAt(key, "%d is not a port (0-65535)", n)
		}
		*dst = int(n)
		return nil
	}
	boolVal := func(dst *bool) error {
		switch strings.ToLower(value) {
		case "true":
			*dst = true
		case "false":
			*dst = false
		default:
			return l.errAt(key, "%q is not a boolean; choose true or false", value)
		}
		return nil
	}
	pathVal := func(dst *string) error {
		if value == "" {
			return l.errAt(key, "is empty")
		}
		*dst = value
		return nil
	}

	switch key {
	case "dataDir":
		return pathVal(&c.DataDir)
	case "dataLogDir":
		return pathVal(&c.DataLogDir)
	case "clientPort":
		l.clientPortSet = true
		return portVal(&c.ClientPort)
	case "clientPortAddress":
		l.clientPortAddressSet = true
		c.ClientPortAddress = value
	case "secureClientPort":
		l.secureClientPortSet = true
		return portVal(&c.SecureClientPort)
	case "secureClientPortAddress":
		l.secureClientPortAddressSet = true
		c.SecureClientPortAddress = value
	case "observerMasterPort":
		return portVal(&c.ObserverMasterPort)
	case "clientPortListenBacklog":
		return intVal(&c.ClientPortListenBacklog)
	case "localSessionsEnabled":
		return boolVal(&c.LocalSessionsEnabled)
	case "localSessionsUpgradingEnabled":
		return boolVal(&c.LocalSessionsUpgradingEnabled)
	case "tickTime":
		return intVal(&c.TickTime)
	case "maxClientCnxns":
		return intVal(&c.MaxClientCnxns)
	case "minSessionTimeout":
		l.minSessionSet = true
		return intVal(&c.MinSessionTimeout)
	case "maxSessionTimeout":
		l.maxSessionSet = true
		return intVal(&c.MaxSessionTimeout)
	case "leaderLossHoldMs":
		if err := intVal(&c.LeaderLossHoldMs); err != nil {
			return err
		}
		if c.LeaderLossHoldMs < 0 {
			return l.errAt(key, "%d: must not be negative", c.LeaderLossHoldMs)
		}
	case "initLimit":
		return intVal(&c.InitLimit)
	case "syncLimit":
		return intVal(&c.SyncLimit)
	case "connectToLearnerMasterLimit":
		return intVal(&c.ConnectToLearnerMasterLimit)
	case "electionAlg":
		if err := intVal(&c.ElectionAlg); err != nil {
			return err
		}
		if c.ElectionAlg != 3 {
			return l.errAt(key, "%d is not supported; only 3 is", c.ElectionAlg)
		}
	case "quorumListenOnAllIPs":
		return boolVal(&c.QuorumListenOnAllIPs)
	case "peerType":
		switch strings.ToLower(value) {
		case "observer":
			c.PeerType = "observer"
		case "participant":
			c.PeerType = "participant"
		default:
			return l.errAt(key, "%q is not a peer type; choose participant or observer", value)
		}
	case "quorumProtocol":
		switch value {
		case QuorumProtocolZkgo, QuorumProtocolApache:
			c.QuorumProtocol = value
		default:
			return l.errAt(key, "%q is not a quorum protocol; choose %s or %s", value, QuorumProtocolZkgo, QuorumProtocolApache)
		}
	case "syncEnabled":
		return boolVal(&c.SyncEnabled)
	case "dynamicConfigFile":
		return pathVal(&c.DynamicConfigFile)
	case "autopurge.snapRetainCount":
		return intVal(&c.AutopurgeSnapRetainCount)
	case "autopurge.purgeInterval":
		ms, err := parsePurgeInterval(value)
		if err != nil {
			return l.errAt(key, "%v", err)
		}
		c.AutopurgePurgeIntervalMs = ms
		c.AutopurgePurgeInterval = int(ms / 3600000)
	case "standaloneEnabled":
		return boolVal(&c.StandaloneEnabled)
	case "reconfigEnabled":
		return boolVal(&c.ReconfigEnabled)
	case "sslQuorum":
		return boolVal(&c.SSLQuorum)
	case "portUnification":
		return boolVal(&c.PortUnification)
	case "sslQuorumReloadCertFiles":
		return boolVal(&c.SSLQuorumReloadCertFiles)
	case "quorum.auth.enableSasl":
		return boolVal(&c.QuorumSASLEnabled)
	case "quorum.auth.serverRequireSasl":
		return boolVal(&c.QuorumServerRequireSASL)
	case "quorum.auth.learnerRequireSasl":
		return boolVal(&c.QuorumLearnerRequireSASL)
	case "quorum.auth.learner.saslLoginContext":
		c.QuorumLearnerLoginContext = value
	case "quorum.auth.server.saslLoginContext":
		c.QuorumServerLoginContext = value
	case "quorum.auth.kerberos.servicePrincipal":
		c.QuorumServicePrincipal = value
	case "quorum.cnxn.threads.size":
		return intVal(&c.QuorumCnxnThreadsSize)
	case "jvm.pause.info-threshold.ms":
		return int64Val(&c.JVMPauseInfoThresholdMs)
	case "jvm.pause.warn-threshold.ms":
		return int64Val(&c.JVMPauseWarnThresholdMs)
	case "jvm.pause.sleep.time.ms":
		return int64Val(&c.JVMPauseSleepTimeMs)
	case "jvm.pause.monitor":
		return boolVal(&c.JVMPauseMonitor)
	case "metricsProvider.className":
		c.MetricsProviderClassName = value
	case "multiAddress.enabled":
		return boolVal(&c.MultiAddressEnabled)
	case "multiAddress.reachabilityCheckTimeoutMs":
		return intVal(&c.MultiAddressReachabilityCheckTimeoutMs)
	case "multiAddress.reachabilityCheckEnabled":
		return boolVal(&c.MultiAddressReachabilityCheckEnabled)
	case "oraclePath":
		c.OraclePath = value
	case "log.level", "log.format", "log.file":
		return l.setLogKey(key, value)
	case "maxClientOutputBytes":
		if err := intVal(&c.MaxClientOutputBytes); err != nil {
			return err
		}
		if c.MaxClientOutputBytes <= 0 {
			return l.errAt(key, "%d: must be positive", c.MaxClientOutputBytes)
		}
	default:
		switch {
		case strings.HasPrefix(key, "metricsProvider."):
			c.MetricsProviderConfig[key[len("metricsProvider."):]] = value
		case isQuorumKey(key):
			if hasDynamic {
				return l.errAt(key, "must be in the dynamic configuration file, since dynamicConfigFile is set")
			}
			l.quorum = append(l.quorum, property{Key: key, Value: value, Line: p.Line})
		default:
			// As Apache: an unknown key k is the system property
			// zookeeper.k (this includes version, which the quorum
			// configuration also reads).
			l.setProperty("zookeeper."+key, value, source{file: l.file, line: p.Line, key: key})
			if key == "version" {
				if !hasDynamic {
					l.quorum = append(l.quorum, property{Key: key, Value: value, Line: p.Line})
				}
			} else if strings.HasPrefix(key, "znode.container.") {
				l.warnf("%s:%d: %s has no effect in zoo.cfg, as in Apache ZooKeeper, which reads it only as the system property %s: set -D%s=%s in SERVER_JVMFLAGS",
					l.file, p.Line, key, key, key, value)
			} else if !knownProperty(key) {
				c.UnknownKeys = append(c.UnknownKeys, key)
			}
		}
	}
	return nil
}

// isQuorumKey reports whether a key belongs to the quorum (dynamic)
// configuration: server.N, group.N, weight.N.
func isQuorumKey(key string) bool {
	return strings.HasPrefix(key, "server.") || strings.HasPrefix(key, "group") || strings.HasPrefix(key, "weight")
}

// parsePurgeInterval parses autopurge.purgeInterval into ms: a plain
// number is hours; otherwise a number with the unit ms, s, m, h or d.
func parsePurgeInterval(s string) (int64, error) {
	if s == "" {
		return 0, errors.New("is empty")
	}
	num := func(t string) (int64, error) {
		n, err := strconv.ParseInt(t, 10, 32)
		if err != nil {
			return 0, errors.New(numErr(s, err))
		}
		return n, nil
	}
	last := s[len(s)-1]
	if '0' <= last && last <= '9' {
		n, err := num(s)
		return n * 3600000, err
	}
	if strings.HasSuffix(s, "ms") || strings.HasSuffix(s, "MS") {
		return num(s[:len(s)-2])
	}
	var unit int64
	switch unicode.ToUpper(rune(last)) {
	case 'S':
		unit = 1000
	case 'M':
		unit = 60 * 1000
	case 'H':
		unit = 3600 * 1000
	case 'D':
		unit = 24 * 3600 * 1000
	default:
		return 0, fmt.Errorf("%q has an unknown time unit; use ms, s, m, h or d", s)
	}
	n, err := num(s[:len(s)-1])
	return n * unit, err
}

// finish checks and completes the configuration after every zoo.cfg
// line, in the order of QuorumPeerConfig.parseProperties and
// setupQuorumPeerConfig.
func (l *loader) finish() error {
	c := l.c
	if !c.QuorumSASLEnabled && c.QuorumServerRequireSASL {
		return l.errAt("quorum.auth.serverRequireSasl", "needs quorum.auth.enableSasl=true")
	}
	if !c.QuorumSASLEnabled && c.QuorumLearnerRequireSASL {
		return l.errAt("quorum.auth.learnerRequireSasl", "needs quorum.auth.enableSasl=true")
	}
	if !c.QuorumLearnerRequireSASL && c.QuorumServerRequireSASL {
		return l.errAt("quorum.auth.serverRequireSasl", "needs quorum.auth.learnerRequireSasl=true")
	}
	if c.AutopurgeSnapRetainCount < DefaultSnapRetain {
		l.warnf("%s:%d: autopurge.snapRetainCount %d is below the minimum; using %d",
			l.file, l.lines["autopurge.snapRetainCount"], c.AutopurgeSnapRetainCount, DefaultSnapRetain)
		c.AutopurgeSnapRetainCount = DefaultSnapRetain
	}
	if c.DataDir == "" {
		return l.errAt("dataDir", "is not set; every configuration file needs one")
	}
	if c.DataLogDir == "" {
		c.DataLogDir = c.DataDir
	}
	if !l.clientPortSet && l.clientPortAddressSet {
		return l.errAt("clientPortAddress", "is set but clientPort is not")
	}
	if !l.secureClientPortSet && l.secureClientPortAddressSet {
		return l.errAt("secureClientPortAddress", "is set but secureClientPort is not")
	}
	if c.TickTime <= 0 {
		return l.errAt("tickTime", "%d: must be positive", c.TickTime)
	}
	if !l.minSessionSet || c.MinSessionTimeout == -1 {
		c.MinSessionTimeout = 2 * c.TickTime
	}
	if !l.maxSessionSet || c.MaxSessionTimeout == -1 {
		c.MaxSessionTimeout = 20 * c.TickTime
	}
	if c.MinSessionTimeout > c.MaxSessionTimeout {
		key := "minSessionTimeout"
		if !l.minSessionSet {
			key = "maxSessionTimeout"
		}
		return l.errAt(key, "minSessionTimeout (%d ms) must not be larger than maxSessionTimeout (%d ms)",
			c.MinSessionTimeout, c.MaxSessionTimeout)
	}
	if c.LeaderLossHoldMs < 0 {
		c.LeaderLossHoldMs = c.MinSessionTimeout / 2
	}
	if err := l.applyProperties(); err != nil {
		return err
	}
	if err := l.applyAuth(); err != nil {
		return err
	}
	if err := l.applyLogging(); err != nil {
		return err
	}
	if err := l.setupQuorum(); err != nil {
		return err
	}
	return l.checkQuorum()
}

// applyProperties fills the fields that come from system properties.
func (l *loader) applyProperties() error {
	c := l.c
	props := c.Properties
	intProp := func(name string, dst *int) error {
		v, ok := props[name]
		if !ok {
			return nil
		}
		n, err := javaDecode(strings.TrimSpace(v), 32)
		if err != nil {
			return l.propErr(name, "%s", numErr(v, err))
		}
		*dst = int(n)
		return nil
	}
	longProp := func(name string, dst *int64) error {
		v, ok := props[name]
		if !ok {
			return nil
		}
		n, err := javaDecode(strings.TrimSpace(v), 64)
		if err != nil {
			return l.propErr(name, "%s", numErr(v, err))
		}
		*dst = n
		return nil
	}
	portProp := func(name string, dst *int) error {
		if err := intProp(name, dst); err != nil {
			return err
		}
		if *dst < 0 || *dst > 65535 {
			return l.propErr(name, "%d is not a port (0-65535)", *dst)
		}
		return nil
	}
	boolProp := func(name string, dst *bool) error {
		v, ok := props[name]
		if !ok {
			return nil
		}
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			*dst = true
		case "false":
			*dst = false
		default:
			return l.propErr(name, "%q is not a boolean; choose true or false", v)
		}
		return nil
	}

	// Integers and booleans first, so an error names the first of them.
	if err := intProp("zookeeper.snapCount", &c.SnapCount); err != nil {
		return err
	}
	if c.SnapCount < 2 {
		l.warnf("snapCount %d is below the minimum; using 2", c.SnapCount)
		c.SnapCount = 2
	}
	if err := boolProp("zookeeper.admin.enableServer", &c.AdminEnableServer); err != nil {
		return err
	}
	if v, ok := props["zookeeper.admin.serverAddress"]; ok {
		c.AdminServerAddress = strings.TrimSpace(v)
	}
	if err := portProp("zookeeper.admin.serverPort", &c.AdminServerPort); err != nil {
		return err
	}
	if v, ok := props["zookeeper.admin.commandURL"]; ok {
		c.AdminCommandURL = strings.TrimSpace(v)
	}
	if err := intProp("zookeeper.admin.idleTimeout", &c.AdminIdleTimeout); err != nil {
		return err
	}
	juteName := "jute.maxbuffer"
	if _, ok := props[juteName]; !ok {
		juteName = "zookeeper.jute.maxbuffer"
	}
	if err := intProp(juteName, &c.JuteMaxBuffer); err != nil {
		return err
	}
	if c.JuteMaxBuffer <= 0 {
		return l.propErr(juteName, "%d: must be positive", c.JuteMaxBuffer)
	}
	if err := boolProp("zookeeper.extendedTypesEnabled", &c.ExtendedTypesEnabled); err != nil {
		return err
	}
	if err := intProp("zookeeper.maxCnxns", &c.MaxCnxns); err != nil {
		return err
	}
	if c.MaxCnxns < 0 {
		l.warnf("maxCnxns %d is negative; using 0 (no limit)", c.MaxCnxns)
		c.MaxCnxns = 0
	}
	if err := intProp("zookeeper.globalOutstandingLimit", &c.GlobalOutstandingLimit); err != nil {
		return err
	}
	if err := intProp("zookeeper.request_throttle_max_requests", &c.RequestThrottleMaxRequests); err != nil {
		return err
	}
	if err := intProp("zookeeper.request_throttle_stall_time", &c.RequestThrottleStallTime); err != nil {
		return err
	}
	if c.RequestThrottleStallTime < 1 {
		l.warnf("request_throttle_stall_time %d is below 1 ms; using 1", c.RequestThrottleStallTime)
		c.RequestThrottleStallTime = 1
	}
	if err := boolProp("zookeeper.request_throttle_drop_stale", &c.RequestThrottleDropStale); err != nil {
		return err
	}
	if err := boolProp("zookeeper.request_stale_connection_check", &c.RequestStaleConnectionCheck); err != nil {
		return err
	}
	if err := boolProp("zookeeper.request_stale_latency_check", &c.RequestStaleLatencyCheck); err != nil {
		return err
	}
	if err := boolProp("readonlymode.enabled", &c.ReadOnlyModeEnabled); err != nil {
		return err
	}
	// Apache reads these without the zookeeper. prefix. It fails to start
	// on an interval below 1 and never deletes anything with a
	// maxPerMinute of 0; both are errors here.
	for _, p := range []struct {
		name string
		dst  *int
	}{
		{"znode.container.checkIntervalMs", &c.ContainerCheckIntervalMs},
		{"znode.container.maxPerMinute", &c.ContainerMaxPerMinute},
	} {
		if err := intProp(p.name, p.dst); err != nil {
			return err
		}
		if *p.dst <= 0 {
			return l.propErr(p.name, "%d: must be positive", *p.dst)
		}
	}
	if err := longProp("znode.container.maxNeverUsedIntervalMs", &c.ContainerMaxNeverUsedIntervalMs); err != nil {
		return err
	}
	// The zoo.cfg keys multiAddress.* win over the -D properties.
	if _, set := l.lines["multiAddress.enabled"]; !set {
		if err := boolProp("zookeeper.multiAddress.enabled", &c.MultiAddressEnabled); err != nil {
			return err
		}
	}
	if _, set := l.lines["multiAddress.reachabilityCheckEnabled"]; !set {
		if err := boolProp("zookeeper.multiAddress.reachabilityCheckEnabled", &c.MultiAddressReachabilityCheckEnabled); err != nil {
			return err
		}
	}
	if _, set := l.lines["multiAddress.reachabilityCheckTimeoutMs"]; !set {
		if err := intProp("zookeeper.multiAddress.reachabilityCheckTimeoutMs", &c.MultiAddressReachabilityCheckTimeoutMs); err != nil {
			return err
		}
	}

	// Strings and Apache's yes/no switches.
	if v, ok := props["zookeeper.forceSync"]; ok {
		c.ForceSync = strings.TrimSpace(v) != "no"
	}
	if v, ok := props["zookeeper.skipACL"]; ok {
		c.SkipACL = strings.TrimSpace(v) == "yes"
	}
	c.SuperDigest = strings.TrimSpace(props["zookeeper.DigestAuthenticationProvider.superDigest"])
	c.FourLetterWords = parseFourLetterWords(props["zookeeper.4lw.commands.whitelist"], c.ReadOnlyModeEnabled)

	// metricsProvider.* from zoo.cfg.
	if v, ok := c.MetricsProviderConfig["httpPort"]; ok {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			return l.errAt("metricsProvider.httpPort", "%s", numErr(v, err))
		}
		if n < -1 || n > 65535 {
			return l.errAt("metricsProvider.httpPort", "%d is not a port (0-65535)", n)
		}
		c.MetricsHTTPPort = int(n)
	}
	if v, ok := c.MetricsProviderConfig["httpHost"]; ok {
		c.MetricsHTTPHost = v
	}
	return nil
}

// parseFourLetterWords parses a 4lw.commands.whitelist value.
func parseFourLetterWords(v string, readOnly bool) []string {
	var words []string
	for _, w := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
		if w == "*" {
			return []string{"*"}
		}
		if !slices.Contains(words, w) {
			words = append(words, w)
		}
	}
	if !slices.Contains(words, "srvr") {
		words = append(words, "srvr")
	}
	if readOnly && !slices.Contains(words, "isro") {
		words = append(words, "isro")
	}
	return words
}

// javaDecode parses a bits-bit (32 or 64) integer as Java's
// Integer.decode and Long.decode (used by Integer.getInteger and
// Long.getLong for system properties): an optional sign, then decimal,
// 0x/0X/# hexadecimal or 0 octal.
func javaDecode(s string, bits int) (int64, error) {
	t := s
	neg := false
	if t != "" && (t[0] == '-' || t[0] == '+') {
		neg = t[0] == '-'
		t = t[1:]
	}
	base := 10
	switch {
	case strings.HasPrefix(t, "0x"), strings.HasPrefix(t, "0X"):
		base, t = 16, t[2:]
	case strings.HasPrefix(t, "#"):
		base, t = 16, t[1:]
	case len(t) > 1 && t[0] == '0':
		base, t = 8, t[1:]
	}
	if t == "" || t[0] == '-' || t[0] == '+' {
		return 0, strconv.ErrSyntax
	}
	u, err := strconv.ParseUint(t, base, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) {
			return 0, ne.Err
		}
		return 0, err
	}
	limit := uint64(1) << (bits - 1) // the magnitude of the smallest value
	if (!neg && u > limit-1) || (neg && u > limit) {
		return 0, strconv.ErrRange
	}
	if neg {
		return -int64(u), nil
	}
	return int64(u), nil
}
