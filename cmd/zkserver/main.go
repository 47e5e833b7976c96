// Command zkserver runs a ZooKeeper-compatible server.
//
//	zkserver                          standalone on the embedded default (port 2181, data in ./data)
//	zkserver [start-foreground] [--log-level L] [--log-format console|json] [--log-file F] zoo.cfg
//	zkserver start|stop|restart|status [zoo.cfg]   as zkServer.sh
//	zkserver version
//	zkserver import --from <Apache dataDir> [--from-log <Apache dataLogDir>] [--to <dataDir> | zoo.cfg]
//	zkserver export [--data <dataDir> | zoo.cfg] [--out <file>]
package main

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/zkgo/zkgo/conf"
	"github.com/zkgo/zkgo/server"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "zkserver:", err)
		os.Exit(1)
	}
}

func usage() error {
	return fmt.Errorf("usage: zkserver [start-foreground|start|stop|restart|status|version] [zoo.cfg]\n" +
		"       zkserver import --from <Apache dataDir> [--from-log <Apache dataLogDir>] [--to <dataDir> | zoo.cfg]\n" +
		"       zkserver export [--data <dataDir> | zoo.cfg] [--out <file>]\n" +
		"       zkserver repair [--data <dataDir> | zoo.cfg] [--truncate-after <zxid>]\n" +
		"       zkserver takeover [--apache-clients host:port,...] [--timeout <duration>] [--resume] <zoo.cfg of one of our observers>")
}

func run(args []string) error {
	verb := "start-foreground"
	if len(args) > 0 {
		switch args[0] {
		case "start-foreground", "version":
			verb, args = args[0], args[1:]
		case "start":
			return startService(args[1:], os.Stdout)
		case "stop":
			return stopService(args[1:], os.Stdout)
		case "restart":
			if err := stopService(args[1:], os.Stdout); err != nil {
				return err
			}
			return startService(args[1:], os.Stdout)
		case "status":
			return statusService(args[1:], os.Stdout)
		case "import":
			return runImport(args[1:], os.Stdout, os.Stderr)
		case "export":
			return runExport(args[1:], os.Stdout, os.Stderr)
		case "repair":
			return runRepair(args[1:], os.Stdout, os.Stderr)
		case "takeover":
			return runTakeover(args[1:], os.Stdout, os.Stderr)
		case "-h", "--help", "help":
			return usage()
		}
	}
	args, logSet, err := splitLogFlags(args)
	if err != nil {
		return err
	}
	if len(args) > 1 {
		return usage()
	}
	if verb == "version" {
		fmt.Printf("ZooKeeper JMX enabled by default\nApache ZooKeeper, version %s\n", server.Version)
		return nil
	}
	tuneGC()
	cfg := conf.Default()
	if len(args) == 1 {
		if cfg, err = conf.Load(args[0]); err != nil {
			return err
		}
	}
	log, err := newLogger(cfg.Log, logSet)
	if err != nil {
		return err
	}
	defer log.Sync()
	servePprof(log)
	for _, k := range cfg.UnknownKeys {
		log.Info("zoo.cfg key not used by this server; kept as a system property",
			zap.String("key", k), zap.String("property", "zookeeper."+k))
	}
	for _, w := range cfg.Warnings {
		log.Warn("configuration: " + w)
	}
	if !cfg.Standalone() {
		log.Info("running in an ensemble", zap.Int64("myid", cfg.MyID), zap.Int("servers", len(cfg.Servers)))
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	srv := server.New(cfg, log)
	injectFaults(srv, log)
	if err := srv.Start(); err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case s := <-sig:
		log.Info("shutting down", zap.Stringer("signal", s))
		return srv.Close()
	case err := <-srv.Fatal():
		// A failed disk may hold a write forever (pebble stalls writes
		// behind a flush it cannot make): stop without waiting long.
		closed := make(chan struct{})
		go func() { srv.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(fatalCloseWait):
			log.Error("the server did not close within the wait after its storage failed; exiting anyway", zap.Duration("wait", fatalCloseWait))
		}
		return err
	}
}

// fatalCloseWait bounds how long a server whose storage failed waits for
// its connections and goroutines to close before the process exits.
const fatalCloseWait = 5 * time.Second

// envFaultFsyncDelayFile names a file holding a Go duration ("250ms") that
// every sync of the transaction log waits first. It is a test hook for
// test/jepsen's slow-disk nemesis, which rewrites the file at run time; the
// file is read at each sync. Never set it in production.
const envFaultFsyncDelayFile = "ZKGO_FAULT_FSYNC_DELAY_FILE"

// injectFaults installs in srv the fault-injection hooks the environment
// asks for.
func injectFaults(srv *server.Server, log *zap.Logger) {
	path := os.Getenv(envFaultFsyncDelayFile)
	if path == "" {
		return
	}
	log.Warn("fault injection (test hook): every fsync of the transaction log waits the duration in a file",
		zap.String("env", envFaultFsyncDelayFile), zap.String("file", path))
	srv.SetSyncDelay(func() time.Duration {
		b, err := os.ReadFile(path)
		if err != nil {
			return 0
		}
		d, err := time.ParseDuration(strings.TrimSpace(string(b)))
		if err != nil {
			return 0
		}
		return d
	})
}
