package auth

import (
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/zkgo/zkgo/wire"
)

// The x509 scheme: a client that presents a certificate on the secure
// client port is known by the certificate's subject, written the way
// Apache's X509AuthenticationProvider writes it (Java's
// X500Principal.getName(), an RFC 2253 string such as
// "CN=client,OU=test,O=zkgo"). An ACL id "x509:<DN>" matches that string
// exactly: no normalization, so "cn=client, ou=test" is a valid ACL id
// that no certificate ever matches, as in Apache ZooKeeper.

// x509ATV is one AttributeTypeAndValue of a distinguished name. The value
// is kept raw: its ASN.1 string type decides how it is written.
type x509ATV struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

// x509RDNSET is one RelativeDistinguishedName (a SET OF; encoding/asn1
// reads a slice type whose name ends in SET as SET OF). The order of its
// members is kept as encoded, as Java does.
type x509RDNSET []x509ATV

// rfc2253Keywords are the attribute types Java writes by name in RFC 2253
// form; every other type is written as its dotted OID with a hex value.
var rfc2253Keywords = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.9":                    "STREET",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"0.9.2342.19200300.100.1.25": "DC",
	"0.9.2342.19200300.100.1.1":  "UID",
}

// ASN.1 universal tags of the string types Java writes as text.
const (
	tagUTF8String      = 12
	tagPrintableString = 19
	tagT61String       = 20
	tagIA5String       = 22
	tagGeneralString   = 27
	tagBMPString       = 30
)

// X509Name returns the distinguished name encoded in rawName (a DER
// Name, such as x509.Certificate.RawSubject) as Java's
// X500Principal.getName() writes it:
//
//   - relative names last to first, separated by ',', the attributes of a
//     multi-valued one in their encoded order, separated by '+';
//   - CN, C, L, ST, STREET, O, OU, DC and UID by name, any other type
//     (emailAddress, serialNumber, title, ...) as its dotted OID;
//   - a value of UTF8String, PrintableString, IA5String, T61String,
//     GeneralString or BMPString type as its bytes decoded as UTF-8 (Java
//     decodes all of them so), with ',', '=', '+', '<', '>', '#', ';',
//     '"' and '\' escaped by a backslash, NUL written as "\00", and
//     leading and trailing spaces and carriage returns escaped; a value of
//     any other type, or of a type written as an OID, as '#' and the hex
//     of its DER encoding.
//
// An empty name gives "".
func X509Name(rawName []byte) (string, error) {
	var rdns []x509RDNSET
	rest, err := asn1.Unmarshal(rawName, &rdns)
	if err != nil {
		return "", err
	}
	if len(rest) > 0 {
		return "", errors.New("x509: trailing data after the distinguished name")
	}
	var b strings.Builder
	for i := len(rdns) - 1; i >= 0; i-- {
		if i < len(rdns)-1 {
			b.WriteByte(',')
		}
		for j, atv := range rdns[i] {
			if j > 0 {
				b.WriteByte('+')
			}
			writeATV(&b, atv)
		}
	}
	return b.String(), nil
}

func writeATV(b *strings.Builder, atv x509ATV) {
	oid := atv.Type.String()
	keyword, named := rfc2253Keywords[oid]
	if !named {
		keyword = oid
	}
	b.WriteString(keyword)
	b.WriteByte('=')
	v := atv.Value
	if !named || !javaTextTag(v) {
		b.WriteByte('#')
		b.WriteString(hex.EncodeToString(v.FullBytes))
		return
	}
	var esc strings.Builder
	for _, r := range javaUTF8(v.Bytes) {
		switch {
		case strings.ContainsRune(",=+<>#;\"\\", r):
			esc.WriteByte('\\')
			esc.WriteRune(r)
		case r == 0:
			esc.WriteString(`\00`)
		default:
			esc.WriteRune(r)
		}
	}
	s := esc.String()
	// Leading and trailing spaces and carriage returns get a backslash
	// each; the rest is written as is.
	lead := 0
	for lead < len(s) && (s[lead] == ' ' || s[lead] == '\r') {
		lead++
	}
	trail := len(s)
	for trail > lead && (s[trail-1] == ' ' || s[trail-1] == '\r') {
		trail--
	}
	for i := 0; i < lead; i++ {
		b.WriteByte('\\')
		b.WriteByte(s[i])
	}
	b.WriteString(s[lead:trail])
	for i := trail; i < len(s); i++ {
		b.WriteByte('\\')
		b.WriteByte(s[i])
	}
}

