package shell

import (
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zkgo/zkgo/cmd/zkcli/internal/zkclient"
	"github.com/zkgo/zkgo/wire"
)

// javaDate formats milliseconds since the epoch as java.util.Date.toString
// does, in the local time zone.
func javaDate(ms int64) string {
	return time.UnixMilli(ms).Format("Mon Jan 02 15:04:05 MST 2006")
}

// hex formats a long as Long.toHexString does (two's complement).
func hex(v int64) string { return fmt.Sprintf("0x%x", uint64(v)) }

// printStat prints a Stat as zkCli.sh's StatPrinter does.
func printStat(w io.Writer, s *wire.Stat) {
	fmt.Fprintf(w, "cZxid = %s\n", hex(s.Czxid))
	fmt.Fprintf(w, "ctime = %s\n", javaDate(s.Ctime))
	fmt.Fprintf(w, "mZxid = %s\n", hex(s.Mzxid))
	fmt.Fprintf(w, "mtime = %s\n", javaDate(s.Mtime))
	fmt.Fprintf(w, "pZxid = %s\n", hex(s.Pzxid))
	fmt.Fprintf(w, "cversion = %d\n", s.Cversion)
	fmt.Fprintf(w, "dataVersion = %d\n", s.Version)
	fmt.Fprintf(w, "aclVersion = %d\n", s.Aversion)
	fmt.Fprintf(w, "ephemeralOwner = %s\n", hex(s.EphemeralOwner))
	fmt.Fprintf(w, "dataLength = %d\n", s.DataLength)
	fmt.Fprintf(w, "numChildren = %d\n", s.NumChildren)
}

// jsonStat is a Stat in JSON output.
type jsonStat struct {
	Czxid          int64  `json:"czxid"`
	Mzxid          int64  `json:"mzxid"`
	Pzxid          int64  `json:"pzxid"`
	Ctime          int64  `json:"ctime"`
	Mtime          int64  `json:"mtime"`
	Version        int32  `json:"version"`
	Cversion       int32  `json:"cversion"`
	Aversion       int32  `json:"aversion"`
	EphemeralOwner string `json:"ephemeralOwner"`
	DataLength     int32  `json:"dataLength"`
	NumChildren    int32  `json:"numChildren"`
}

func toJSONStat(s *wire.Stat) *jsonStat {
	if s == nil {
		return nil
	}
	return &jsonStat{
		Czxid: s.Czxid, Mzxid: s.Mzxid, Pzxid: s.Pzxid, Ctime: s.Ctime, Mtime: s.Mtime,
		Version: s.Version, Cversion: s.Cversion, Aversion: s.Aversion,
		EphemeralOwner: hex(s.EphemeralOwner), DataLength: s.DataLength, NumChildren: s.NumChildren,
	}
}

// jsonData is node data in JSON output: text if it is valid UTF-8, base64
// otherwise; null for a node created without data.
type jsonData struct {
	Data     *string `json:"data"`
	Encoding string  `json:"encoding,omitempty"`
}

func toJSONData(b []byte) jsonData {
	if b == nil {
		return jsonData{}
	}
	if utf8.Valid(b) {
		s := string(b)
		return jsonData{Data: &s}
	}
	s := base64.StdEncoding.EncodeToString(b)
	return jsonData{Data: &s, Encoding: "base64"}
}

func (d jsonData) bytes() ([]byte, error) {
	if d.Data == nil {
		return nil, nil
	}
	switch d.Encoding {
	case "", "utf8", "utf-8":
		return []byte(*d.Data), nil
	case "base64":
		return base64.StdEncoding.DecodeString(*d.Data)
	}
	return nil, fmt.Errorf("unknown data encoding %q", d.Encoding)
}

// javaString decodes bytes as new String(data, UTF_8) does, replacing
// malformed input.
func javaString(b []byte) string { return strings.ToValidUTF8(string(b), "\uFFFD") }

