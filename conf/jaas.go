package conf

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
)

// The system properties of client authentication (Apache's
// ZooKeeperSaslServer, SaslServerCallbackHandler, AuthenticationHelper
// and ProviderRegistry). In zoo.cfg the zookeeper.* ones are written
// without the prefix: enforce.auth.enabled=true.
const (
	PropJAASConfig                   = "java.security.auth.login.config"
	PropSASLServerContext            = "zookeeper.sasl.serverconfig"
	PropSASLSuperPassword            = "zookeeper.SASLAuthenticationProvider.superPassword"
	PropSASLSuperUser                = "zookeeper.superUser"
	PropAllowSASLFailedClients       = "zookeeper.allowSaslFailedClients"
	PropEnforceAuthEnabled           = "zookeeper.enforce.auth.enabled"
	PropEnforceAuthSchemes           = "zookeeper.enforce.auth.schemes"
	PropSessionRequireClientSASLAuth = "zookeeper.sessionRequireClientSASLAuth"
	PropAuthProviderPrefix           = "zookeeper.authProvider."
)

// DefaultSASLServerContext is the JAAS section the server reads its SASL
// users from unless zookeeper.sasl.serverconfig names another.
const DefaultSASLServerContext = "Server"

// DigestLoginModule is the JAAS login module whose user_<name>="password"
// options list the DIGEST-MD5 users, as in Apache ZooKeeper.
const DigestLoginModule = "org.apache.zookeeper.server.auth.DigestLoginModule"

// Auth is the configuration of client authentication.
type Auth struct {
	// JAASFile is the JAAS configuration file
	// (-Djava.security.auth.login.config; "" if unset).
	JAASFile string
	// SASL holds the DIGEST-MD5 users of the JAAS file's server section;
	// nil when there is no such section, and then SASL is off, as in
	// Apache ZooKeeper.
	SASL *SASLServer
	// Providers are the schemes of the authentication providers that
	// zookeeper.authProvider.* properties name (sasl for
	// SASLAuthenticationProvider); see Config.AuthSchemes.
	Providers []string
	// EnforceEnabled closes the session of a client that sends a request
	// before it authenticated with one of EnforceSchemes
	// (zookeeper.enforce.auth.enabled, or
	// zookeeper.sessionRequireClientSASLAuth for sasl).
	EnforceEnabled bool
	// EnforceSchemes is zookeeper.enforce.auth.schemes split at commas.
	EnforceSchemes []string
	// AllowSASLFailedClients keeps a client whose SASL authentication
	// failed connected, without the sasl identity
	// (zookeeper.allowSaslFailedClients; not when sasl is enforced).
	AllowSASLFailedClients bool
	// SuperUsers are the SASL identities that are also super user
	// (zookeeper.superUser and zookeeper.superUser.*).
	SuperUsers []string
}

// AuthSchemes returns the authentication schemes the server has a
// provider for: ip and digest always, x509 with a secure client port, and
// Auth.Providers.
func (c *Config) AuthSchemes() []string {
	schemes := []string{"ip", "digest"}
	if c.SecureClientPort > 0 {
		schemes = append(schemes, "x509")
	}
	for _, s := range c.Auth.Providers {
		if !slices.Contains(schemes, s) {
			schemes = append(schemes, s)
		}
	}
	return schemes
}

// SASLRequired reports whether clients must authenticate with SASL.
func (a *Auth) SASLRequired() bool {
	return a.EnforceEnabled && slices.Contains(a.EnforceSchemes, "sasl")
}

// SASLServer is the server section of a JAAS file.
type SASLServer struct {
	// Context is the section's name (DefaultSASLServerContext unless
	// zookeeper.sasl.serverconfig names another).
	Context string
	// Users maps each DIGEST-MD5 user name to its password: the
	// user_<name>="password" options of the section; the password of
	// "super" comes from zookeeper.SASLAuthenticationProvider.superPassword
	// when that is set.
	Users map[string]string
}

// JAASEntry is one login module line of a JAAS section:
// `module flag key="value" ...;`.
type JAASEntry struct {
	Module  string
	Flag    string
	Options map[string]string
	// Line is where the entry starts in the file.
	Line int
}

// ParseJAAS parses a JAAS login configuration (Java's ConfigFile syntax):
// sections `Name { module flag key=value ...; ... };`, values bare or in
// double quotes, comments with #, // or /* */. It returns the entries of
// each section; file names the file in errors.
func ParseJAAS(file string, data []byte) (map[string][]JAASEntry, error) {
	p := &jaasParser{file: file, src: data, line: 1}
	return p.parse()
}

type jaasToken struct {
	text   string
	quoted bool
	line   int
}

type jaasParser struct {
	file string
	src  []byte
	pos  int
	line int
	tok  jaasToken // the lookahead; text "" and !quoted at the end
}

