package shell

import (
	"fmt"
	"regexp"
	"strings"
)

// token is one word of a command line; quoted tells whether it was written
// in quotes (a quoted ">" is data, not a redirection).
type token struct {
	text   string
	quoted bool
}

// argsPattern is zkCli.sh's word pattern: a word not starting with a quote
// runs to the next blank; a quoted word runs to its closing quote.
var argsPattern = regexp.MustCompile(`\s*([^"'\s]\S*|"[^"]*"|'[^']*')\s*`)

// splitLine breaks a command line into words as zkCli.sh does, removing the
// quotes around a quoted word.
func splitLine(line string) []token {
	var out []token
	for _, m := range argsPattern.FindAllStringSubmatch(line, -1) {
		v := m[1]
		q := false
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
			q = true
		}
		out = append(out, token{text: v, quoted: q})
	}
	return out
}

// words returns the texts of tokens.
func words(ts []token) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.text
	}
	return out
}

// optSpec describes one option of a command, as Apache Commons CLI's Option
// does for zkCli.sh.
type optSpec struct {
	name   string
	hasArg bool
	desc   string
}

// optGroup is a set of mutually exclusive options (an OptionGroup).
type optGroup struct {
	names    []string
	required bool
}

// parsed is a parsed command line: the positional words (the command name
// first, as in zkCli.sh) and the options given.
type parsed struct {
	args   []string
	opts   map[string][]string
	order  []string
	tokens []string // the words as given, for zkCli.sh's compatibility rewrites
}

func (p *parsed) has(name string) bool { _, ok := p.opts[name]; return ok }

// value returns the first value of an option with an argument.
func (p *parsed) value(name string) string {
	if v := p.opts[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// parseError is a command line Commons CLI would refuse; its message is the
// exception's, class name included, as zkCli.sh prints it.
type parseError struct {
	class, msg string
}

func (e *parseError) Error() string { return "org.apache.commons.cli." + e.class + ": " + e.msg }

// parseArgs parses words with Commons CLI's DefaultParser rules: options
// may come anywhere, "-abc" may be several flags or "-vVALUE", "--" ends
// the options, and a word that looks like an unknown option is an error.
func parseArgs(words []string, specs []optSpec, groups []optGroup) (*parsed, error) {
	byName := map[string]optSpec{}
	for _, s := range specs {
		byName[s.name] = s
	}
	p := &parsed{opts: map[string][]string{}, tokens: append([]string(nil), words...)}
	groupOf := map[string]int{}
	for i, g := range groups {
		for _, n := range g.names {
			groupOf[n] = i
		}
	}
	selected := map[int]string{}
	var pending string // option waiting for its argument
	add := func(name string) error {
		if gi, ok := groupOf[name]; ok {
			if sel, ok := selected[gi]; ok && sel != name {
				return &parseError{"AlreadySelectedException", fmt.Sprintf(
					"The option '%s' was specified but an option from this group has already been selected: '%s'", name, sel)}
			}
			selected[gi] = name
		}
		if _, ok := p.opts[name]; !ok {
			p.order = append(p.order, name)
			p.opts[name] = nil
		}
		return nil
	}
	isOption := func(w string) bool {
		if !strings.HasPrefix(w, "-") || len(w) < 2 {
			return false
		}
		if strings.HasPrefix(w, "--") {
			return false // no long options
		}
		name, _, _ := strings.Cut(w[1:], "=")
		if _, ok := byName[name]; ok {
			return true
		}
		_, ok := byName[name[:1]]
		return name != "" && ok
	}
	skip := false
	for _, w := range words {
		if pending != "" {
			if !isOption(w) || isNegativeNumber(w) {
				p.opts[pending] = append(p.opts[pending], w)
				pending = ""
				continue
			}
			return nil, &parseError{"MissingArgumentException", "Missing argument for option: " + pending}
		}
		switch {
		case skip || w == "-" || !strings.HasPrefix(w, "-"):
			p.args = append(p.args, w)
		case w == "--":
			skip = true
		case strings.HasPrefix(w, "--"):
			return nil, &parseError{"UnrecognizedOptionException", "Unrecognized option: " + w}
		default:
			t := w[1:]
			if s, ok := byName[t]; ok {
				if err := add(t); err != nil {
					return nil, err
				}
				if s.hasArg {
					pending = t
				}
				continue
			}
			if name, val, ok := strings.Cut(t, "="); ok {
				if s, ok := byName[name]; ok && s.hasArg {
					if err := add(name); err != nil {
						return nil, err
					}
					p.opts[name] = append(p.opts[name], val)
					continue
				}
			}
			if len(t) == 1 {
				return nil, &parseError{"UnrecognizedOptionException", "Unrecognized option: " + w}
			}
			// Concatenated flags, or a flag followed by its value.
			for i := 0; i < len(t); i++ {
				s, ok := byName[t[i:i+1]]
				if !ok {
					return nil, &parseError{"UnrecognizedOptionException", "Unrecognized option: " + w}
				}
				if err := add(s.name); err != nil {
					return nil, err
				}
				if s.hasArg {
					if i+1 < len(t) {
						p.opts[s.name] = append(p.opts[s.name], t[i+1:])
					} else {
						pending = s.name
					}
					break
				}
			}
		}
	}
	if pending != "" {
		return nil, &parseError{"MissingArgumentException", "Missing argument for option: " + pending}
	}
	for gi, g := range groups {
		if _, ok := selected[gi]; g.required && !ok {
			var parts []string
			for _, n := range g.names {
				parts = append(parts, "-"+n+" "+byName[n].desc)
			}
			return nil, &parseError{"MissingOptionException", "Missing required option: [" + strings.Join(parts, ", ") + "]"}
		}
	}
	return p, nil
}

var negativeNumber = regexp.MustCompile(`^-\d+(\.\d+)?$`)

func isNegativeNumber(w string) bool { return negativeNumber.MatchString(w) }
