package conf

import "strings"

// ParseJVMFlags returns the system properties set by the -Dname=value
// tokens of a JVM command line such as SERVER_JVMFLAGS ("-Xmx1g
// -Dzookeeper.snapCount=1000 -Djute.maxbuffer=4194304"). A later flag
// wins over an earlier one; -Dname alone sets name to ""; other tokens
// are ignored. Tokens are separated by white space; single or double
// quotes group a token and are removed.
func ParseJVMFlags(s string) map[string]string {
	m := map[string]string{}
	for _, kv := range parseJVMFlags(s) {
		m[kv[0]] = kv[1]
	}
	return m
}

// parseJVMFlags returns the -D flags of s as name, value pairs in order.
func parseJVMFlags(s string) [][2]string {
	var out [][2]string
	for _, tok := range splitShellWords(s) {
		rest, ok := strings.CutPrefix(tok, "-D")
		if !ok || rest == "" {
			continue
		}
		name, value, _ := strings.Cut(rest, "=")
		if name == "" {
			continue
		}
		out = append(out, [2]string{name, value})
	}
	return out
}

// splitShellWords splits s at unquoted white space, removing the quotes.
func splitShellWords(s string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote = r
			inWord = true
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}
