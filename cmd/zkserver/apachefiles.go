package main

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/adler32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/golang/snappy"

	"github.com/zkgo/zkgo/zab/storage"
	"github.com/zkgo/zkgo/znode"
)

// The files of an Apache ZooKeeper data directory (dataDir/version-2 and
// dataLogDir/version-2): snapshot.<zxid hex>[.gz|.snappy] written by
// FileSnap, and log.<zxid of the first txn in hex> written by FileTxnLog:
//
//	FileHeader  int magic "ZKLG", int version 2, long dbid
//	records     long Adler32(payload), int len, payload, byte 'B'
//	padding     zeros up to the preallocated size
//
// where payload is TxnHeader, txn record and, since 3.6, TxnDigest
// (znode.DecodeApacheTxn).
const (
	apacheLogMagic    = 0x5a4b4c47 // "ZKLG"
	apacheFileVersion = 2
	apacheLogHeader   = 16
	apacheRecordHead  = 8 + 4 // checksum, length
	apacheEndOfRecord = 'B'
	// apacheMaxRecord is the largest record Apache ZooKeeper reads with its
	// default jute.maxbuffer (0xfffff plus 1024 extra). A longer record is
	// read if it is whole; one that runs past the end of the file is
	// corruption rather than a torn append.
	apacheMaxRecord = 0xfffff + 1024
)

// apacheFile is a snapshot or log file with the zxid of its name.
type apacheFile struct {
	path string
	zxid int64
}

// apacheFiles lists the files of dir named prefix.<hex zxid>[.ext] (as
// Util.getZxidFromName parses them), by zxid, newest first if desc.
func apacheFiles(dir, prefix string, desc bool) ([]apacheFile, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var files []apacheFile
	for _, e := range ents {
		parts := strings.Split(e.Name(), ".")
		if len(parts) < 2 || parts[0] != prefix || !e.Type().IsRegular() {
			continue
		}
		z, err := strconv.ParseUint(parts[1], 16, 64)
		if err != nil {
			continue
		}
		files = append(files, apacheFile{filepath.Join(dir, e.Name()), int64(z)})
	}
	slices.SortFunc(files, func(a, b apacheFile) int {
		if desc {
			a, b = b, a
		}
		return cmp.Or(cmp.Compare(a.zxid, b.zxid), cmp.Compare(a.path, b.path))
	})
	return files, nil
}

// snapshotMode is SnapStream.getStreamMode: the extension after the last
// '.' picks gzip or snappy; anything else is a plain checked stream.
func snapshotMode(name string) string {
	parts := strings.Split(name, ".")
	if len(parts) > 1 {
		switch strings.ToLower(parts[len(parts)-1]) {
		case "gz":
			return "gz"
		case "snappy":
			return "snappy"
		}
	}
	return ""
}

// snappyMagic starts a stream of xerial snappy-java's SnappyOutputStream:
// the magic, then int version and int compatible version.
var snappyMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

const snappyHeaderLen = 8 + 4 + 4

// snapshotComplete is SnapStream.isValidSnapshot: a check that a
// snapshot was written to the end, its stream ending with the seal's "/".
// Apache checks only the magic of a compressed one; a gzip or snappy
// stream cut short by a crash (it ends before its last block) is
// incomplete here too, so that an older snapshot is used, as Apache's
// restore falls back when the newest fails to load.
func snapshotComplete(path string) (bool, error) {
	mode := snapshotMode(path)
	if mode == "gz" || mode == "snappy" {
		b, err := readSnapshotStream(path)
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errSnappyTruncated):
			return false, nil
		case err != nil:
			return true, nil // whole but damaged: reading it reports that
		}
		return sealed(b), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, err
	}
	if st.Size() < 10 {
		return false, nil
	}
	var tail [5]byte
	if _, err := f.ReadAt(tail[:], st.Size()-5); err != nil {
		return false, err
	}
	return sealed(tail[:]), nil
}

// sealed reports whether a snapshot stream ends with a seal's "/" (the
// ustring length 1, then '/').
func sealed(b []byte) bool {
	return len(b) >= 5 && binary.BigEndian.Uint32(b[len(b)-5:]) == 1 && b[len(b)-1] == '/'
}

// readSnapshotStream returns the decompressed content of a snapshot file.
func readSnapshotStream(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	switch snapshotMode(path) {
	case "gz":
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(zr)
	case "snappy":
		return unsnappy(b)
	}
	return b, nil
}

// errSnappyTruncated: a snappy stream ends inside a header or chunk, as
// when a crash cuts its file short.
var errSnappyTruncated = errors.New("snappy: truncated")

