package shell

import (
	"reflect"
	"strings"
	"testing"

	"github.com/zkgo/zkgo/wire"
)

func TestSplitLine(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"ls /", []string{"ls", "/"}},
		{"  create   /a  b ", []string{"create", "/a", "b"}},
		{`create /a "two words" acl`, []string{"create", "/a", "two words", "acl"}},
		{`set /a 'it is'`, []string{"set", "/a", "it is"}},
		{`set /a a"b c"`, []string{"set", "/a", `a"b`, `c"`}},
		{`set /a "abc"def`, []string{"set", "/a", "abc", "def"}},
		{`set /a "unterminated`, []string{"set", "/a", "unterminated"}},
		{`set /a ""`, []string{"set", "/a", ""}},
		{"", nil},
	} {
		if got := words(splitLine(tc.line)); !reflect.DeepEqual(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("splitLine(%q) = %q, want %q", tc.line, got, tc.want)
		}
	}
}

func TestParseArgs(t *testing.T) {
	specs := []optSpec{{"s", false, "stats"}, {"w", false, "watch"}, {"v", true, "version"}, {"file", true, "file"}}
	for _, tc := range []struct {
		words []string
		args  []string
		opts  map[string][]string
		err   string
	}{
		{[]string{"get", "-s", "/a"}, []string{"get", "/a"}, map[string][]string{"s": nil}, ""},
		{[]string{"get", "/a", "-s"}, []string{"get", "/a"}, map[string][]string{"s": nil}, ""},
		{[]string{"get", "-sw", "/a"}, []string{"get", "/a"}, map[string][]string{"s": nil, "w": nil}, ""},
		{[]string{"set", "-v", "3", "/a", "d"}, []string{"set", "/a", "d"}, map[string][]string{"v": {"3"}}, ""},
		{[]string{"set", "-v3", "/a"}, []string{"set", "/a"}, map[string][]string{"v": {"3"}}, ""},
		{[]string{"set", "-sv3", "/a"}, []string{"set", "/a"}, map[string][]string{"s": nil, "v": {"3"}}, ""},
		{[]string{"set", "-v=4", "/a"}, []string{"set", "/a"}, map[string][]string{"v": {"4"}}, ""},
		{[]string{"set", "-v", "-1", "/a"}, []string{"set", "/a"}, map[string][]string{"v": {"-1"}}, ""},
		{[]string{"r", "-file", "f"}, []string{"r"}, map[string][]string{"file": {"f"}}, ""},
		{[]string{"set", "/a", "--", "-s"}, []string{"set", "/a", "-s"}, map[string][]string{}, ""},
		{[]string{"set", "/a", "-"}, []string{"set", "/a", "-"}, map[string][]string{}, ""},
		{[]string{"get", "-x", "/a"}, nil, nil, "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -x"},
		{[]string{"get", "-sx", "/a"}, nil, nil, "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -sx"},
		{[]string{"get", "--all"}, nil, nil, "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: --all"},
		{[]string{"set", "/a", "-1"}, nil, nil, "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -1"},
		{[]string{"set", "-v"}, nil, nil, "org.apache.commons.cli.MissingArgumentException: Missing argument for option: v"},
		{[]string{"set", "-v", "-s"}, nil, nil, "org.apache.commons.cli.MissingArgumentException: Missing argument for option: v"},
	} {
		p, err := parseArgs(tc.words, specs, nil)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("parseArgs(%q): error %v, want %q", tc.words, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseArgs(%q): %v", tc.words, err)
			continue
		}
		if !reflect.DeepEqual(p.args, tc.args) || !reflect.DeepEqual(p.opts, tc.opts) {
			t.Errorf("parseArgs(%q) = %q %q, want %q %q", tc.words, p.args, p.opts, tc.args, tc.opts)
		}
	}
}

