// Package shell is zkcli's command interpreter: zkCli.sh's commands with
// their flags, output and error messages, run one-shot, from a script on
// standard input, or interactively with line editing, history and
// completion; plus zkcli's own commands (tree, dump, load, lock, elect,
// watch) and JSON output.
package shell

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkgo/zkgo/cmd/zkcli/internal/zkclient"
	"github.com/zkgo/zkgo/wire"
)

// Config configures a Shell.
type Config struct {
	// Server is the connect string, "host:port[,host:port...][/chroot]".
	Server string
	// Timeout is the session timeout.
	Timeout time.Duration
	// JSON selects JSON output for every command.
	JSON bool
	// Stdin, Stdout and Stderr default to the process's.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// HistoryFile keeps the interactive line history ("" for none).
	HistoryFile string
	// Debug sends the client library's log to Stderr.
	Debug bool
}

// Shell runs commands against one ZooKeeper session at a time.
type Shell struct {
	cfg Config

	outMu  sync.Mutex
	stdout io.Writer // the terminal (events go here)
	stderr io.Writer
	out    io.Writer // where the running command writes (may be redirected)
	errw   io.Writer
	// redirect is the file the running command's output goes to, if any.
	redirect *os.File

	client  *zkclient.Client
	host    string
	watcher *zkclient.Watcher

	printWatches atomic.Bool
	interactive  bool
	json         bool // JSON output for the running command
	sawConnect   atomic.Bool

	history      map[int]string
	commandCount int
	exitCode     int
	quit         bool

	cancelMu sync.Mutex
	cancel   context.CancelFunc

	onState func() // refreshes the interactive prompt
}

// lockedWriter serialises writes to one stream shared by commands and
// watch events.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// New returns a shell; it connects when it runs.
func New(cfg Config) *Shell {
	if cfg.Stdin == nil {
		cfg.Stdin = os.Stdin
	}
	if cfg.Stdout == nil {
		cfg.Stdout = os.Stdout
	}
	if cfg.Stderr == nil {
		cfg.Stderr = os.Stderr
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	sh := &Shell{cfg: cfg, history: map[int]string{}}
	sh.setStreams(cfg.Stdout, cfg.Stderr)
	sh.printWatches.Store(true)
	sh.watcher = zkclient.NewWatcher(sh.onEvent)
	return sh
}

func (sh *Shell) setStreams(stdout, stderr io.Writer) {
	sh.stdout = lockedWriter{&sh.outMu, stdout}
	sh.stderr = lockedWriter{&sh.outMu, stderr}
	sh.out, sh.errw = sh.stdout, sh.stderr
}

// ExitCode is the exit code of the last command, as zkCli.sh exits with.
func (sh *Shell) ExitCode() int { return sh.exitCode }

// connect replaces the session with a new one to host.
func (sh *Shell) connect(host string) error {
	if sh.client != nil {
		sh.client.Close()
	}
	sh.host = host
	opts := zkclient.Options{
		SessionTimeout: sh.cfg.Timeout,
		DefaultWatcher: sh.watcher,
		OnState: func(zkclient.State) {
			if sh.onState != nil {
				sh.onState()
			}
		},
	}
	if sh.cfg.Debug {
		opts.Logger = func(format string, args ...any) {
			fmt.Fprintf(sh.stderr, "zk: "+format+"\n", args...)
		}
	}
	c, err := zkclient.Connect(host, opts)
	if err != nil {
		sh.client = nil
		return &cliError{msg: err.Error()}
	}
	sh.client = c
	return nil
}

// Close ends the session.
func (sh *Shell) Close() {
	if sh.client != nil {
		sh.client.Close()
	}
}

// onEvent prints a watch event as zkCli.sh's default watcher does. Of the
// session events, a script sees only those that end the session (Expired,
// AuthFailed); the interactive shell shows them all but the first
// connection, its prompt showing the state too.
func (sh *Shell) onEvent(ev zkclient.Event) {
	if ev.Type == wire.EventNone {
		if !sh.interactive && ev.State != zkclient.StateExpired && ev.State != zkclient.StateAuthFailed {
			return
		}
		if ev.State == zkclient.StateSyncConnected && !sh.sawConnect.Swap(true) {
			return
		}
	}
	if !sh.printWatches.Load() {
		return
	}
	if sh.cfg.JSON {
		b, _ := json.Marshal(toEventJSON(ev))
		fmt.Fprintf(sh.stdout, "%s\n", b)
		return
	}
	fmt.Fprintf(sh.stdout, "\nWATCHER::\n\nWatchedEvent %s\n", strings.TrimPrefix(ev.String(), "WatchedEvent "))
}

// errQuit ends the shell with the exit code of the previous command.
var errQuit = errors.New("quit")

// cliError is a failed command: the message zkCli.sh prints on standard
// error and the exit code.
type cliError struct {
	msg  string
	code int
}

func (e *cliError) Error() string { return e.msg }

func malformed(msg string) error { return &cliError{msg: msg, code: 1} }

// wrapErr turns a client error into zkCli.sh's message for it
// (CliWrapperException and MalformedPathException).
func wrapErr(err error) error {
	if err == nil {
		return nil
	}
	var ce *cliError
	if errors.As(err, &ce) {
		return err
	}
	if errors.Is(err, context.Canceled) {
		return &cliError{msg: "", code: 130}
	}
	var pe *zkclient.PathError
	if errors.As(err, &pe) {
		return malformed(pe.Msg)
	}
	var ze *zkclient.Error
	if !errors.As(err, &ze) {
		return malformed(err.Error())
	}
	p := ze.Path
	if p == "" {
		p = "null"
	}
	switch ze.Code {
	case wire.ErrNoNode:
		return malformed("Node does not exist: " + p)
	case wire.ErrNoChildrenForEphemerals:
		return malformed("Ephemerals cannot have children: " + p)
	case wire.ErrNodeExists:
		return malformed("Node already exists: " + p)
	case wire.ErrNotEmpty:
		return malformed("Node not empty: " + p)
	case wire.ErrNotReadOnly:
		return malformed("Not a read-only call: " + p)
	case wire.ErrInvalidACL:
		return malformed("Acl is not valid : " + p)
	case wire.ErrNoAuth:
		return malformed("Insufficient permission : " + p)
	case wire.ErrBadArguments:
		return malformed("Arguments are not valid : " + p)
	case wire.ErrBadVersion:
		return malformed("version No is not valid : " + p)
	case wire.ErrReconfigInProgress:
		return malformed("Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)")
	case wire.ErrNewConfigNoQuorum:
		return malformed("No quorum of new config is connected and up-to-date with the leader of last commmitted config - try invoking reconfiguration after new servers are connected and synced")
	case wire.ErrQuotaExceeded:
		return malformed("Quota has exceeded : " + p)
	}
	return malformed(ze.Error())
}

// usage prints every command with its options, as zkCli.sh does for an
// unknown command.
func (sh *Shell) usage(w io.Writer) {
	fmt.Fprintln(w, "ZooKeeper -server host:port -client-configuration properties-file cmd args")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "\t%s %s\n", n, commands[n].usage)
	}
}

