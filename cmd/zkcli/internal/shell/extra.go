package shell

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/zkgo/zkgo/cmd/zkcli/internal/zkclient"
	"github.com/zkgo/zkgo/wire"
)

func addExtraCommands() {
	extras := map[string]*command{
		"help": {usage: "[command]", builtin: (*Shell).cmdHelp, local: true,
			help: "list the commands, or describe one"},
		"tree": {usage: "[-d depth] [path]", run: (*Shell).cmdTree,
			help:  "print the subtree of path (default /) with data sizes and subtree counts",
			specs: []optSpec{{"d", true, "depth"}}},
		"dump": {usage: "path [> file]", run: (*Shell).cmdDump,
			help: "write the subtree of path as JSON (data, ACLs, modes; ephemeral nodes are skipped)"},
		"load": {usage: "[-f] file [path]", run: (*Shell).cmdLoad,
			help:  "create the nodes of a dump, under path if given; -f also overwrites existing nodes' data and ACL",
			specs: []optSpec{{"f", false, "force"}}},
		"lock": {usage: "path [-- command [args...]]", run: (*Shell).cmdLock,
			help: "take the lock at path, run the command (or wait for Ctrl-C) and release the lock"},
		"elect": {usage: "path id", run: (*Shell).cmdElect,
			help: "join the election at path as id and print each change of leader until Ctrl-C"},
		"watch": {usage: "[-d] path", run: (*Shell).cmdWatch,
			help:  "stream the changes of the subtree of path (a persistent recursive watch) until Ctrl-C; -d also prints the data",
			specs: []optSpec{{"d", false, "data"}}},
	}
	for name, c := range extras {
		c.extra = true
		commands[name] = c
	}
}

func (sh *Shell) cmdHelp(_ context.Context, args []string) error {
	if len(args) >= 2 {
		c, ok := commands[args[1]]
		if !ok {
			return &cliError{msg: "Command not found " + args[1], code: 127}
		}
		fmt.Fprintf(sh.out, "%s %s\n", args[1], c.usage)
		if c.help != "" {
			fmt.Fprintf(sh.out, "\t%s\n", c.help)
		}
		return nil
	}
	fmt.Fprintln(sh.out, "zkCli.sh commands:")
	for _, n := range commandNames() {
		if c := commands[n]; !c.extra {
			fmt.Fprintf(sh.out, "\t%s %s\n", n, c.usage)
		}
	}
	fmt.Fprintln(sh.out, "zkcli commands:")
	for _, n := range commandNames() {
		if c := commands[n]; c.extra {
			fmt.Fprintf(sh.out, "\t%s %s\n", n, c.usage)
		}
	}
	fmt.Fprintln(sh.out, "Any command takes --json for JSON output; `cmd ... > file` writes its output to file.")
	return nil
}

// --- tree ---

type treeNode struct {
	Path        string      `json:"path"`
	Name        string      `json:"name"`
	DataLength  int32       `json:"dataLength"`
	NumChildren int32       `json:"numChildren"`
	Ephemeral   bool        `json:"ephemeral,omitempty"`
	Nodes       int64       `json:"nodes"` // in the subtree, this node included
	Bytes       int64       `json:"bytes"` // data bytes in the subtree
	Children    []*treeNode `json:"children,omitempty"`
	Truncated   bool        `json:"truncated,omitempty"`
}

func (sh *Shell) cmdTree(ctx context.Context, p *parsed) error {
	path := "/"
	if len(p.args) >= 2 {
		path = p.args[1]
	}
	depth := -1
	if p.has("d") {
		d, err := strconv.Atoi(p.value("d"))
		if err != nil || d < 0 {
			return malformed("-d argument must be a non-negative int value")
		}
		depth = d
	}
	if err := zkclient.ValidatePath(path, false); err != nil {
		return wrapErr(err)
	}
	root, err := sh.buildTree(ctx, path, depth)
	if err != nil {
		return wrapErr(err)
	}
	sh.emit(root, func(w io.Writer) {
		fmt.Fprintf(w, "%s  %s\n", root.Path, treeLabel(root))
		printTree(w, root, "")
		fmt.Fprintf(w, "%d nodes, %s\n", root.Nodes, humanBytes(root.Bytes))
	})
	return nil
}

