package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zkgo/zkgo/zab"
)

// The mirror: a second copy of the log's recent writes, in files of our own.
//
// Pebble replays its write-ahead log at open and stops, silently, at the
// first record it cannot read: a tail torn by a crash, or a record damaged
// after it was synced. Only the first is harmless. So every append is
// written twice, to pebble (its write-ahead file) and to the mirror, and
// the two are synced at the same time; an append is durable, and may be
// acknowledged, once both copies are. A crash can then tear at most the
// copies of appends not yet acknowledged, and damage to one copy of an
// acknowledged append is repaired at open from the other (see OpenLog).
// Syncing both at once costs one sync's latency, where a mark written
// after the log's sync (the high-water file this replaced) cost two.
//
// The mirror holds only what pebble may hold in its write-ahead files
// alone: when a segment is full the mirror starts the next one and has
// pebble flush its memtables to tables (checksummed, and read with their
// checksums checked); once that flush is done the older segments go.
//
// A segment, named zkgo-mirror-<seq in hex>, starts with a header:
//
//	magic "ZKMIRROR" | seq (uint64) | base zxid (int64) | CRC32-C of the above
//
// base is the log's last zxid when the segment started. Records follow:
//
//	length of body (uint32) | CRC32-C of seq and body (uint32) | body
//	body: kind (byte) | acknowledged zxid (int64) | payload
//
// The seq in each record's checksum ties it to its segment. The
// acknowledged zxid is the highest zxid whose append had been reported
// durable when the record was written: a log that ends below the highest
// one found lost entries it had acknowledged (both copies of them).
const (
	mirrorPrefix    = "zkgo-mirror-"
	mirrorMagic     = "ZKMIRROR"
	mirrorHdrLen    = 8 + 8 + 8 + crcLen
	mirrorRecHdrLen = 4 + crcLen
	mirrorBodyHdr   = 1 + 8
	// mirrorSegmentSize is the size at which the mirror starts a new
	// segment. Segments are allocated at this size up front: syncing a
	// write that grows a file also commits its new size, which costs a
	// second journal write.
	mirrorSegmentSize = 64 << 20
)

// Record kinds.
const (
	mirrorAppend = 1 // payload: the group's txns, as in a pebble value (see setGroup)
	mirrorTrunc  = 2 // payload: the zxid entries after which were dropped
	mirrorSeal   = 3 // the segment's last record: the next one continues
	mirrorMark   = 4 // no payload: records a new acknowledged zxid (see Log.Repaired)
)

// mirror writes the log's mirror. Appends are added to a buffer under the
// log's lock (so in the log's order) and written and synced by the
// mirror's own goroutine, at the same time as pebble's goroutine syncs its
// write-ahead file; appends that arrive during a sync share the next one.
type mirror struct {
	dir   string
	sync  bool // sync each write (the log's ForceSync)
	raw   bool // write and sync with raw system calls (see rawio_linux.go)
	delay func() time.Duration
	kick  chan struct{}
	done  chan struct{}

	mu      sync.Mutex
	cond    sync.Cond // signalled when synced or err changes
	f       *os.File
	seq     uint64
	off     int64  // where buf goes in f
	buf     []byte // records not yet handed to the file
	spare   []byte
	written int64 // bytes of records ever added, over all segments
	synced  int64 // of which are durable
	writing bool
	closed  bool
	err     error
}

// mirrorName is the file name of segment seq.
func mirrorName(seq uint64) string { return fmt.Sprintf("%s%016x", mirrorPrefix, seq) }

// startMirror creates segment seq (base: the log's last zxid) in dir and
// starts the mirror's writer on it.
func startMirror(dir string, seq uint64, base int64, sync, raw bool, delay func() time.Duration) (*mirror, error) {
	m := &mirror{dir: dir, sync: sync, raw: raw, delay: delay,
		kick: make(chan struct{}, 1), done: make(chan struct{})}
	m.cond.L = &m.mu
	if err := m.newSegment(seq, base); err != nil {
		return nil, err
	}
	go m.run()
	return m, nil
}