// RunOneShot connects, runs one command given as words and closes the
// session, as `zkCli.sh -server ... cmd args` does.
func (sh *Shell) RunOneShot(ctx context.Context, words []string) int {
	if err := sh.connect(sh.cfg.Server); err != nil {
		fmt.Fprintln(sh.stderr, err)
		return 1
	}
	defer sh.Close()
	sh.run(ctx, words)
	return sh.exitCode
}

// RunScript connects and runs the commands read from r, one a line,
// without prompts, as zkCli.sh does when its input is not a terminal.
func (sh *Shell) RunScript(ctx context.Context, r io.Reader) int {
	if err := sh.connect(sh.cfg.Server); err != nil {
		fmt.Fprintln(sh.stderr, err)
		return 1
	}
	defer sh.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() && !sh.quit {
		if ctx.Err() != nil {
			break
		}
		sh.executeLine(ctx, sc.Text())
	}
	return sh.exitCode
}

// executeLine runs one line typed or read from a script.
func (sh *Shell) executeLine(ctx context.Context, line string) {
	toks := splitLine(line)
	if len(toks) == 0 {
		return
	}
	sh.history[sh.commandCount] = line
	sh.runTokens(ctx, toks)
	sh.commandCount++
}

// runTokens runs a tokenized line, honouring a trailing "> file" or
// ">> file" redirection of the command's standard output.
func (sh *Shell) runTokens(ctx context.Context, toks []token) {
	ws := words(toks)
	if target, append, rest, ok := redirection(toks); ok {
		flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		if append {
			flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
		}
		f, err := os.OpenFile(target, flags, 0o644)
		if err != nil {
			fmt.Fprintln(sh.stderr, err)
			sh.exitCode = 1
			return
		}
		defer f.Close()
		sh.out, sh.redirect = lockedWriter{&sh.outMu, f}, f
		defer func() { sh.out, sh.redirect = sh.stdout, nil }()
		ws = rest
	}
	sh.run(ctx, ws)
}

// dataCommands take free text that may well contain '>': no redirection
// is recognised on their lines.
var dataCommands = map[string]bool{"create": true, "set": true, "setAcl": true, "addauth": true, "reconfig": true, "lock": true}

