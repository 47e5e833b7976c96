package main

import (
	"fmt"
	"slices"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/zkgo/zkgo/conf"
)

// logFlags are zkserver's --log-level, --log-format and --log-file flags;
// each set one wins over its zoo.cfg key (log.level, log.format, log.file).
var logFlags = []string{"--log-level", "--log-format", "--log-file"}

// splitLogFlags takes the log flags ("--log-level=debug" or "--log-level
// debug") out of args, returning the other arguments and the settings.
func splitLogFlags(args []string) ([]string, conf.Logging, error) {
	var set conf.Logging
	var rest []string
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(args[i], "=")
		if !slices.Contains(logFlags, name) {
			rest = append(rest, args[i])
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				return nil, set, fmt.Errorf("%s needs a value", name)
			}
			i++
			value = args[i]
		}
		switch name {
		case "--log-level":
			set.Level = strings.ToLower(value)
			if !slices.Contains(conf.LogLevels, set.Level) {
				return nil, set, fmt.Errorf("%s: %q is not a log level; choose %s", name, value, strings.Join(conf.LogLevels, ", "))
			}
		case "--log-format":
			set.Format = strings.ToLower(value)
			if !slices.Contains(conf.LogFormats, set.Format) {
				return nil, set, fmt.Errorf("%s: %q is not a log format; choose %s", name, value, strings.Join(conf.LogFormats, " or "))
			}
		case "--log-file":
			if value == "" {
				return nil, set, fmt.Errorf("%s is empty", name)
			}
			set.File = value
		}
	}
	return rest, set, nil
}

// newLogger builds the server's logger from zoo.cfg's settings with the
// flags' on top: level (default info), console or JSON lines (default
// console), appended to a file or written to standard error (default).
func newLogger(cfg, flags conf.Logging) (*zap.Logger, error) {
	pick := func(flag, key, def string) string {
		if flag != "" {
			return flag
		}
		if key != "" {
			return key
		}
		return def
	}
	level, err := zapcore.ParseLevel(pick(flags.Level, cfg.Level, "info"))
	if err != nil {
		return nil, err
	}
	zc := zap.NewProductionConfig()
	zc.Level = zap.NewAtomicLevelAt(level)
	zc.Encoding = pick(flags.Format, cfg.Format, "console")
	zc.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	zc.EncoderConfig.EncodeDuration = zapcore.StringDurationEncoder
	if zc.Encoding == "console" {
		zc.EncoderConfig.EncodeLevel = zapcore.CapitalLevelEncoder
	}
	zc.Sampling = nil
	zc.OutputPaths = []string{pick(flags.File, cfg.File, "stderr")}
	zc.ErrorOutputPaths = []string{"stderr"}
	log, err := zc.Build()
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	return log, nil
}
