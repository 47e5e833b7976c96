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
	"slices"
	"strconv"
	"strings"

	"go.uber.org/zap"
)

// A snapshot file is named snapshot.<zxid in lower-case hex> like Apache
// ZooKeeper's, and holds the payload followed by a trailer:
//
//	magic "ZKGS" | payload length (uint64, big-endian) | CRC32-C of the payload (uint32, big-endian)
const (
	snapshotPrefix     = "snapshot."
	snapshotMagic      = "ZKGS"
	snapshotTrailerLen = 4 + 8 + 4
	snapshotMinRetain  = 3
)

// SnapshotName returns the file name of the snapshot taken at zxid.
func SnapshotName(zxid int64) string {
	return snapshotPrefix + strconv.FormatInt(zxid, 16)
}

// parseSnapshotName returns the zxid of a snapshot file name, or false for
// any other name (including the temporary files WriteSnapshot leaves behind).
func parseSnapshotName(name string) (int64, bool) {
	s, ok := strings.CutPrefix(name, snapshotPrefix)
	if !ok {
		return 0, false
	}
	z, err := strconv.ParseUint(s, 16, 63)
	return int64(z), err == nil
}

// WriteSnapshot writes the snapshot taken at zxid into dir: write is handed a
// buffered writer for the payload (see directWriter), then a trailer with
// the payload's length and CRC32-C is appended, the file is fsynced,
// atomically renamed to snapshot.<zxid hex> and the directory fsynced. On
// error no snapshot file is left behind.
func WriteSnapshot(dir string, zxid int64, write func(w io.Writer) error) (path string, err error) {
	if zxid < 0 {
		return "", fmt.Errorf("storage: negative snapshot zxid %d", zxid)
	}
	path = filepath.Join(dir, SnapshotName(zxid))
	f, err := os.CreateTemp(dir, SnapshotName(zxid)+".*.tmp")
	if err != nil {
		return "", fmt.Errorf("storage: creating snapshot: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("storage: writing snapshot %s: %w", path, err)
		}
	}()
	dw := newDirectWriter(f)
	cw := &crcWriter{w: dw}
	if err := write(cw); err != nil {
		return "", err
	}
	trailer := make([]byte, 0, snapshotTrailerLen)
	trailer = append(trailer, snapshotMagic...)
	trailer = binary.BigEndian.AppendUint64(trailer, uint64(cw.n))
	trailer = binary.BigEndian.AppendUint32(trailer, cw.crc)
	if _, err := dw.Write(trailer); err != nil {
		return "", err
	}
	if err := dw.Flush(); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return "", err
	}
	if err := syncDir(dir); err != nil {
		return "", err
	}
	return path, nil
}

// crcWriter checksums and counts what passes through it.
type crcWriter struct {
	w   io.Writer
	crc uint32
	n   int64
}

func (c *crcWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.crc = crc32.Update(c.crc, castagnoli, p[:n])
	c.n += int64(n)
	return n, err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// snapshotFile is a snapshot found in a directory.
type snapshotFile struct {
	zxid int64
	path string
}

// listSnapshots returns the snapshots in dir, newest first. A missing dir
// holds none.
func listSnapshots(dir string) ([]snapshotFile, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("storage: listing snapshots: %w", err)
	}
	var snaps []snapshotFile
	for _, e := range ents {
		if z, ok := parseSnapshotName(e.Name()); ok && e.Type().IsRegular() {
			snaps = append(snaps, snapshotFile{z, filepath.Join(dir, e.Name())})
		}
	}
	slices.SortFunc(snaps, func(a, b snapshotFile) int { return cmp.Compare(b.zxid, a.zxid) })
	return snaps, nil
}

// LatestSnapshot returns the zxid, path and payload of the newest valid
// snapshot in dir, path "" if there is none. Like Apache ZooKeeper it falls back to an older snapshot when a
// newer one is invalid, logging a warning that names the bad file to log
// (nil discards it); it returns an error only if snapshots exist and none is
// valid. Every candidate is read whole and its checksum verified.
func LatestSnapshot(dir string, log *zap.Logger) (zxid int64, path string, payload []byte, err error) {
	if log == nil {
		log = zap.NewNop()
	}
	snaps, err := listSnapshots(dir)
	if err != nil {
		return 0, "", nil, err
	}
	var newestErr error
	for _, s := range snaps {
		payload, err := ReadSnapshotFile(s.path)
		if err == nil {
			return s.zxid, s.path, payload, nil
		}
		log.Warn("skipping invalid snapshot", zap.String("file", s.path), zap.Error(err))
		if newestErr == nil {
			newestErr = err
		}
	}
	if newestErr != nil {
		return 0, "", nil, fmt.Errorf("storage: no valid snapshot in %s (%d found): %w", dir, len(snaps), newestErr)
	}
	return 0, "", nil, nil
}

// ReadSnapshotFile reads the snapshot file at path in one pass and returns
// its payload once its trailer and checksum are verified. A bad checksum or
// trailer is a *CorruptionError.
func ReadSnapshotFile(path string) ([]byte, error) {
	zxid, _ := parseSnapshotName(filepath.Base(path))
	corrupt := func(format string, args ...any) error {
		return &CorruptionError{Path: path, Zxid: zxid, Reason: fmt.Sprintf(format, args...)}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("storage: opening snapshot: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("storage: reading snapshot %s: %w", path, err)
	}
	size := st.Size()
	if size < snapshotTrailerLen {
		return nil, corrupt("file of %d bytes is too short for its trailer", size)
	}
	// One buffer of the file's size: growing one to hundreds of
	// megabytes by copying (and clearing) costs time and holds up the
	// garbage collector.
	b := make([]byte, size)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("storage: reading snapshot %s: %w", path, err)
	}
	payload, tr := b[:size-snapshotTrailerLen], b[size-snapshotTrailerLen:]
	if err := checkTrailer(tr, size, corrupt); err != nil {
		return nil, err
	}
	if want, got := binary.BigEndian.Uint32(tr[12:]), crc32.Checksum(payload, castagnoli); want != got {
		return nil, corrupt("checksum mismatch (stored %08x, computed %08x)", want, got)
	}
	return payload, nil
}

// checkTrailer checks the magic and the payload length of the trailer tr
// of a file of size bytes.
func checkTrailer(tr []byte, size int64, corrupt func(format string, args ...any) error) error {
	if string(tr[:4]) != snapshotMagic {
		return corrupt("no trailer (truncated, or not written by this server)")
	}
	if n := int64(binary.BigEndian.Uint64(tr[4:])); n != size-snapshotTrailerLen {
		return corrupt("trailer records %d payload bytes but the file holds %d", n, size-snapshotTrailerLen)
	}
	return nil
}

// PurgeSnapshots deletes all but the newest retain snapshots in dir (retain
// is at least 3, as autopurge.snapRetainCount) and returns the zxid of the
// oldest one kept, 0 if there is none. The caller may then purge the log
// before that zxid.
func PurgeSnapshots(dir string, retain int) (oldestKept int64, err error) {
	retain = max(retain, snapshotMinRetain)
	snaps, err := listSnapshots(dir)
	if err != nil || len(snaps) == 0 {
		return 0, err
	}
	kept := snaps[:min(retain, len(snaps))]
	for _, s := range snaps[len(kept):] {
		if rerr := os.Remove(s.path); rerr != nil && err == nil {
			err = fmt.Errorf("storage: purging snapshot: %w", rerr)
		}
	}
	return kept[len(kept)-1].zxid, err
}
