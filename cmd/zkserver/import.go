package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/zkgo/zkgo/conf"
	"github.com/zkgo/zkgo/wire"
	"github.com/zkgo/zkgo/zab/storage"
	"github.com/zkgo/zkgo/znode"
)

const importUsage = `usage: zkserver import --from <Apache dataDir> [--from-log <Apache dataLogDir>] [--to <dataDir> | zoo.cfg]

Creates our data directory from the data directory of a stopped Apache
ZooKeeper server: the newest complete snapshot (version-2/snapshot.*) plus
the txns logged after it (version-2/log.*), replayed as Apache ZooKeeper
replays them, written as our snapshot at the last zxid. The target is --to,
else the dataDir of zoo.cfg, else ./data; it must hold no data yet.
`

// runImport is the import verb.
func runImport(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, importUsage) }
	from := fs.String("from", "", "Apache ZooKeeper dataDir")
	fromLog := fs.String("from-log", "", "Apache ZooKeeper dataLogDir, if not the dataDir")
	to := fs.String("to", "", "our dataDir to create")
	rest, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	if *from == "" || len(rest) > 1 || (*to != "" && len(rest) == 1) {
		fs.Usage()
		return errors.New("import: bad arguments")
	}
	dataDir, dataLogDir, cfgOpts, err := targetDirs(*to, rest)
	if err != nil {
		return err
	}
	// An ephemeralOwner whose top byte is 0xff marks a TTL node when
	// extended types are on, else an ephemeral node of a session of server
	// 255. Apache's zoo.cfg is not at hand: assume TTL nodes, which are far
	// likelier (closeSession and the orphan cleanup depend on it).
	opts := cfgOpts
	opts.ExtendedTypes = true
	snapDir := apacheVersionDir(*from)
	logDir := snapDir
	if *fromLog != "" {
		logDir = apacheVersionDir(*fromLog)
	}
	ourSnapDir := filepath.Join(dataDir, "version-2")
	if err := checkEmptyTarget(ourSnapDir, filepath.Join(dataLogDir, "version-2", "txnlog")); err != nil {
		return err
	}

	warn := func(format string, args ...any) {
		fmt.Fprintf(stderr, "zkserver import: warning: "+format+"\n", args...)
	}
	opts.Warn = func(msg string, kv ...any) { warn("%s %v", msg, kv) }
	res, err := importApache(snapDir, logDir, opts, warn)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(ourSnapDir, 0o755); err != nil {
		return err
	}
	path, err := storage.WriteSnapshot(ourSnapDir, res.tree.LastZxid(), res.tree.WriteSnapshot)
	if err != nil {
		return err
	}
	if ttls := res.tree.TTLNodes(); len(ttls) > 0 && !cfgOpts.ExtendedTypes {
		warn("%d TTL nodes imported (%s ...): run the server with extendedTypesEnabled=true, as Apache ZooKeeper had",
			len(ttls), ttls[0])
	}
	st := res.tree.Stats()
	fmt.Fprintf(stdout, "imported %s (zxid 0x%x) and %d txns from %d log files (%d of them error txns or failing on replay, as in Apache ZooKeeper)\n",
		res.snapshot.path, res.snapshot.zxid, res.applied, len(res.logs), res.ignored)
	fmt.Fprintf(stdout, "%d nodes, %d sessions, last zxid 0x%x\nwrote %s\n",
		st.NodeCount-1, len(res.tree.Sessions()), res.tree.LastZxid(), path)
	return nil
}

// parseInterspersed parses flags that may come before or after the
// positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// targetDirs resolves our dataDir and dataLogDir from --data/--to or a
// zoo.cfg (or the embedded default), with the tree options of that config.
func targetDirs(dir string, cfgArgs []string) (dataDir, dataLogDir string, opts znode.Options, err error) {
	if dir != "" {
		return dir, dir, opts, nil
	}
	cfg := conf.Default()
	if len(cfgArgs) == 1 {
		if cfg, err = conf.Load(cfgArgs[0]); err != nil {
			return "", "", opts, err
		}
	}
	dataLogDir = cfg.DataLogDir
	if dataLogDir == "" {
		dataLogDir = cfg.DataDir
	}
	return cfg.DataDir, dataLogDir, znode.Options{ExtendedTypes: cfg.ExtendedTypesEnabled}, nil
}

// apacheVersionDir is dir/version-2, or dir itself if it is a version-2
// directory already.
func apacheVersionDir(dir string) string {
	if st, err := os.Stat(filepath.Join(dir, "version-2")); err == nil && st.IsDir() {
		return filepath.Join(dir, "version-2")
	}
	if filepath.Base(filepath.Clean(dir)) == "version-2" {
		return dir
	}
	return filepath.Join(dir, "version-2")
}

// checkEmptyTarget refuses a data directory that already holds snapshots
// or a transaction log: import creates a data directory, it does not merge.
func checkEmptyTarget(snapDir, txnLogDir string) error {
	snaps, err := apacheFiles(snapDir, "snapshot", true)
	if err != nil {
		return err
	}
	if len(snaps) > 0 {
		return fmt.Errorf("import: %s already holds snapshots (%s); import only into a new data directory",
			snapDir, filepath.Base(snaps[0].path))
	}
	if ents, err := os.ReadDir(txnLogDir); err == nil && len(ents) > 0 {
		return fmt.Errorf("import: %s already holds a transaction log; import only into a new data directory", txnLogDir)
	}
	return nil
}

// importResult is what importApache rebuilt and from what.
type importResult struct {
	tree       *znode.Tree
	snapshot   apacheFile
	logs       []string
	applied    int     // txns replayed after the snapshot
	ignored    int     // of which failed (NoNode, NodeExists, ErrorTxns)
	torn       []error // incomplete last records dropped
	incomplete []string
	orphans    []int64 // sessions whose ephemerals were dropped at the end
}

