package conf

import (
	"fmt"
	"strconv"
	"strings"
)

// serverForm is the syntax of a server.N value, for error messages.
const serverForm = "host:quorumPort:electionPort[:participant|observer][;[clientAddr:]clientPort[;[secureAddr:]securePort]]"

// parseServer parses the value of a server.N line as Apache ZooKeeper's
// QuorumServer does. The error is a message without file, line or key.
func parseServer(id int64, value string, multiAddress bool) (Server, error) {
	s := Server{ID: id}
	value = strings.TrimSpace(value)
	if value == "" {
		return s, fmt.Errorf("empty; want %s", serverForm)
	}
	parts := javaSplit(value, ";")
	if len(parts) > 3 {
		return s, fmt.Errorf("%q has too many ';' parts; want %s", value, serverForm)
	}
	if len(parts) >= 2 && parts[1] != "" {
		host, port, err := parseClientAddr(parts[1])
		if err != nil {
			return s, fmt.Errorf("client address %v", err)
		}
		s.ClientAddr, s.ClientPort = host, port
	}
	if len(parts) == 3 && parts[2] != "" {
		host, port, err := parseClientAddr(parts[2])
		if err != nil {
			return s, fmt.Errorf("secure client address %v", err)
		}
		s.SecureClientAddr, s.SecureClientPort = host, port
	}
	if len(parts) == 0 || parts[0] == "" {
		return s, fmt.Errorf("%q has no quorum address; want %s", value, serverForm)
	}
	addrs := strings.Split(parts[0], "|")
	if len(addrs) > 1 && !multiAddress {
		return s, fmt.Errorf("%q has several addresses but multiAddress.enabled is false", value)
	}
	typ := ""
	for _, a := range addrs {
		hp, err := hostAndPort(a)
		if err != nil {
			return s, err
		}
		if len(hp) < 3 || len(hp) > 4 {
			return s, fmt.Errorf("%q: want %s", a, serverForm)
		}
		if hp[0] == "" {
			return s, fmt.Errorf("%q has no host", a)
		}
		qp, err := parsePort(hp[1])
		if err != nil {
			return s, fmt.Errorf("quorum port %v", err)
		}
		ep, err := parsePort(hp[2])
		if err != nil {
			return s, fmt.Errorf("election port %v", err)
		}
		if qp == ep {
			return s, fmt.Errorf("quorum port and election port must differ (both %d)", qp)
		}
		if len(hp) == 4 {
			t := strings.ToLower(strings.TrimSpace(hp[3]))
			if t != "participant" && t != "observer" {
				return s, fmt.Errorf("unknown peer type %q; want participant or observer", hp[3])
			}
			if typ != "" && typ != t {
				return s, fmt.Errorf("all addresses of a server need the same peer type (%s vs %s)", typ, t)
			}
			typ = t
		}
		s.Addrs = append(s.Addrs, QuorumAddr{Host: hp[0], QuorumPort: qp, ElectionPort: ep})
	}
	s.Host, s.QuorumPort, s.ElectionPort = s.Addrs[0].Host, s.Addrs[0].QuorumPort, s.Addrs[0].ElectionPort
	s.Observer = typ == "observer"
	return s, nil
}

// parseClientAddr parses "[addr:]port"; addr defaults to "0.0.0.0".
func parseClientAddr(s string) (string, int, error) {
	hp, err := hostAndPort(s)
	if err != nil {
		return "", 0, err
	}
	if len(hp) == 0 || len(hp) > 2 {
		return "", 0, fmt.Errorf("%q: want [address:]port", s)
	}
	host := "0.0.0.0"
	if len(hp) == 2 {
		host = hp[0]
		if host == "" {
			return "", 0, fmt.Errorf("%q has an empty address", s)
		}
	}
	port, err := parsePort(hp[len(hp)-1])
	if err != nil {
		return "", 0, err
	}
	return host, port, nil
}

// hostAndPort splits "host:p1:p2..." or "[ipv6]:p1:p2..." at its colons,
// as Apache's ConfigUtils.getHostAndPort, removing the brackets.
func hostAndPort(s string) ([]string, error) {
	if !strings.HasPrefix(s, "[") {
		return javaSplit(s, ":"), nil
	}
	i := strings.IndexByte(s, ']')
	if i < 0 {
		return nil, fmt.Errorf("%q starts with '[' but has no matching ']'", s)
	}
	host, rest := s[1:i], s[i+1:]
	if rest == "" {
		return []string{host}, nil
	}
	if rest[0] != ':' {
		return nil, fmt.Errorf("%q: want ':' after ']'", s)
	}
	if rest == ":" {
		return nil, fmt.Errorf("%q has no port after the colon", s)
	}
	return append([]string{host}, javaSplit(rest[1:], ":")...), nil
}

// javaSplit splits s at sep like Java's String.split: trailing empty
// strings are dropped.
func javaSplit(s, sep string) []string {
	parts := strings.Split(s, sep)
	if len(parts) == 1 {
		return parts
	}
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// parsePort parses a TCP port number, 0 to 65535.
func parsePort(s string) (int, error) {
	s = strings.TrimSpace(s)
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if n < 0 || n > 65535 {
		return 0, fmt.Errorf("%d is not a port (0-65535)", n)
	}
	return int(n), nil
}