func (p *jaasParser) errorf(line int, format string, args ...any) *Error {
	return &Error{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// next reads the next token into p.tok.
func (p *jaasParser) next() error {
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '\n':
			p.line++
			p.pos++
		case c == ' ' || c == '\t' || c == '\r' || c == '\f':
			p.pos++
		case c == '#' || (c == '/' && p.peek(1) == '/'):
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		case c == '/' && p.peek(1) == '*':
			start := p.line
			end := strings.Index(string(p.src[p.pos+2:]), "*/")
			if end < 0 {
				return p.errorf(start, "comment is not closed")
			}
			p.line += strings.Count(string(p.src[p.pos:p.pos+2+end]), "\n")
			p.pos += end + 4
		case c == '"':
			return p.quoted()
		case c == '{' || c == '}' || c == ';' || c == '=':
			p.tok = jaasToken{text: string(c), line: p.line}
			p.pos++
			return nil
		default:
			start := p.pos
			for p.pos < len(p.src) && !strings.ContainsRune(" \t\r\n\f{};=\"", rune(p.src[p.pos])) {
				p.pos++
			}
			p.tok = jaasToken{text: string(p.src[start:p.pos]), line: p.line}
			return nil
		}
	}
	p.tok = jaasToken{line: p.line}
	return nil
}

func (p *jaasParser) peek(n int) byte {
	if p.pos+n < len(p.src) {
		return p.src[p.pos+n]
	}
	return 0
}

// quoted reads a double-quoted value; a backslash escapes the next byte.
func (p *jaasParser) quoted() error {
	start := p.line
	var b strings.Builder
	for p.pos++; p.pos < len(p.src); p.pos++ {
		c := p.src[p.pos]
		switch c {
		case '"':
			p.pos++
			p.tok = jaasToken{text: b.String(), quoted: true, line: start}
			return nil
		case '\\':
			if p.pos+1 < len(p.src) {
				p.pos++
				c = p.src[p.pos]
			}
		case '\n':
			p.line++
		}
		b.WriteByte(c)
	}
	return p.errorf(start, "quoted value is not closed")
}

func (p *jaasParser) atEnd() bool      { return p.tok.text == "" && !p.tok.quoted }
func (p *jaasParser) is(s string) bool { return !p.tok.quoted && p.tok.text == s }

// describe names the lookahead token for an error.
func (p *jaasParser) describe() string {
	if p.atEnd() {
		return "end of file"
	}
	return fmt.Sprintf("%q", p.tok.text)
}

// expect consumes the punctuation s.
func (p *jaasParser) expect(s, what string) error {
	if !p.is(s) {
		return p.errorf(p.tok.line, "expected %q %s, found %s", s, what, p.describe())
	}
	return p.next()
}

// word consumes a bare word.
func (p *jaasParser) word(what string) (string, error) {
	if p.atEnd() || p.tok.quoted || strings.Contains("{};=", p.tok.text) {
		return "", p.errorf(p.tok.line, "expected %s, found %s", what, p.describe())
	}
	w := p.tok.text
	return w, p.next()
}

func (p *jaasParser) parse() (map[string][]JAASEntry, error) {
	out := map[string][]JAASEntry{}
	if err := p.next(); err != nil {
		return nil, err
	}
	for !p.atEnd() {
		line := p.tok.line
		name, err := p.word("a section name")
		if err != nil {
			return nil, err
		}
		if _, dup := out[name]; dup {
			return nil, p.errorf(line, "section %s is defined twice", name)
		}
		if err := p.expect("{", "after the section name "+name); err != nil {
			return nil, err
		}
		var entries []JAASEntry
		for !p.is("}") {
			e, err := p.entry()
			if err != nil {
				return nil, err
			}
			entries = append(entries, e)
		}
		if err := p.next(); err != nil {
			return nil, err
		}
		if err := p.expect(";", "after the closing } of section "+name); err != nil {
			return nil, err
		}
		out[name] = entries
	}
	return out, nil
}

// entry parses `module flag key=value ... ;`.
func (p *jaasParser) entry() (JAASEntry, error) {
	e := JAASEntry{Options: map[string]string{}, Line: p.tok.line}
	var err error
	if e.Module, err = p.word("a login module class name"); err != nil {
		return e, err
	}
	if e.Flag, err = p.word("a control flag (required, requisite, sufficient or optional)"); err != nil {
		return e, err
	}
	switch strings.ToLower(e.Flag) {
	case "required", "requisite", "sufficient", "optional":
	default:
		return e, p.errorf(e.Line, "%s: %q is not a control flag; choose required, requisite, sufficient or optional", e.Module, e.Flag)
	}
	for !p.is(";") {
		key, err := p.word("an option name or ;")
		if err != nil {
			return e, err
		}
		if err := p.expect("=", "after option "+key); err != nil {
			return e, err
		}
		if p.atEnd() || (!p.tok.quoted && strings.Contains("{};=", p.tok.text)) {
			return e, p.errorf(p.tok.line, "option %s has no value", key)
		}
		e.Options[key] = p.tok.text
		if err := p.next(); err != nil {
			return e, err
		}
	}
	return e, p.next()
}

