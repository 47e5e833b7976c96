package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/zkgo/zkgo/internal/sock"
	"github.com/zkgo/zkgo/wire"
)

// The null server is the ceiling for any server on this machine: a
// connection layer built like ours (buffered raw reads, replies gathered
// and written when no whole request is left in the buffer, raw
// non-blocking writes; internal/sock and wire/) that answers every
// request from constants, with no tree, no log and no quorum. zkbench
// runs it as a third implementation, "null": three processes of itself
// started on zoo.cfg files like the others (only clientPort and
// clientPortAddress are read), on the server CPUs, each on its own. Ours
// as a fraction of it is how much of the CPU the connection layer alone
// would leave that our server spends on being a server.
//
// It answers create, create2, setData, getData, exists, delete, ping and
// closeSession with fixed successful replies (getData returns the value
// of the last create or setData it received, so that replies are as long
// as a real server's), and the four-letter words ruok and srvr (Mode:
// standalone) that the launcher waits for; anything else is answered
// with ZUNIMPLEMENTED.

// nullServerEnv names the environment variable that makes zkbench run as
// a null server on the zoo.cfg it holds.
const nullServerEnv = "ZKBENCH_NULL_SERVER"

// nullImpl runs null servers: zkbench's own binary, exe, in null server
// mode, pinned to cpus.
func nullImpl(exe string, cpus cpuSet) impl {
	return impl{name: "null", null: true, cpus: cpus, command: func(_, cfg string) *exec.Cmd {
		cmd := exec.Command(exe)
		cmd.Env = append(goEnv(cpus), nullServerEnv+"="+cfg)
		return cmd
	}}
}

// runNullServer serves on the client address of the zoo.cfg at cfgPath
// until killed.
func runNullServer(cfgPath string) error {
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		return err
	}
	host, port := "127.0.0.1", ""
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
		switch k {
		case "clientPort":
			port = v
		case "clientPortAddress":
			host = v
		}
	}
	if _, err := strconv.Atoi(port); err != nil {
		return fmt.Errorf("%s: no clientPort", cfgPath)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return err
	}
	return serveNull(ln)
}

// nullState is what the connections of one null server share.
type nullState struct {
	value   atomic.Pointer[[]byte] // the last value written
	session atomic.Int64           // the last session id handed out
}

// serveNull accepts connections on ln until it fails.
func serveNull(ln net.Listener) error {
	st := &nullState{}
	st.value.Store(new([]byte))
	for {
		nc, err := ln.Accept()
		if err != nil {
			return err
		}
		go st.serve(nc)
	}
}

// nullZxid is the zxid of every reply.
const nullZxid = 1

// serve runs one connection: a four-letter word, or a handshake and then
// requests until the client closes or sends closeSession.
func (st *nullState) serve(nc net.Conn) {
	defer nc.Close()
	br := bufio.NewReaderSize(sock.NewReader(nc), 64<<10)
	if head, err := br.Peek(4); err != nil {
		return
	} else if isFourLetter(head) {
		switch string(head) {
		case "ruok":
			io.WriteString(nc, "imok")
		case "srvr":
			io.WriteString(nc, "Zookeeper version: zkbench null server\nMode: standalone\n")
		}
		return
	}
	w := newRawWriter(nc)
	pkt, err := wire.ReadFrame(br, nil, wire.DefaultMaxBuffer)
	if err != nil {
		return
	}
	var creq wire.ConnectRequest
	if wire.Decode(pkt, &creq) != nil {
		return
	}
	w.out = wire.AppendFrame(w.out, &wire.ConnectResponse{
		TimeOut: creq.TimeOut, SessionID: st.session.Add(1), Passwd: make([]byte, 16),
		HasReadOnly: creq.HasReadOnly,
	})
	if w.flush() != nil {
		return
	}
	var buf []byte
	for {
		pkt, err := wire.ReadFrame(br, buf, wire.DefaultMaxBuffer)
		if err != nil {
			return
		}
		buf = pkt
		if !st.answer(w, pkt) {
			w.flush()
			return
		}
		if !frameBuffered(br) && w.flush() != nil {
			return
		}
	}
}

// isFourLetter reports whether a connection's first 4 bytes are a
// four-letter word rather than the length of a ConnectRequest (whose
// first byte is 0).
func isFourLetter(head []byte) bool {
	for _, c := range head {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// answer appends the reply to one request to w's output; false after
// closeSession or an undecodable request.
func (st *nullState) answer(w *rawWriter, pkt []byte) bool {
	d := wire.NewDecoder(pkt)
	var h wire.RequestHeader
	h.Decode(d)
	if d.Err() != nil {
		return false
	}
	rh := &wire.ReplyHeader{Xid: h.Xid, Zxid: nullZxid}
	value := *st.value.Load()
	stat := wire.Stat{Czxid: nullZxid, Mzxid: nullZxid, Pzxid: nullZxid, DataLength: int32(len(value))}
	var body wire.Record
	switch h.Type {
	case wire.OpGetData:
		body = &wire.GetDataResponse{Data: value, Stat: stat}
	case wire.OpExists, wire.OpSetData:
		if h.Type == wire.OpSetData {
			var r wire.SetDataRequest
			r.Decode(d)
			st.value.Store(&r.Data)
		}
		body = &wire.StatResponse{Stat: stat}
	case wire.OpCreate, wire.OpCreate2:
		var r wire.CreateRequest
		r.Decode(d)
		st.value.Store(&r.Data)
		if h.Type == wire.OpCreate2 {
			body = &wire.Create2Response{Path: r.Path, Stat: stat}
		} else {
			body = &wire.PathRequest{Path: r.Path} // create's reply is the path alone
		}
	case wire.OpPing:
		rh.Zxid = 0
	case wire.OpDelete:
	case wire.OpCloseSession:
		w.out = wire.AppendFrame(w.out, rh)
		return false
	default:
		rh.Err = wire.ErrUnimplemented
	}
	if d.Err() != nil {
		return false
	}
	if body == nil {
		w.out = wire.AppendFrame(w.out, rh)
	} else {
		w.out = wire.AppendFrame(w.out, rh, body)
	}
	return true
}
