package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/zkgo/zkgo/test/harness"
)

// Differential tests: the same commands through Apache ZooKeeper's zkCli.sh
// and through zkcli, against the same server, must print the same lines
// (zxids, times and session ids masked) and exit with the same code.
//
// Scripts run with standard input as the command source (both shells then
// read one command a line without prompts), each shell under its own root
// $R so that they start from the same state; $R is masked in the outputs.

// scenarios are scripts; $R is the shell's root, $ADDR the server. zkCli.sh
// prints watch events from another thread, after the command that caused
// them; a script ends with a few round trips after its last event so that
// zkCli.sh has printed it before it exits.
var scenarios = map[string]string{
	"basic": `
create $R
create $R/a hello
create $R/a again
create $R/b
get $R/a
get -s $R/a
get $R/b
get $R/nope
set $R/a world
set -s $R/a world2
set -v 99 $R/a x
set -v 2 $R/a x
stat $R/a
stat $R/nope
ls $R
ls -s $R
create $R/a/c
create $R/a/d "two words"
get $R/a/d
ls -R $R
ls -R $R/nope
ls $R/nope
delete $R/a
delete -v 5 $R/a/c
delete -v 0 $R/a/c
delete $R/nope
deleteall $R/nope
deleteall $R/a -b 1
ls $R
deleteall $R
ls $R
`,
	"modes": `
create $R
create -s $R/s- one
create -s $R/s- two
create -e $R/e
create -e -s $R/es-
create -c $R/c
create -t 5000 $R/t
create -s -t 5000 $R/st-
create -t 0 $R/bad
create -t abc $R/bad
create -e -t 10 $R/bad
create -c -t 10 $R/bad
create -c -e $R/bad
create -e $R/e/child
create -s $R/dir/
ls $R
stat $R/e
stat $R/c
getEphemerals $R/es-
getEphemerals $R/nope
getAllChildrenNumber $R
getAllChildrenNumber $R/nope
getAllChildrenNumber
`,
	"badinput": `
create $R
create
create -x $R/x
create a
create $R/
create $R//b
create $R/./b
create $R/../b
ls
ls $R extra
get $R extra
stat $R extra
get
set $R
get -s -s $R
delete -v
set -v -s $R x
ls -swR $R
setquota $R
setquota -n 1 -b 2 $R
sync
addauth
addWatch
addWatch -m bogus $R
removewatches
getAcl
setAcl $R
deleteall
deleteall -b x $R
version extra
ls -? $R
delete $R 3
ls $R
sync /
sync /
`,
	"acl": `
create $R
create $R/open x
getAcl $R/open
getAcl -s $R/open
setAcl $R/open world:anyone:r
getAcl $R/open
set $R/open y
setAcl $R/open world:anyone:cdrwa
create $R/bad x bad
create $R/bad2 x world:anyone:rz
create $R/ip x ip:127.0.0.1:cdrwa
getAcl $R/ip
setAcl -s $R/ip world:anyone:cdrwa
setAcl -v 5 $R/ip world:anyone:cdrwa
create $R/two x world:anyone:r,ip:127.0.0.1:cdrwa
getAcl $R/two
create $R/nodata
setAcl $R/nodata world:anyone:c
create $R/nodata/child
getAcl $R/nodata/child
setAcl -R $R world:anyone:cdrwa
whoami
addauth digest bob:secret
whoami
create $R/auth x auth::cdrwa
getAcl $R/auth
setAcl $R/auth digest:bob:invalid:cdrwa
getAcl $R/auth
`,
	"quota": `
create $R
create $R/q
create $R/q/a
listquota $R/q
setquota -n 5 $R/q
listquota $R/q
setquota -b 100 $R/q
setquota -N 10 $R/q
listquota $R/q
setquota -n 0 $R/q
setquota -b -1 $R/q
setquota -n x $R/q
setquota -n 5 $R/q/a
setquota -n 5 $R
setquota -n 5 $R/nope
setquota -n 5 /zookeeper/quota/x
setquota -n 1 $R/q
delquota -n $R/q
listquota $R/q
delquota -b $R/q
listquota $R/q
delquota $R/q
listquota $R/q
delquota $R/q
`,
	"watches": `
create $R
create $R/w x
get -w $R/w
set $R/w y
ls -w $R
create $R/w2
stat -w $R/nope
create $R/nope
addWatch $R
create $R/w3
set $R/w3 z
delete $R/w3
removewatches $R
removewatches $R
get -w $R/w
removewatches $R/w -d
addWatch -m persistent $R/w
set $R/w q
removewatches $R/w -c
removewatches $R/w
removewatches $R/w -l
ls -w -R $R
create $R/w/x
delete $R/w/x
sync $R
ls $R
printwatches off
get -w $R/w
set $R/w r
printwatches
sync $R
`,
	"session": `
create $R
version
printwatches
history
redo 0
redo 99
redo
sync $R
sync $R/nope
config
config -c
config -s
reconfig
reconfig -remove 3
reconfig -v zz -add 1
reconfig -members 1 -add 2
close
ls $R
history
connect $ADDR
ls $R
getEphemerals
quit
ls $R
`,
}

// differs returns why two normalized outputs differ, or "".
func differs(java, ours normalized) string {
	if d := diffLines(java.lines, ours.lines); d != "" {
		return "output lines (zkCli.sh | zkcli):\n" + d
	}
	if d := diffLines(java.events, ours.events); d != "" {
		return "watch events (zkCli.sh | zkcli):\n" + d
	}
	return ""
}

