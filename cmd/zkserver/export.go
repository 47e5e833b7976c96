package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"os"

	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/zkgo/zkgo/server"
	"github.com/zkgo/zkgo/wire"
	"github.com/zkgo/zkgo/zab/storage"
	"github.com/zkgo/zkgo/znode"
)

const exportUsage = `usage: zkserver export [--data <dataDir> | zoo.cfg] [--out <file>]

Writes the data of a stopped server (its newest snapshot plus the
transaction log after it) as JSON: the last zxid, the sessions and the tree,
every node with its path, data (UTF-8 text, or base64 when it is not valid
UTF-8; null for null data), Stat as clients see it, ACL and children.
Zxids, session ids and ephemeral owners are hex strings ("0x1f"), as they do
not fit in a JSON number. With --data, TTL nodes are taken as such
(extendedTypesEnabled); with a zoo.cfg, as it says.
`

// runExport is the export verb.
func runExport(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, exportUsage) }
	data := fs.String("data", "", "our dataDir")
	out := fs.String("out", "", "output file (default standard output)")
	rest, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	if len(rest) > 1 || (*data != "" && len(rest) == 1) {
		fs.Usage()
		return errors.New("export: bad arguments")
	}
	dataDir, dataLogDir, opts, err := targetDirs(*data, rest)
	if err != nil {
		return err
	}
	if *data != "" {
		// No zoo.cfg: show TTL nodes as TTL nodes (see runImport).
		opts.ExtendedTypes = true
	}
	tree, err := loadTree(dataDir, dataLogDir, opts)
	if err != nil {
		return err
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	if err := writeJSONDump(bw, tree); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if f, ok := w.(*os.File); ok && *out != "" {
		return f.Close()
	}
	return nil
}

// loadTree rebuilds the tree of a data directory as the server does when
// it starts: the newest valid snapshot in dataDir, then the txns after it
// from the transaction log in dataLogDir. Corruption is a
// *storage.CorruptionError.
func loadTree(dataDir, dataLogDir string, opts znode.Options) (*znode.Tree, error) {
	snapDir := server.SnapshotDir(dataDir)
	if _, err := os.Stat(snapDir); err != nil {
		return nil, fmt.Errorf("export: no data in %s: %w", dataDir, err)
	}
	var txnLog *storage.Log
	if logDir := server.TxnLogDir(dataLogDir); dirExists(logDir) {
		l, err := storage.OpenLog(logDir, storage.Options{})
		if err != nil {
			return nil, err
		}
		defer l.Close()
		txnLog = l
	}
	tree, _, _, err := server.LoadTree(snapDir, txnLog, opts, nil)
	return tree, err
}

func dirExists(dir string) bool {
	_, err := os.Stat(dir)
	return err == nil
}

// dumpStat is a Stat in the JSON dump.
type dumpStat struct {
	Czxid          string `json:"czxid"`
	Mzxid          string `json:"mzxid"`
	Pzxid          string `json:"pzxid"`
	Ctime          int64  `json:"ctime"`
	Mtime          int64  `json:"mtime"`
	Version        int32  `json:"version"`
	Cversion       int32  `json:"cversion"`
	Aversion       int32  `json:"aversion"`
	EphemeralOwner string `json:"ephemeralOwner"`
	DataLength     int32  `json:"dataLength"`
	NumChildren    int32  `json:"numChildren"`
}

// dumpACL is an ACL entry in the JSON dump.
type dumpACL struct {
	Perms  int32  `json:"perms"`
	Scheme string `json:"scheme"`
	ID     string `json:"id"`
}

// dumpNode is a node in the JSON dump, but its children.
type dumpNode struct {
	Path     string    `json:"path"`
	Data     *string   `json:"data"`
	Encoding string    `json:"encoding,omitempty"` // "utf-8" or "base64"
	Stat     dumpStat  `json:"stat"`
	ACL      []dumpACL `json:"acl"`
}

