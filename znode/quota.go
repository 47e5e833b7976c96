package znode

import (
	"sort"
	"strconv"
	"strings"
)

// Names of the quota nodes under /zookeeper/quota/<path>/ (Quotas).
const (
	quotaLimitNode = "zookeeper_limits"
	quotaStatNode  = "zookeeper_stats"
)

// Keys of a StatsTrack string.
const (
	statsCount          = "count"
	statsBytes          = "bytes"
	statsCountHardLimit = "countHardLimit"
	statsByteHardLimit  = "byteHardLimit"
)

// statsTrack is the content of a zookeeper_limits or zookeeper_stats node:
// "count=N,bytes=M" optionally followed by "=;key=value..." for the hard
// limits (StatsTrack). Missing values read as -1.
type statsTrack map[string]int64

// parseStatsTrack parses the data of a quota node. Pairs are separated by
// runs of ',' and ';'; a pair with an empty value reads as -1. Malformed
// pairs, which make Apache's parser throw, are skipped.
func parseStatsTrack(data []byte) statsTrack {
	st := statsTrack{}
	s := string(data)
	for _, pair := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' }) {
		parts := strings.Split(pair, "=")
		if len(parts) < 2 {
			continue
		}
		if parts[1] == "" {
			st[parts[0]] = -1
			continue
		}
		v, err := strconv.ParseInt(parts[1], 10, 64)
		if err != nil {
			continue
		}
		st[parts[0]] = v
	}
	return st
}

func (st statsTrack) get(key string) int64 {
	if v, ok := st[key]; ok {
		return v
	}
	return -1
}

// String formats st the way StatsTrack.toString does: count and bytes
// first, then the other keys sorted, behind an extra "=" that keeps the
// 3.4 parser happy.
func (st statsTrack) String() string {
	var sb strings.Builder
	sb.WriteString("count=")
	sb.WriteString(strconv.FormatInt(st.get(statsCount), 10))
	sb.WriteString(",bytes=")
	sb.WriteString(strconv.FormatInt(st.get(statsBytes), 10))
	var keys []string
	for k := range st {
		if k != statsCount && k != statsBytes {
			keys = append(keys, k)
		}
	}
	if len(keys) > 0 {
		sb.WriteByte('=')
		sort.Strings(keys)
		for _, k := range keys {
			sb.WriteByte(';')
			sb.WriteString(k)
			sb.WriteByte('=')
			sb.WriteString(strconv.FormatInt(st[k], 10))
		}
	}
	return sb.String()
}

// normalizeQuotaPath is the path as Apache's PathTrie sees it: components
// that are empty or blank (all characters <= ' ') are dropped.
func normalizeQuotaPath(p string) string {
	clean := true
	for _, c := range strings.Split(p[min(1, len(p)):], "/") {
		if strings.TrimFunc(c, isJavaBlank) == "" {
			clean = false
			break
		}
	}
	if clean && strings.HasPrefix(p, "/") {
		return p
	}
	var parts []string
	for _, c := range strings.Split(p, "/") {
		if strings.TrimFunc(c, isJavaBlank) != "" {
			parts = append(parts, c)
		}
	}
	return "/" + strings.Join(parts, "/")
}

// isJavaBlank is what Java's String.trim removes.
func isJavaBlank(r rune) bool { return r <= ' ' }

// addQuota records that the subtree at p has a quota (its limit node was
// created). The root cannot have one.
func (t *Tree) addQuota(p string) {
	p = normalizeQuotaPath(p)
	if p != rootPath {
		t.quotas[p] = struct{}{}
	}
}

// removeQuota forgets the quota of p (its limit node was deleted).
func (t *Tree) removeQuota(p string) {
	delete(t.quotas, normalizeQuotaPath(p))
}

// maxQuotaPrefix returns the deepest path with a quota that is path or an
// ancestor of it, or "" (DataTree.getMaxPrefixWithQuota).
func (t *Tree) maxQuotaPrefix(path string) string {
	if len(t.quotas) == 0 {
		return ""
	}
	np := normalizeQuotaPath(path)
	best := ""
	for q := range t.quotas {
		if len(q) > len(best) && (np == q || strings.HasPrefix(np, q) && np[len(q)] == '/') {
			best = q
		}
	}
	return best
}

