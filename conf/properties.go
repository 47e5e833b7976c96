package conf

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/spf13/viper"
)

// property is one key=value pair of a Java properties file, with the
// number of the line (1-based) its logical line starts on.
type property struct {
	Key, Value string
	Line       int
}

// parseProperties reads data with the syntax of java.util.Properties.load:
// natural lines end in \n, \r or \r\n; leading blanks (space, tab, form
// feed) are skipped; a line whose first non-blank is '#' or '!' is a
// comment; an odd number of trailing backslashes joins the next line (its
// leading blanks dropped); the key ends at the first unescaped '=', ':' or
// blank, and one '=' or ':' plus the blanks around it separate it from the
// value; \uXXXX, \t, \n, \r, \f are escapes and a backslash before any
// other character stands for that character. Every occurrence is
// returned in file order (the caller decides that the last one wins).
//
// Unlike Java, which reads the bytes as ISO-8859-1, the file is taken as
// UTF-8, and a leading UTF-8 byte order mark is skipped.
func parseProperties(data []byte) ([]property, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var out []property
	line := 0 // number of the natural line last read
	pos := 0
	// next returns the next natural line without its terminator.
	next := func() (string, bool) {
		if pos >= len(data) {
			return "", false
		}
		line++
		i := pos
		for i < len(data) && data[i] != '\n' && data[i] != '\r' {
			i++
		}
		s := string(data[pos:i])
		if i < len(data) {
			if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
				i++
			}
			i++
		}
		pos = i
		return s, true
	}
	for {
		natural, ok := next()
		if !ok {
			break
		}
		s := trimBlanks(natural)
		if s == "" || s[0] == '#' || s[0] == '!' {
			continue
		}
		start := line
		var logical strings.Builder
		for {
			if continues(s) {
				logical.WriteString(s[:len(s)-1])
				more, ok := next()
				if !ok {
					break
				}
				s = trimBlanks(more)
				continue
			}
			logical.WriteString(s)
			break
		}
		key, value, err := splitProperty(logical.String())
		if err != nil {
			return nil, &Error{Line: start, Key: key, Msg: err.Error()}
		}
		out = append(out, property{Key: key, Value: value, Line: start})
	}
	return out, nil
}

// isBlank reports whether c is one of the blanks of the properties syntax.
func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\f' }

// trimBlanks drops the leading blanks of s.
func trimBlanks(s string) string {
	i := 0
	for i < len(s) && isBlank(s[i]) {
		i++
	}
	return s[i:]
}

