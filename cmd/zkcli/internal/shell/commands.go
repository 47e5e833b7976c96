package shell

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/zkgo/zkgo/cmd/zkcli/internal/zkclient"
	"github.com/zkgo/zkgo/wire"
)

// command is one shell command. zkCli.sh's commands run with a live
// session (run); its built-ins (history, redo, ...) and zkcli's local
// commands run without one (builtin).
type command struct {
	usage   string
	help    string
	specs   []optSpec
	groups  []optGroup
	run     func(sh *Shell, ctx context.Context, p *parsed) error
	builtin func(sh *Shell, ctx context.Context, args []string) error
	local   bool // a builtin that needs no session at all
	extra   bool // zkcli's own, not zkCli.sh's
}

var commands map[string]*command

func init() {
	commands = map[string]*command{
		"connect":      {usage: "host:port", builtin: (*Shell).cmdConnect, help: "connect to another server (or reconnect)"},
		"history":      {usage: "", builtin: (*Shell).cmdHistory, help: "list the last commands"},
		"redo":         {usage: "cmdno", builtin: (*Shell).cmdRedo, help: "run command number cmdno of history again"},
		"printwatches": {usage: "on|off", builtin: (*Shell).cmdPrintWatches, help: "show or hide watch events"},
		"quit":         {usage: "", builtin: (*Shell).cmdQuit, help: "close the session and leave"},
		"close":        {usage: "", run: (*Shell).cmdClose, help: "close the session"},
		"version":      {usage: "", run: (*Shell).cmdVersion, help: "print the client version"},
		"whoami":       {usage: "", run: (*Shell).cmdWhoAmI, help: "print the identities of the session"},
		"ls": {usage: "[-s] [-w] [-R] path", run: (*Shell).cmdLs, help: "list children",
			specs: []optSpec{{"?", false, "help"}, {"s", false, "stat"}, {"w", false, "watch"}, {"R", false, "recurse"}}},
		"create": {usage: "[-s] [-e] [-c] [-t ttl] path [data] [acl]", run: (*Shell).cmdCreate, help: "create a node",
			specs: []optSpec{{"e", false, "ephemeral"}, {"s", false, "sequential"}, {"c", false, "container"}, {"t", true, "ttl"}}},
		"get": {usage: "[-s] [-w] path", run: (*Shell).cmdGet, help: "print a node's data",
			specs: []optSpec{{"s", false, "stats"}, {"w", false, "watch"}}},
		"set": {usage: "[-s] [-v version] path data", run: (*Shell).cmdSet, help: "set a node's data",
			specs: []optSpec{{"s", false, "stats"}, {"v", true, "version"}}},
		"delete": {usage: "[-v version] path", run: (*Shell).cmdDelete, help: "delete a node",
			specs: []optSpec{{"v", true, "version"}}},
		"deleteall": {usage: "path [-b batch size]", run: (*Shell).cmdDeleteAll, help: "delete a node and its subtree",
			specs: []optSpec{{"b", true, "batch size"}}},
		"stat": {usage: "[-w] path", run: (*Shell).cmdStat, help: "print a node's stat",
			specs: []optSpec{{"w", false, "watch"}}},
		"sync": {usage: "path", run: (*Shell).cmdSync, help: "sync the server with the leader"},
		"getAcl": {usage: "[-s] path", run: (*Shell).cmdGetAcl, help: "print a node's ACL",
			specs: []optSpec{{"s", false, "stats"}}},
		"setAcl": {usage: "[-s] [-v version] [-R] path acl", run: (*Shell).cmdSetAcl, help: "set a node's ACL",
			specs: []optSpec{{"s", false, "stats"}, {"v", true, "version"}, {"R", false, "recursive"}}},
		"addauth": {usage: "scheme auth", run: (*Shell).cmdAddAuth, help: "add credentials to the session"},
		"config": {usage: "[-c] [-w] [-s]", run: (*Shell).cmdConfig, help: "print the ensemble configuration",
			specs: []optSpec{{"s", false, "stats"}, {"w", false, "watch"}, {"c", false, "client connection string"}}},
		"reconfig": {usage: "[-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | [-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]",
			run: (*Shell).cmdReconfig, help: "change the ensemble membership",
			specs: []optSpec{{"s", false, "stats"}, {"v", true, "required current config version"},
				{"file", true, "path of config file to parse for membership"},
				{"members", true, "comma-separated list of config strings for non-incremental reconfig"},
				{"add", true, "comma-separated list of config strings for new servers"},
				{"remove", true, "comma-separated list of server IDs to remove"}}},
		"addWatch": {usage: "[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE",
			run: (*Shell).cmdAddWatch, help: "set a persistent watch", specs: []optSpec{{"m", true, ""}}},
		"removewatches": {usage: "path [-c|-d|-a] [-l]", run: (*Shell).cmdRemoveWatches, help: "remove watches",
			specs: []optSpec{{"c", false, "child watcher type"}, {"d", false, "data watcher type"}, {"a", false, "any watcher type"},
				{"l", false, "remove locally when there is no server connection"}}},
		"getEphemerals":        {usage: "path", run: (*Shell).cmdGetEphemerals, help: "list the session's ephemeral nodes"},
		"getAllChildrenNumber": {usage: "path", run: (*Shell).cmdGetAllChildrenNumber, help: "count a node's descendants"},
		"listquota":            {usage: "path", run: (*Shell).cmdListQuota, help: "print a node's quota"},
		"setquota": {usage: "-n|-b|-N|-B val path", run: (*Shell).cmdSetQuota, help: "set a quota",
			specs:  []optSpec{{"n", true, "num soft quota"}, {"b", true, "bytes soft quota"}, {"N", true, "num hard quota"}, {"B", true, "bytes hard quota"}},
			groups: []optGroup{{names: []string{"n", "b", "N", "B"}, required: true}}},
		"delquota": {usage: "[-n|-b|-N|-B] path", run: (*Shell).cmdDelQuota, help: "delete a quota",
			specs:  []optSpec{{"n", false, "num soft quota"}, {"b", false, "bytes soft quota"}, {"N", false, "num hard quota"}, {"B", false, "bytes hard quota"}},
			groups: []optGroup{{names: []string{"n", "b", "N", "B"}}}},
	}
	addExtraCommands()
}

