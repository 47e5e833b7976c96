package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/zkgo/zkgo/cmd/zkcli/internal/zkclient"
	"github.com/zkgo/zkgo/wire"
)

// The quota tree (Quotas).
const (
	procZookeeper  = "/zookeeper"
	quotaZookeeper = "/zookeeper/quota"
	limitNode      = "zookeeper_limits"
	statNode       = "zookeeper_stats"
)

func quotaPath(p string) string { return quotaZookeeper + p }
func limitPath(p string) string { return quotaZookeeper + p + "/" + limitNode }
func statPath(p string) string  { return quotaZookeeper + p + "/" + statNode }

// statsTrack is the content of a quota's limit or stat node (StatsTrack):
// "count=N,bytes=N" followed, for compatibility with old parsers, by "="
// and ";key=value" pairs.
type statsTrack map[string]int64

var pairSep = regexp.MustCompile(`[,;]+`)

func parseStatsTrack(b []byte) statsTrack {
	st := statsTrack{}
	s := string(b)
	if s == "" {
		return st
	}
	for _, kv := range pairSep.Split(s, -1) {
		parts := strings.Split(kv, "=")
		for len(parts) > 0 && parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1]
		}
		if len(parts) == 0 {
			continue
		}
		v := int64(-1)
		if len(parts) > 1 {
			n, err := strconv.ParseInt(parts[1], 10, 64)
			if err == nil {
				v = n
			}
		}
		st[parts[0]] = v
	}
	return st
}

func (st statsTrack) get(k string) int64 {
	if v, ok := st[k]; ok {
		return v
	}
	return -1
}

func (st statsTrack) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "count=%d,bytes=%d", st.get("count"), st.get("bytes"))
	var keys []string
	for k := range st {
		if k != "count" && k != "bytes" {
			keys = append(keys, k)
		}
	}
	if len(keys) > 0 {
		sort.Strings(keys)
		b.WriteString("=")
		for _, k := range keys {
			fmt.Fprintf(&b, ";%s=%d", k, st[k])
		}
	}
	return b.String()
}

// illegalArg is an IllegalArgumentException of the quota code, reported
// as a malformed path.
type illegalArg struct{ msg string }

func (e *illegalArg) Error() string { return e.msg }

func (sh *Shell) cmdListQuota(ctx context.Context, p *parsed) error {
	if len(p.args) < 2 {
		return sh.usageErr("listquota")
	}
	path := p.args[1]
	fmt.Fprintf(sh.errw, "absolute path is %s\n", limitPath(path))
	limits, _, err := sh.client.Get(ctx, limitPath(path), nil)
	var stats []byte
	if err == nil {
		stats, _, err = sh.client.Get(ctx, statPath(path), nil)
	}
	if zkclient.IsCode(err, wire.ErrNoNode) {
		fmt.Fprintf(sh.errw, "quota for %s does not exist.\n", path)
		return nil
	}
	if err != nil {
		return wrapErr(err)
	}
	q, s := parseStatsTrack(limits), parseStatsTrack(stats)
	sh.emit(map[string]any{"path": path, "quota": q, "stat": s}, func(w io.Writer) {
		fmt.Fprintf(w, "Output quota for %s %s\n", path, q)
		fmt.Fprintf(w, "Output stat for %s %s\n", path, s)
	})
	return nil
}