// javaTextTag reports whether Java writes a value of v's type as text.
func javaTextTag(v asn1.RawValue) bool {
	if v.Class != asn1.ClassUniversal || v.IsCompound {
		return false
	}
	switch v.Tag {
	case tagUTF8String, tagPrintableString, tagT61String, tagIA5String, tagGeneralString, tagBMPString:
		return true
	}
	return false
}

// javaUTF8 decodes b as Java's new String(b, UTF_8) does, including where
// b is not valid UTF-8: each malformed sequence becomes one U+FFFD, where
// a sequence ends is decided as Java's decoder decides it, and a sequence
// cut short by the end of b ends the string with one U+FFFD.
func javaUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	cont := func(c byte) bool { return c&0xc0 == 0x80 }
	var sb strings.Builder
	const repl = utf8.RuneError
	i := 0
	for i < len(b) {
		c := b[i]
		i++
		switch {
		case c < 0x80:
			sb.WriteByte(c)
		case c >= 0xc2 && c <= 0xdf: // two bytes
			if i == len(b) {
				sb.WriteRune(repl)
				return sb.String()
			}
			if !cont(b[i]) {
				sb.WriteRune(repl)
				continue
			}
			sb.WriteRune(rune(c&0x1f)<<6 | rune(b[i]&0x3f))
			i++
		case c >= 0xe0 && c <= 0xef: // three bytes
			if i+1 < len(b) {
				c2, c3 := b[i], b[i+1]
				if (c == 0xe0 && c2&0xe0 == 0x80) || !cont(c2) || !cont(c3) {
					sb.WriteRune(repl)
					if (c == 0xe0 && c2&0xe0 == 0x80) || !cont(c2) {
						continue // only the lead byte is malformed
					}
					i++ // the lead and its one continuation byte
					continue
				}
				i += 2
				r := rune(c&0x0f)<<12 | rune(c2&0x3f)<<6 | rune(c3&0x3f)
				if r >= 0xd800 && r <= 0xdfff {
					r = repl
				}
				sb.WriteRune(r)
				continue
			}
			sb.WriteRune(repl)
			if i < len(b) && ((c == 0xe0 && b[i]&0xe0 == 0x80) || !cont(b[i])) {
				continue
			}
			return sb.String()
		case c >= 0xf0 && c <= 0xf7: // four bytes
			bad2 := func(c2 byte) bool {
				return (c == 0xf0 && (c2 < 0x90 || c2 > 0xbf)) || (c == 0xf4 && c2&0xf0 != 0x80) || !cont(c2)
			}
			if i+2 < len(b) {
				c2, c3, c4 := b[i], b[i+1], b[i+2]
				r := rune(c&0x07)<<18 | rune(c2&0x3f)<<12 | rune(c3&0x3f)<<6 | rune(c4&0x3f)
				if !cont(c2) || !cont(c3) || !cont(c4) || r < 0x10000 || r > 0x10ffff {
					sb.WriteRune(repl)
					switch {
					case c > 0xf4 || bad2(c2):
					case !cont(c3):
						i++
					default:
						i += 2
					}
					continue
				}
				sb.WriteRune(r)
				i += 3
				continue
			}
			sb.WriteRune(repl)
			if c > 0xf4 || (i < len(b) && bad2(b[i])) {
				continue
			}
			i++
			if i < len(b) && !cont(b[i]) {
				continue
			}
			return sb.String()
		default: // a stray continuation byte, 0xc0, 0xc1, 0xf8..0xff
			sb.WriteRune(repl)
		}
	}
	return sb.String()
}

// X509Identities returns the identities of a client whose certificate
// subject is rawSubject, as Apache's X509AuthenticationProvider adds them:
// {"super", DN} first when DN is superUser (the property
// zookeeper.X509AuthenticationProvider.superUser; "" means unset), then
// {"x509", DN}.
func X509Identities(rawSubject []byte, superUser string) ([]wire.Id, error) {
	dn, err := X509Name(rawSubject)
	if err != nil {
		return nil, err
	}
	ids := make([]wire.Id, 0, 2)
	if superUser != "" && dn == superUser {
		ids = append(ids, wire.Id{Scheme: "super", ID: dn})
	}
	return append(ids, wire.Id{Scheme: "x509", ID: dn}), nil
}