// permString formats ACL permissions as ZKUtil.getPermString does.
func permString(perms int32) string {
	var b strings.Builder
	for _, p := range []struct {
		bit int32
		c   byte
	}{{wire.PermCreate, 'c'}, {wire.PermDelete, 'd'}, {wire.PermRead, 'r'}, {wire.PermWrite, 'w'}, {wire.PermAdmin, 'a'}} {
		if perms&p.bit != 0 {
			b.WriteByte(p.c)
		}
	}
	return b.String()
}

// joutEscape escapes a string as jute's ToStringOutputArchive does.
func juteEscape(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case 0:
			b.WriteString("%00")
		case '\n':
			b.WriteString("%0A")
		case '\r':
			b.WriteString("%0D")
		case ',':
			b.WriteString("%2C")
		case '}':
			b.WriteString("%7D")
		case '%':
			b.WriteString("%25")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// idString is the toString of a jute Id record: "'scheme,'id" and a
// newline.
func idString(id wire.Id) string {
	return juteEscape(id.Scheme) + "," + juteEscape(id.ID) + "\n"
}

// parseACL parses "scheme:id:perm[,...]" as zkCli.sh's AclParser does,
// reporting malformed entries and unknown permissions on errw.
func parseACL(errw io.Writer, s string) []wire.ACL {
	acl := []wire.ACL{}
	for _, a := range strings.Split(s, ",") {
		first, last := strings.IndexByte(a, ':'), strings.LastIndexByte(a, ':')
		if first == -1 || first == last {
			fmt.Fprintf(errw, "%s does not have the form scheme:id:perm\n", a)
			continue
		}
		acl = append(acl, wire.ACL{
			ID:    wire.Id{Scheme: a[:first], ID: a[first+1 : last]},
			Perms: parsePerms(errw, a[last+1:]),
		})
	}
	return acl
}

func parsePerms(errw io.Writer, s string) int32 {
	var perms int32
	for _, c := range s {
		switch c {
		case 'r':
			perms |= wire.PermRead
		case 'w':
			perms |= wire.PermWrite
		case 'c':
			perms |= wire.PermCreate
		case 'd':
			perms |= wire.PermDelete
		case 'a':
			perms |= wire.PermAdmin
		default:
			fmt.Fprintf(errw, "Unknown perm type: %c\n", c)
		}
	}
	return perms
}

// jsonACL is an ACL entry in JSON output and in dumps.
type jsonACL struct {
	Scheme string `json:"scheme"`
	ID     string `json:"id"`
	Perms  string `json:"perms"`
}

func toJSONACL(acl []wire.ACL) []jsonACL {
	out := make([]jsonACL, 0, len(acl))
	for _, a := range acl {
		out = append(out, jsonACL{Scheme: a.ID.Scheme, ID: a.ID.ID, Perms: permString(a.Perms)})
	}
	return out
}

func fromJSONACL(errw io.Writer, acl []jsonACL) []wire.ACL {
	out := make([]wire.ACL, 0, len(acl))
	for _, a := range acl {
		out = append(out, wire.ACL{ID: wire.Id{Scheme: a.Scheme, ID: a.ID}, Perms: parsePerms(errw, a.Perms)})
	}
	return out
}

// javaList formats strings as java.util.List.toString does.
func javaList(items []string) string { return "[" + strings.Join(items, ", ") + "]" }

// eventJSON is a watch event in JSON output.
type eventJSON struct {
	Event string `json:"event"`
	State string `json:"state"`
	Path  string `json:"path,omitempty"`
}

func toEventJSON(ev zkclient.Event) eventJSON {
	return eventJSON{Event: ev.Type.String(), State: zkclient.KeeperStateName(ev.State), Path: ev.Path}
}

// joinPath returns the path of child name under parent.
func joinPath(parent, name string) string {
	if parent == "/" {
		return "/" + name
	}
	return parent + "/" + name
}