// setQuotaNodeData replaces the data of the quota stats node at path
// without touching its Stat, as Apache does.
func (t *Tree) setQuotaNodeData(path string, data []byte) {
	n, d := t.slot(path)
	if !n.ok() {
		t.warn("missing quota stat node", "path", path)
		return
	}
	t.dataSize += int64(len(data) - len(n.data()))
	t.put(d, n.with(data, n.stat()))
}

// updateQuotaStat adds the diffs to the stats node of the quota at prefix.
func (t *Tree) updateQuotaStat(prefix string, bytesDiff int64, countDiff int64) {
	statPath := quotaPath + prefix + "/" + quotaStatNode
	n := t.lookup(statPath)
	if !n.ok() {
		t.warn("missing quota stat node", "path", statPath)
		return
	}
	st := parseStatsTrack(n.data())
	st[statsCount] = st.get(statsCount) + countDiff
	st[statsBytes] = st.get(statsBytes) + bytesDiff
	t.setQuotaNodeData(statPath, []byte(st.String()))
}

// updateQuotaForPath recomputes the stats node of the quota at p from the
// subtree (DataTree.updateQuotaForPath, run when the stats node is created).
func (t *Tree) updateQuotaForPath(p string) {
	var count, bytes int64
	if n := t.lookup(p); n.ok() {
		countSubtree(n, &count, &bytes)
	}
	st := statsTrack{statsCount: count, statsBytes: bytes}
	t.setQuotaNodeData(quotaPath+p+"/"+quotaStatNode, []byte(st.String()))
}

func countSubtree(n node, count, bytes *int64) {
	*count++
	*bytes += int64(len(n.data()))
	for c := range n.kids().all() {
		countSubtree(c, count, bytes)
	}
}

// checkQuota enforces the limits of the quota covering path for a create
// (count+1, bytes+len(data)) or a setData (bytes+len(data)-len(lastData)),
// as ZooKeeperServer.checkQuota does when zookeeper.enforceQuota is set:
// exceeding a soft limit is logged, exceeding a hard limit fails with
// ErrQuotaExceeded. It reads the applied tree, not the pending changes of a
// multi, as Apache does.
func (t *Tree) checkQuota(path string, lastData, data []byte, create bool) bool {
	if !t.opts.EnforceQuota {
		return true
	}
	prefix := t.maxQuotaPrefix(path)
	if prefix == "" {
		return true
	}
	limitPath := quotaPath + prefix + "/" + quotaLimitNode
	ln := t.lookup(limitPath)
	if !ln.ok() {
		t.warn("missing quota limit node", "path", limitPath)
		return true
	}
	limits := parseStatsTrack(ln.data())
	bytesDiff := int64(len(data))
	var countDiff int64
	if create {
		countDiff = 1
	} else {
		bytesDiff -= int64(len(lastData))
	}
	checkCount := countDiff != 0 && (limits.get(statsCount) > -1 || limits.get(statsCountHardLimit) > -1)
	checkBytes := bytesDiff != 0 && (limits.get(statsBytes) > -1 || limits.get(statsByteHardLimit) > -1)
	if !checkCount && !checkBytes {
		return true
	}
	statPath := quotaPath + prefix + "/" + quotaStatNode
	sn := t.lookup(statPath)
	if !sn.ok() {
		t.warn("missing quota stat node", "path", statPath)
		return true
	}
	cur := parseStatsTrack(sn.data())
	if checkCount {
		n := cur.get(statsCount) + countDiff
		hard := limits.get(statsCountHardLimit) > -1
		limit := limits.get(statsCount)
		if hard {
			limit = limits.get(statsCountHardLimit)
		}
		if n > limit {
			t.warn("Quota exceeded", "path", prefix, "count", n, "limit", limit, "hard", hard)
			if hard {
				return false
			}
		}
	}
	if checkBytes {
		n := cur.get(statsBytes) + bytesDiff
		hard := limits.get(statsByteHardLimit) > -1
		limit := limits.get(statsBytes)
		if hard {
			limit = limits.get(statsByteHardLimit)
		}
		if n > limit {
			t.warn("Quota exceeded", "path", prefix, "bytes", n, "limit", limit, "hard", hard)
			if hard {
				return false
			}
		}
	}
	return true
}