// x500Keywords are the attribute names Java's X500Principal(String)
// accepts (upper case): RFC 1779, RFC 2253 and its own extras.
var x500Keywords = map[string]bool{
	"CN": true, "C": true, "L": true, "S": true, "ST": true, "O": true, "OU": true,
	"T": true, "IP": true, "STREET": true, "DC": true, "DNQUALIFIER": true, "DNQ": true,
	"SURNAME": true, "GIVENNAME": true, "INITIALS": true, "GENERATION": true,
	"EMAIL": true, "EMAILADDRESS": true, "UID": true, "SERIALNUMBER": true,
}

// ValidX509ID reports whether id is a valid x509 ACL id:
// X509AuthenticationProvider.isValid, which accepts what Java's
// X500Principal(String) parses. That is "" or relative names separated by
// ',' or ';', each made of type=value pairs joined by '+'; a type is one
// of Java's keywords (any case) or a dotted OID (optionally "OID."); a
// value is a '#' and the hex of one DER value, a quoted string, or text
// in which '"', '<' and '>' must be escaped and a backslash escapes one of
// ,=+<>#;"\ or space, or stands before two hex digits.
func ValidX509ID(id string) bool {
	if id == "" {
		return true
	}
	s := id
	for {
		eq := strings.IndexByte(s, '=')
		if eq < 0 || !validX500Keyword(s[:eq]) {
			return false
		}
		n, ok := scanX500Value(s[eq+1:])
		if !ok {
			return false
		}
		s = s[eq+1+n:]
		if s == "" {
			return true
		}
		s = s[1:] // the separator: ',', ';' or '+'
		if s == "" {
			return false
		}
	}
}

// validX500Keyword reports whether kw names an attribute type.
func validX500Keyword(kw string) bool {
	kw = strings.ToUpper(strings.TrimFunc(kw, func(r rune) bool { return r <= ' ' }))
	if x500Keywords[kw] {
		return true
	}
	kw = strings.TrimPrefix(kw, "OID.")
	parts := strings.Split(kw, ".")
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	first := strings.TrimLeft(parts[0], "0")
	if len(first) > 1 || (first != "" && first[0] > '2') {
		return false
	}
	if first != "2" {
		// Under arcs 0 and 1 the second arc is at most 39.
		second := strings.TrimLeft(parts[1], "0")
		if len(second) > 2 || (len(second) == 2 && second > "39") {
			return false
		}
	}
	return true
}

// scanX500Value scans one attribute value at the start of s and returns
// its length: it ends at an unescaped, unquoted ',', ';' or '+', or at
// the end of s.
func scanX500Value(s string) (int, bool) {
	i := 0
	for i < len(s) && s[i] == ' ' {
		i++
	}
	end := func(j int) bool { return j == len(s) || strings.IndexByte(",;+", s[j]) >= 0 }
	switch {
	case i < len(s) && s[i] == '#':
		j := i + 1
		for j < len(s) && isHex(s[j]) {
			j++
		}
		if !end(j) {
			return 0, false
		}
		der, err := hex.DecodeString(s[i+1 : j])
		if err != nil || len(der) == 0 {
			return 0, false
		}
		var v asn1.RawValue
		if rest, err := asn1.Unmarshal(der, &v); err != nil || len(rest) > 0 {
			return 0, false
		}
		return j, true
	case i < len(s) && s[i] == '"':
		j := i + 1
		for {
			if j == len(s) {
				return 0, false
			}
			if s[j] == '"' {
				break
			}
			if s[j] == '\\' {
				n, ok := x500Escape(s[j:])
				if !ok {
					return 0, false
				}
				j += n
				continue
			}
			j++
		}
		j++
		for j < len(s) && s[j] == ' ' {
			j++
		}
		if !end(j) {
			return 0, false
		}
		return j, true
	}
	j := i
	for !end(j) {
		switch s[j] {
		case '\\':
			n, ok := x500Escape(s[j:])
			if !ok {
				return 0, false
			}
			j += n
		case '"', '<', '>':
			return 0, false
		default:
			j++
		}
	}
	return j, true
}

// x500Escape checks the escape at the start of s (a backslash) and
// returns its length.
func x500Escape(s string) (int, bool) {
	if len(s) < 2 {
		return 0, false
	}
	if strings.IndexByte(",=+<>#;\"\\ ", s[1]) >= 0 {
		return 2, true
	}
	if len(s) >= 3 && isHex(s[1]) && isHex(s[2]) {
		return 3, true
	}
	return 0, false
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}
