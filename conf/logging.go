package conf

import (
	"slices"
	"strconv"
	"strings"
)

// Logging is how the server logs: zoo.cfg keys of this server (Apache
// ZooKeeper configures log4j/logback outside zoo.cfg instead). zkserver's
// --log-level, --log-format and --log-file flags win over them.
type Logging struct {
	// Level is log.level: debug, info, warn or error ("" means info).
	Level string
	// Format is log.format: console (one readable line per event) or
	// json ("" means console).
	Format string
	// File is log.file: the file log lines are appended to ("" means
	// standard error).
	File string
}

// LogLevels and LogFormats are the values log.level and log.format take.
var (
	LogLevels  = []string{"debug", "info", "warn", "error"}
	LogFormats = []string{"console", "json"}
)

// DefaultFsyncWarningThresholdMs is Apache's fsync.warningthresholdms.
const DefaultFsyncWarningThresholdMs = 1000

// setLogKey applies one log.* line of zoo.cfg.
func (l *loader) setLogKey(key, value string) error {
	c := &l.c.Log
	switch key {
	case "log.level":
		v := strings.ToLower(value)
		if !slices.Contains(LogLevels, v) {
			return l.errAt(key, "%q is not a log level; choose %s", value, strings.Join(LogLevels, ", "))
		}
		c.Level = v
	case "log.format":
		v := strings.ToLower(value)
		if !slices.Contains(LogFormats, v) {
			return l.errAt(key, "%q is not a log format; choose %s", value, strings.Join(LogFormats, " or "))
		}
		c.Format = v
	case "log.file":
		if value == "" {
			return l.errAt(key, "is empty")
		}
		c.File = value
	}
	return nil
}

// applyLogging reads the logging properties: without log.level, the level
// of zkServer.sh's -Dzookeeper.root.logger=LEVEL,APPENDER; and the fsync
// warning threshold as Apache's FileTxnLog: zookeeper.fsync.warningthresholdms
// (zoo.cfg fsync.warningthresholdms), else the property
// fsync.warningthresholdms, else unset (0: DefaultFsyncWarningThresholdMs).
func (l *loader) applyLogging() error {
	c := l.c
	if v, ok := c.Properties["zookeeper.root.logger"]; ok && c.Log.Level == "" {
		level, _, _ := strings.Cut(v, ",")
		switch strings.ToUpper(strings.TrimSpace(level)) {
		case "ALL", "TRACE", "DEBUG":
			c.Log.Level = "debug"
		case "INFO":
			c.Log.Level = "info"
		case "WARN":
			c.Log.Level = "warn"
		case "ERROR", "FATAL", "OFF":
			c.Log.Level = "error"
		default:
			l.warnf("zookeeper.root.logger=%s does not start with a log4j level (DEBUG, INFO, WARN, ERROR); logging at info", v)
		}
	}
	for _, name := range []string{"zookeeper.fsync.warningthresholdms", "fsync.warningthresholdms"} {
		v, ok := c.Properties[name]
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return l.propErr(name, "%s", numErr(v, err))
		}
		c.FsyncWarningThresholdMs = n
		return nil
	}
	return nil
}