func TestParseArgsGroups(t *testing.T) {
	c := commands["setquota"]
	if _, err := parseArgs([]string{"setquota", "-n", "1", "-B", "2", "/a"}, c.specs, c.groups); err == nil ||
		err.Error() != "org.apache.commons.cli.AlreadySelectedException: The option 'B' was specified but an option from this group has already been selected: 'n'" {
		t.Errorf("two options of a group: %v", err)
	}
	if _, err := parseArgs([]string{"setquota", "/a"}, c.specs, c.groups); err == nil ||
		err.Error() != "org.apache.commons.cli.MissingOptionException: Missing required option: [-n num soft quota, -b bytes soft quota, -N num hard quota, -B bytes hard quota]" {
		t.Errorf("required group missing: %v", err)
	}
	if _, err := parseArgs([]string{"setquota", "-n", "1", "-n", "2", "/a"}, c.specs, c.groups); err != nil {
		t.Errorf("the same option twice: %v", err)
	}
}

func TestStatsTrack(t *testing.T) {
	for in, want := range map[string]string{
		"count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1": "count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1",
		"count=0,bytes=0":                   "count=0,bytes=0",
		"count=2,bytes=10;countHardLimit=3": "count=2,bytes=10=;countHardLimit=3",
		"":                                  "count=-1,bytes=-1",
		"bytes=7":                           "count=-1,bytes=7",
	} {
		if got := parseStatsTrack([]byte(in)).String(); got != want {
			t.Errorf("statsTrack(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClientConfigString(t *testing.T) {
	cfg := "server.2=h2:2888:3888:participant;127.0.0.1:2182\nserver.1=h1:2888:3888:participant;2181\nserver.3=h3:2888:3888:observer\nversion=100000000\n"
	if got, want := clientConfigString(cfg), "100000000 0.0.0.0:2181,127.0.0.1:2182,"; got != want {
		t.Errorf("clientConfigString = %q, want %q", got, want)
	}
	if got := clientConfigString(""); got != " " {
		t.Errorf("empty config: %q", got)
	}
}

func TestIDString(t *testing.T) {
	if got := idString(wireID("digest", "u:a,b%c}")); got != "'digest,'u:a%2Cb%25c%7D\n" {
		t.Errorf("idString = %q", got)
	}
	if got := permString(31); got != "cdrwa" {
		t.Errorf("permString(31) = %q", got)
	}
	if got := permString(5); got != "cr" {
		t.Errorf("permString(5) = %q", got)
	}
}

func TestParseACL(t *testing.T) {
	var errs strings.Builder
	acl := parseACL(&errs, "world:anyone:rz,bad,digest:u:h:cd")
	if len(acl) != 2 || acl[0].ID.Scheme != "world" || acl[0].Perms != 1 || acl[1].ID.ID != "u:h" || acl[1].Perms != 12 {
		t.Errorf("parseACL = %+v", acl)
	}
	if got, want := errs.String(), "Unknown perm type: z\nbad does not have the form scheme:id:perm\n"; got != want {
		t.Errorf("messages %q, want %q", got, want)
	}
}

func TestRedirection(t *testing.T) {
	for _, tc := range []struct {
		line, target string
		app, ok      bool
		rest         []string
	}{
		{"dump /a > f.json", "f.json", false, true, []string{"dump", "/a"}},
		{"tree /a >> f", "f", true, true, []string{"tree", "/a"}},
		{"ls / >out", "out", false, true, []string{"ls", "/"}},
		{"set /a >", "", false, false, nil},
		{"create /a > b", "", false, false, nil},
		{`ls / ">" x`, "", false, false, nil},
	} {
		target, app, rest, ok := redirection(splitLine(tc.line))
		if target != tc.target || app != tc.app || ok != tc.ok || !reflect.DeepEqual(rest, tc.rest) {
			t.Errorf("redirection(%q) = %q %v %q %v", tc.line, target, app, rest, ok)
		}
	}
}

func TestRemap(t *testing.T) {
	for _, tc := range [][4]string{
		{"/a/b", "/a", "/c", "/c/b"},
		{"/a", "/a", "/c", "/c"},
		{"/a/b", "/", "/c", "/c/a/b"},
		{"/a/b", "/a", "/", "/b"},
		{"/a", "/a", "/a", "/a"},
	} {
		if got := remap(tc[0], tc[1], tc[2]); got != tc[3] {
			t.Errorf("remap(%q, %q, %q) = %q, want %q", tc[0], tc[1], tc[2], got, tc[3])
		}
	}
}

func wireID(scheme, id string) wire.Id { return wire.Id{Scheme: scheme, ID: id} }