// --- zkCli.sh's built-in commands ---

func (sh *Shell) cmdConnect(_ context.Context, args []string) error {
	host := sh.host
	if len(args) >= 2 {
		host = args[1]
	}
	return sh.connect(host)
}

func (sh *Shell) cmdHistory(_ context.Context, _ []string) error {
	for i := sh.commandCount - 10; i <= sh.commandCount; i++ {
		if i < 0 {
			continue
		}
		line, ok := sh.history[i]
		if !ok {
			if i == sh.commandCount {
				continue // a one-shot command has no history
			}
			line = "null"
		}
		fmt.Fprintf(sh.out, "%d - %s\n", i, line)
	}
	return nil
}

func (sh *Shell) cmdRedo(ctx context.Context, args []string) error {
	if len(args) < 2 {
		return nil
	}
	i, err := strconv.ParseInt(args[1], 0, 32)
	if err != nil {
		return malformed("For input string: \"" + args[1] + "\"")
	}
	if int64(sh.commandCount) <= i || i < 0 {
		return malformed("Command index out of range")
	}
	line := sh.history[int(i)]
	toks := splitLine(line)
	if len(toks) > 0 && toks[0].text == "redo" {
		return malformed("No redoing redos")
	}
	sh.history[sh.commandCount] = line
	sh.runTokens(ctx, toks)
	return nil
}

func (sh *Shell) cmdPrintWatches(_ context.Context, args []string) error {
	if len(args) == 1 {
		state := "off"
		if sh.printWatches.Load() {
			state = "on"
		}
		fmt.Fprintf(sh.out, "printwatches is %s\n", state)
		return nil
	}
	sh.printWatches.Store(args[1] == "on")
	return nil
}

func (sh *Shell) cmdQuit(_ context.Context, _ []string) error {
	sh.Close()
	sh.quit = true
	return errQuit
}

// --- zkCli.sh's commands ---

func (sh *Shell) cmdClose(_ context.Context, _ *parsed) error {
	sh.client.Close()
	return nil
}

// Version is zkcli's version, reported by the version command.
func Version() string {
	v := "devel"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += "-" + s.Value[:12]
			}
		}
	}
	return "zkgo-zkcli " + v
}

