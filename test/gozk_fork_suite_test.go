package test

import (
	"fmt"
	"maps"
	"testing"
	"time"
)

// z-division/go-zookeeper, the fork of go-zookeeper that Vitess used, has
// its own suite with the same harness ($ZOOKEEPER_BIN_PATH/zkServer.sh
// start-foreground <zoo.cfg>, see gozk_suite_test.go). It is run against
// zkserver and against Apache ZooKeeper at once and compared test by test.
var goZKZDivision = goZKSuite{
	module:  "github.com/z-division/go-zookeeper",
	version: "v1.0.0",
	pkg:     "zk",
	// The suite runs its reconfig tests only when ZK_VERSION starts with
	// 3.5; 3.8's reconfig API is 3.5's.
	zkVersion: "3.5.10",
	// The fork's srvr parser (FLWSrvr, which its cluster harness polls
	// until every server is healthy) expects ZooKeeper 3.4's integer
	// average latency; since 3.5 srvr prints it with decimals
	// ("Latency min/avg/max: 0/1.3656/117"), Apache's and ours alike, and
	// none of its cluster tests would start. The patch drops the decimals.
	patches: map[string][][2]string{"flw.go": {{
		`^Latency min/avg/max: (\d+)/(\d+)/(\d+)`,
		`^Latency min/avg/max: (\d+)/(\d+)(?:\.\d+)?/(\d+)`,
	}}},
}

// goZKZDivisionPorts is where the fork's harness (server_test.go), and
// its reconfig test for the server it adds (zk_test.go), pick the first of
// their servers' ports at random: in 10000-15999, a cluster (of up to 3
// servers, 3 ports each) using the next 9. The runs against
// Apache ZooKeeper and ours, side by side, draw from the two halves of that
// range instead (patching the line), so that they never pick the same
// ports.
const goZKZDivisionPorts = "startPort := int(rand.Int31n(6000) + 10000)"

// goZKZDivisionOurs are the fork's tests that may fail against ours though
// they pass against Apache ZooKeeper, with the reason.
var goZKZDivisionOurs = map[string]string{
	// The test creates a node through a client of one follower and at once
	// reads it through a client of the other, without a sync: ZooKeeper
	// does not promise that read (upstream go-zookeeper added the sync to
	// its copy of the test), and Apache's other follower has not always
	// applied the commit by then either (goZKZDivisionApache), but ours
	// more often has not: measured here with go-zookeeper, 200 such pairs
	// each on hand-started 3-server ensembles, Apache missed 6 and 18,
	// ours 27 to 111; the test failed against ours in 3 of 8 runs,
	// against Apache in 1 of 8.
	"TestBasicCluster": "reads another follower's fresh write without sync; ours's other follower more often has not applied it yet",
	// The same test as upstream's TestIntegration_DNSHostProviderReconnect
	// (gozkFlaky): it kills the server its client is connected to, starts
	// it again and sends a create at once, which can go out on the dead
	// connection before the client has read its end ("Create returned
	// error: zk: connection closed", once in CI).
	"TestDNSHostProviderReconnect": "create sent on the killed server's connection before the client saw it end, once",
	// The same body (testDNSHostProviderReconnect) with the simple host
	// provider: the same race in the client, once in CI against ours. The
	// client's send loop can write the create on the killed server's
	// connection before its receive loop reads that connection's end; the
	// client then fails the requests it sent there (flushRequests,
	// ErrConnectionClosed). Which loop wins is up to the client's
	// goroutines, whichever the server, so it is listed against Apache as
	// well.
	"TestSimpleDNSHostProviderReconnect": "create sent on the killed server's connection before the client saw it end, once",
	// Fails against Apache ZooKeeper now and then as well
	// (goZKZDivisionApache), the same way: the server the test adds after
	// removing one started, but its client could not connect to it within
	// the suite's wait (once in CI against ours).
	"TestIncrementalReconfig": "adding a server after removing one: could not connect to a server, once",
}

// goZKZDivisionApache are the fork's tests that fail, always or now and
// then, against Apache ZooKeeper 3.8 itself, with the reason.
var goZKZDivisionApache = map[string]string{
	// The test reads the ACL of a node whose only ACL is digest
	// user:password without authenticating; since ZOOKEEPER-1392 (3.4.11,
	// 3.5.4) getACL needs READ or ADMIN and fails with NoAuth. Fails
	// against ours alike.
	"TestAuth": "getACL without READ or ADMIN permission is refused since ZooKeeper 3.5 (ZOOKEEPER-1392)",
	// See goZKZDivisionOurs.
	"TestBasicCluster": "reads another follower's fresh write without sync, which ZooKeeper does not promise",
	// Failed in 1 of 7 runs here (passing in the others), like
	// upstream's copy of it (gozkApacheFlaky): the server the test adds
	// after removing one started, but its client could not connect to
	// it within the harness's wait.
	"TestIncrementalReconfig": "adding a server after removing one: could not connect to a server, once",
	// See goZKZDivisionOurs: a race in the client, whichever the server.
	"TestDNSHostProviderReconnect":       "create sent on the killed server's connection before the client saw it end",
	"TestSimpleDNSHostProviderReconnect": "create sent on the killed server's connection before the client saw it end",
}

// gozkForkSuiteTimeout bounds one run of the fork's suite, against Apache
// ZooKeeper (about 100s alone here) or ours (about 75s), the two side by
// side.
const gozkForkSuiteTimeout = 8 * time.Minute

// TestZDivisionGoZookeeperSuite runs z-division/go-zookeeper's suite
// against Apache ZooKeeper and zkserver at once and compares them.
//
//	go test ./test -run TestZDivisionGoZookeeperSuite -v
func TestZDivisionGoZookeeperSuite(t *testing.T) {
	runs := []suiteRun{{name: "apache"}, {name: "ours"}}
	t.Run("runs", func(t *testing.T) {
		for i := range runs {
			t.Run(runs[i].name, func(t *testing.T) {
				t.Parallel()
				apache := runs[i].name == "apache"
				shim := goZKShim(t, apache)
				suite := goZKZDivision
				suite.patches = maps.Clone(suite.patches)
				ports := [][2]string{{goZKZDivisionPorts, fmt.Sprintf("startPort := int(rand.Int31n(2990) + %d)", 10000+3000*i)}}
				suite.patches["server_test.go"] = ports
				suite.patches["zk_test.go"] = ports
				results, output := runGoZKSuite(t, suite, shim, gozkForkSuiteTimeout, apache)
				runs[i].results = map[string]suiteOutcome{}
				for test, res := range results {
					o := suiteOutcome{result: outcomePassed}
					switch res {
					case "fail":
						o = suiteOutcome{result: outcomeFailed, detail: failureLines(output[test])}
					case "skip":
						o = suiteOutcome{result: outcomeSkipped, detail: failureLines(output[test])}
					}
					runs[i].results[test] = o
				}
			})
		}
	})
	if t.Failed() {
		return
	}
	compareSuiteRuns(t, "z-division/go-zookeeper", runs[0], runs[1], suiteExpectations{
		oursExceptions:   goZKZDivisionOurs,
		apacheExceptions: goZKZDivisionApache,
		minApachePassed:  40,
	})
}
