package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"time"

	"github.com/chzyer/readline"
	"github.com/zkgo/zkgo/cmd/zkcli/internal/zkclient"
)

// RunInteractive runs the shell on a terminal: line editing, a persistent
// history, completion of commands and znode paths, watch events printed as
// they arrive above the prompt, the connection state in the prompt, and
// Ctrl-C cancelling the running command rather than the shell.
func (sh *Shell) RunInteractive(ctx context.Context) int {
	sh.interactive = true
	rl, err := readline.NewEx(&readline.Config{
		HistoryFile:       sh.cfg.HistoryFile,
		HistoryLimit:      1000,
		HistorySearchFold: true,
		AutoComplete:      &completer{sh: sh},
		InterruptPrompt:   "^C",
		EOFPrompt:         "quit",
		Stdin:             io.NopCloser(sh.cfg.Stdin),
		Stdout:            sh.cfg.Stdout,
		Stderr:            sh.cfg.Stderr,
	})
	if err != nil {
		fmt.Fprintln(sh.cfg.Stderr, err)
		return 1
	}
	defer rl.Close()
	sh.setStreams(rl.Stdout(), rl.Stderr())
	sh.onState = func() {
		rl.SetPrompt(sh.Prompt())
		rl.Refresh()
	}

	// Ctrl-C reaches us as SIGINT only while a command runs (readline reads
	// it as a key otherwise): it cancels that command.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)
	go func() {
		for range sigs {
			sh.Interrupt()
		}
	}()

	fmt.Fprintf(sh.stdout, "Connecting to %s\n", sh.cfg.Server)
	fmt.Fprintln(sh.stdout, "Welcome to zkcli, a ZooKeeper shell. Type help for the commands, Tab to complete, Ctrl-D to leave.")
	if err := sh.connect(sh.cfg.Server); err != nil {
		fmt.Fprintln(sh.stderr, err)
	}
	defer sh.Close()
	for !sh.quit && ctx.Err() == nil {
		rl.SetPrompt(sh.Prompt())
		line, err := rl.Readline()
		if errors.Is(err, readline.ErrInterrupt) {
			continue
		}
		if err != nil {
			break
		}
		sh.executeLine(ctx, line)
	}
	return sh.exitCode
}

// completer completes command names and, for a word starting with '/',
// znode paths from the server, as zkCli.sh's JLineZNodeCompleter does.
type completer struct {
	sh *Shell
}

func (c *completer) Do(line []rune, pos int) ([][]rune, int) {
	text := string(line[:pos])
	word := ""
	if !strings.HasSuffix(text, " ") {
		if f := strings.Fields(text); len(f) > 0 {
			word = f[len(f)-1]
		}
	}
	if strings.HasPrefix(word, "/") {
		return c.paths(word)
	}
	if strings.TrimSpace(text) != word {
		return nil, 0 // an argument that is not a path
	}
	var out [][]rune
	for _, name := range commandNames() {
		if strings.HasPrefix(name, word) {
			out = append(out, []rune(name[len(word):]+" "))
		}
	}
	return out, len([]rune(word))
}

func (c *completer) paths(word string) ([][]rune, int) {
	cl := c.sh.client
	if cl == nil || !cl.Alive() {
		return nil, 0
	}
	i := strings.LastIndexByte(word, '/')
	dir, prefix := word[:i], word[i+1:]
	if dir == "" {
		dir = "/"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	children, _, err := cl.Children(ctx, dir, nil)
	if err != nil || zkclient.ValidatePath(dir, false) != nil {
		return nil, 0
	}
	sort.Strings(children)
	var out [][]rune
	for _, ch := range children {
		if strings.HasPrefix(ch, prefix) {
			out = append(out, []rune(ch[len(prefix):]))
		}
	}
	return out, len([]rune(prefix))
}
