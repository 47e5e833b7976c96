package znode

import (
	"fmt"
	"testing"

	"github.com/zkgo/zkgo/wire"
)

func TestStatsTrack(t *testing.T) {
	for _, tc := range []struct{ in, out string }{
		{"", "count=-1,bytes=-1"},
		{"count=4,bytes=5", "count=4,bytes=5"},
		{"count=4,bytes=5=;countHardLimit=10;byteHardLimit=10", "count=4,bytes=5=;byteHardLimit=10;countHardLimit=10"},
		{"bytes=7;count=1", "count=1,bytes=7"},
		{"count=,bytes=3", "count=-1,bytes=3"},
		{"count=2,junk,bytes=x", "count=2,bytes=-1"},
	} {
		eq(t, tc.in, parseStatsTrack([]byte(tc.in)).String(), tc.out)
	}
	st := parseStatsTrack([]byte("count=4,bytes=5=;countHardLimit=10"))
	eq(t, "hard", st.get(statsCountHardLimit), int64(10))
	eq(t, "missing", st.get(statsByteHardLimit), int64(-1))
}

// setQuota creates the quota nodes the way zkCli's setquota does.
func (h *harness) setQuota(path, limits string) {
	h.t.Helper()
	p := quotaPath
	for _, c := range splitComponents(path) {
		p += "/" + c
		if !h.exists(p) {
			h.mustCreate(p, "")
		}
	}
	h.mustCreate(p+"/"+quotaLimitNode, limits)
	h.mustCreate(p+"/"+quotaStatNode, "count=0,bytes=0")
}

func splitComponents(p string) []string {
	var out []string
	cur := ""
	for _, c := range p[1:] {
		if c == '/' {
			out = append(out, cur)
			cur = ""
			continue
		}
		cur += string(c)
	}
	return append(out, cur)
}

func (h *harness) quotaStats(path string) string {
	h.t.Helper()
	return string(h.data(quotaPath + path + "/" + quotaStatNode))
}

func TestQuotaTracking(t *testing.T) {
	h := newHarness(t, Options{})
	h.mustCreate("/q", "ab")
	h.mustCreate("/q/a", "cde")
	h.setQuota("/q", "count=4,bytes=-1")
	statNode := quotaPath + "/q/" + quotaStatNode
	before := h.stat(statNode)
	eq(t, "initial", h.quotaStats("/q"), "count=2,bytes=5")
	h.mustCreate("/q/b", "12")
	eq(t, "create", h.quotaStats("/q"), "count=3,bytes=7")
	h.setData("/q/a", "", -1)
	eq(t, "setData", h.quotaStats("/q"), "count=3,bytes=4")
	h.delete("/q/b", -1)
	eq(t, "delete", h.quotaStats("/q"), "count=2,bytes=2")
	// Updates change the data only, not the Stat (mzxid, version).
	after := h.stat(statNode)
	eq(t, "stat mzxid", after.Mzxid, before.Mzxid)
	eq(t, "stat version", after.Version, before.Version)
	eq(t, "stat dataLength", after.DataLength, int32(len("count=2,bytes=2")))

	// Without enforcement the limits are not checked.
	for i := 0; i < 5; i++ {
		h.mustCreate(fmt.Sprintf("/q/n%d", i), "")
	}
	eq(t, "over soft limit", h.quotaStats("/q"), "count=7,bytes=2")

	// A nested quota takes the updates under it.
	h.mustCreate("/q/sub", "")
	h.setQuota("/q/sub", "count=-1,bytes=100")
	h.mustCreate("/q/sub/x", "xyz")
	eq(t, "nested", h.quotaStats("/q/sub"), "count=2,bytes=3")
	eq(t, "outer unchanged", h.quotaStats("/q"), "count=8,bytes=2")
	// Outside the quota nothing moves.
	h.mustCreate("/qq", "zzz")
	eq(t, "sibling prefix", h.quotaStats("/q"), "count=8,bytes=2")

	// Removing the limit node stops the tracking.
	h.delete(quotaPath+"/q/sub/"+quotaLimitNode, -1)
	h.mustCreate("/q/sub/y", "")
	eq(t, "removed nested: outer tracks again", h.quotaStats("/q"), "count=9,bytes=2")
	eq(t, "removed nested: inner frozen", h.quotaStats("/q/sub"), "count=2,bytes=3")
}

func TestQuotaEnforced(t *testing.T) {
	var warns []string
	h := newHarness(t, Options{EnforceQuota: true, Warn: func(msg string, kv ...any) {
		warns = append(warns, fmt.Sprint(append([]any{msg}, kv...)...))
	}})
	h.mustCreate("/q", "")
	h.setQuota("/q", "count=2,bytes=-1")
	h.mustCreate("/q/a", "")
	eq(t, "no warning yet", len(warns), 0)
	h.mustCreate("/q/b", "") // count 3 > soft 2: warned, allowed
	eq(t, "soft warning", len(warns), 1)
	eq(t, "stats", h.quotaStats("/q"), "count=3,bytes=0")

	limits := quotaPath + "/q/" + quotaLimitNode
	h.setData(limits, "count=-1,bytes=-1=;countHardLimit=3;byteHardLimit=10", -1)
	_, err := h.create(0, "/q/c", "", 0)
	eq(t, "hard count", err, wire.ErrQuotaExceeded)
	eq(t, "stats unchanged", h.quotaStats("/q"), "count=3,bytes=0")
	_, err = h.setData("/q/a", "0123456789", -1)
	eq(t, "bytes at limit", err, wire.ErrOK)
	_, err = h.setData("/q/b", "x", -1)
	eq(t, "hard bytes", err, wire.ErrQuotaExceeded)
	_, err = h.setData("/q/a", "012345678", -1)
	eq(t, "shrinking", err, wire.ErrOK)
	// Deleting is never limited; then there is room again.
	eq(t, "delete", h.delete("/q/b", -1), wire.ErrOK)
	_, err = h.create(0, "/q/c", "", 0)
	eq(t, "room again", err, wire.ErrOK)

	// Quota is checked before the version, as Apache does.
	_, err = h.setData("/q/a", "0123456789ab", 99)
	eq(t, "quota before version", err, wire.ErrQuotaExceeded)

	// In a multi, every op is checked against the tree before the multi.
	h.delete("/q/c", -1)
	r := h.mustApply(0, nil, wire.OpMulti, &wire.MultiRequest{Ops: []wire.Op{
		{Type: wire.OpCreate, Body: createReq("/q/m1", "", 0)},
		{Type: wire.OpCreate, Body: createReq("/q/m2", "", 0)},
	}})
	eq(t, "multi", r.Body.(*wire.MultiResponse).Results[1].Type, wire.OpCreate)
	eq(t, "multi stats", h.quotaStats("/q"), "count=4,bytes=9")
}

func TestNormalizeQuotaPath(t *testing.T) {
	for _, tc := range []struct{ in, out string }{
		{"/a/b", "/a/b"},
		{"", "/"},
		{"/", "/"},
		{"X/a", "/X/a"},
		{"/a// /b", "/a/b"},
	} {
		eq(t, tc.in, normalizeQuotaPath(tc.in), tc.out)
	}
}
