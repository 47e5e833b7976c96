package storage

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/record"
)

// HighWaterFile is the name of the log's high-water mark file, beside
// pebble's files in the log directory.
const HighWaterFile = "zkgo-highwater"

// The high-water file holds two slots, written in turn, so that a write
// torn by a crash leaves the other slot whole. A slot is:
//
//	magic "ZKHW" | sequence (uint64) | zxid (int64) | CRC32-C of the above
//
// The valid slot with the higher sequence is the mark.
const (
	hwMagic    = "ZKHW"
	hwSlotSize = 512
	hwRecLen   = 4 + 8 + 8 + crcLen
)

// highWater is the log's durable high-water mark: the highest zxid the log
// has reported durable to its callers (and so may have acknowledged). It
// lives in a file of its own, synced after the log's own sync, so that a
// log which lost entries it had made durable (a damaged or truncated
// write-ahead file, a deleted file) is told apart from one that never
// had them: a crash can tear only what was written after the mark.
//
// Appends that become durable together share one write and sync of the
// mark (group commit), as they share the log's.
type highWater struct {
	path string
	f    *os.File
	sync bool // sync each write (the log's ForceSync)
	raw  bool // write and sync with raw system calls (see rawio_linux.go)

	mu      sync.Mutex
	cond    sync.Cond
	want    int64  // highest zxid asked to be made durable
	durable int64  // mark on disk
	gen     uint64 // bumped by set: advances asked for before it are stale
	seq     uint64
	writing bool
	err     error
}

// errNoHighWater: the log directory has no high-water file.
var errNoHighWater = errors.New("storage: no high-water file")

// readHighWater reads the mark of the file at path. It returns
// errNoHighWater if there is no such file, and a *CorruptionError if
// neither slot is valid.
func readHighWater(path string) (zxid int64, seq uint64, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, errNoHighWater
	}
	if err != nil {
		return 0, 0, fmt.Errorf("storage: reading %s: %w", path, err)
	}
	found := false
	for off := 0; off+hwRecLen <= len(b) && off < 2*hwSlotSize; off += hwSlotSize {
		s, z, ok := decodeHighWaterSlot(b[off : off+hwRecLen])
		if ok && (!found || s > seq) {
			zxid, seq, found = z, s, true
		}
	}
	if !found {
		return 0, 0, &CorruptionError{Path: path, Reason: fmt.Sprintf("no valid high-water mark in %d bytes", len(b))}
	}
	return zxid, seq, nil
}

func decodeHighWaterSlot(b []byte) (seq uint64, zxid int64, ok bool) {
	if string(b[:4]) != hwMagic {
		return 0, 0, false
	}
	body := b[:hwRecLen-crcLen]
	if binary.BigEndian.Uint32(b[hwRecLen-crcLen:]) != crc32.Checksum(body, castagnoli) {
		return 0, 0, false
	}
	return binary.BigEndian.Uint64(b[4:]), int64(binary.BigEndian.Uint64(b[12:])), true
}

// openHighWater opens the high-water file of dir for writing; seq is the
// sequence of the slot last written. With fresh the file is (re)written
// whole at zxid.
func openHighWater(dir string, zxid int64, seq uint64, sync, fresh bool) (*highWater, error) {
	path := filepath.Join(dir, HighWaterFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("storage: opening %s: %w", path, err)
	}
	h := &highWater{path: path, f: f, sync: sync, raw: rawIO && runtime.GOMAXPROCS(0) > 1,
		want: zxid, durable: zxid, seq: seq}
	h.cond.L = &h.mu
	if fresh {
		// Both slots written, then the directory synced, so that the
		// file itself survives a crash.
		if err := h.write(zxid); err == nil {
			err = h.write(zxid)
		}
		if err == nil {
			err = syncDir(dir)
		}
		if err != nil {
			f.Close()
			return nil, err
		}
	}
	return h, nil
}

// write stores zxid in the next slot and syncs it. Only one write runs at
// a time (h.writing, or the caller holds the only reference).
func (h *highWater) write(zxid int64) error {
	seq := h.seq + 1
	var rec [hwRecLen]byte
	copy(rec[:], hwMagic)
	binary.BigEndian.PutUint64(rec[4:], seq)
	binary.BigEndian.PutUint64(rec[12:], uint64(zxid))
	binary.BigEndian.PutUint32(rec[hwRecLen-crcLen:], crc32.Checksum(rec[:hwRecLen-crcLen], castagnoli))
	off := int64(seq%2) * hwSlotSize
	var err error
	if h.raw {
		err = rawPwrite(h.f.Fd(), rec[:], off)
	} else {
		_, err = h.f.WriteAt(rec[:], off)
	}
	if err != nil {
		return fmt.Errorf("storage: writing %s: %w", h.path, err)
	}
	if h.sync {
		if h.raw {
			err = rawSyncData(h.f.Fd())
		} else {
			err = syncData(h.f)
		}
		if err != nil {
			return fmt.Errorf("storage: syncing %s: %w", h.path, err)
		}
	}
	h.seq = seq
	return nil
}

// advance returns once the mark is at least zxid, writing it if need be;
// callers that arrive while a write is in flight share the next one. It
// does nothing if the mark was set (a truncation) since gen.
func (h *highWater) advance(zxid int64, gen uint64) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if gen != h.gen {
		return h.err
	}
	h.want = max(h.want, zxid)
	for h.durable < zxid && h.err == nil {
		if h.writing {
			h.cond.Wait()
			continue
		}
		target := h.want
		h.writing = true
		h.mu.Unlock()
		err := h.write(target)
		h.mu.Lock()
		h.writing = false
		if err != nil {
			h.err = err
		} else {
			h.durable = max(h.durable, target)
		}
		h.cond.Broadcast()
	}
	return h.err
}

// set durably moves the mark to zxid, down as well as up (a truncation,
// a repair).
func (h *highWater) set(zxid int64) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.writing {
		h.cond.Wait()
	}
	if h.err != nil {
		return h.err
	}
	if err := h.write(zxid); err != nil {
		h.err = err
		return err
	}
	h.want, h.durable = zxid, zxid
	h.gen++
	return nil
}

// generation is the number of sets so far (see advance).
func (h *highWater) generation() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.gen
}

// mark returns the durable mark.
func (h *highWater) mark() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.durable
}

func (h *highWater) close() error { return h.f.Close() }

// walDamage is the first record that pebble's reader refuses in one of the
// write-ahead files of dir (newest file first): where pebble's recovery
// stopped reading. ok is false if every file reads to a clean end.
func walDamage(dir string) (file string, offset int64, ok bool) {
	names, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil {
		return "", 0, false
	}
	type wal struct {
		path string
		num  uint64
	}
	var wals []wal
	for _, p := range names {
		n, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(p), ".log"), 10, 64)
		if err == nil {
			wals = append(wals, wal{p, n})
		}
	}
	slices.SortFunc(wals, func(a, b wal) int { return cmp.Compare(b.num, a.num) })
	for _, w := range wals {
		if off, bad := badRecord(w.path, pebble.FileNum(w.num)); bad {
			return w.path, off, true
		}
	}
	return "", 0, false
}

// badRecord returns the offset of the first record of a write-ahead file
// that does not read back whole.
func badRecord(path string, num pebble.FileNum) (int64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	rr := record.NewReader(f, num)
	for {
		off := rr.Offset()
		r, err := rr.Next()
		if err == nil {
			_, err = io.Copy(io.Discard, r)
		}
		if err == io.EOF {
			return 0, false
		}
		if err != nil {
			return off, true
		}
	}
}
