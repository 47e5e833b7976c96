package conf

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Dynamic configuration (Apache ZooKeeper 3.5+): the server.N lines live in
// a file of their own, zoo.cfg.dynamic.<version in hex>, which zoo.cfg names
// with dynamicConfigFile. A server writes a new one whenever a new
// membership becomes active and points zoo.cfg at it, so that it restarts
// with the membership it last had.

// ParseServerSpec parses the value of a server.N line (host:quorumPort:
// electionPort[:type][;[clientAddr:]clientPort]) as a reconfiguration
// request carries it.
func ParseServerSpec(id int64, spec string) (Server, error) {
	return parseServer(id, spec, true)
}

// MembershipText renders servers and version as Apache ZooKeeper's
// QuorumMaj.toString (each server as Server.String), the data of /zookeeper/config: one server.N=... line
// per server in id order, then version=<hex>.
func MembershipText(servers []Server, version int64) string {
	var b strings.Builder
	for _, s := range sortedServers(servers) {
		fmt.Fprintf(&b, "server.%d=%s\n", s.ID, s.String())
	}
	b.WriteString("version=" + strconv.FormatInt(version, 16))
	return b.String()
}

func sortedServers(servers []Server) []Server {
	out := slices.Clone(servers)
	slices.SortFunc(out, func(a, b Server) int { return int(min(max(a.ID-b.ID, -1), 1)) })
	return out
}

// ParseMembers parses server.N=spec entries separated by newlines or
// commas (a reconfiguration's member list, or /zookeeper/config's data;
// a version line is skipped). It returns the servers in id order.
func ParseMembers(text string) ([]Server, error) {
	var out []Server
	seen := map[int64]bool{}
	for _, line := range strings.Split(strings.ReplaceAll(text, ",", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok {
			return nil, fmt.Errorf("%q is not key=value", line)
		}
		if key == "version" {
			continue
		}
		if !strings.HasPrefix(key, "server.") {
			return nil, fmt.Errorf("unexpected key %q; want server.N", key)
		}
		id, err := strconv.ParseInt(key[len("server."):], 10, 64)
		if err != nil || id < 0 {
			return nil, fmt.Errorf("bad server id in %q", key)
		}
		if seen[id] {
			return nil, fmt.Errorf("server %d listed twice", id)
		}
		seen[id] = true
		s, err := ParseServerSpec(id, strings.TrimSpace(value))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", key, err)
		}
		out = append(out, s)
	}
	return sortedServers(out), nil
}

// DynamicFileName is the dynamic configuration file for version next to
// the static file cfgFile: cfgFile.dynamic.<version in hex>.
func DynamicFileName(cfgFile string, version int64) string {
	return cfgFile + ".dynamic." + strconv.FormatInt(version, 16)
}

// WriteDynamic writes the dynamic configuration file of servers at version
// (its server.N lines, sorted, as Apache's writeDynamicConfig) and makes
// the static file cfgFile point at it: its server.N, group, weight,
// peerType, quorumProtocol and dynamicConfigFile lines are dropped (the first time, the
// original is kept as cfgFile.bak) and dynamicConfigFile=<path> appended.
// As in Apache, clientPort and clientPortAddress are dropped too when the
// server line of myID has a client address. Both files are replaced
// atomically. It returns the dynamic file's path.
func WriteDynamic(cfgFile string, myID int64, servers []Server, version int64) (string, error) {
	abs, err := filepath.Abs(cfgFile)
	if err != nil {
		return "", err
	}
	dyn := DynamicFileName(abs, version)
	lines := make([]string, 0, len(servers))
	eraseClient := false
	for _, s := range servers {
		lines = append(lines, fmt.Sprintf("server.%d=%s", s.ID, s.String()))
		if s.ID == myID && s.ClientPort != 0 {
			eraseClient = true
		}
	}
	slices.Sort(lines)
	if err := writeAtomic(dyn, []byte(strings.Join(lines, "\n")+"\n")); err != nil {
		return "", err
	}
	old, err := os.ReadFile(abs)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(abs + ".bak"); os.IsNotExist(err) {
		if err := writeAtomic(abs+".bak", old); err != nil {
			return "", err
		}
	}
	var b strings.Builder
	for _, line := range strings.Split(string(old), "\n") {
		key, _, _ := strings.Cut(strings.TrimSpace(line), "=")
		key = strings.TrimSpace(key)
		if strings.HasPrefix(key, "server.") || strings.HasPrefix(key, "group") || strings.HasPrefix(key, "weight") ||
			strings.HasPrefix(key, "dynamicConfigFile") || strings.HasPrefix(key, "peerType") || key == "quorumProtocol" ||
			(eraseClient && strings.HasPrefix(key, "clientPort")) {
			continue
		}
		if line == "" {
			continue
		}
		b.WriteString(line + "\n")
	}
	b.WriteString("dynamicConfigFile=" + dyn + "\n")
	if err := writeAtomic(abs, []byte(b.String())); err != nil {
		return "", err
	}
	return dyn, nil
}

// writeAtomic replaces path with data through a synced temporary file.
func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