func (sh *Shell) cmdVersion(_ context.Context, p *parsed) error {
	if len(p.args) > 1 {
		return malformed(commands["version"].usageLine("version"))
	}
	sh.emit(map[string]string{"version": Version()}, func(w io.Writer) {
		fmt.Fprintf(w, "ZooKeeper CLI version: %s\n", Version())
	})
	return nil
}

func (c *command) usageLine(name string) string { return name + " " + c.usage }

func (sh *Shell) usageErr(name string) error { return malformed(commands[name].usageLine(name)) }

func (sh *Shell) cmdWhoAmI(ctx context.Context, _ *parsed) error {
	infos, err := sh.client.WhoAmI(ctx)
	if err != nil {
		return wrapErr(err)
	}
	type entry struct {
		Scheme string `json:"scheme"`
		User   string `json:"user"`
	}
	js := []entry{}
	for _, ci := range infos {
		js = append(js, entry{ci.AuthScheme, ci.User})
	}
	sh.emit(js, func(w io.Writer) {
		fmt.Fprintln(w, "Auth scheme: User")
		for _, ci := range infos {
			fmt.Fprintf(w, "%s: %s\n", ci.AuthScheme, ci.User)
		}
	})
	return nil
}

// compat reparses a command given as "cmd path watch" the way zkCli.sh's
// retainCompatibility does: the third word becomes -w.
func (sh *Shell) compat(name, old, replacement string, p *parsed, rewrite bool) (*parsed, error) {
	if len(p.args) <= 2 {
		return p, nil
	}
	toks := append([]string(nil), p.tokens...)
	if rewrite {
		toks[2] = "-w"
	}
	fmt.Fprintf(sh.errw, "'%s' has been deprecated. Please use '%s' instead.\n", old, replacement)
	c := commands[name]
	return parseArgs(toks, c.specs, c.groups)
}

