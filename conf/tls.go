package conf

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The system properties of the secure client port (Apache's
// ClientX509Util and X509AuthenticationProvider). In zoo.cfg they are
// written without the "zookeeper." prefix: ssl.keyStore.location=...
const (
	PropSSLKeyStoreLocation           = "zookeeper.ssl.keyStore.location"
	PropSSLKeyStorePassword           = "zookeeper.ssl.keyStore.password"
	PropSSLKeyStorePasswordPath       = "zookeeper.ssl.keyStore.passwordPath"
	PropSSLKeyStoreType               = "zookeeper.ssl.keyStore.type"
	PropSSLTrustStoreLocation         = "zookeeper.ssl.trustStore.location"
	PropSSLTrustStorePassword         = "zookeeper.ssl.trustStore.password"
	PropSSLTrustStorePasswordPath     = "zookeeper.ssl.trustStore.passwordPath"
	PropSSLTrustStoreType             = "zookeeper.ssl.trustStore.type"
	PropSSLClientAuth                 = "zookeeper.ssl.clientAuth"
	PropSSLProtocol                   = "zookeeper.ssl.protocol"
	PropSSLEnabledProtocols           = "zookeeper.ssl.enabledProtocols"
	PropSSLCipherSuites               = "zookeeper.ssl.ciphersuites"
	PropSSLHostnameVerification       = "zookeeper.ssl.hostnameVerification"
	PropSSLClientHostnameVerification = "zookeeper.ssl.clientHostnameVerification"
	PropSSLAuthProvider               = "zookeeper.ssl.authProvider"
	PropSSLContextSupplierClass       = "zookeeper.ssl.context.supplier.class"
	PropSSLCRL                        = "zookeeper.ssl.crl"
	PropSSLOCSP                       = "zookeeper.ssl.ocsp"
	PropX509SuperUser                 = "zookeeper.X509AuthenticationProvider.superUser"
)

// DefaultSSLProtocol is Apache ZooKeeper 3.8's zookeeper.ssl.protocol
// (3.9 keeps it in its default FIPS mode).
const DefaultSSLProtocol = "TLSv1.2"

// ClientAuth is zookeeper.ssl.clientAuth: whether the secure client port
// asks clients for a certificate.
type ClientAuth int

const (
	// ClientAuthNeed requires a trusted client certificate (the default).
	ClientAuthNeed ClientAuth = iota
	// ClientAuthWant asks for one; a client without a certificate is
	// admitted without an x509 identity.
	ClientAuthWant
	// ClientAuthNone does not ask for a certificate.
	ClientAuthNone
)

// String returns the property value that selects a.
func (a ClientAuth) String() string {
	switch a {
	case ClientAuthWant:
		return "want"
	case ClientAuthNone:
		return "none"
	}
	return "need"
}

// Store types of ssl.keyStore.type and ssl.trustStore.type.
const (
	StorePEM    = "PEM"
	StoreJKS    = "JKS"
	StorePKCS12 = "PKCS12"
	StoreBCFKS  = "BCFKS"
)

// Store is a key store or trust store: a file and how to read it. Only
// PEM files are read: ClientTLS refuses the other types.
type Store struct {
	// Location is the file (ssl.keyStore.location; "" if unset).
	Location string
	// Type is StorePEM, from ssl.keyStore.type (any case) or else the
	// file's extension (.pem), as Apache's KeyStoreFileType.
	Type string
	// Password decrypts an encrypted private key (ssl.keyStore.password,
	// or the file ssl.keyStore.passwordPath names, less one trailing
	// newline; the file wins). A PEM trust store needs none.
	Password string
	// Property is the location's property name, for messages.
	Property string
}

// Errorf returns an error about the store's file: its text names the
// location property and the file, then the problem.
func (s Store) Errorf(format string, args ...any) error {
	e := propError(s.Property, format, args...)
	e.Msg = s.Location + ": " + e.Msg
	return e
}

// ClientTLS is the TLS configuration of the secure client port, read from
// Apache ZooKeeper's zookeeper.ssl.* properties, or of the quorum and
// election ports (zookeeper.ssl.quorum.*, see Config.QuorumTLS).
type ClientTLS struct {
	// KeyStore holds the server's private key and certificate chain.
	KeyStore Store
	// TrustStore holds the CA certificates client certificates are
	// verified against; with no Location, the system's roots (as Java
	// falls back to its cacerts).
	TrustStore Store
	// ClientAuth is ssl.clientAuth (need, want or none; default need).
	ClientAuth ClientAuth
	// Protocol is ssl.protocol (default DefaultSSLProtocol).
	Protocol string
	// EnabledProtocols is ssl.enabledProtocols split at commas (default:
	// Protocol alone, as Apache).
	EnabledProtocols []string
	// CipherSuites is ssl.ciphersuites split at commas (nil: Apache's
	// default list).
	CipherSuites []string
	// HostnameVerification is ssl.hostnameVerification (default true): a
	// client checks that the server's certificate names the address it
	// connected to (for the quorum, see Config.QuorumTLS).
	HostnameVerification bool
	// ClientHostnameVerification makes the server check that a client
	// certificate names the client's address (ssl.clientHostnameVerification,
	// default false; off too when ssl.hostnameVerification is false).
	ClientHostnameVerification bool
	// SuperUser is the client certificate subject that is super user
	// (zookeeper.X509AuthenticationProvider.superUser; "" if unset).
	SuperUser string
}

// ClientTLS reads the configuration of the secure client port from the
// zookeeper.ssl.* properties. Errors name the property and, for a store,
// its file. Key and trust stores must be PEM files: a JKS, PKCS12 or
// BCFKS store is refused with the commands that convert it. Properties
// that ask for what this server cannot do (an SSLContext supplier class,
// revocation checking, another x509 authentication provider) are refused
// rather than ignored.
func (c *Config) ClientTLS() (*ClientTLS, error) {
	t, err := readTLS(c.Properties, "zookeeper.ssl.")
	if err != nil {
		return nil, err
	}
	t.ClientHostnameVerification = t.HostnameVerification &&
		javaBool(c.Properties, PropSSLClientHostnameVerification, false)
	t.SuperUser = c.Properties[PropX509SuperUser]
	if v := strings.TrimSpace(c.Properties[PropSSLAuthProvider]); v != "" && v != "x509" {
		return nil, propError(PropSSLAuthProvider,
			"%q: only the built-in x509 authentication provider is supported; remove the key", v)
	}
	return t, nil
}

// QuorumTLS reads the TLS configuration between the servers of an
// ensemble (sslQuorum=true) from the zookeeper.ssl.quorum.* properties
// (zoo.cfg ssl.quorum.keyStore.location and so on), with the rules of
// ClientTLS. As Apache's QuorumX509Util, ssl.quorum.hostnameVerification
// (default true) makes each side check that the other's certificate names
// its address; ClientHostnameVerification is the same switch. Every
// server presents the key store's certificate and trusts the trust store's
// CAs in both directions.
func (c *Config) QuorumTLS() (*ClientTLS, error) {
	t, err := readTLS(c.Properties, "zookeeper.ssl.quorum.")
	if err != nil {
		return nil, err
	}
	t.ClientHostnameVerification = t.HostnameVerification
	if t.KeyStore.Location == "" {
		return nil, &Error{Key: "sslQuorum", Msg: "is true but ssl.quorum.keyStore.location (zookeeper.ssl.quorum.keyStore.location) is not: " +
			"the quorum and election ports need a PEM file with the server's private key and certificate chain"}
	}
	if t.TrustStore.Location == "" {
		return nil, &Error{Key: "sslQuorum", Msg: "is true but ssl.quorum.trustStore.location (zookeeper.ssl.quorum.trustStore.location) is not: " +
			"servers verify each other's certificates against its CA certificates"}
	}
	return t, nil
}

// readTLS reads the TLS properties that start with prefix
// ("zookeeper.ssl." or "zookeeper.ssl.quorum.").
func readTLS(p map[string]string, prefix string) (*ClientTLS, error) {
	name := func(k string) string { return prefix + k }
	t := &ClientTLS{Protocol: DefaultSSLProtocol}
	var err error
	if t.KeyStore, err = readStore(p, name("keyStore.location"), name("keyStore.type"),
		name("keyStore.password"), name("keyStore.passwordPath"), true); err != nil {
		return nil, err
	}
	if t.TrustStore, err = readStore(p, name("trustStore.location"), name("trustStore.type"),
		name("trustStore.password"), name("trustStore.passwordPath"), false); err != nil {
		return nil, err
	}
	switch v := strings.TrimSpace(p[name("clientAuth")]); strings.ToUpper(v) {
	case "", "NEED":
		t.ClientAuth = ClientAuthNeed
	case "WANT":
		t.ClientAuth = ClientAuthWant
	case "NONE":
		t.ClientAuth = ClientAuthNone
	default:
		return nil, propError(name("clientAuth"), "%q is not a client auth mode; choose need, want or none", v)
	}
	if v, ok := p[name("protocol")]; ok && strings.TrimSpace(v) != "" {
		t.Protocol = strings.TrimSpace(v)
	}
	if v, ok := p[name("enabledProtocols")]; ok {
		t.EnabledProtocols = splitList(v)
		if len(t.EnabledProtocols) == 0 {
			return nil, propError(name("enabledProtocols"), "names no protocol")
		}
	} else {
		t.EnabledProtocols = []string{t.Protocol}
	}
	if v, ok := p[name("ciphersuites")]; ok {
		t.CipherSuites = splitList(v)
		if len(t.CipherSuites) == 0 {
			return nil, propError(name("ciphersuites"), "names no cipher suite")
		}
	}
	t.HostnameVerification = javaBool(p, name("hostnameVerification"), true)

	if v := strings.TrimSpace(p[name("context.supplier.class")]); v != "" {
		return nil, propError(name("context.supplier.class"),
			"%s: Java SSLContext supplier classes are not supported; configure the %skeyStore.* and %strustStore.* keys instead",
			v, strings.TrimPrefix(prefix, "zookeeper."), strings.TrimPrefix(prefix, "zookeeper."))
	}
	for _, k := range []string{name("crl"), name("ocsp")} {
		if javaBool(p, k, false) {
			return nil, propError(k, "certificate revocation checking is not supported; remove the key (or set it to false)")
		}
	}
	return t, nil
}

// readStore reads one store's properties. A key store needs a password
// only for an encrypted private key; a trust store's password is read
// and unused, as Apache does for PEM.
func readStore(p map[string]string, locKey, typeKey, pwKey, pwPathKey string, isKey bool) (Store, error) {
	s := Store{Location: strings.TrimSpace(p[locKey]), Property: locKey}
	if s.Location == "" {
		return s, nil
	}
	kind := "key store"
	if !isKey {
		kind = "trust store"
	}
	typ := strings.ToUpper(strings.TrimSpace(p[typeKey]))
	switch typ {
	case StorePEM, StoreJKS, StorePKCS12, StoreBCFKS:
	case "":
		switch filepath.Ext(s.Location) {
		case ".pem":
			typ = StorePEM
		case ".jks":
			typ = StoreJKS
		case ".p12":
			typ = StorePKCS12
		case ".bcfks":
			typ = StoreBCFKS
		default:
			return s, propError(locKey, "%s: cannot tell the %s type from the file name; set %s=PEM",
				s.Location, kind, typeKey)
		}
	default:
		return s, propError(typeKey, "%q is not a store type; only PEM is supported", p[typeKey])
	}
	if typ != StorePEM {
		return s, propError(locKey, "%s", unsupportedStore(s.Location, typ, kind, locKey, typeKey, isKey))
	}
	s.Type = typ
	s.Password = p[pwKey]
	if path := p[pwPathKey]; path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return s, propError(pwPathKey, "%v", err)
		}
		s.Password = strings.TrimSuffix(string(b), "\n")
	}
	return s, nil
}