// applyAuth fills c.Auth from the system properties and the JAAS file,
// with Apache's rules: a JAAS file that cannot be read or parsed stops the
// server; one without the server section leaves SASL off;
// enforce.auth.enabled needs schemes that have a provider.
func (l *loader) applyAuth() error {
	c := l.c
	p := c.Properties
	a := &c.Auth
	for _, name := range slices.Sorted(maps.Keys(p)) {
		if !strings.HasPrefix(name, PropAuthProviderPrefix) {
			continue
		}
		scheme := ""
		switch class := strings.TrimSpace(p[name]); class {
		case "org.apache.zookeeper.server.auth.SASLAuthenticationProvider":
			scheme = "sasl"
		case "org.apache.zookeeper.server.auth.X509AuthenticationProvider":
			scheme = "x509"
		case "org.apache.zookeeper.server.auth.DigestAuthenticationProvider":
			scheme = "digest"
		case "org.apache.zookeeper.server.auth.IPAuthenticationProvider":
			scheme = "ip"
		default:
			l.warnf("%s=%s: unknown authentication provider class; ignored", name, class)
		}
		if scheme != "" && !slices.Contains(a.Providers, scheme) {
			a.Providers = append(a.Providers, scheme)
		}
	}

	if javaBool(p, PropSessionRequireClientSASLAuth, false) {
		a.EnforceEnabled = true
		a.EnforceSchemes = []string{"sasl"}
	} else {
		a.EnforceEnabled = javaBool(p, PropEnforceAuthEnabled, false)
		if v, ok := p[PropEnforceAuthSchemes]; ok {
			for _, s := range strings.Split(v, ",") {
				a.EnforceSchemes = append(a.EnforceSchemes, strings.TrimSpace(s))
			}
		}
	}
	if a.EnforceEnabled {
		if len(a.EnforceSchemes) == 0 {
			return l.propErr(PropEnforceAuthEnabled, "is true but %s names no scheme", PropEnforceAuthSchemes)
		}
		name := PropEnforceAuthSchemes
		if _, ok := p[name]; !ok {
			name = PropSessionRequireClientSASLAuth
		}
		schemes := c.AuthSchemes()
		for _, s := range a.EnforceSchemes {
			if !slices.Contains(schemes, s) {
				hint := ""
				if s == "sasl" {
					hint = "; add authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider"
				}
				return l.propErr(name, "authentication scheme %q is not available (schemes: %s)%s",
					s, strings.Join(schemes, ", "), hint)
			}
		}
	}
	a.AllowSASLFailedClients = javaBool(p, PropAllowSASLFailedClients, false)
	for _, name := range slices.Sorted(maps.Keys(p)) {
		if name == PropSASLSuperUser || strings.HasPrefix(name, PropSASLSuperUser+".") {
			if v := p[name]; v != "" {
				a.SuperUsers = append(a.SuperUsers, v)
			}
		}
	}

	a.JAASFile = strings.TrimSpace(p[PropJAASConfig])
	if a.JAASFile == "" {
		if _, set := p[PropSASLServerContext]; set {
			return l.propErr(PropSASLServerContext, "is set but no JAAS file is (-D%s=<file>)", PropJAASConfig)
		}
		return nil
	}
	data, err := os.ReadFile(a.JAASFile)
	if err != nil {
		return l.propErr(PropJAASConfig, "%v", err)
	}
	sections, err := ParseJAAS(a.JAASFile, data)
	if err != nil {
		return err
	}
	context := DefaultSASLServerContext
	if v := strings.TrimSpace(p[PropSASLServerContext]); v != "" {
		context = v
	}
	entries, ok := sections[context]
	if !ok {
		if _, set := p[PropSASLServerContext]; set {
			return l.propErr(PropSASLServerContext, "no JAAS configuration section named %q in %s", context, a.JAASFile)
		}
		return nil // as Apache: no server section, no SASL
	}
	srv := &SASLServer{Context: context, Users: map[string]string{}}
	for _, e := range entries {
		if e.Module != DigestLoginModule {
			return &Error{File: a.JAASFile, Line: e.Line, Key: context,
				Msg: fmt.Sprintf("login module %s is not supported; only DIGEST-MD5 with %s is", e.Module, DigestLoginModule)}
		}
		for k, v := range e.Options {
			if user, ok := strings.CutPrefix(k, "user_"); ok {
				srv.Users[user] = v
			}
		}
	}
	if pw, ok := p[PropSASLSuperPassword]; ok {
		if _, has := srv.Users["super"]; has {
			srv.Users["super"] = pw
		}
	}
	a.SASL = srv
	return nil
}