func (sh *Shell) cmdSetQuota(ctx context.Context, p *parsed) error {
	if len(p.args) < 2 {
		return sh.usageErr("setquota")
	}
	path := p.args[1]
	if strings.HasPrefix(path, quotaZookeeper) {
		fmt.Fprintf(sh.errw, "cannot set a quota under the path: %s\n", quotaZookeeper)
		return nil
	}
	quota := statsTrack{"count": -1, "bytes": -1, "countHardLimit": -1, "byteHardLimit": -1}
	for _, o := range []struct {
		flag, key string
		count     bool
	}{{"n", "count", true}, {"b", "bytes", false}, {"N", "countHardLimit", true}, {"B", "byteHardLimit", false}} {
		if !p.has(o.flag) {
			continue
		}
		bits := 64
		if o.count {
			bits = 32
		}
		v, err := strconv.ParseInt(p.value(o.flag), 10, bits)
		if err != nil {
			fmt.Fprintln(sh.errw, "NumberFormatException happens when parsing the option value")
			return nil
		}
		if o.count && v <= 0 {
			fmt.Fprintln(sh.errw, "the num quota must be greater than zero")
			return nil
		}
		if !o.count && v < 0 {
			fmt.Fprintln(sh.errw, "the bytes quota must be greater than or equal to zero")
			return nil
		}
		quota[o.key] = v
	}
	err := sh.createQuota(ctx, path, quota)
	var ia *illegalArg
	if errors.As(err, &ia) {
		return malformed(ia.msg)
	}
	return wrapErr(err)
}

// createQuota is SetQuotaCommand.createQuota.
func (sh *Shell) createQuota(ctx context.Context, path string, quota statsTrack) error {
	c := sh.client
	st, err := c.Exists(ctx, path, nil)
	if err != nil {
		return err
	}
	if st == nil {
		return &illegalArg{path + " does not exist."}
	}
	if err := sh.checkIfChildQuota(ctx, path); err != nil {
		return err
	}
	if err := sh.checkIfParentQuota(ctx, path); err != nil {
		return err
	}
	qp := quotaZookeeper
	if st, err := c.Exists(ctx, qp, nil); err != nil {
		return err
	} else if st == nil {
		_, err := c.Create(ctx, procZookeeper, nil, zkclient.OpenACL, wire.FlagPersistent, 0)
		if err == nil {
			_, err = c.Create(ctx, quotaZookeeper, nil, zkclient.OpenACL, wire.FlagPersistent, 0)
		}
		if err != nil && !zkclient.IsCode(err, wire.ErrNodeExists) {
			return err
		}
	}
	splits := javaSplit(path, "/")
	for i := 1; i < len(splits); i++ {
		qp += "/" + splits[i]
		st, err := c.Exists(ctx, qp, nil)
		if err != nil {
			return err
		}
		if st == nil {
			if _, err := c.Create(ctx, qp, nil, zkclient.OpenACL, wire.FlagPersistent, 0); err != nil && !zkclient.IsCode(err, wire.ErrNodeExists) {
				return err
			}
		}
	}
	sp := qp + "/" + statNode
	qp += "/" + limitNode
	st, err = c.Exists(ctx, qp, nil)
	if err != nil {
		return err
	}
	if st == nil {
		if _, err := c.Create(ctx, qp, []byte(quota.String()), zkclient.OpenACL, wire.FlagPersistent, 0); err != nil {
			return err
		}
		stats := statsTrack{"count": 0, "bytes": 0}
		if _, err := c.Create(ctx, sp, []byte(stats.String()), zkclient.OpenACL, wire.FlagPersistent, 0); err != nil {
			return err
		}
		qd, _, err := c.Get(ctx, qp, nil)
		if err != nil {
			return err
		}
		sd, _, err := c.Get(ctx, sp, nil)
		if err != nil {
			return err
		}
		sh.checkQuota(parseStatsTrack(qd), parseStatsTrack(sd))
		return nil
	}
	qd, _, err := c.Get(ctx, qp, nil)
	if err != nil {
		return err
	}
	q := parseStatsTrack(qd)
	for _, k := range []string{"count", "bytes", "countHardLimit", "byteHardLimit"} {
		if quota.get(k) > -1 {
			q[k] = quota.get(k)
		}
	}
	sd, _, err := c.Get(ctx, sp, nil)
	if err != nil {
		return err
	}
	sh.checkQuota(q, parseStatsTrack(sd))
	_, err = c.Set(ctx, qp, []byte(q.String()), -1)
	return err
}