type dumpSession struct {
	ID      string `json:"id"`
	Timeout int32  `json:"timeout"`
}

func hexID(v int64) string { return "0x" + strconv.FormatUint(uint64(v), 16) }

// superCaller reads every node, digests unredacted.
var superCaller = znode.Caller{Auth: []wire.Id{{Scheme: "super"}}}

// writeJSONDump writes the tree as one JSON object:
// {"lastZxid", "sessions": [...], "tree": node}, a node being
// {"path", "data", "encoding", "stat", "acl", "children": [node...]},
// one node per line, children sorted by name.
func writeJSONDump(w *bufio.Writer, tree *znode.Tree) error {
	sessions := []dumpSession{}
	for _, s := range tree.Sessions() {
		sessions = append(sessions, dumpSession{ID: hexID(s.ID), Timeout: s.Timeout})
	}
	sj, err := json.Marshal(sessions)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "{\"lastZxid\": %q,\n\"sessions\": %s,\n\"tree\":\n", hexID(tree.LastZxid()), sj)
	if err := dumpSubtree(w, tree, "/", 0); err != nil {
		return err
	}
	_, err = w.WriteString("\n}\n")
	return err
}

func dumpSubtree(w *bufio.Writer, tree *znode.Tree, path string, depth int) error {
	rec, code := tree.Read(wire.OpGetData, &wire.PathWatchRequest{Path: path}, superCaller)
	if code != wire.ErrOK {
		return fmt.Errorf("export: getData %s: %v", path, code)
	}
	data := rec.(*wire.GetDataResponse)
	rec, code = tree.Read(wire.OpGetACL, &wire.PathRequest{Path: path}, superCaller)
	if code != wire.ErrOK {
		return fmt.Errorf("export: getACL %s: %v", path, code)
	}
	acl := rec.(*wire.GetACLResponse).ACL
	rec, code = tree.Read(wire.OpGetChildren, &wire.PathWatchRequest{Path: path}, superCaller)
	if code != wire.ErrOK {
		return fmt.Errorf("export: getChildren %s: %v", path, code)
	}
	children := rec.(*wire.StringsResponse).Strings

	st := data.Stat
	n := dumpNode{
		Path: path,
		Stat: dumpStat{
			Czxid: hexID(st.Czxid), Mzxid: hexID(st.Mzxid), Pzxid: hexID(st.Pzxid),
			Ctime: st.Ctime, Mtime: st.Mtime,
			Version: st.Version, Cversion: st.Cversion, Aversion: st.Aversion,
			EphemeralOwner: hexID(st.EphemeralOwner),
			DataLength:     st.DataLength, NumChildren: st.NumChildren,
		},
		ACL: make([]dumpACL, 0, len(acl)),
	}
	if data.Data != nil {
		s := string(data.Data)
		n.Encoding = "utf-8"
		if !utf8.Valid(data.Data) {
			s, n.Encoding = base64.StdEncoding.EncodeToString(data.Data), "base64"
		}
		n.Data = &s
	}
	for _, a := range acl {
		n.ACL = append(n.ACL, dumpACL{Perms: a.Perms, Scheme: a.ID.Scheme, ID: a.ID.ID})
	}
	head, err := json.Marshal(n)
	if err != nil {
		return err
	}
	indent := strings.Repeat(" ", depth)
	w.WriteString(indent)
	w.Write(head[:len(head)-1]) // without the closing brace
	w.WriteString(`,"children":[`)
	for i, c := range children {
		if i > 0 {
			w.WriteByte(',')
		}
		w.WriteByte('\n')
		cp := path + "/" + c
		if path == "/" {
			cp = "/" + c
		}
		if err := dumpSubtree(w, tree, cp, depth+1); err != nil {
			return err
		}
	}
	if len(children) > 0 {
		w.WriteByte('\n')
		w.WriteString(indent)
	}
	_, err = w.WriteString("]}")
	return err
}
