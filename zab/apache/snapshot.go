package apache

import "bufio"

// snapSignature ends the snapshot a leader sends after SNAP.
const snapSignature = "BenWasHere"

// maxSnapshot bounds a snapshot stream read into memory.
const maxSnapshot = 1 << 34

// readSnapshot reads the snapshot that follows a SNAP packet
// (ZKDatabase.serializeSnapshot, then the signature) and returns its bytes
// without the signature: the session count and sessions (id, timeout),
// the ACL cache (count, then id and ACL vector each), then the nodes
// (path, data, ACL id, StatPersisted) up to the path "/". The layout is
// only walked to find the end; the caller decodes the bytes.
func readSnapshot(r *bufio.Reader) ([]byte, error) {
	var body []byte
	s := stream{r: r, rec: &body}
	n, err := s.int()
	if err != nil {
		return nil, noEOF(err)
	}
	if n < 0 {
		return nil, garbage("snapshot with %d sessions", n)
	}
	if err := s.skip(int(n) * 12); err != nil {
		return nil, err
	}
	if n, err = s.int(); err != nil {
		return nil, noEOF(err)
	}
	if n < 0 {
		return nil, garbage("snapshot with %d ACLs", n)
	}
	for range n {
		if _, err := s.long(); err != nil {
			return nil, noEOF(err)
		}
		m, err := s.int()
		if err != nil {
			return nil, noEOF(err)
		}
		for range max(m, 0) {
			if err := s.skip(4); err != nil { // perms
				return nil, err
			}
			if _, err := s.buffer(MaxPacketData); err != nil { // scheme
				return nil, err
			}
			if _, err := s.buffer(MaxPacketData); err != nil { // id
				return nil, err
			}
		}
	}
	for {
		path, err := s.buffer(MaxPacketData)
		if err != nil {
			return nil, err
		}
		if string(path) == "/" {
			break
		}
		if _, err := s.buffer(MaxPacketData); err != nil { // data
			return nil, err
		}
		// ACL id; czxid, mzxid, ctime, mtime; version, cversion,
		// aversion; ephemeralOwner, pzxid.
		if err := s.skip(8 + 4*8 + 3*4 + 2*8); err != nil {
			return nil, err
		}
		if len(body) > maxSnapshot {
			return nil, garbage("snapshot stream over %d bytes", maxSnapshot)
		}
	}
	s.rec = nil
	sig, err := s.buffer(64)
	if err != nil {
		return nil, err
	}
	if string(sig) != snapSignature {
		return nil, garbage("snapshot signature %q, not %q", sig, snapSignature)
	}
	return body, nil
}