func (sh *Shell) checkQuota(q, s statsTrack) {
	if (q.get("count") > -1 && q.get("count") < s.get("count")) || (q.get("countHardLimit") > -1 && q.get("countHardLimit") < s.get("count")) {
		fmt.Fprintf(sh.out, "[Warning]: the count quota you create is less than the existing count:%d\n", s.get("count"))
	}
	if (q.get("bytes") > -1 && q.get("bytes") < s.get("bytes")) || (q.get("byteHardLimit") > -1 && q.get("byteHardLimit") < s.get("bytes")) {
		fmt.Fprintf(sh.out, "[Warning]: the bytes quota you create is less than the existing bytes:%d\n", s.get("bytes"))
	}
}

func (sh *Shell) checkIfChildQuota(ctx context.Context, path string) error {
	realPath := quotaPath(path)
	if err := zkclient.ValidatePath(realPath, false); err != nil {
		return &illegalArg{err.Error()}
	}
	var found error
	err := sh.visitDFS(ctx, realPath, nil, func(qp string) {
		if found != nil {
			return
		}
		children, _, err := sh.client.Children(ctx, qp, nil)
		if err != nil {
			return
		}
		for _, child := range children {
			if qp != quotaZookeeper+path && child == limitNode {
				found = &illegalArg{path + " has a child " + strings.TrimPrefix(qp, quotaZookeeper) + " which has a quota"}
				return
			}
		}
	})
	if found != nil {
		return found
	}
	if zkclient.IsCode(err, wire.ErrNoNode) {
		return nil
	}
	return err
}

func (sh *Shell) checkIfParentQuota(ctx context.Context, path string) error {
	splits := javaSplit(path, "/")
	qp := quotaZookeeper
	for i := 1; i < len(splits)-1; i++ {
		qp += "/" + splits[i]
		children, _, err := sh.client.Children(ctx, qp, nil)
		if zkclient.IsCode(err, wire.ErrNoNode) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(children) == 0 {
			return nil
		}
		for _, child := range children {
			if qp != quotaPath(path) && child == limitNode {
				return &illegalArg{path + " has a parent " + strings.TrimPrefix(qp, quotaZookeeper) + " which has a quota"}
			}
		}
	}
	return nil
}

// javaSplit is String.split for a literal separator: trailing empty
// strings are dropped.
func javaSplit(s, sep string) []string {
	parts := strings.Split(s, sep)
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

func (sh *Shell) cmdDelQuota(ctx context.Context, p *parsed) error {
	if len(p.args) < 2 {
		return sh.usageErr("delquota")
	}
	path := p.args[1]
	c := sh.client
	parent, lp := quotaPath(path), limitPath(path)
	st, err := c.Exists(ctx, lp, nil)
	if err != nil {
		return wrapErr(err)
	}
	if st == nil {
		fmt.Fprintf(sh.out, "Quota does not exist for %s\n", path)
		return nil
	}
	err = func() error {
		data, _, err := c.Get(ctx, lp, nil)
		if err != nil {
			return err
		}
		if !(p.has("n") || p.has("b") || p.has("N") || p.has("B")) {
			children, _, err := c.Children(ctx, parent, nil)
			if err != nil {
				return err
			}
			for _, child := range children {
				if err := c.Delete(ctx, parent+"/"+child, -1); err != nil {
					return err
				}
			}
			return sh.trimProcQuotas(ctx, parent)
		}
		q := parseStatsTrack(data)
		for flag, key := range map[string]string{"n": "count", "b": "bytes", "N": "countHardLimit", "B": "byteHardLimit"} {
			if p.has(flag) {
				q[key] = -1
			}
		}
		_, err = c.Set(ctx, lp, []byte(q.String()), -1)
		return err
	}()
	if zkclient.IsCode(err, wire.ErrNoNode) {
		fmt.Fprintf(sh.errw, "quota for %s does not exist.\n", path)
		return nil
	}
	return wrapErr(err)
}

func (sh *Shell) trimProcQuotas(ctx context.Context, path string) error {
	for path != quotaZookeeper {
		children, _, err := sh.client.Children(ctx, path, nil)
		if err != nil {
			return err
		}
		if len(children) > 0 {
			return nil
		}
		if err := sh.client.Delete(ctx, path, -1); err != nil {
			return err
		}
		path = path[:strings.LastIndexByte(path, '/')]
	}
	return nil
}
