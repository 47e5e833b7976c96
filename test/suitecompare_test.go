package test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// The application suites (tooz, taskflow, Curator) run against Apache
// ZooKeeper and against ours in the same test and are compared test by
// test: whatever passes against Apache must pass against ours.

// Outcomes of one test of a suite.
const (
	outcomePassed  = "passed"
	outcomeFailed  = "failed"
	outcomeSkipped = "skipped"
)

// suiteOutcome is how one test of a suite ended, and why when it did not
// pass.
type suiteOutcome struct {
	result string // outcomePassed, outcomeFailed or outcomeSkipped
	detail string
}

// suiteRun is what one run of a suite against one server (or ensemble)
// gave: each test's outcome, by name.
type suiteRun struct {
	name    string // "ours", "apache", "our 3-server ensemble"
	results map[string]suiteOutcome
}

// count returns how many tests ended with result.
func (r suiteRun) count(result string) int {
	n := 0
	for _, o := range r.results {
		if o.result == result {
			n++
		}
	}
	return n
}

// summary is "P passed, F failed, S skipped".
func (r suiteRun) summary() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped",
		r.count(outcomePassed), r.count(outcomeFailed), r.count(outcomeSkipped))
}

// suiteExpectations are what a suite's comparison allows: tests that may
// fail against ours although they pass against Apache, tests that fail
// (always or now and then) against Apache itself, each with its reason, and
// the fewest tests that
// must pass against Apache for the run to count (fewer means the suite or
// its setup broke, say every test skipped for want of a server).
type suiteExpectations struct {
	oursExceptions   map[string]string
	apacheExceptions map[string]string
	minApachePassed  int
}

// compareSuiteRuns logs both runs' counts and fails the test for every
// test that passed against Apache and not against ours (unless listed in
// oursExceptions), every test that did not pass against Apache (unless
// listed in apacheExceptions: the suite's own failures), every test that
// ran on one side only, and every listed exception that no longer applies.
// A test skipped against both is logged with its reason, never counted as
// passing.
func compareSuiteRuns(t *testing.T, suite string, apache, ours suiteRun, want suiteExpectations) {
	t.Helper()
	t.Logf("%s against %s: %s", suite, apache.name, apache.summary())
	t.Logf("%s against %s: %s", suite, ours.name, ours.summary())
	if n := apache.count(outcomePassed); n < want.minApachePassed {
		t.Errorf("%s: only %d tests passed against %s (at least %d should): the suite did not run as it should",
			suite, n, apache.name, want.minApachePassed)
	}
	names := map[string]bool{}
	for name := range apache.results {
		names[name] = true
	}
	for name := range ours.results {
		names[name] = true
	}
	for _, name := range slices.Sorted(maps.Keys(names)) {
		a, inApache := apache.results[name]
		o, inOurs := ours.results[name]
		switch {
		case !inApache:
			t.Errorf("%s: %s ran against %s (%s) but not against %s", suite, name, ours.name, o.result, apache.name)
		case !inOurs:
			t.Errorf("%s: %s ran against %s (%s) but not against %s", suite, name, apache.name, a.result, ours.name)
		case a.result != outcomePassed && want.apacheExceptions[name] != "":
			t.Logf("%s: %s %s against %s, as expected (%s); against %s: %s",
				suite, name, a.result, apache.name, want.apacheExceptions[name], ours.name, o.result)
		case a.result == outcomeSkipped && o.result == outcomeSkipped:
			t.Logf("%s: %s skipped against both: %s", suite, name, a.detail)
		case a.result != outcomePassed:
			t.Errorf("%s: %s %s against %s itself: %s", suite, name, a.result, apache.name, a.detail)
		case o.result != outcomePassed && want.oursExceptions[name] != "":
			t.Logf("%s: %s %s against %s, a listed exception (%s): %s",
				suite, name, o.result, ours.name, want.oursExceptions[name], o.detail)
		case o.result != outcomePassed:
			t.Errorf("%s: %s passed against %s but %s against %s: %s", suite, name, apache.name, o.result, ours.name, o.detail)
		case want.oursExceptions[name] != "":
			t.Logf("%s: %s, a listed exception (%s), passed against %s this time", suite, name, want.oursExceptions[name], ours.name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(want.apacheExceptions)) {
		if a, ok := apache.results[name]; ok && a.result == outcomePassed {
			t.Logf("%s: %s, listed as failing against Apache, passed against it this time", suite, name)
		}
	}
}

// oneLine shortens a failure message to its first line, at most 300 bytes.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