// newSegment creates segment seq, durably, and makes it the one written.
// Nothing may be buffered or being written.
func (m *mirror) newSegment(seq uint64, base int64) error {
	path := filepath.Join(m.dir, mirrorName(seq))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("storage: creating %s: %w", path, err)
	}
	hdr := make([]byte, 0, mirrorHdrLen)
	hdr = append(hdr, mirrorMagic...)
	hdr = binary.BigEndian.AppendUint64(hdr, seq)
	hdr = binary.BigEndian.AppendUint64(hdr, uint64(base))
	hdr = binary.BigEndian.AppendUint32(hdr, crc32.Checksum(hdr, castagnoli))
	_, err = f.WriteAt(hdr, 0)
	if err == nil {
		err = preallocate(f, mirrorSegmentSize)
	}
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = syncDir(m.dir)
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("storage: creating %s: %w", path, err)
	}
	if m.f != nil {
		m.f.Close()
	}
	m.f, m.seq, m.off = f, seq, mirrorHdrLen
	return nil
}

// add appends a record to the buffer and returns the position the mirror
// must be synced to for it to be durable. The log's lock is held.
func (m *mirror) add(kind byte, acked int64, payload []byte) int64 {
	m.mu.Lock()
	start := len(m.buf)
	n := mirrorBodyHdr + len(payload)
	m.buf = slices.Grow(m.buf, mirrorRecHdrLen+n)
	m.buf = binary.BigEndian.AppendUint32(m.buf, uint32(n))
	m.buf = append(m.buf, 0, 0, 0, 0) // checksum
	m.buf = append(m.buf, kind)
	m.buf = binary.BigEndian.AppendUint64(m.buf, uint64(acked))
	m.buf = append(m.buf, payload...)
	binary.BigEndian.PutUint32(m.buf[start+4:], mirrorRecordChecksum(m.seq, m.buf[start+mirrorRecHdrLen:]))
	m.written += int64(len(m.buf) - start)
	pos := m.written
	m.mu.Unlock()
	select {
	case m.kick <- struct{}{}:
	default:
	}
	return pos
}

func mirrorRecordChecksum(seq uint64, body []byte) uint32 {
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], seq)
	return crc32.Update(crc32.Checksum(s[:], castagnoli), castagnoli, body)
}

// run writes and syncs the buffered records until the mirror is closed.
func (m *mirror) run() {
	defer close(m.done)
	for {
		m.mu.Lock()
		for len(m.buf) == 0 && !m.closed {
			m.mu.Unlock()
			<-m.kick
			m.mu.Lock()
		}
		if len(m.buf) == 0 || m.err != nil {
			// Closed, or failed: nothing more is written.
			m.buf = m.buf[:0]
			closed := m.closed
			m.mu.Unlock()
			if closed {
				return
			}
			<-m.kick
			continue
		}
		buf, f, off, upto := m.buf, m.f, m.off, m.written
		m.buf, m.spare = m.spare[:0], nil
		m.off += int64(len(buf))
		m.writing = true
		m.mu.Unlock()

		err := m.writeAt(f, buf, off)

		m.mu.Lock()
		m.writing = false
		if cap(buf) <= 1<<20 {
			m.spare = buf[:0]
		}
		if err != nil {
			if m.err == nil {
				m.err = err
			}
		} else {
			m.synced = upto
		}
		m.cond.Broadcast()
		m.mu.Unlock()
	}
}

// writeAt writes b at off of f and syncs it (with ForceSync).
func (m *mirror) writeAt(f *os.File, b []byte, off int64) error {
	var err error
	if m.raw {
		err = rawPwrite(f.Fd(), b, off)
	} else {
		_, err = f.WriteAt(b, off)
	}
	if err != nil {
		return fmt.Errorf("storage: writing %s: %w", f.Name(), err)
	}
	if !m.sync {
		return nil
	}
	if m.delay != nil {
		if d := m.delay(); d > 0 {
			time.Sleep(d)
		}
	}
	if m.raw {
		err = rawSyncData(f.Fd())
	} else {
		err = syncData(f)
	}
	if err != nil {
		return fmt.Errorf("storage: syncing %s: %w", f.Name(), err)
	}
	return nil
}