func (sh *Shell) buildTree(ctx context.Context, path string, depth int) (*treeNode, error) {
	children, stat, err := sh.client.Children(ctx, path, nil)
	if err != nil {
		return nil, err
	}
	name := path[strings.LastIndexByte(path, '/')+1:]
	n := &treeNode{
		Path: path, Name: name, DataLength: stat.DataLength, NumChildren: stat.NumChildren,
		Ephemeral: stat.EphemeralOwner != 0 && nodeMode(stat.EphemeralOwner) == "ephemeral",
		Nodes:     1, Bytes: int64(stat.DataLength),
	}
	if depth == 0 && len(children) > 0 {
		n.Truncated = true
		return n, nil
	}
	sort.Strings(children)
	for _, c := range children {
		child, err := sh.buildTree(ctx, joinPath(path, c), depth-1)
		if zkclient.IsCode(err, wire.ErrNoNode) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		n.Children = append(n.Children, child)
		n.Nodes += child.Nodes
		n.Bytes += child.Bytes
	}
	return n, nil
}

func treeLabel(n *treeNode) string {
	var parts []string
	parts = append(parts, humanBytes(int64(n.DataLength)))
	if n.Ephemeral {
		parts = append(parts, "ephemeral")
	}
	if n.NumChildren > 0 {
		if n.NumChildren == 1 {
			parts = append(parts, "1 child")
		} else {
			parts = append(parts, fmt.Sprintf("%d children", n.NumChildren))
		}
		if n.Truncated {
			parts = append(parts, "not shown")
		} else {
			parts = append(parts, fmt.Sprintf("subtree %d nodes, %s", n.Nodes, humanBytes(n.Bytes)))
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func printTree(w io.Writer, n *treeNode, indent string) {
	for i, c := range n.Children {
		branch, next := "├── ", "│   "
		if i == len(n.Children)-1 {
			branch, next = "└── ", "    "
		}
		fmt.Fprintf(w, "%s%s%s  %s\n", indent, branch, c.Name, treeLabel(c))
		printTree(w, c, indent+next)
	}
}

func humanBytes(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}

// nodeMode names the kind of node an ephemeralOwner denotes.
func nodeMode(owner int64) string {
	switch {
	case owner == 0:
		return "persistent"
	case uint64(owner) == 0x8000000000000000:
		return "container"
	case uint64(owner)>>56 == 0xff:
		return "ttl"
	}
	return "ephemeral"
}

// --- dump and load ---

// dumpFile is the JSON document of dump and load.
type dumpFile struct {
	Format string     `json:"format"`
	Root   string     `json:"root"`
	Nodes  []dumpNode `json:"nodes"`
}

type dumpNode struct {
	Path string `json:"path"`
	jsonData
	ACL  []jsonACL `json:"acl"`
	Mode string    `json:"mode,omitempty"` // persistent (default), container or ttl
	TTL  int64     `json:"ttl,omitempty"`  // milliseconds, for mode ttl
}

const dumpFormat = "zkcli-dump/1"

func (sh *Shell) cmdDump(ctx context.Context, p *parsed) error {
	if len(p.args) < 2 {
		return sh.usageErr("dump")
	}
	root := p.args[1]
	if err := zkclient.ValidatePath(root, false); err != nil {
		return wrapErr(err)
	}
	doc := dumpFile{Format: dumpFormat, Root: root, Nodes: []dumpNode{}}
	skipped := 0
	var walk func(path string) error
	walk = func(path string) error {
		if path == "/zookeeper" && root != path && !strings.HasPrefix(root, "/zookeeper/") {
			return nil // the system subtree is the server's
		}
		data, stat, err := sh.client.Get(ctx, path, nil)
		if zkclient.IsCode(err, wire.ErrNoNode) && path != root {
			return nil
		}
		if err != nil {
			return err
		}
		mode := nodeMode(stat.EphemeralOwner)
		if mode == "ephemeral" {
			skipped++
			return nil
		}
		acl, _, err := sh.client.GetACL(ctx, path)
		if err != nil {
			return err
		}
		n := dumpNode{Path: path, jsonData: toJSONData(data), ACL: toJSONACL(acl)}
		if mode != "persistent" {
			n.Mode = mode
		}
		if mode == "ttl" {
			n.TTL = stat.EphemeralOwner & 0xFFFFFFFFFF
		}
		doc.Nodes = append(doc.Nodes, n)
		children, _, err := sh.client.Children(ctx, path, nil)
		if zkclient.IsCode(err, wire.ErrNoNode) {
			return nil
		}
		if err != nil {
			return err
		}
		sort.Strings(children)
		for _, c := range children {
			if err := walk(joinPath(path, c)); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root); err != nil {
		return wrapErr(err)
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return malformed(err.Error())
	}
	fmt.Fprintf(sh.out, "%s\n", b)
	if skipped > 0 {
		fmt.Fprintf(sh.errw, "skipped %d ephemeral node(s)\n", skipped)
	}
	return nil
}

func (sh *Shell) cmdLoad(ctx context.Context, p *parsed) error {
	if len(p.args) < 2 {
		return sh.usageErr("load")
	}
	b, err := os.ReadFile(p.args[1])
	if err != nil {
		return malformed(err.Error())
	}
	var doc dumpFile
	if err := json.Unmarshal(b, &doc); err != nil {
		return malformed(fmt.Sprintf("%s: not a zkcli dump: %v", p.args[1], err))
	}
	if doc.Format != dumpFormat {
		return malformed(fmt.Sprintf("%s: not a zkcli dump (format %q, want %q)", p.args[1], doc.Format, dumpFormat))
	}
	target := doc.Root
	if len(p.args) >= 3 {
		target = p.args[2]
		if err := zkclient.ValidatePath(target, false); err != nil {
			return wrapErr(err)
		}
	}
	created, updated, kept, failed := 0, 0, 0, 0
	fail := func(path string, err error) {
		failed++
		fmt.Fprintf(sh.errw, "%s: %v\n", path, wrapErr(err))
	}
	for _, n := range doc.Nodes {
		if ctx.Err() != nil {
			return wrapErr(ctx.Err())
		}
		path := remap(n.Path, doc.Root, target)
		data, err := n.jsonData.bytes()
		if err != nil {
			return malformed(fmt.Sprintf("%s: %v", n.Path, err))
		}
		acl := fromJSONACL(sh.errw, n.ACL)
		if len(acl) == 0 {
			acl = zkclient.OpenACL
		}
		flags := wire.FlagPersistent
		switch n.Mode {
		case "container":
			flags = wire.FlagContainer
		case "ttl":
			flags = wire.FlagPersistentWithTTL
		}
		if path != "/" { // the root always exists
			_, err := sh.client.Create(ctx, path, data, acl, flags, n.TTL)
			if err == nil {
				created++
				continue
			}
			if !zkclient.IsCode(err, wire.ErrNodeExists) {
				fail(path, err)
				continue
			}
		}
		if !p.has("f") {
			kept++
			continue
		}
		if _, err := sh.client.Set(ctx, path, data, -1); err != nil {
			fail(path, err)
			continue
		}
		if _, err := sh.client.SetACL(ctx, path, acl, -1); err != nil {
			fail(path, err)
			continue
		}
		updated++
	}
	sh.emit(map[string]int{"created": created, "updated": updated, "unchanged": kept, "failed": failed}, func(w io.Writer) {
		fmt.Fprintf(sh.errw, "loaded %d node(s): %d created, %d updated, %d already there", len(doc.Nodes), created, updated, kept)
		if failed > 0 {
			fmt.Fprintf(sh.errw, ", %d failed", failed)
		}
		fmt.Fprintln(sh.errw)
	})
	if failed > 0 {
		return &cliError{code: 1}
	}
	return nil
}

// remap moves path from under root from to under root to.
func remap(path, from, to string) string {
	if from == to {
		return path
	}
	rel := ""
	switch {
	case path == from:
	case from == "/":
		rel = path
	default:
		rel = strings.TrimPrefix(path, from)
	}
	if rel == "" {
		return to
	}
	if to == "/" {
		return rel
	}
	return to + rel
}

// --- recipes: lock, elect, watch ---

// eventQueue buffers a private watcher's events without blocking the
// connection's reader.
type eventQueue struct {
	mu     sync.Mutex
	events []zkclient.Event
	ready  chan struct{}
}

func newEventQueue() *eventQueue { return &eventQueue{ready: make(chan struct{}, 1)} }

func (q *eventQueue) push(ev zkclient.Event) {
	q.mu.Lock()
	q.events = append(q.events, ev)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// next waits for the next event or the end of ctx.
func (q *eventQueue) next(ctx context.Context) (zkclient.Event, bool) {
	for {
		q.mu.Lock()
		if len(q.events) > 0 {
			ev := q.events[0]
			q.events = q.events[1:]
			q.mu.Unlock()
			return ev, true
		}
		q.mu.Unlock()
		select {
		case <-q.ready:
		case <-ctx.Done():
			return zkclient.Event{}, false
		}
	}
}

// ensurePath creates path and its missing ancestors as containers (plain
// persistent nodes where the server has no containers).
func (sh *Shell) ensurePath(ctx context.Context, path string) error {
	if path == "/" {
		return nil
	}
	st, err := sh.client.Exists(ctx, path, nil)
	if err != nil || st != nil {
		return err
	}
	if err := sh.ensurePath(ctx, parentOf(path)); err != nil {
		return err
	}
	_, err = sh.client.Create(ctx, path, nil, zkclient.OpenACL, wire.FlagContainer, 0)
	if c := zkclient.Code(err); c == wire.ErrUnimplemented || c == wire.ErrBadArguments {
		_, err = sh.client.Create(ctx, path, nil, zkclient.OpenACL, wire.FlagPersistent, 0)
	}
	if zkclient.IsCode(err, wire.ErrNodeExists) {
		return nil
	}
	return err
}

func parentOf(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// seq returns the sequence number ending a sequential node's name.
func seq(name string) int64 {
	if len(name) < 10 {
		return -1
	}
	n, err := strconv.ParseInt(name[len(name)-10:], 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// contenders returns the children of path with prefix, by sequence number.
func (sh *Shell) contenders(ctx context.Context, path, prefix string, w *zkclient.Watcher) ([]string, error) {
	children, _, err := sh.client.Children(ctx, path, w)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range children {
		if strings.HasPrefix(c, prefix) && seq(c) >= 0 {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return seq(out[i]) < seq(out[j]) })
	return out, nil
}

// releaseNode deletes a recipe's node even when the command was cancelled.
func (sh *Shell) releaseNode(node string) {
	ctx, cancel := context.WithTimeout(context.Background(), sh.cfg.Timeout)
	defer cancel()
	_ = sh.client.Delete(ctx, node, -1)
}

func (sh *Shell) cmdLock(ctx context.Context, p *parsed) error {
	// Everything after "--" is the command: parseArgs kept it in args.
	var path string
	var argv []string
	dash := -1
	for i, t := range p.tokens {
		if t == "--" {
			dash = i
			break
		}
	}
	if dash >= 0 {
		argv = p.tokens[dash+1:]
		p, _ = parseArgs(p.tokens[:dash], nil, nil)
	}
	if p == nil || len(p.args) != 2 {
		return sh.usageErr("lock")
	}
	path = p.args[1]
	if err := zkclient.ValidatePath(path, false); err != nil {
		return wrapErr(err)
	}
	if err := sh.ensurePath(ctx, path); err != nil {
		return wrapErr(err)
	}
	q := newEventQueue()
	w := zkclient.NewWatcher(q.push)
	node, err := sh.client.Create(ctx, joinPath(path, "lock-"), nil, zkclient.OpenACL, wire.FlagEphemeralSequential, 0)
	if err != nil {
		return wrapErr(err)
	}
	defer sh.releaseNode(node)
	mine := node[strings.LastIndexByte(node, '/')+1:]
	announced := false
	for {
		cs, err := sh.contenders(ctx, path, "lock-", nil)
		if err != nil {
			return wrapErr(err)
		}
		i := indexOf(cs, mine)
		if i < 0 {
			return malformed("lock node " + node + " disappeared (session expired?)")
		}
		if i == 0 {
			break
		}
		if !announced {
			fmt.Fprintf(sh.errw, "waiting for lock %s (%d ahead)\n", path, i)
			announced = true
		}
		st, err := sh.client.Exists(ctx, joinPath(path, cs[i-1]), w)
		if err != nil {
			return wrapErr(err)
		}
		if st == nil {
			continue
		}
		if _, ok := q.next(ctx); !ok {
			return wrapErr(ctx.Err())
		}
	}
	fmt.Fprintf(sh.errw, "acquired lock %s (%s)\n", path, node)
	// Watch our own node: its deletion or the session's expiry loses the lock.
	lost := newEventQueue()
	if _, err := sh.client.Exists(ctx, node, zkclient.NewWatcher(func(ev zkclient.Event) {
		if ev.Type == wire.EventNodeDeleted || (ev.Type == wire.EventNone && ev.State == zkclient.StateExpired) {
			lost.push(ev)
		}
	})); err != nil {
		return wrapErr(err)
	}
	if len(argv) == 0 {
		fmt.Fprintln(sh.errw, "holding the lock until Ctrl-C")
		select {
		case <-ctx.Done():
		case <-lost.ready:
			return malformed("lock " + path + " lost")
		}
		fmt.Fprintf(sh.errw, "released lock %s\n", path)
		return nil
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, sh.stdoutFile(), os.Stderr
	if err := cmd.Start(); err != nil {
		return malformed(err.Error())
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var waitErr error
	select {
	case waitErr = <-done:
	case <-lost.ready:
		fmt.Fprintf(sh.errw, "lock %s lost: stopping %s\n", path, argv[0])
		_ = cmd.Process.Signal(syscall.SIGTERM)
		<-done
		return malformed("lock " + path + " lost")
	case <-ctx.Done():
		_ = cmd.Process.Signal(syscall.SIGTERM)
		waitErr = <-done
	}
	fmt.Fprintf(sh.errw, "released lock %s\n", path)
	var ee *exec.ExitError
	if errors.As(waitErr, &ee) {
		code := ee.ExitCode()
		if code < 0 {
			code = 128 + int(syscall.SIGTERM)
		}
		return &cliError{code: code}
	}
	if waitErr != nil {
		return malformed(waitErr.Error())
	}
	return nil
}

// stdoutFile is where a child process writes: the file the command's
// output is redirected to, else the shell's standard output (the terminal
// itself, not readline's wrapper, so that the child sees a terminal).
func (sh *Shell) stdoutFile() io.Writer {
	if sh.redirect != nil {
		return sh.redirect
	}
	if f, ok := sh.cfg.Stdout.(*os.File); ok {
		return f
	}
	return sh.out
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func (sh *Shell) cmdElect(ctx context.Context, p *parsed) error {
	if len(p.args) != 3 {
		return sh.usageErr("elect")
	}
	path, id := p.args[1], p.args[2]
	if err := zkclient.ValidatePath(path, false); err != nil {
		return wrapErr(err)
	}
	if err := sh.ensurePath(ctx, path); err != nil {
		return wrapErr(err)
	}
	q := newEventQueue()
	w := zkclient.NewWatcher(q.push)
	join := func() (string, error) {
		node, err := sh.client.Create(ctx, joinPath(path, "n_"), []byte(id), zkclient.OpenACL, wire.FlagEphemeralSequential, 0)
		if err != nil {
			return "", err
		}
		name := node[strings.LastIndexByte(node, '/')+1:]
		sh.emit(map[string]any{"event": "joined", "path": path, "node": name, "id": id}, func(w io.Writer) {
			fmt.Fprintf(w, "joined election %s as %s (id %s)\n", path, name, id)
		})
		return name, nil
	}
	mine, err := join()
	if err != nil {
		return wrapErr(err)
	}
	defer func() { sh.releaseNode(joinPath(path, mine)) }()
	leader := ""
	for {
		cs, err := sh.contenders(ctx, path, "n_", w)
		if err != nil {
			return wrapErr(err)
		}
		if indexOf(cs, mine) < 0 {
			// Our node is gone (the session expired): join again.
			if mine, err = join(); err != nil {
				return wrapErr(err)
			}
			continue
		}
		if cs[0] != leader {
			data, _, err := sh.client.Get(ctx, joinPath(path, cs[0]), nil)
			if zkclient.IsCode(err, wire.ErrNoNode) {
				continue
			}
			if err != nil {
				return wrapErr(err)
			}
			leader = cs[0]
			me := leader == mine
			sh.emit(map[string]any{"event": "leader", "id": string(data), "node": leader, "me": me}, func(w io.Writer) {
				suffix := ""
				if me {
					suffix = " <- me"
				}
				fmt.Fprintf(w, "leader: %s (%s)%s\n", javaString(data), leader, suffix)
			})
		}
		if _, ok := q.next(ctx); !ok {
			return nil
		}
	}
}

func (sh *Shell) cmdWatch(ctx context.Context, p *parsed) error {
	if len(p.args) != 2 {
		return sh.usageErr("watch")
	}
	path := p.args[1]
	q := newEventQueue()
	w := zkclient.NewWatcher(q.push)
	if err := sh.client.AddWatch(ctx, path, zkclient.PersistentRecursive, w); err != nil {
		return wrapErr(err)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.Background(), sh.cfg.Timeout)
		defer cancel()
		_ = sh.client.RemoveWatches(rctx, path, zkclient.WatchAny, w, true)
	}()
	fmt.Fprintf(sh.errw, "watching %s (Ctrl-C to stop)\n", path)
	for {
		ev, ok := q.next(ctx)
		if !ok {
			return nil
		}
		if ev.Type == wire.EventPersistentWatchRemoved {
			return nil
		}
		out := map[string]any{"event": ev.Type.String(), "path": ev.Path}
		text := ev.Type.String() + " " + ev.Path
		if ev.Type == wire.EventNone {
			out = map[string]any{"event": "session", "state": zkclient.KeeperStateName(ev.State)}
			text = "session " + zkclient.KeeperStateName(ev.State)
		} else if p.has("d") && (ev.Type == wire.EventNodeCreated || ev.Type == wire.EventNodeDataChanged) {
			data, _, err := sh.client.Get(ctx, ev.Path, nil)
			if err == nil {
				jd := toJSONData(data)
				out["data"] = jd.Data
				if jd.Encoding != "" {
					out["encoding"] = jd.Encoding
				}
				if data == nil {
					text += " = null"
				} else {
					text += " = " + javaString(data)
				}
			}
		}
		sh.emit(out, func(w io.Writer) { fmt.Fprintln(w, text) })
	}
}