func (sh *Shell) cmdLs(ctx context.Context, p *parsed) error {
	if p.has("?") {
		fmt.Fprintln(sh.out, "usage: ls [options] path")
		fmt.Fprintln(sh.out, " -?   help")
		fmt.Fprintln(sh.out, " -R   recurse")
		fmt.Fprintln(sh.out, " -s   stat")
		fmt.Fprintln(sh.out, " -w   watch")
	}
	p, err := sh.compat("ls", "ls path [watch]", "ls [-w] path", p, true)
	if err != nil {
		return &cliError{msg: err.Error()}
	}
	if len(p.args) < 2 {
		return sh.usageErr("ls")
	}
	path := p.args[1]
	w := watcherFor(p)
	if p.has("R") {
		var all []string
		err := sh.visitDFS(ctx, path, w, func(node string) {
			if sh.json {
				all = append(all, node)
			} else {
				fmt.Fprintln(sh.out, node)
			}
		})
		if err != nil {
			return wrapErr(err)
		}
		if sh.json {
			sh.emit(map[string]any{"path": path, "paths": nonNil(all)}, nil)
		}
		return nil
	}
	children, stat, err := sh.client.Children(ctx, path, w)
	if err != nil {
		return wrapErr(err)
	}
	sort.Strings(children)
	out := map[string]any{"path": path, "children": nonNil(children)}
	if p.has("s") {
		out["stat"] = toJSONStat(stat)
	}
	sh.emit(out, func(w io.Writer) {
		fmt.Fprintln(w, javaList(children))
		if p.has("s") {
			printStat(w, stat)
		}
	})
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// visitDFS is ZKUtil.visitSubTreeDFS: the root, then each node's children
// (sorted) before their subtrees; nodes deleted meanwhile are skipped.
func (sh *Shell) visitDFS(ctx context.Context, path string, w *zkclient.Watcher, visit func(string)) error {
	if err := zkclient.ValidatePath(path, false); err != nil {
		return err
	}
	if _, _, err := sh.client.Get(ctx, path, w); err != nil {
		return err
	}
	visit(path)
	return sh.visitChildren(ctx, path, w, visit)
}

func (sh *Shell) visitChildren(ctx context.Context, path string, w *zkclient.Watcher, visit func(string)) error {
	children, _, err := sh.client.Children(ctx, path, w)
	if zkclient.IsCode(err, wire.ErrNoNode) {
		return nil
	}
	if err != nil {
		return err
	}
	sort.Strings(children)
	for _, c := range children {
		visit(joinPath(path, c))
	}
	for _, c := range children {
		if err := sh.visitChildren(ctx, joinPath(path, c), w, visit); err != nil {
			return err
		}
	}
	return nil
}

// maxTTL is the largest TTL ZooKeeper accepts (EphemeralType.TTL.maxValue).
const maxTTL = 0xFFFFFFFFFF

func (sh *Shell) cmdCreate(ctx context.Context, p *parsed) error {
	if len(p.args) < 2 {
		return sh.usageErr("create")
	}
	hasE, hasS, hasC, hasT := p.has("e"), p.has("s"), p.has("c"), p.has("t")
	if hasC && (hasE || hasS) {
		return malformed("-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.")
	}
	var ttl int64
	if hasT {
		v, err := strconv.ParseInt(p.value("t"), 10, 64)
		if err != nil {
			return malformed("-t argument must be a long value")
		}
		ttl = v
	}
	if hasT && hasE {
		return malformed("TTLs cannot be used with Ephemeral znodes")
	}
	if hasT && hasC {
		return malformed("TTLs cannot be used with Container znodes")
	}
	var flags int32
	switch {
	case hasE && hasS:
		flags = wire.FlagEphemeralSequential
	case hasE:
		flags = wire.FlagEphemeral
	case hasS && hasT:
		flags = wire.FlagPersistentSequentialWithTTL
	case hasS:
		flags = wire.FlagPersistentSequential
	case hasC:
		flags = wire.FlagContainer
	case hasT:
		flags = wire.FlagPersistentWithTTL
	}
	if hasT && (ttl > maxTTL || ttl <= 0) {
		return malformed(fmt.Sprintf("ttl must be positive and cannot be larger than: %d", maxTTL))
	}
	path := p.args[1]
	var data []byte
	if len(p.args) > 2 {
		data = []byte(p.args[2])
	}
	acl := zkclient.OpenACL
	if len(p.args) > 3 {
		acl = parseACL(sh.errw, p.args[3])
	}
	created, err := sh.client.Create(ctx, path, data, acl, flags, ttl)
	if err != nil {
		switch zkclient.Code(err) {
		case wire.ErrEphemeralOnLocalSession:
			fmt.Fprintln(sh.errw, "Unable to create ephemeral node on a local session")
		case wire.ErrInvalidACL:
			fmt.Fprintln(sh.errw, err.Error())
		}
		return wrapErr(err)
	}
	if sh.json {
		sh.emit(map[string]string{"created": created}, nil)
	} else {
		fmt.Fprintf(sh.errw, "Created %s\n", created)
	}
	return nil
}

func (sh *Shell) cmdGet(ctx context.Context, p *parsed) error {
	if len(p.args) < 2 {
		return sh.usageErr("get")
	}
	p, err := sh.compat("get", "get path [watch]", "get [-s] [-w] path", p, true)
	if err != nil {
		return &cliError{msg: err.Error()}
	}
	w := watcherFor(p)
	path := p.args[1]
	data, stat, err := sh.client.Get(ctx, path, w)
	if err != nil {
		return wrapErr(err)
	}
	out := map[string]any{"path": path}
	jd := toJSONData(data)
	out["data"] = jd.Data
	if jd.Encoding != "" {
		out["encoding"] = jd.Encoding
	}
	if p.has("s") {
		out["stat"] = toJSONStat(stat)
	}
	sh.emit(out, func(w io.Writer) {
		if data == nil {
			fmt.Fprintln(w, "null")
		} else {
			fmt.Fprintln(w, javaString(data))
		}
		if p.has("s") {
			printStat(w, stat)
		}
	})
	return nil
}

// intOption parses an int option value; zkCli.sh dies on a bad one, zkcli
// says what is wrong.
func intOption(p *parsed, name string) (int32, error) {
	if !p.has(name) {
		return -1, nil
	}
	v, err := strconv.ParseInt(p.value(name), 10, 32)
	if err != nil {
		return 0, malformed("-" + name + " argument must be an int value")
	}
	return int32(v), nil
}

func (sh *Shell) cmdSet(ctx context.Context, p *parsed) error {
	if len(p.args) < 3 {
		return sh.usageErr("set")
	}
	version, err := intOption(p, "v")
	if err != nil {
		return err
	}
	stat, err := sh.client.Set(ctx, p.args[1], []byte(p.args[2]), version)
	if err != nil {
		return wrapErr(err)
	}
	if p.has("s") || sh.json {
		sh.emit(map[string]any{"path": p.args[1], "stat": toJSONStat(stat)}, func(w io.Writer) { printStat(w, stat) })
	}
	return nil
}

func (sh *Shell) cmdDelete(ctx context.Context, p *parsed) error {
	if len(p.args) < 2 {
		return sh.usageErr("delete")
	}
	p, err := sh.compat("delete", "delete path [version]", "delete [-v version] path", p, false)
	if err != nil {
		return &cliError{msg: err.Error()}
	}
	version, err := intOption(p, "v")
	if err != nil {
		return err
	}
	if err := sh.client.Delete(ctx, p.args[1], version); err != nil {
		return wrapErr(err)
	}
	if sh.json {
		sh.emit(map[string]string{"deleted": p.args[1]}, nil)
	}
	return nil
}

func (sh *Shell) cmdDeleteAll(ctx context.Context, p *parsed) error {
	if len(p.args) < 2 {
		return sh.usageErr("deleteall")
	}
	batch := 1000
	if p.has("b") {
		v, err := strconv.ParseInt(p.value("b"), 10, 32)
		if err != nil {
			return malformed("-b argument must be an int value")
		}
		batch = int(v)
	}
	path := p.args[1]
	if err := zkclient.ValidatePath(path, false); err != nil {
		return wrapErr(err)
	}
	tree, err := sh.listBFS(ctx, path)
	if err != nil {
		return wrapErr(err)
	}
	ok := true
	var ops []string
	for i := len(tree) - 1; i >= 0; i-- {
		ops = append(ops, tree[i])
		if len(ops) == batch || i == 0 {
			if err := sh.client.DeleteMulti(ctx, ops); err != nil {
				if ctx.Err() != nil {
					return wrapErr(ctx.Err())
				}
				ok = false
				break
			}
			ops = nil
		}
	}
	if !ok {
		fmt.Fprintln(sh.errw, "Failed to delete some node(s) in the subtree!")
	}
	if sh.json {
		sh.emit(map[string]any{"path": path, "ok": ok, "nodes": len(tree)}, nil)
	}
	return nil
}

// listBFS is ZKUtil.listSubTreeBFS: the subtree of root, breadth first.
func (sh *Shell) listBFS(ctx context.Context, root string) ([]string, error) {
	tree := []string{root}
	for i := 0; i < len(tree); i++ {
		children, _, err := sh.client.Children(ctx, tree[i], nil)
		if err != nil {
			return nil, err
		}
		for _, c := range children {
			tree = append(tree, joinPath(tree[i], c))
		}
	}
	return tree, nil
}

func (sh *Shell) cmdStat(ctx context.Context, p *parsed) error {
	if len(p.args) < 2 {
		return sh.usageErr("stat")
	}
	p, err := sh.compat("stat", "stat path [watch]", "stat [-w] path", p, true)
	if err != nil {
		return &cliError{msg: err.Error()}
	}
	w := watcherFor(p)
	path := p.args[1]
	stat, err := sh.client.Exists(ctx, path, w)
	if err != nil {
		return wrapErr(err)
	}
	if stat == nil {
		return wrapErr(&zkclient.Error{Code: wire.ErrNoNode, Path: path})
	}
	sh.emit(map[string]any{"path": path, "stat": toJSONStat(stat)}, func(w io.Writer) { printStat(w, stat) })
	return nil
}

func (sh *Shell) cmdSync(ctx context.Context, p *parsed) error {
	if len(p.args) < 2 {
		return sh.usageErr("sync")
	}
	err := sh.client.Sync(ctx, p.args[1])
	var pe *zkclient.PathError
	if asPathErr(err, &pe) || ctx.Err() != nil {
		return wrapErr(err)
	}
	rc := zkclient.Code(err)
	sh.emit(map[string]any{"path": p.args[1], "ok": rc == wire.ErrOK, "rc": int32(rc)}, func(w io.Writer) {
		if rc == wire.ErrOK {
			fmt.Fprintln(w, "Sync is OK")
		} else {
			fmt.Fprintf(w, "Sync has failed. rc=%d\n", int32(rc))
		}
	})
	return nil
}

func (sh *Shell) cmdGetAcl(ctx context.Context, p *parsed) error {
	if len(p.args) < 2 {
		return sh.usageErr("getAcl")
	}
	acl, stat, err := sh.client.GetACL(ctx, p.args[1])
	if err != nil {
		return wrapErr(err)
	}
	out := map[string]any{"path": p.args[1], "acl": toJSONACL(acl)}
	if p.has("s") {
		out["stat"] = toJSONStat(stat)
	}
	sh.emit(out, func(w io.Writer) {
		for _, a := range acl {
			fmt.Fprintf(w, "%s: %s\n", idString(a.ID), permString(a.Perms))
		}
		if p.has("s") {
			printStat(w, stat)
		}
	})
	return nil
}

func (sh *Shell) cmdSetAcl(ctx context.Context, p *parsed) error {
	if len(p.args) < 3 {
		return sh.usageErr("setAcl")
	}
	path := p.args[1]
	acl := parseACL(sh.errw, p.args[2])
	version, err := intOption(p, "v")
	if err != nil {
		return err
	}
	if p.has("R") {
		err := sh.visitDFS(ctx, path, nil, func(node string) {
			if _, err := sh.client.SetACL(ctx, node, acl, version); err != nil {
				// zkCli.sh prints these without a newline.
				fmt.Fprint(sh.out, err.Error())
			}
		})
		return wrapErr(err)
	}
	stat, err := sh.client.SetACL(ctx, path, acl, version)
	if err != nil {
		return wrapErr(err)
	}
	if p.has("s") || sh.json {
		sh.emit(map[string]any{"path": path, "stat": toJSONStat(stat)}, func(w io.Writer) { printStat(w, stat) })
	}
	return nil
}

func (sh *Shell) cmdAddAuth(ctx context.Context, p *parsed) error {
	if len(p.args) < 2 {
		return sh.usageErr("addauth")
	}
	var auth []byte
	if len(p.args) >= 3 {
		auth = []byte(p.args[2])
	}
	// zkCli.sh does not wait for the answer: a refused credential shows as
	// an AuthFailed event, which the client reports to the default watcher.
	if err := sh.client.AddAuth(ctx, p.args[1], auth); err != nil && ctx.Err() != nil {
		return wrapErr(err)
	}
	return nil
}

func (sh *Shell) cmdConfig(ctx context.Context, p *parsed) error {
	w := watcherFor(p)
	data, stat, err := sh.client.GetConfig(ctx, w)
	if err != nil {
		return wrapErr(err)
	}
	text := "null"
	if data != nil {
		text = javaString(data)
	}
	if p.has("c") {
		text = clientConfigString(text)
	}
	out := map[string]any{"config": text}
	if p.has("s") {
		out["stat"] = toJSONStat(stat)
	}
	sh.emit(out, func(w io.Writer) {
		fmt.Fprintln(w, text)
		if p.has("s") {
			printStat(w, stat)
		}
	})
	return nil
}

// clientConfigString is ConfigUtils.getClientConfigStr: the config version
// and the client addresses of the servers.
func clientConfigString(cfg string) string {
	version := ""
	type srv struct {
		id   int
		addr string
	}
	var servers []srv
	for _, line := range strings.Split(cfg, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k == "version" {
			version = v
		}
		id, isServer := strings.CutPrefix(k, "server.")
		if !isServer {
			continue
		}
		n, _ := strconv.Atoi(id)
		addr := ""
		if _, client, ok := strings.Cut(v, ";"); ok {
			if strings.Contains(client, ":") {
				addr = client
			} else {
				addr = "0.0.0.0:" + client
			}
		}
		servers = append(servers, srv{n, addr})
	}
	sort.SliceStable(servers, func(i, j int) bool { return servers[i].id < servers[j].id })
	addrs := make([]string, len(servers))
	for i, s := range servers {
		addrs[i] = s.addr
	}
	return version + " " + strings.Join(addrs, ",")
}

func (sh *Shell) cmdReconfig(ctx context.Context, p *parsed) error {
	hasFile, hasMembers, hasAdd, hasRemove := p.has("file"), p.has("members"), p.has("add"), p.has("remove")
	if !(hasFile || hasMembers) && !hasAdd && !hasRemove {
		return sh.usageErr("reconfig")
	}
	version := int64(-1)
	if p.has("v") {
		v, err := strconv.ParseUint(p.value("v"), 16, 64)
		if err != nil {
			return malformed("-v must be followed by a long (configuration version)")
		}
		version = int64(v)
	}
	if (hasFile || hasMembers) && (hasAdd || hasRemove) {
		return malformed("Can't use -file or -members together with -add or -remove (mixing incremental and non-incremental modes is not allowed)")
	}
	if hasFile && hasMembers {
		return malformed("Can't use -file and -members together (conflicting non-incremental modes)")
	}
	var joining, leaving, members *string
	lower := func(s string) *string { s = strings.ToLower(s); return &s }
	if hasAdd {
		joining = lower(p.value("add"))
	}
	if hasRemove {
		leaving = lower(p.value("remove"))
	}
	if hasMembers {
		members = lower(p.value("members"))
	}
	if hasFile {
		b, err := os.ReadFile(p.value("file"))
		if err != nil {
			return malformed("Error processing " + p.value("file") + err.Error())
		}
		var lines []string
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if strings.HasPrefix(line, "server.") || strings.HasPrefix(line, "group.") || strings.HasPrefix(line, "weight.") {
				lines = append(lines, line)
			}
		}
		m := strings.Join(lines, "\n")
		members = &m
	}
	data, stat, err := sh.client.Reconfig(ctx, joining, leaving, members, version)
	if err != nil {
		return wrapErr(err)
	}
	out := map[string]any{"config": javaString(data)}
	if p.has("s") {
		out["stat"] = toJSONStat(stat)
	}
	sh.emit(out, func(w io.Writer) {
		fmt.Fprintf(w, "Committed new configuration:\n%s\n", javaString(data))
		if p.has("s") {
			printStat(w, stat)
		}
	})
	return nil
}