// wait blocks until the mirror is durable up to pos.
func (m *mirror) wait(pos int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for m.synced < pos && m.err == nil {
		m.cond.Wait()
	}
	if m.synced >= pos {
		return nil
	}
	return m.err
}

// rotate seals the current segment, waits until it is durable, and starts
// segment seq+1 at base; it returns the new segment's seq. The log's lock
// is held, so nothing is added meanwhile.
func (m *mirror) rotate(base, acked int64) (uint64, error) {
	pos := m.add(mirrorSeal, acked, nil)
	if err := m.wait(pos); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for m.writing {
		m.cond.Wait()
	}
	if err := m.newSegment(m.seq+1, base); err != nil {
		m.err = err
		return 0, err
	}
	return m.seq, nil
}

// full reports whether the current segment has reached its size.
func (m *mirror) full() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.off+int64(len(m.buf)) >= mirrorSegmentSize
}

// close stops the writer once what was added is written, and closes the
// segment.
func (m *mirror) close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	select {
	case m.kick <- struct{}{}:
	default:
	}
	<-m.done
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.f.Close()
}

// removeMirrorsBefore deletes the segments of dir older than seq.
func removeMirrorsBefore(dir string, seq uint64) error {
	segs, err := listMirrors(dir)
	if err != nil {
		return err
	}
	removed := false
	for _, s := range segs {
		if s.seq < seq {
			if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("storage: removing %s: %w", s.path, err)
			}
			removed = true
		}
	}
	if removed {
		return syncDir(dir)
	}
	return nil
}

// mirrorFile is a segment found in a directory.
type mirrorFile struct {
	path string
	seq  uint64
}