// redirection finds a trailing unquoted "> file", ">> file", ">file" or
// ">>file" and returns the target and the words before it.
func redirection(toks []token) (target string, append bool, rest []string, ok bool) {
	n := len(toks)
	if n < 2 || dataCommands[toks[0].text] {
		return "", false, nil, false
	}
	last, prev := toks[n-1], toks[n-2]
	switch {
	case !prev.quoted && (prev.text == ">" || prev.text == ">>") && n >= 3:
		return last.text, prev.text == ">>", words(toks[:n-2]), true
	case !last.quoted && strings.HasPrefix(last.text, ">>") && len(last.text) > 2:
		return last.text[2:], true, words(toks[:n-1]), true
	case !last.quoted && strings.HasPrefix(last.text, ">") && len(last.text) > 1:
		return last.text[1:], false, words(toks[:n-1]), true
	}
	return "", false, nil, false
}

// run runs one command with its own cancelable context and records its
// exit code; an error is printed on standard error.
func (sh *Shell) run(parent context.Context, ws []string) {
	ctx, cancel := context.WithCancel(parent)
	sh.cancelMu.Lock()
	sh.cancel = cancel
	sh.cancelMu.Unlock()
	defer func() {
		sh.cancelMu.Lock()
		sh.cancel = nil
		sh.cancelMu.Unlock()
		cancel()
	}()

	sh.json = sh.cfg.JSON
	var kept []string
	for _, w := range ws {
		if w == "--json" {
			sh.json = true
			continue
		}
		kept = append(kept, w)
	}
	err := sh.processCmd(ctx, kept)
	if ctx.Err() != nil && parent.Err() == nil && sh.interactive {
		fmt.Fprintln(sh.stdout) // after the terminal's ^C
	}
	if errors.Is(err, errQuit) {
		return
	}
	if err == nil {
		sh.exitCode = 0
		return
	}
	ce, ok := err.(*cliError)
	if !ok {
		ce = wrapErr(err).(*cliError)
	}
	if ce.code == 0 {
		ce.code = 1
	}
	sh.exitCode = ce.code
	if ce.msg == "" {
		return
	}
	if sh.json {
		b, _ := json.Marshal(map[string]any{"error": ce.msg, "exitCode": ce.code})
		fmt.Fprintf(sh.errw, "%s\n", b)
		return
	}
	fmt.Fprintln(sh.errw, ce.msg)
}

// Interrupt cancels the running command, if any (Ctrl-C).
func (sh *Shell) Interrupt() bool {
	sh.cancelMu.Lock()
	defer sh.cancelMu.Unlock()
	if sh.cancel == nil {
		return false
	}
	sh.cancel()
	return true
}

// processCmd is zkCli.sh's processZKCmd.
func (sh *Shell) processCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		sh.usage(sh.errw)
		return malformed("No command entered")
	}
	name := args[0]
	cmd, ok := commands[name]
	if !ok {
		sh.usage(sh.errw)
		return &cliError{msg: "Command not found: Command not found " + name, code: 127}
	}
	if cmd.builtin != nil {
		if err := cmd.builtin(sh, ctx, args); err != nil {
			return err
		}
		if cmd.local {
			return nil
		}
		// zkCli.sh checks the connection after its built-in commands too.
		if !sh.alive() {
			fmt.Fprintln(sh.out, "Not connected")
		}
		return nil
	}
	if !sh.alive() {
		fmt.Fprintln(sh.out, "Not connected")
		return nil
	}
	p, err := parseArgs(args, cmd.specs, cmd.groups)
	if err != nil {
		return &cliError{msg: err.Error() + "\nusage: " + name + " " + cmd.usage, code: 1}
	}
	return cmd.run(sh, ctx, p)
}

func (sh *Shell) alive() bool { return sh.client != nil && sh.client.Alive() }

// emit prints a command's result: as JSON if asked for, else by text.
func (sh *Shell) emit(v any, text func(w io.Writer)) {
	if sh.json {
		b, err := json.Marshal(v)
		if err != nil {
			fmt.Fprintln(sh.errw, err)
			return
		}
		fmt.Fprintf(sh.out, "%s\n", b)
		return
	}
	if text != nil {
		text(sh.out)
	}
}

// Prompt returns zkCli.sh's prompt: "[zk: host(STATE) N] ".
func (sh *Shell) Prompt() string {
	state := "CLOSED"
	if sh.client != nil {
		state = sh.client.State().String()
	}
	return fmt.Sprintf("[zk: %s(%s) %d] ", sh.host, state, sh.commandCount)
}