func (sh *Shell) cmdAddWatch(ctx context.Context, p *parsed) error {
	if len(p.args) != 2 {
		return sh.usageErr("addWatch")
	}
	mode := zkclient.PersistentRecursive
	if p.has("m") {
		switch strings.ToUpper(p.value("m")) {
		case "PERSISTENT":
			mode = zkclient.Persistent
		case "PERSISTENT_RECURSIVE":
		default:
			return sh.usageErr("addWatch")
		}
	}
	return wrapErr(sh.client.AddWatch(ctx, p.args[1], mode, zkclient.Default))
}

func (sh *Shell) cmdRemoveWatches(ctx context.Context, p *parsed) error {
	if len(p.args) < 2 {
		return sh.usageErr("removewatches")
	}
	t := zkclient.WatchAny
	switch {
	case p.has("c"):
		t = zkclient.WatchChildren
	case p.has("d"):
		t = zkclient.WatchData
	}
	return wrapErr(sh.client.RemoveWatches(ctx, p.args[1], t, nil, p.has("l")))
}

func (sh *Shell) cmdGetEphemerals(ctx context.Context, p *parsed) error {
	prefix := "/"
	if len(p.args) >= 2 {
		prefix = p.args[1]
	}
	eph, err := sh.client.GetEphemerals(ctx, prefix)
	if err != nil {
		return wrapErr(err)
	}
	sh.emit(nonNil(eph), func(w io.Writer) { fmt.Fprintln(w, javaList(eph)) })
	return nil
}

func (sh *Shell) cmdGetAllChildrenNumber(ctx context.Context, p *parsed) error {
	if len(p.args) < 2 {
		return sh.usageErr("getAllChildrenNumber")
	}
	n, err := sh.client.GetAllChildrenNumber(ctx, p.args[1])
	if err != nil {
		return wrapErr(err)
	}
	sh.emit(map[string]any{"path": p.args[1], "count": n}, func(w io.Writer) { fmt.Fprintln(w, n) })
	return nil
}

func asPathErr(err error, pe **zkclient.PathError) bool {
	if err == nil {
		return false
	}
	e, ok := err.(*zkclient.PathError)
	if ok {
		*pe = e
	}
	return ok
}

// commandNames returns the names of every command, sorted.
func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// watcherFor is the default watcher when the command has -w, else nil.
func watcherFor(p *parsed) *zkclient.Watcher {
	if p.has("w") {
		return zkclient.Default
	}
	return nil
}
