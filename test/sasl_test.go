package test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/test/harness"
)

// kazooServerJAAS is the JAAS file kazoo's harness (kazoo/testing/harness.py,
// ZOOKEEPER_JAAS_AUTH=digest) gives the server for its DIGEST-MD5 tests.
const kazooServerJAAS = `
Server {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    user_super="super_secret"
    user_jaasuser="jaas_password";
};`

// saslProvider is the zoo.cfg line kazoo's harness always writes: it
// registers the sasl ACL scheme.
const saslProvider = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"

// startSASLServer starts zkserver (Apache ZooKeeper with DIFF_SELF=1) the
// way kazoo's harness starts its servers for SASL: the JAAS file above as
// -Djava.security.auth.login.config (through SERVER_JVMFLAGS for zkserver,
// JAVA_TOOL_OPTIONS for Java) and authProvider.1 naming the SASL provider.
func startSASLServer(t *testing.T, extra map[string]string) (*harness.Server, string) {
	jaas := filepath.Join(t.TempDir(), "jaas.conf")
	if err := os.WriteFile(jaas, []byte(kazooServerJAAS), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := maps.Clone(kazooSuiteCfg)
	cfg["authProvider.1"] = saslProvider
	maps.Copy(cfg, extra)
	flag := "-Djava.security.auth.login.config=" + jaas
	if os.Getenv(envDiffSelf) == "1" {
		t.Setenv("JAVA_TOOL_OPTIONS", flag)
		return harness.StartApache(t, cfg), "apache (DIFF_SELF=1)"
	}
	t.Setenv("SERVER_JVMFLAGS", flag)
	return harness.StartOurs(t, cfg), "ours"
}

// TestKazooSASL runs kazoo's own test_sasl.py against a server started with
// kazoo's JAAS file: a DIGEST-MD5 login (kazoo's sasl_options, and the
// legacy auth_data ("sasl", "user:password")) creates a node with a sasl
// ACL that a client without the login cannot read. Its Kerberos tests are
// deselected (no KDC here), and so are the two test_invalid_sasl_auth,
// whose outcome depends on the order of kazoo's threads:
// TestKazooSASLBadLogin checks the refused login instead.
//
//	go test ./test -run TestKazooSASL -v
//	DIFF_SELF=1 go test ./test -run TestKazooSASL -v   # against Apache ZooKeeper
func TestKazooSASL(t *testing.T) {
	requireClient(t, debianPython, "python3")
	testsDir := kazooSuiteSetup(t)
	requirePureSASL(t)
	srv, name := startSASLServer(t, nil)

	dir := t.TempDir()
	report := filepath.Join(dir, "report.tsv")
	ctx, cancel := context.WithTimeout(context.Background(), 2*clientRunTimeout)
	defer cancel()
	shim, err := filepath.Abs(kazooShimDir)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, debianPython, "-m", "pytest",
		"-p", "kazoo_shim", "-p", "no:cacheprovider", "-p", "no:warnings",
		"-q", "-rfE", filepath.Join(testsDir, "test_sasl.py"))
	cmd.Dir = dir
	cmd.Env = append(kazooEnv(),
		"PYTHONPATH="+shim,
		"PYTHONDONTWRITEBYTECODE=1",
		"KAZOO_SHIM_HOSTS="+srv.Addr(),
		"KAZOO_SHIM_SASL=1",
		"KAZOO_SHIM_REPORT="+report,
		fmt.Sprintf("KAZOO_SHIM_TIMEOUT=%d", int(kazooTestTimeout/time.Second)),
	)
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()
	res, err := readKazooReport(report)
	if err != nil {
		t.Fatalf("kazoo test_sasl against %s: no results (%v; pytest: %v); output:\n%s", name, err, runErr, out.String())
	}
	t.Logf("kazoo test_sasl against %s: %d passed, %d failed, %d skipped, %d deselected",
		name, res.passed, len(res.failed), len(res.skipped), res.deselected)
	// Two classes of two DIGEST-MD5 tests each, less test_invalid_sasl_auth;
	// a skip (no puresasl, an old server version) is a failure here.
	if res.passed != 2 || len(res.failed) > 0 || len(res.skipped) > 0 {
		t.Errorf("kazoo test_sasl against %s: %d passed (want 2), failed %q, skipped %q; output:\n%s",
			name, res.passed, res.failed, res.skipped, out.String())
	}
}

// TestKazooSASLBadLogin checks what kazoo's two test_invalid_sasl_auth
// check, by events rather than by the order of kazoo's threads: a
// DIGEST-MD5 login as a user the JAAS file does not have (given as
// sasl_options and the legacy way, as auth_data), and as a known user with
// a wrong password, is refused with an AuthFailed reply, and kazoo's
// connection goes CONNECTED (the connect answered), AUTH_FAILED, CLOSED
// without retrying. DIFF_SELF=1 runs it against Apache ZooKeeper.
func TestKazooSASLBadLogin(t *testing.T) {
	requireClient(t, debianPython, "python3")
	kazooSuiteSetup(t)
	requirePureSASL(t)
	srv, name := startSASLServer(t, nil)
	want := "state CONNECTING\nstate CONNECTED\nstate AUTH_FAILED\nstate CLOSED\nreason AuthFailedError()\ndone\n"
	for _, login := range [][]string{{"baduser", "badpassword"}, {"baduser", "badpassword", "legacy"}, {"jaasuser", "wrong_password"}} {
		ctx, cancel := context.WithTimeout(context.Background(), clientRunTimeout)
		cmd := exec.CommandContext(ctx, debianPython, append([]string{"clients/kazoo_sasl_bad_login.py", srv.Addr()}, login...)...)
		cmd.Env = kazooEnv()
		out, err := cmd.Output()
		cancel()
		if err != nil || string(out) != want {
			t.Errorf("kazoo logging in with %q against %s: %v; printed:\n%s\nwant:\n%s", login, name, err, out, want)
		}
	}
}

