package wire

import "fmt"

// OpInfo is what the protocol says of one opcode (OpCode.Info). The table
// ops holds them all: adding an opcode starts with a row there.
type OpInfo struct {
	// Name is the opcode's name as Apache ZooKeeper's Request.op2String
	// prints it.
	Name string
	// Write marks the requests that change the tree and so go through the
	// replicated log (and, in an ensemble, the leader).
	Write bool
	// Request returns an empty request body (nil: a client may not send
	// the opcode).
	Request func() Record
	// Response returns an empty response body (nil: the reply has none).
	Response func() Record
	// Perm is the ACL permission the request needs: on the parent for
	// create and delete, on /zookeeper/config for reconfig, on the node
	// otherwise (getACL shows digests only with PermAdmin too); 0: none.
	Perm int32
	// ConsName is the short name the four-letter word cons prints as a
	// connection's last operation (Apache's FinalRequestProcessor).
	ConsName string
	// InMulti marks the opcodes a multi (the writes) or a multiRead (the
	// reads) may hold.
	InMulti bool
}

// ops describes every opcode of the client protocol.
var ops = map[OpCode]OpInfo{
	OpNotification: {Name: "notification", Response: rec[WatcherEvent]},
	OpCreate: {Name: "create", Write: true, Request: rec[CreateRequest], Response: rec[PathRequest],
		Perm: PermCreate, ConsName: "CREA", InMulti: true},
	OpDelete: {Name: "delete", Write: true, Request: rec[PathVersionRequest],
		Perm: PermDelete, ConsName: "DELE", InMulti: true},
	OpExists: {Name: "exists", Request: rec[PathWatchRequest], Response: rec[StatResponse],
		Perm: PermRead, ConsName: "EXIS"},
	OpGetData: {Name: "getData", Request: rec[PathWatchRequest], Response: rec[GetDataResponse],
		Perm: PermRead, ConsName: "GETD", InMulti: true},
	OpSetData: {Name: "setData", Write: true, Request: rec[SetDataRequest], Response: rec[StatResponse],
		Perm: PermWrite, ConsName: "SETD", InMulti: true},
	OpGetACL: {Name: "getACL", Request: rec[PathRequest], Response: rec[GetACLResponse],
		Perm: PermRead | PermAdmin, ConsName: "GETA"},
	OpSetACL: {Name: "setACL", Write: true, Request: rec[SetACLRequest], Response: rec[StatResponse],
		Perm: PermAdmin, ConsName: "SETA"},
	OpGetChildren: {Name: "getChildren", Request: rec[PathWatchRequest], Response: rec[StringsResponse],
		Perm: PermRead, ConsName: "GETC", InMulti: true},
	OpSync:         {Name: "sync", Request: rec[PathRequest], Response: rec[PathRequest], ConsName: "SYNC"},
	OpPing:         {Name: "ping", Request: rec[Empty], ConsName: "PING"},
	OpGetChildren2: {Name: "getChildren2", Request: rec[PathWatchRequest], Response: rec[GetChildren2Response], Perm: PermRead, ConsName: "GETC"},
	OpCheck: {Name: "check", Write: true, Request: rec[PathVersionRequest],
		Perm: PermRead, ConsName: "CHEC", InMulti: true},
	OpMulti: {Name: "multi", Write: true, Request: rec[MultiRequest], Response: rec[MultiResponse], ConsName: "MULT"},
	OpCreate2: {Name: "create2", Write: true, Request: rec[CreateRequest], Response: rec[Create2Response],
		Perm: PermCreate, ConsName: "CREA", InMulti: true},
	OpReconfig: {Name: "reconfig", Write: true, Request: rec[ReconfigRequest], Response: rec[GetDataResponse],
		Perm: PermWrite, ConsName: "RECO"},
	OpCheckWatches:  {Name: "checkWatches", Request: rec[PathTypeRequest], Response: rec[Empty], ConsName: "CHKW"},
	OpRemoveWatches: {Name: "removeWatches", Request: rec[PathTypeRequest], Response: rec[Empty], ConsName: "REMW"},
	OpCreateContainer: {Name: "createContainer", Write: true, Request: rec[CreateRequest], Response: rec[Create2Response],
		Perm: PermCreate, ConsName: "CREA", InMulti: true},
	// deleteContainer is the server's own: the leader deletes empty
	// containers and expired TTL nodes with it.
	OpDeleteContainer: {Name: "deleteContainer", Write: true, ConsName: "DELE"},
	OpCreateTTL: {Name: "createTTL", Write: true, Request: func() Record { return &CreateRequest{HasTTL: true} },
		Response: rec[Create2Response], Perm: PermCreate, ConsName: "CREA", InMulti: true},
	OpMultiRead:            {Name: "multiRead", Request: rec[MultiRequest], Response: rec[MultiResponse], ConsName: "MLTR"},
	OpAuth:                 {Name: "auth", Request: rec[AuthPacket]},
	OpSetWatches:           {Name: "setWatches", Request: rec[SetWatches], ConsName: "SETW"},
	OpSASL:                 {Name: "sasl", Request: rec[SASLToken], Response: rec[SASLToken]},
	OpGetEphemerals:        {Name: "getEphemerals", Request: rec[PathRequest], Response: rec[StringsResponse], ConsName: "GETE"},
	OpGetAllChildrenNumber: {Name: "getAllChildrenNumber", Request: rec[PathRequest], Response: rec[IntResponse], Perm: PermRead, ConsName: "GETACN"},
	OpSetWatches2:          {Name: "setWatches2", Request: func() Record { return &SetWatches{V2: true} }, ConsName: "STW2"},
	OpAddWatch:             {Name: "addWatch", Request: rec[PathTypeRequest], Response: rec[ErrorResponse], ConsName: "ADDW"},
	OpWhoAmI:               {Name: "whoAmI", Request: rec[Empty], Response: rec[WhoAmIResponse], ConsName: "HOMI"},
	// createSession and closeSession are txns of the session's first and
	// last requests; the handshake carries the createSession.
	OpCreateSession: {Name: "createSession", Write: true, Response: rec[ConnectResponse], ConsName: "SESS"},
	OpCloseSession:  {Name: "closeSession", Write: true, Request: rec[Empty], ConsName: "CLOS"},
	OpError:         {Name: "error", Response: rec[ErrorResponse]},
}

// Info describes the opcode; ok is false for an opcode the protocol does
// not have.
func (o OpCode) Info() (info OpInfo, ok bool) {
	info, ok = ops[o]
	return info, ok
}

// String returns the opcode's name as Apache ZooKeeper's Request.op2String does.
func (o OpCode) String() string {
	if info, ok := ops[o]; ok {
		return info.Name
	}
	return fmt.Sprintf("unknown %d", int32(o))
}

// IsWrite reports whether requests of this type change the tree and so go
// through the replicated log.
func (o OpCode) IsWrite() bool { return ops[o].Write }

// Perm is the ACL permission requests of this type need (OpInfo.Perm).
func (o OpCode) Perm() int32 { return ops[o].Perm }

// RequestBody returns an empty request body for an opcode a client may
// send, nil for any other.
func RequestBody(t OpCode) Record {
	if info := ops[t]; info.Request != nil {
		return info.Request()
	}
	return nil
}

// rec returns a new, empty record of type T.
func rec[T any, P interface {
	*T
	Record
}]() Record {
	return P(new(T))
}