// importApache rebuilds the tree an Apache ZooKeeper server loads from
// snapDir (its dataDir/version-2) and logDir (its dataLogDir/version-2),
// as FileTxnSnapLog.restore and ZooKeeperServer.loadData do: the newest
// snapshot that is complete, the log files from the one holding the
// snapshot's zxid on, the txns after the snapshot replayed with
// Tree.ApplyApache, then the ephemerals of sessions that are gone dropped.
//
// Unlike Apache ZooKeeper, which falls back to an older snapshot when the
// newest fails its checksum and ignores gaps in the log, any corruption
// stops the import with a *storage.CorruptionError naming the file and
// the zxid. Only what a crash leaves is tolerated, with a warning: a
// snapshot cut short (no seal at its end) is skipped for an older one, an
// incomplete last record of a log file is dropped (the txns must then go
// on without a gap in the next file).
func importApache(snapDir, logDir string, opts znode.Options, warn func(string, ...any)) (*importResult, error) {
	res := &importResult{}
	snaps, err := apacheFiles(snapDir, "snapshot", true)
	if err != nil {
		return nil, err
	}
	logs, err := apacheFiles(logDir, "log", false)
	if err != nil {
		return nil, err
	}
	found := false
	for _, s := range snaps {
		ok, err := snapshotComplete(s.path)
		if err != nil {
			return nil, err
		}
		if ok {
			res.snapshot, found = s, true
			break
		}
		warn("skipping snapshot %s (zxid 0x%x): it is incomplete (no seal at its end), as when a crash cuts it short", s.path, s.zxid)
		res.incomplete = append(res.incomplete, s.path)
	}
	switch {
	case !found && len(snaps) > 0:
		return nil, &storage.CorruptionError{Path: snaps[0].path, Zxid: snaps[0].zxid,
			Reason: "incomplete (no seal at its end), and there is no older complete snapshot"}
	case !found && len(logs) > 0:
		return nil, fmt.Errorf("import: %s holds transaction logs but no snapshot; Apache ZooKeeper does not start from that either", snapDir)
	case !found:
		return nil, fmt.Errorf("import: no Apache ZooKeeper snapshot (version-2/snapshot.*) in %s", snapDir)
	}

	snap := res.snapshot
	corrupt := func(f apacheFile, zxid int64, err error) error {
		return &storage.CorruptionError{Path: f.path, Zxid: zxid,
			Reason: strings.TrimPrefix(err.Error(), znode.ErrCorruptApache.Error()+": ")}
	}
	b, err := readSnapshotStream(snap.path)
	if err != nil {
		return nil, corrupt(snap, snap.zxid, err)
	}
	tree, _, err := znode.ReadApacheSnapshot(b, snap.zxid, opts)
	if err != nil {
		return nil, corrupt(snap, snap.zxid, err)
	}
	res.tree = tree

	// FileTxnLog.getLogFiles: the newest file starting at or before the
	// snapshot, and every later one.
	var base int64
	for _, f := range logs {
		if f.zxid <= snap.zxid && f.zxid > base {
			base = f.zxid
		}
	}
	// last is the zxid of the last txn, from lastFile; lastTorn is the
	// file before f if it ended with an incomplete record.
	last, lastFile, lastTorn := snap.zxid, snap.path, ""
	for _, f := range logs {
		if f.zxid < base {
			continue
		}
		res.logs = append(res.logs, f.path)
		r, err := openApacheLog(f)
		if err != nil {
			return nil, err
		}
		for first := true; ; first = false {
			txn, err := r.next()
			if err == io.EOF {
				lastTorn = ""
				break
			}
			var torn *tornTailError
			if errors.As(err, &torn) {
				warn("%v: dropping it, as Apache ZooKeeper does", torn)
				res.torn = append(res.torn, torn)
				lastTorn = f.path
				break
			}
			if err != nil {
				return nil, err
			}
			if first && txn.Zxid != f.zxid {
				return nil, r.corrupt(f.zxid, "its first txn has zxid 0x%x", txn.Zxid)
			}
			if txn.Zxid <= snap.zxid {
				continue // in the snapshot already
			}
			switch {
			case txn.Zxid <= last:
				return nil, r.corrupt(txn.Zxid, "txn out of order after zxid 0x%x", last)
			case txn.Zxid>>32 == last>>32 && txn.Zxid != last+1:
				// Name the file cut short, if any, else the one that
				// goes on after the gap.
				path, where := f.path, fmt.Sprintf("the txn after 0x%x (in %s) is 0x%x", last, lastFile, txn.Zxid)
				if lastTorn != "" {
					path, where = lastTorn, fmt.Sprintf("the file ends with an incomplete record after 0x%x and %s goes on at 0x%x", last, f.path, txn.Zxid)
				}
				return nil, &storage.CorruptionError{Path: path, Zxid: last + 1,
					Reason: fmt.Sprintf("txns 0x%x to 0x%x are missing: %s", last+1, txn.Zxid-1, where)}
			}
			code, err := tree.ApplyApache(txn)
			if err != nil {
				return nil, corrupt(f, txn.Zxid, err)
			}
			if code != wire.ErrOK {
				res.ignored++
			}
			res.applied++
			last, lastFile, lastTorn = txn.Zxid, f.path, ""
		}
	}
	res.orphans = tree.DropOrphanEphemerals()
	for _, id := range res.orphans {
		warn("dropped the ephemeral nodes of session 0x%x, which is gone, as Apache ZooKeeper does when it loads its database", id)
	}
	return res, nil
}