// unsupportedStore explains that a store type is not read and how to
// convert the file to PEM.
func unsupportedStore(file, typ, kind, locKey, typeKey string, isKey bool) string {
	base := strings.TrimSuffix(file, filepath.Ext(file))
	p12 := base + ".p12"
	pem := base + ".pem"
	var how string
	switch {
	case typ == StorePKCS12 && isKey:
		how = fmt.Sprintf("openssl pkcs12 -in %s -nodes -out %s", file, pem)
	case typ == StorePKCS12:
		how = fmt.Sprintf("openssl pkcs12 -in %s -nokeys -out %s", file, pem)
	default:
		storeType := typ
		nodes := "-nodes"
		if !isKey {
			nodes = "-nokeys"
		}
		how = fmt.Sprintf("keytool -importkeystore -srckeystore %s -srcstoretype %s -destkeystore %s -deststoretype PKCS12, then openssl pkcs12 -in %s %s -out %s",
			file, storeType, p12, p12, nodes, pem)
	}
	return fmt.Sprintf("%s: %s %ss are not supported, only PEM; convert it with %s and set %s=%s and %s=PEM",
		file, typ, kind, how, strings.TrimPrefix(locKey, "zookeeper."), pem, strings.TrimPrefix(typeKey, "zookeeper."))
}

// propError is an error about a system property; its key reads as the
// zoo.cfg key and the property: "ssl.clientAuth (zookeeper.ssl.clientAuth)".
func propError(name, format string, args ...any) *Error {
	key := name
	if short, ok := strings.CutPrefix(name, "zookeeper."); ok {
		key = short + " (" + name + ")"
	}
	return &Error{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// splitList splits a comma-separated list, dropping blanks around and
// empty items.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// javaBool is ZKConfig.getBoolean: unset gives def, otherwise only "true"
// (any case, blanks trimmed) is true.
func javaBool(p map[string]string, name string, def bool) bool {
	v, ok := p[name]
	if !ok {
		return def
	}
	return strings.EqualFold(strings.TrimSpace(v), "true")
}
