// Command zkcli is a ZooKeeper shell that accepts what Apache ZooKeeper's
// zkCli.sh accepts, with the same output and error messages, and more.
//
//	zkcli [-server host:port[,host:port...][/chroot]] [-timeout ms] [--json] [cmd args...]
//
// With a command it runs that command and exits with its status, as
// `zkCli.sh -server ... cmd args` does. Without one it reads commands from
// standard input: interactively on a terminal (line editing, persistent
// history in ~/.zkcli_history or $ZKCLI_HISTORY, Tab completion of commands
// and znode paths, watch events shown as they arrive, the connection state
// in the prompt, Ctrl-C cancelling the running command), else one command a
// line, without prompts. Type help for the commands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/chzyer/readline"
	"github.com/zkgo/zkgo/cmd/zkcli/internal/shell"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// options are zkCli.sh's command-line options, plus zkcli's --json.
type options struct {
	server  string
	timeout time.Duration
	json    bool
	debug   bool
	command []string
}

// parseOptions reads options before the command as zkCli.sh does: unknown
// options are ignored, and the first word not starting with '-' starts the
// command.
func parseOptions(args []string) (options, error) {
	o := options{server: "localhost:2181", timeout: 30 * time.Second}
	for i := 0; i < len(args); i++ {
		a := args[i]
		value := func() (string, error) {
			if i+1 >= len(args) {
				return "", fmt.Errorf("Error: no argument found for option %s", a)
			}
			i++
			return args[i], nil
		}
		switch a {
		case "-server", "--server":
			v, err := value()
			if err != nil {
				return o, err
			}
			o.server = v
		case "-timeout", "--timeout":
			v, err := value()
			if err != nil {
				return o, err
			}
			ms, err := strconv.Atoi(v)
			if err != nil || ms <= 0 {
				return o, fmt.Errorf("Error: -timeout wants milliseconds, not %q", v)
			}
			o.timeout = time.Duration(ms) * time.Millisecond
		case "-client-configuration":
			if _, err := value(); err != nil {
				return o, err
			}
		case "-json", "--json":
			o.json = true
		case "-debug", "--debug":
			o.debug = true
		case "-h", "-help", "--help":
			o.command = []string{"help"}
			return o, nil
		case "-r", "-waitforconnection":
			// Read-only mode is not supported by the client library; zkcli
			// always waits for the connection before a command runs.
		default:
			if len(a) == 0 || a[0] != '-' {
				o.command = args[i:]
				return o, nil
			}
		}
	}
	return o, nil
}

func run(args []string) int {
	o, err := parseOptions(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cfg := shell.Config{Server: o.server, Timeout: o.timeout, JSON: o.json, Debug: o.debug}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	if len(o.command) > 0 {
		sh := shell.New(cfg)
		ictx, istop := signal.NotifyContext(ctx, os.Interrupt)
		defer istop()
		return sh.RunOneShot(ictx, o.command)
	}
	if readline.DefaultIsTerminal() {
		cfg.HistoryFile = historyFile()
		return shell.New(cfg).RunInteractive(ctx)
	}
	ictx, istop := signal.NotifyContext(ctx, os.Interrupt)
	defer istop()
	return shell.New(cfg).RunScript(ictx, os.Stdin)
}

// historyFile is $ZKCLI_HISTORY, else ~/.zkcli_history.
func historyFile() string {
	if f, ok := os.LookupEnv("ZKCLI_HISTORY"); ok {
		return f
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".zkcli_history")
}