// listMirrors returns the segments of dir, oldest first.
func listMirrors(dir string) ([]mirrorFile, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("storage: listing %s: %w", dir, err)
	}
	var segs []mirrorFile
	for _, e := range ents {
		hex, ok := strings.CutPrefix(e.Name(), mirrorPrefix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		if seq, err := strconv.ParseUint(hex, 16, 64); err == nil && len(hex) == 16 {
			segs = append(segs, mirrorFile{filepath.Join(dir, e.Name()), seq})
		}
	}
	slices.SortFunc(segs, func(a, b mirrorFile) int { return cmpUint(a.seq, b.seq) })
	return segs, nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// mirrorState is what a log's mirror says, read at open.
type mirrorState struct {
	found  bool   // there is at least one segment
	maxSeq uint64 // the newest segment's
	// base is the oldest segment's base: entries up to it were in
	// pebble's tables before the mirror began.
	base int64
	// entries are the entries appended since base, without those a
	// truncation dropped, in order.
	entries []zab.Entry
	// truncTo is the zxid of a truncation that is the newest segment's
	// last record, or -1: pebble may not have made it.
	truncTo int64
	// acked is the acknowledged zxid of the last record read.
	acked int64
	// damage is the first record found damaged where a whole one must be
	// (anywhere but at the newest segment's end); entries stops there.
	damage *CorruptionError
	end    string // the newest segment's path and where its records end
	endOff int64
}

// lastZxid is the last entry's zxid (or base, with none).
func (s *mirrorState) lastZxid() int64 {
	if len(s.entries) == 0 {
		return s.base
	}
	return s.entries[len(s.entries)-1].Zxid
}

// readMirrors reads the mirror of dir.
func readMirrors(dir string) (*mirrorState, error) {
	files, err := listMirrors(dir)
	if err != nil {
		return nil, err
	}
	s := &mirrorState{truncTo: -1}
	for i, mf := range files {
		newest := i == len(files)-1
		b, err := os.ReadFile(mf.path)
		if err != nil {
			return nil, fmt.Errorf("storage: reading %s: %w", mf.path, err)
		}
		s.found, s.maxSeq = true, mf.seq
		base, ok := decodeMirrorHeader(b, mf.seq)
		if !ok {
			// A segment whose creation a crash cut short holds no
			// records; it can only be the newest.
			if !newest && s.damage == nil {
				s.damage = &CorruptionError{Path: mf.path, Reason: "damaged mirror segment header"}
			}
			continue
		}
		if i == 0 {
			s.base = base
		}
		off, sealed := int64(mirrorHdrLen), false
		s.truncTo = -1
		for !sealed {
			kind, acked, payload, n, ok := decodeMirrorRecord(b[off:], mf.seq)
			if !ok {
				break
			}
			s.acked = acked
			s.truncTo = -1
			if kind == mirrorTrunc && len(payload) == 8 {
				s.truncTo = int64(binary.BigEndian.Uint64(payload))
			}
			if s.damage == nil {
				if err := s.apply(kind, payload); err != nil {
					s.damage = &CorruptionError{Path: mf.path, Offset: off, Zxid: s.lastZxid(), Reason: err.Error()}
				}
			}
			sealed = kind == mirrorSeal
			off += n
		}
		if !sealed && !newest && s.damage == nil {
			s.damage = &CorruptionError{Path: mf.path, Offset: off, Zxid: s.lastZxid(),
				Reason: "damaged mirror record (the segment ends before its seal)"}
		}
		if newest {
			s.end, s.endOff = mf.path, off
		}
	}
	return s, nil
}

// apply adds one record's effect to s.
func (s *mirrorState) apply(kind byte, payload []byte) error {
	switch kind {
	case mirrorAppend:
		for len(payload) > 0 {
			if len(payload) < entryHdrLen {
				return errors.New("truncated txn header in mirror record")
			}
			zxid, n := int64(binary.BigEndian.Uint64(payload)), int(binary.BigEndian.Uint32(payload[8:]))
			if n > len(payload)-entryHdrLen {
				return fmt.Errorf("txn 0x%x of %d bytes overruns its mirror record", zxid, n)
			}
			if zxid <= s.lastZxid() {
				return fmt.Errorf("txn 0x%x out of order in the mirror", zxid)
			}
			s.entries = append(s.entries, zab.Entry{Zxid: zxid, Data: payload[entryHdrLen : entryHdrLen+n]})
			payload = payload[entryHdrLen+n:]
		}
	case mirrorTrunc:
		if len(payload) != 8 {
			return errors.New("bad truncation record in the mirror")
		}
		z := int64(binary.BigEndian.Uint64(payload))
		s.entries = entriesUpTo(s.entries, z)
		s.base = min(s.base, z)
	case mirrorSeal, mirrorMark:
	default:
		return fmt.Errorf("unknown mirror record kind %d", kind)
	}
	return nil
}

func decodeMirrorHeader(b []byte, seq uint64) (base int64, ok bool) {
	if len(b) < mirrorHdrLen || string(b[:8]) != mirrorMagic ||
		binary.BigEndian.Uint32(b[mirrorHdrLen-crcLen:]) != crc32.Checksum(b[:mirrorHdrLen-crcLen], castagnoli) ||
		binary.BigEndian.Uint64(b[8:]) != seq {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(b[16:])), true
}

// decodeMirrorRecord decodes the record at the start of b; n is its size.
func decodeMirrorRecord(b []byte, seq uint64) (kind byte, acked int64, payload []byte, n int64, ok bool) {
	if len(b) < mirrorRecHdrLen+mirrorBodyHdr {
		return 0, 0, nil, 0, false
	}
	size := int64(binary.BigEndian.Uint32(b))
	if size < mirrorBodyHdr || size > int64(len(b)-mirrorRecHdrLen) {
		return 0, 0, nil, 0, false
	}
	body := b[mirrorRecHdrLen : mirrorRecHdrLen+size]
	if binary.BigEndian.Uint32(b[4:]) != mirrorRecordChecksum(seq, body) {
		return 0, 0, nil, 0, false
	}
	return body[0], int64(binary.BigEndian.Uint64(body[1:])), body[mirrorBodyHdr:], mirrorRecHdrLen + size, true
}