// unsnappy decodes a SnappyOutputStream: a header, then chunks of int
// length and a snappy block; a concatenated stream repeats the header.
func unsnappy(b []byte) ([]byte, error) {
	var out []byte
	for len(b) > 0 {
		if bytes.HasPrefix(b, snappyMagic) {
			if len(b) < snappyHeaderLen {
				return nil, fmt.Errorf("%w header", errSnappyTruncated)
			}
			b = b[snappyHeaderLen:]
			continue
		}
		if len(b) < 4 {
			return nil, fmt.Errorf("%w chunk length", errSnappyTruncated)
		}
		n := int(binary.BigEndian.Uint32(b))
		if n < 0 || n > len(b)-4 {
			return nil, fmt.Errorf("%w chunk: %d bytes past the end", errSnappyTruncated, n)
		}
		dec, err := snappy.Decode(nil, b[4:4+n])
		if err != nil {
			return nil, fmt.Errorf("snappy: %w", err)
		}
		out = append(out, dec...)
		b = b[4+n:]
	}
	return out, nil
}

// apacheLogReader reads the txns of one log file.
type apacheLogReader struct {
	file apacheFile
	b    []byte
	off  int
	prev int64 // zxid of the last txn read, file.zxid-1 before the first
}

// tornTailError reports an incomplete last record: what a crash while
// Apache ZooKeeper appended it leaves behind. Apache ZooKeeper drops it
// silently; the import drops it too, but says so, and only at the end of
// the newest log file.
type tornTailError struct {
	path   string
	offset int
	after  int64
	reason string
}

func (e *tornTailError) Error() string {
	return fmt.Sprintf("transaction log %s ends with an incomplete record at offset %d, after zxid 0x%x: %s",
		e.path, e.offset, e.after, e.reason)
}

func openApacheLog(f apacheFile) (*apacheLogReader, error) {
	b, err := os.ReadFile(f.path)
	if err != nil {
		return nil, err
	}
	r := &apacheLogReader{file: f, b: b, off: apacheLogHeader, prev: f.zxid - 1}
	if len(b) < apacheLogHeader {
		return nil, r.corrupt(f.zxid, "file of %d bytes is too short for its header", len(b))
	}
	if magic := binary.BigEndian.Uint32(b); magic != apacheLogMagic {
		return nil, r.corrupt(f.zxid, "not a transaction log (magic %08x)", magic)
	}
	if v := int32(binary.BigEndian.Uint32(b[4:])); v != apacheFileVersion {
		return nil, r.corrupt(f.zxid, "unsupported version %d", v)
	}
	return r, nil
}

func (r *apacheLogReader) corrupt(zxid int64, format string, args ...any) error {
	return &storage.CorruptionError{Path: r.file.path, Zxid: zxid, Reason: fmt.Sprintf(format, args...)}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// next returns the next txn, io.EOF at the end of the records, a
// *tornTailError for an incomplete last record, or a
// *storage.CorruptionError naming the file and the zxid of the bad record
// (the one after the last good one).
func (r *apacheLogReader) next() (*znode.ApacheTxn, error) {
	b, o := r.b, r.off
	want := r.prev + 1
	if o == len(b) || allZero(b[o:]) {
		return nil, io.EOF // the end, or the preallocated padding
	}
	torn := func(end int, reason string) error {
		// Incomplete, and nothing but zeros after it: a torn append.
		if end < len(b) && !allZero(b[end:]) {
			return r.corrupt(want, "%s at offset %d, and more data after it", reason, o)
		}
		return &tornTailError{path: r.file.path, offset: o, after: r.prev, reason: reason}
	}
	if len(b)-o < apacheRecordHead {
		return nil, torn(len(b), "the file ends inside a record header")
	}
	sum := binary.BigEndian.Uint64(b[o:])
	n := int(int32(binary.BigEndian.Uint32(b[o+8:])))
	start := o + apacheRecordHead
	switch {
	case n < 0:
		return nil, r.corrupt(want, "negative record length %d at offset %d", n, o)
	case n == 0 && sum == 0:
		return nil, r.corrupt(want, "an empty record at offset %d with data after it", o)
	case n == 0:
		return nil, torn(start, "a checksum but no length")
	case n+1 > len(b)-start && n > apacheMaxRecord:
		return nil, r.corrupt(want, "unreasonable record length %d at offset %d, past the end of the file", n, o)
	case n+1 > len(b)-start:
		return nil, torn(len(b), fmt.Sprintf("the file ends inside a record of %d bytes", n))
	}
	payload := b[start : start+n]
	end := start + n + 1
	if b[end-1] != apacheEndOfRecord {
		return nil, torn(end, "no end-of-record byte 'B'")
	}
	if got := uint64(adler32.Checksum(payload)); got != sum {
		return nil, r.corrupt(want, "checksum mismatch at offset %d (stored %x, computed %x)", o, sum, got)
	}
	txn, err := znode.DecodeApacheTxn(payload)
	if err != nil {
		return nil, r.corrupt(want, "offset %d: %v", o, err)
	}
	r.off = end
	r.prev = txn.Zxid
	return txn, nil
}