// requirePureSASL makes sure Debian's python3 has puresasl, which kazoo's
// SASL support needs, installing python3-pure-sasl when we may.
func requirePureSASL(t *testing.T) {
	t.Helper()
	probe := func() error {
		cmd := exec.Command(debianPython, "-c", "import puresasl")
		cmd.Env = kazooEnv()
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, lastLine(string(out)))
		}
		return nil
	}
	err := probe()
	if err != nil && os.Geteuid() == 0 {
		if aptErr := aptInstall([]string{"python3-pure-sasl"}); aptErr != nil {
			t.Logf("installing python3-pure-sasl: %v", aptErr)
		}
		err = probe()
	}
	if err != nil {
		t.Fatalf("kazoo's SASL support needs puresasl (%v): install the Debian package python3-pure-sasl", err)
	}
}

// zkCliSASL runs zkCli.sh against addr with a JAAS client section for user
// and password (none when user is ""), feeding it script on stdin.
func zkCliSASL(t *testing.T, addr, user, password, script string) string {
	t.Helper()
	dir := t.TempDir()
	log4j := filepath.Join(dir, "log4j.properties")
	if err := os.WriteFile(log4j, []byte("log4j.rootLogger=ERROR, CONSOLE\n"+
		"log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender\n"+
		"log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout\n"+
		"log4j.appender.CONSOLE.layout.ConversionPattern=log4j %p %m%n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	flags := []string{"-Dlog4j.configuration=file:" + log4j, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"}
	if user != "" {
		jaas := filepath.Join(dir, "client.jaas")
		body := fmt.Sprintf("Client {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  username=%q\n  password=%q;\n};\n", user, password)
		if err := os.WriteFile(jaas, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		flags = append(flags, "-Djava.security.auth.login.config="+jaas)
	}
	ctx, cancel := context.WithTimeout(context.Background(), clientRunTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, zkCliSh, "-server", addr)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "JAVA_TOOL_OPTIONS=") && !strings.HasPrefix(kv, "SERVER_JVMFLAGS=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "CLIENT_JVMFLAGS="+strings.Join(flags, " "))
	cmd.Stdin = strings.NewReader(script)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	var exit *exec.ExitError
	if err := cmd.Run(); err != nil && (ctx.Err() != nil || !errors.As(err, &exit)) {
		t.Fatalf("zkCli.sh -server %s: %v\n%s", addr, err, out.String())
	}
	return out.String()
}

// TestZkCliSASL runs Apache ZooKeeper's zkCli.sh with a JAAS client
// section (DIGEST-MD5) against zkserver: whoami shows the sasl identity, a
// sasl ACL admits that user and refuses a client without the login; with
// enforce.auth the client without the login is refused outright.
func TestZkCliSASL(t *testing.T) {
	requireClient(t, zkCliSh, "zookeeper")
	srv, name := startSASLServer(t, nil)
	check := func(who, out string, want ...string) {
		lines := map[string]bool{}
		for _, l := range strings.Split(out, "\n") {
			lines[strings.TrimSpace(l)] = true
		}
		for _, w := range want {
			if !lines[w] {
				t.Errorf("zkCli.sh as %s against %s: no line %q in its output:\n%s", who, name, w, out)
			}
		}
	}
	out := zkCliSASL(t, srv.Addr(), "jaasuser", "jaas_password",
		"whoami\ncreate /sasl secret sasl:jaasuser:cdrwa\nget /sasl\ngetAcl /sasl\nquit\n")
	check("jaasuser", out, "sasl: jaasuser", "Created /sasl", "secret", "'sasl,'jaasuser", ": cdrwa")
	out = zkCliSASL(t, srv.Addr(), "", "", "get /sasl\nquit\n")
	check("anonymous", out, "Insufficient permission : /sasl")
}

// TestZkCliSASLEnforced runs zkCli.sh against a server with
// enforce.auth.enabled=true and enforce.auth.schemes=sasl: a client without
// a JAAS login is refused at its first request (Apache's message), one
// with it is served. DIFF_SELF=1 runs it against Apache ZooKeeper.
func TestZkCliSASLEnforced(t *testing.T) {
	requireClient(t, zkCliSh, "zookeeper")
	srv, name := startSASLServer(t, map[string]string{"enforce.auth.enabled": "true", "enforce.auth.schemes": "sasl"})
	for _, tc := range []struct{ user, password, want string }{
		{"", "", "KeeperErrorCode = Session closed because client failed to authenticate for /"},
		{"jaasuser", "jaas_password", "[zookeeper]"},
	} {
		out := zkCliSASL(t, srv.Addr(), tc.user, tc.password, "ls /\nquit\n")
		found := false
		for _, l := range strings.Split(out, "\n") {
			found = found || strings.TrimSpace(l) == tc.want
		}
		if !found {
			t.Errorf("zkCli.sh as %q against %s with enforce.auth: no line %q in its output:\n%s", tc.user, name, tc.want, out)
		}
	}
}
