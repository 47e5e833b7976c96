package conf

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// The ensemble part of loading: the server lines, the dynamic config file,
// myid, and the client ports each server line may carry.

// setupQuorum parses the server.N, group.N, weight.N (and version) lines
// of zoo.cfg or of the dynamic configuration file.
func (l *loader) setupQuorum() error {
	c := l.c
	entries, file, dynamic := l.quorum, l.file, false
	if c.DynamicConfigFile != "" {
		props, dups, err := readPropertiesFile(c.DynamicConfigFile)
		if err != nil {
			var e *Error
			if errors.As(err, &e) && e.Line == 0 {
				return l.errAt("dynamicConfigFile", "cannot read %s: %s", c.DynamicConfigFile, e.Msg)
			}
			return err
		}
		l.warnDuplicates(c.DynamicConfigFile, props, dups)
		entries, file, dynamic = props, c.DynamicConfigFile, true
		if v, ok := versionFromFilename(c.DynamicConfigFile); ok {
			c.ConfigVersion = v
		}
	}

	type groupOf struct{ gid, line int64 }
	var servers []Server
	lineOf := map[int64]int{}
	groups := map[int64]groupOf{}
	weights := map[int64]int64{}
	for _, p := range entries {
		key := strings.TrimSpace(p.Key)
		value := strings.TrimSpace(p.Value)
		at := func(format string, args ...any) *Error {
			return &Error{File: file, Line: p.Line, Key: key, Msg: fmt.Sprintf(format, args...)}
		}
		switch {
		case strings.HasPrefix(key, "server."):
			id, err := parseID(key)
			if err != nil {
				return at("%v", err)
			}
			if prev, dup := lineOf[id]; dup {
				return at("server %d is already defined on line %d", id, prev)
			}
			s, err := parseServer(id, value, c.MultiAddressEnabled)
			if err != nil {
				return at("%v", err)
			}
			s.File, s.Line = file, p.Line
			lineOf[id] = p.Line
			servers = append(servers, s)
		case strings.HasPrefix(key, "group"):
			c.Hierarchical = true
			gid, err := parseID(key)
			if err != nil {
				return at("%v", err)
			}
			for _, f := range strings.Split(value, ":") {
				sid, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
				if err != nil {
					return at("server id %s", numErr(f, err))
				}
				if g, dup := groups[sid]; dup {
					return at("server %d is already in group %d (line %d)", sid, g.gid, g.line)
				}
				groups[sid] = groupOf{gid, int64(p.Line)}
			}
		case strings.HasPrefix(key, "weight"):
			c.Hierarchical = true
			sid, err := parseID(key)
			if err != nil {
				return at("%v", err)
			}
			w, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				return at("%s", numErr(value, err))
			}
			weights[sid] = w
		case key == "version":
			if dynamic {
				return at("must not be in a dynamic configuration file; its version is the file name's suffix")
			}
			v, err := strconv.ParseInt(value, 16, 64)
			if err != nil {
				return at("%q is not a hexadecimal number", value)
			}
			c.ConfigVersion = v
		default:
			if dynamic {
				return at("is not allowed in a dynamic configuration file (only server.N, group.N, weight.N)")
			}
		}
	}
	sort.Slice(servers, func(i, j int) bool { return servers[i].ID < servers[j].ID })
	for i := range servers {
		s := &servers[i]
		if g, ok := groups[s.ID]; ok {
			s.Group = g.gid
		} else if c.Hierarchical && !s.Observer {
			return &Error{File: s.File, Line: s.Line, Key: fmt.Sprintf("server.%d", s.ID),
				Msg: "is in no group.G line, which hierarchical quorums need"}
		}
		if w, ok := weights[s.ID]; ok {
			s.Weight = w
		} else if !s.Observer {
			s.Weight = 1
		}
	}
	c.Servers = servers
	return nil
}

// parseID parses the N of "server.N", "group.N" or "weight.N": what
// follows the first dot (the whole key if there is none, as Apache).
func parseID(key string) (int64, error) {
	s := key
	if i := strings.IndexByte(key, '.'); i >= 0 {
		s = key[i+1:]
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("id %s", numErr(s, err))
	}
	if id < 0 {
		return 0, fmt.Errorf("id %d is negative", id)
	}
	return id, nil
}

// versionFromFilename returns the hexadecimal version suffix of a dynamic
// configuration file name (zoo.cfg.dynamic.100000000).
func versionFromFilename(name string) (int64, bool) {
	base := filepath.Base(name)
	i := strings.LastIndexByte(base, '.')
	if i < 0 {
		return 0, false
	}
	v, err := strconv.ParseInt(base[i+1:], 16, 64)
	if err != nil {
		return 0, false
	}
	return v, true
}