// usageAfterParseError is the line zkcli adds after Commons CLI's message
// for a bad option: the usage of the command (zkCli.sh prints the message
// only).
var usageAfterParseError = regexp.MustCompile(`^usage: `)

func dropAddedUsage(n normalized) normalized {
	var out []string
	for i, l := range n.lines {
		if i > 0 && strings.HasPrefix(n.lines[i-1], "org.apache.commons.cli.") && usageAfterParseError.MatchString(l) {
			continue
		}
		out = append(out, l)
	}
	n.lines = out
	return n
}

func TestDifferentialScripts(t *testing.T) {
	zkcliBin(t)
	servers := map[string]func(testing.TB, map[string]string) *harness.Server{
		"apache": harness.StartApache,
		"ours":   startOurs,
	}
	for _, kind := range []string{"apache", "ours"} {
		t.Run(kind, func(t *testing.T) {
			srv := servers[kind](t, map[string]string{"extendedTypesEnabled": "true"})
			addr := srv.Addr()
			for name, script := range scenarios {
				t.Run(name, func(t *testing.T) {
					// In parallel (-parallel, GOMAXPROCS by default): the
					// JVM starts are the slow part.
					t.Parallel()
					jr, gr := "/j_"+name, "/g_"+name
					js := strings.NewReplacer("$R", jr, "$ADDR", addr).Replace(script)
					gs := strings.NewReplacer("$R", gr, "$ADDR", addr).Replace(script)
					java := runZkCliSh(t, addr, strings.TrimPrefix(js, "\n"), false)
					ours := runZkcli(t, addr, strings.TrimPrefix(gs, "\n"), false)
					jn := normalize(java.combined, jr, "$R", addr, "$ADDR")
					gn := dropAddedUsage(normalize(ours.combined, gr, "$R", addr, "$ADDR"))
					if len(jn.lines) < 5 {
						t.Fatalf("zkCli.sh printed almost nothing: %q", java.combined)
					}
					if testing.Verbose() {
						t.Logf("zkcli output:\n%s", ours.combined)
					}
					if d := differs(jn, gn); d != "" {
						t.Errorf("%s on %s differs:\n%s\nscript:\n%s", name, kind, d, script)
					}
					if java.code != ours.code {
						t.Errorf("%s on %s: exit code %d, zkCli.sh %d", name, kind, ours.code, java.code)
					}
				})
			}
		})
	}
}

// oneShots are groups of single commands run as `shell -server addr cmd
// args`; within a group each runs against the state the previous ones left,
// under the shell's root $R. Groups run in parallel.
var oneShots = map[string][][]string{
	"node": {
		{"create", "$R", "data"},
		{"create", "$R", "again"},
		{"get", "$R"},
		{"get", "-s", "$R"},
		{"stat", "$R"},
		{"ls", "$R"},
		{"set", "-v", "7", "$R", "x"},
		{"delete", "$R"},
		{"delete", "$R"},
		{"get", "$R"},
	},
	"misc": {
		{"ls", "-R", "/zookeeper"},
		{"getAcl", "/"},
		{"create", "-x", "/a"},
		{"get"},
		{"create", "bad"},
		{"whoami"},
		{"version"},
		{"printwatches"},
		{"sync", "/"},
	},
}

func TestDifferentialOneShot(t *testing.T) {
	zkcliBin(t)
	srv := harness.StartApache(t, nil)
	addr := srv.Addr()
	root := func(args []string, r string) []string {
		out := make([]string, len(args))
		for i, a := range args {
			out[i] = strings.ReplaceAll(a, "$R", r)
		}
		return out
	}
	for group, cmds := range oneShots {
		t.Run(group, func(t *testing.T) {
			t.Parallel()
			jr, gr := "/j_"+group, "/g_"+group
			for _, args := range cmds {
				name := strings.Join(args, " ")
				java := runZkCliSh(t, addr, "", true, root(args, jr)...)
				ours := runZkcli(t, addr, "", true, root(args, gr)...)
				jo, go_ := normalize(java.stdout, jr, "$R"), normalize(ours.stdout, gr, "$R")
				je, ge := normalize(java.stderr, jr, "$R"), dropAddedUsage(normalize(ours.stderr, gr, "$R"))
				if d := differs(jo, go_); d != "" {
					t.Errorf("%q: stdout differs:\n%s", name, d)
				}
				if d := differs(je, ge); d != "" {
					t.Errorf("%q: stderr differs:\n%s", name, d)
				}
				if java.code != ours.code {
					t.Errorf("%q: exit code %d, zkCli.sh %d", name, ours.code, java.code)
				}
			}
		})
	}
}

// An unknown command prints the list of commands and exits with 127 in
// both shells; zkcli's list has its own commands too.
func TestUnknownCommand(t *testing.T) {
	zkcliBin(t)
	srv := harness.StartApache(t, nil)
	java := runZkCliSh(t, srv.Addr(), "", true, "frobnicate", "/x")
	ours := runZkcli(t, srv.Addr(), "", true, "frobnicate", "/x")
	if java.code != 127 || ours.code != 127 {
		t.Errorf("exit codes: zkCli.sh %d, zkcli %d; want 127", java.code, ours.code)
	}
	jl := normalize(java.stderr).lines
	gl := normalize(ours.stderr).lines
	if len(gl) == 0 || gl[len(gl)-1] != jl[len(jl)-1] {
		t.Errorf("last line %q, zkCli.sh %q", gl, jl[len(jl)-1])
	}
	have := map[string]bool{}
	for _, l := range gl {
		have[l] = true
	}
	for _, l := range jl {
		if !have[l] {
			t.Errorf("zkcli's usage lacks zkCli.sh's line %q", l)
		}
	}
}