// continues reports whether s ends in an odd number of backslashes.
func continues(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// splitProperty splits one logical line into its unescaped key and value.
func splitProperty(s string) (key, value string, err error) {
	i := 0
	for i < len(s) {
		c := s[i]
		if c == '\\' {
			i += 2
			continue
		}
		if c == '=' || c == ':' || isBlank(c) {
			break
		}
		i++
	}
	if i > len(s) {
		i = len(s)
	}
	rawKey := s[:i]
	j := i
	for j < len(s) && isBlank(s[j]) {
		j++
	}
	if j < len(s) && (s[j] == '=' || s[j] == ':') {
		j++
	}
	for j < len(s) && isBlank(s[j]) {
		j++
	}
	key, err = unescape(rawKey)
	if err != nil {
		return rawKey, "", err
	}
	value, err = unescape(s[j:])
	return key, value, err
}

// unescape resolves the backslash escapes of the properties syntax.
func unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	var units []uint16 // pending UTF-16 code units from \u escapes
	flush := func() {
		if len(units) > 0 {
			b.WriteString(string(utf16.Decode(units)))
			units = units[:0]
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			flush()
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			break // a lone trailing backslash stands for nothing
		}
		switch s[i] {
		case 'u':
			if len(s)-(i+1) < 4 {
				return "", errors.New(`malformed \uXXXX escape`)
			}
			var u uint16
			for _, h := range []byte(s[i+1 : i+5]) {
				d, ok := hexDigit(h)
				if !ok {
					return "", fmt.Errorf(`malformed \uXXXX escape %q`, s[i-1:i+5])
				}
				u = u<<4 | uint16(d)
			}
			units = append(units, u)
			i += 4
			continue
		case 't':
			c = '\t'
		case 'n':
			c = '\n'
		case 'r':
			c = '\r'
		case 'f':
			c = '\f'
		default:
			flush()
			_, size := utf8.DecodeRuneInString(s[i:])
			b.WriteString(s[i : i+size])
			i += size - 1
			continue
		}
		flush()
		b.WriteByte(c)
	}
	flush()
	return b.String(), nil
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// escapeProperty writes s so that parseProperties reads it back; isKey
// also escapes the separators and every blank.
func escapeProperty(s string, isKey bool) string {
	var b strings.Builder
	for i, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\f':
			b.WriteString(`\f`)
		case '=', ':', '#', '!':
			if isKey || (i == 0 && (r == '#' || r == '!')) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		case ' ':
			if isKey || i == 0 {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// PropertiesCodec is a viper codec for Java properties files (zoo.cfg):
// register it with viper.NewCodecRegistry under "properties". Decode
// yields one flat entry per key (viper's key delimiter must not occur in
// keys, see [NewViper]) and keeps what viper cannot: the keys in their
// original case, in file order, with their line numbers.
type PropertiesCodec struct {
	props []property
}

// Decode implements viper.Decoder. A syntax error is an *Error whose Line
// is set and whose File is empty.
func (c *PropertiesCodec) Decode(b []byte, v map[string]any) error {
	props, err := parseProperties(b)
	if err != nil {
		return err
	}
	c.props = props
	for _, p := range props {
		v[p.Key] = p.Value
	}
	return nil
}

// Encode implements viper.Encoder: one key=value line per key, sorted,
// escaped so that Decode reads the same map back.
func (c *PropertiesCodec) Encode(v map[string]any) ([]byte, error) {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", escapeProperty(k, true), escapeProperty(fmt.Sprint(v[k]), false))
	}
	return b.Bytes(), nil
}

// keyDelimiter is the viper key delimiter used for properties files: a
// byte that cannot occur in a key, so "server.1" or "jute.maxbuffer" and
// "jute.maxbuffer.extrasize" stay flat, distinct keys.
const keyDelimiter = "\x00"

// NewViper returns a viper instance that reads Java properties files
// through codec: flat keys (no nesting on '.'), config type "properties".
func NewViper(codec *PropertiesCodec) *viper.Viper {
	reg := viper.NewCodecRegistry()
	for _, ext := range []string{"properties", "props", "prop"} {
		_ = reg.RegisterCodec(ext, codec) // never fails
	}
	v := viper.NewWithOptions(viper.WithCodecRegistry(reg), viper.KeyDelimiter(keyDelimiter))
	v.SetConfigType("properties")
	return v
}

// readPropertiesFile reads path through viper and returns its properties
// in file order, each key once (the last occurrence wins, as in Java),
// plus the keys that occur more than once.
func readPropertiesFile(path string) ([]property, []property, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, nil, &Error{File: path, Msg: fileErrMsg(err)}
	}
	codec := &PropertiesCodec{}
	v := NewViper(codec)
	v.SetConfigFile(path)
	if err := v.ReadInConfig(); err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.File = path
			return nil, nil, e
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, nil, &Error{File: path, Msg: fileErrMsg(pe)}
		}
		return nil, nil, &Error{File: path, Msg: err.Error()}
	}
	props, dups := dedupe(codec.props)
	return props, dups, nil
}

// dedupe keeps the last occurrence of each key, in file order, and
// returns the earlier occurrences that were dropped.
func dedupe(props []property) (kept, dropped []property) {
	last := make(map[string]int, len(props))
	for i, p := range props {
		last[p.Key] = i
	}
	for i, p := range props {
		if last[p.Key] == i {
			kept = append(kept, p)
		} else {
			dropped = append(dropped, p)
		}
	}
	return kept, dropped
}

// fileErrMsg words an error from opening or reading a file.
func fileErrMsg(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