// checkQuorum applies Apache's rules on the server list, reads myid and
// checks what a quorum needs.
func (l *loader) checkQuorum() error {
	c := l.c
	var firstObserver *Server
	for i := range c.Servers {
		if c.Servers[i].Observer {
			firstObserver = &c.Servers[i]
			break
		}
	}
	observerErr := func(msg string) error {
		s := firstObserver
		return &Error{File: s.File, Line: s.Line, Key: fmt.Sprintf("server.%d", s.ID), Msg: msg}
	}
	np := c.participants()
	switch {
	case np == 0:
		if !c.StandaloneEnabled {
			return l.errAt("standaloneEnabled", "is false, so at least one participant server.N line is needed")
		}
		if firstObserver != nil {
			return observerErr("an observer needs participants, and there are none")
		}
	case np == 1 && c.StandaloneEnabled:
		if firstObserver != nil {
			return observerErr("an observer needs a quorum, but a single participant with standaloneEnabled=true runs standalone")
		}
		l.warnf("only one server is configured; running standalone and ignoring the server.N line (set standaloneEnabled=false to run a quorum of one)")
	default:
		if np <= 2 {
			l.warnf("%d participants: no server failure will be tolerated; you need at least 3 servers", np)
		} else if np%2 == 0 {
			l.warnf("%d participants: consider an odd number of servers", np)
		}
	}
	if len(c.Servers) == 0 {
		return nil
	}
	if err := l.readMyID(); err != nil {
		return err
	}
	if l.haveMyID {
		if err := l.setupClientPorts(); err != nil {
			return err
		}
		role := "participant"
		if s, ok := c.Server(c.MyID); ok && s.Observer {
			role = "observer"
		}
		if role != c.PeerType {
			l.warnf("peerType is %s but server.%d is a %s; using %s", c.PeerType, c.MyID, role, role)
			c.PeerType = role
		}
		if c.QuorumProtocol == QuorumProtocolApache && role != "observer" {
			return l.errAt("quorumProtocol", "%s is only spoken by an observer (peerType=observer and :observer on server.%d's line): our servers join an Apache ZooKeeper ensemble as observers",
				QuorumProtocolApache, c.MyID)
		}
	}
	if c.Standalone() {
		return nil
	}
	if c.InitLimit <= 0 {
		return l.errAt("initLimit", "%s; a quorum needs it", limitState(l.lines["initLimit"], c.InitLimit))
	}
	if c.SyncLimit <= 0 {
		return l.errAt("syncLimit", "%s; a quorum needs it", limitState(l.lines["syncLimit"], c.SyncLimit))
	}
	if !l.haveMyID {
		return &Error{File: l.myidPath, Key: "myid",
			Msg: fmt.Sprintf("file is missing; it is needed because %s configures a quorum of %d servers", l.file, len(c.Servers))}
	}
	if _, ok := c.Server(c.MyID); !ok {
		ids := make([]string, len(c.Servers))
		for i, s := range c.Servers {
			ids[i] = strconv.FormatInt(s.ID, 10)
		}
		return &Error{File: l.myidPath, Line: 1, Key: "myid",
			Msg: fmt.Sprintf("%d is not one of the configured servers (%s)", c.MyID, strings.Join(ids, ", "))}
	}
	return nil
}

// limitState words an unset or non-positive initLimit/syncLimit.
func limitState(line, v int) string {
	if line == 0 {
		return "is not set"
	}
	return fmt.Sprintf("%d must be positive", v)
}

// readMyID reads dataDir/myid if it is a file: its first line is the id.
func (l *loader) readMyID() error {
	c := l.c
	l.myidPath = filepath.Join(c.DataDir, "myid")
	fi, err := os.Stat(l.myidPath)
	if err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	data, err := os.ReadFile(l.myidPath)
	if err != nil {
		return &Error{File: l.myidPath, Key: "myid", Msg: fileErrMsg(err)}
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	first := ""
	if sc.Scan() {
		first = strings.TrimSpace(sc.Text())
	}
	id, err := strconv.ParseInt(first, 10, 64)
	if err != nil {
		return &Error{File: l.myidPath, Line: 1, Key: "myid", Msg: numErr(first, err)}
	}
	c.MyID = id
	l.haveMyID = true
	return nil
}

// isWildcard reports whether addr means every local address.
func isWildcard(addr string) bool {
	switch addr {
	case "", "0.0.0.0", "::", "[::]", "0:0:0:0:0:0:0:0":
		return true
	}
	return false
}

// setupClientPorts lets this server's server.N line set the client ports,
// as Apache's setupClientPort: a client part of the line wins, and must
// agree with clientPort/clientPortAddress of zoo.cfg when both are given.
func (l *loader) setupClientPorts() error {
	c := l.c
	s, ok := c.Server(c.MyID)
	if !ok {
		return nil
	}
	where := fmt.Sprintf("%s:%d", s.File, s.Line)
	if s.ClientAddr != "" {
		if l.clientPortSet {
			differs := c.ClientPort != s.ClientPort
			if !isWildcard(c.ClientPortAddress) && c.ClientPortAddress != s.ClientAddr {
				differs = true
			}
			if differs {
				return l.errAt("clientPort", "client address %s differs from %s on server.%d (%s)",
					joinHostPort(c.ClientPortAddress, c.ClientPort), joinHostPort(s.ClientAddr, s.ClientPort), s.ID, where)
			}
		}
		c.ClientPort, c.ClientPortAddress = s.ClientPort, s.ClientAddr
	}
	if s.SecureClientAddr != "" {
		if l.secureClientPortSet {
			differs := c.SecureClientPort != s.SecureClientPort
			if !isWildcard(c.SecureClientPortAddress) && c.SecureClientPortAddress != s.SecureClientAddr {
				differs = true
			}
			if differs {
				return l.errAt("secureClientPort", "secure client address %s differs from %s on server.%d (%s)",
					joinHostPort(c.SecureClientPortAddress, c.SecureClientPort), joinHostPort(s.SecureClientAddr, s.SecureClientPort), s.ID, where)
			}
		}
		c.SecureClientPort, c.SecureClientPortAddress = s.SecureClientPort, s.SecureClientAddr
	}
	return nil
}

// joinHostPort formats host:port, with "0.0.0.0" for no host.
func joinHostPort(host string, port int) string {
	if host == "" {
		host = "0.0.0.0"
	}
	return fmt.Sprintf("%s:%d", bracketHost(host), port)
}
