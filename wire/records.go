package wire

// Id is an authenticated identity: a scheme and an id within it.
type Id struct {
	Scheme string
	ID     string
}

// Encode implements Record.
func (r *Id) Encode(e *Encoder) { e.String(r.Scheme); e.String(r.ID) }

// Decode implements Record.
func (r *Id) Decode(d *Decoder) { r.Scheme = idString(d.View()); r.ID = idString(d.View()) }

// idString returns b as a string: for the schemes and ids that most ACLs
// and identities hold, a constant rather than a copy (every create, and
// every txn with its session's identities, decodes some).
func idString(b []byte) string {
	switch string(b) { // compared in place: no copy
	case "world":
		return "world"
	case "anyone":
		return "anyone"
	case "ip":
		return "ip"
	case "digest":
		return "digest"
	case "auth":
		return "auth"
	case "sasl":
		return "sasl"
	case "x509":
		return "x509"
	case "super":
		return "super"
	}
	return string(b)
}

// ACL grants permission bits to an identity.
type ACL struct {
	Perms int32
	ID    Id
}

// Encode implements Record.
func (r *ACL) Encode(e *Encoder) { e.Int(r.Perms); r.ID.Encode(e) }

// Decode implements Record.
func (r *ACL) Decode(d *Decoder) { r.Perms = d.Int(); r.ID.Decode(d) }

// EncodeACLs appends a vector of ACLs; nil encodes as length -1.
func EncodeACLs(e *Encoder, acls []ACL) {
	if acls == nil {
		e.Int(-1)
		return
	}
	e.Int(int32(len(acls)))
	for i := range acls {
		acls[i].Encode(e)
	}
}

// DecodeACLs reads a vector of ACLs; null decodes as nil.
func DecodeACLs(d *Decoder) []ACL {
	n := d.length(12)
	if n < 0 {
		return nil
	}
	acls := make([]ACL, n)
	for i := range acls {
		acls[i].Decode(d)
	}
	return acls
}

// Stat is the metadata of a znode as clients see it.
type Stat struct {
	Czxid          int64
	Mzxid          int64
	Ctime          int64
	Mtime          int64
	Version        int32
	Cversion       int32
	Aversion       int32
	EphemeralOwner int64
	DataLength     int32
	NumChildren    int32
	Pzxid          int64
}

// Encode implements Record.
func (r *Stat) Encode(e *Encoder) {
	e.Long(r.Czxid)
	e.Long(r.Mzxid)
	e.Long(r.Ctime)
	e.Long(r.Mtime)
	e.Int(r.Version)
	e.Int(r.Cversion)
	e.Int(r.Aversion)
	e.Long(r.EphemeralOwner)
	e.Int(r.DataLength)
	e.Int(r.NumChildren)
	e.Long(r.Pzxid)
}

// Decode implements Record.
func (r *Stat) Decode(d *Decoder) {
	r.Czxid = d.Long()
	r.Mzxid = d.Long()
	r.Ctime = d.Long()
	r.Mtime = d.Long()
	r.Version = d.Int()
	r.Cversion = d.Int()
	r.Aversion = d.Int()
	r.EphemeralOwner = d.Long()
	r.DataLength = d.Int()
	r.NumChildren = d.Int()
	r.Pzxid = d.Long()
}

// ClientInfo is one identity reported by whoAmI.
type ClientInfo struct {
	AuthScheme string
	User       string
}

// Encode implements Record.
func (r *ClientInfo) Encode(e *Encoder) { e.String(r.AuthScheme); e.String(r.User) }

// Decode implements Record.
func (r *ClientInfo) Decode(d *Decoder) { r.AuthScheme = d.String(); r.User = d.String() }

// ConnectRequest opens or resumes a session. ReadOnly is a trailing field
// that old clients omit; HasReadOnly tells whether it was present.
type ConnectRequest struct {
	ProtocolVersion int32
	LastZxidSeen    int64
	TimeOut         int32
	SessionID       int64
	Passwd          []byte
	ReadOnly        bool
	HasReadOnly     bool
}

// Encode implements Record.
func (r *ConnectRequest) Encode(e *Encoder) {
	e.Int(r.ProtocolVersion)
	e.Long(r.LastZxidSeen)
	e.Int(r.TimeOut)
	e.Long(r.SessionID)
	e.Buffer(r.Passwd)
	if r.HasReadOnly {
		e.Bool(r.ReadOnly)
	}
}

// Decode implements Record.
func (r *ConnectRequest) Decode(d *Decoder) {
	r.ProtocolVersion = d.Int()
	r.LastZxidSeen = d.Long()
	r.TimeOut = d.Int()
	r.SessionID = d.Long()
	r.Passwd = d.Buffer()
	r.HasReadOnly = d.Err() == nil && d.Remaining() > 0
	if r.HasReadOnly {
		r.ReadOnly = d.Bool()
	}
}

// ConnectResponse answers a ConnectRequest. ReadOnly is a trailing field
// that a server sends only to clients whose ConnectRequest had one (as
// Apache ZooKeeper); HasReadOnly tells whether it is present.
type ConnectResponse struct {
	ProtocolVersion int32
	TimeOut         int32
	SessionID       int64
	Passwd          []byte
	ReadOnly        bool
	HasReadOnly     bool
}

// Encode implements Record.
func (r *ConnectResponse) Encode(e *Encoder) {
	e.Int(r.ProtocolVersion)
	e.Int(r.TimeOut)
	e.Long(r.SessionID)
	e.Buffer(r.Passwd)
	if r.HasReadOnly {
		e.Bool(r.ReadOnly)
	}
}

// Decode implements Record.
func (r *ConnectResponse) Decode(d *Decoder) {
	r.ProtocolVersion = d.Int()
	r.TimeOut = d.Int()
	r.SessionID = d.Long()
	r.Passwd = d.Buffer()
	r.HasReadOnly = d.Err() == nil && d.Remaining() > 0
	if r.HasReadOnly {
		r.ReadOnly = d.Bool()
	}
}

// SetWatches re-registers watches after a reconnect (opcode 101 carries the
// first three lists; setWatches2, opcode 105, all five).
type SetWatches struct {
	RelativeZxid               int64
	DataWatches                []string
	ExistWatches               []string
	ChildWatches               []string
	PersistentWatches          []string
	PersistentRecursiveWatches []string
	// V2 selects the setWatches2 layout with the two persistent lists.
	V2 bool
}

// Encode implements Record.
func (r *SetWatches) Encode(e *Encoder) {
	e.Long(r.RelativeZxid)
	e.Strings(r.DataWatches)
	e.Strings(r.ExistWatches)
	e.Strings(r.ChildWatches)
	if r.V2 {
		e.Strings(r.PersistentWatches)
		e.Strings(r.PersistentRecursiveWatches)
	}
}

// Decode implements Record.
func (r *SetWatches) Decode(d *Decoder) {
	r.RelativeZxid = d.Long()
	r.DataWatches = d.Strings()
	r.ExistWatches = d.Strings()
	r.ChildWatches = d.Strings()
	if r.V2 {
		r.PersistentWatches = d.Strings()
		r.PersistentRecursiveWatches = d.Strings()
	}
}

// RequestHeader precedes every request after the handshake.
type RequestHeader struct {
	Xid  int32
	Type OpCode
}

// Encode implements Record.
func (r *RequestHeader) Encode(e *Encoder) { e.Int(r.Xid); e.Int(int32(r.Type)) }

// Decode implements Record.
func (r *RequestHeader) Decode(d *Decoder) { r.Xid = d.Int(); r.Type = OpCode(d.Int()) }

// ReplyHeader precedes every response and notification.
type ReplyHeader struct {
	Xid  int32
	Zxid int64
	Err  ErrCode
}

// Encode implements Record.
func (r *ReplyHeader) Encode(e *Encoder) { e.Int(r.Xid); e.Long(r.Zxid); e.Int(int32(r.Err)) }

// Decode implements Record.
func (r *ReplyHeader) Decode(d *Decoder) {
	r.Xid = d.Int()
	r.Zxid = d.Long()
	r.Err = ErrCode(d.Int())
}

// MultiHeader precedes each operation and result inside a multi.
type MultiHeader struct {
	Type OpCode
	Done bool
	Err  ErrCode
}

// Encode implements Record.
func (r *MultiHeader) Encode(e *Encoder) { e.Int(int32(r.Type)); e.Bool(r.Done); e.Int(int32(r.Err)) }

// Decode implements Record.
func (r *MultiHeader) Decode(d *Decoder) {
	r.Type = OpCode(d.Int())
	r.Done = d.Bool()
	r.Err = ErrCode(d.Int())
}

// AuthPacket adds credentials to a session (opcode 100).
type AuthPacket struct {
	Type   int32
	Scheme string
	Auth   []byte
}

// Encode implements Record.
func (r *AuthPacket) Encode(e *Encoder) { e.Int(r.Type); e.String(r.Scheme); e.Buffer(r.Auth) }

// Decode implements Record.
func (r *AuthPacket) Decode(d *Decoder) { r.Type = d.Int(); r.Scheme = d.String(); r.Auth = d.Buffer() }

// PathRequest is the body of requests that carry only a path: getACL,
// sync, getAllChildrenNumber and getEphemerals (prefixPath); it is also the
// body of the sync and create responses.
type PathRequest struct {
	Path string
}

// Encode implements Record.
func (r *PathRequest) Encode(e *Encoder) { e.String(r.Path) }

// Decode implements Record.
func (r *PathRequest) Decode(d *Decoder) { r.Path = d.String() }

// PathWatchRequest is the body of exists, getData, getChildren and
// getChildren2.
type PathWatchRequest struct {
	Path  string
	Watch bool
}

// Encode implements Record.
func (r *PathWatchRequest) Encode(e *Encoder) { e.String(r.Path); e.Bool(r.Watch) }

// Decode implements Record.
func (r *PathWatchRequest) Decode(d *Decoder) { r.Path = d.String(); r.Watch = d.Bool() }

// PathVersionRequest is the body of delete and check.
type PathVersionRequest struct {
	Path    string
	Version int32
}

// Encode implements Record.
func (r *PathVersionRequest) Encode(e *Encoder) { e.String(r.Path); e.Int(r.Version) }

// Decode implements Record.
func (r *PathVersionRequest) Decode(d *Decoder) { r.Path = d.String(); r.Version = d.Int() }

// PathTypeRequest is the body of checkWatches and removeWatches (Type is a
// watcher type) and addWatch (Type is the mode).
type PathTypeRequest struct {
	Path string
	Type int32
}

// Encode implements Record.
func (r *PathTypeRequest) Encode(e *Encoder) { e.String(r.Path); e.Int(r.Type) }

// Decode implements Record.
func (r *PathTypeRequest) Decode(d *Decoder) { r.Path = d.String(); r.Type = d.Int() }

// SetDataRequest replaces a node's data if its version matches (-1: any).
type SetDataRequest struct {
	Path    string
	Data    []byte
	Version int32
}

// Encode implements Record.
func (r *SetDataRequest) Encode(e *Encoder) { e.String(r.Path); e.Buffer(r.Data); e.Int(r.Version) }

// Decode implements Record.
func (r *SetDataRequest) Decode(d *Decoder) {
	r.Path = d.String()
	r.Data = d.Buffer()
	r.Version = d.Int()
}

// ReconfigRequest changes the ensemble membership.
type ReconfigRequest struct {
	JoiningServers string
	LeavingServers string
	NewMembers     string
	CurConfigID    int64
}

// Encode implements Record.
func (r *ReconfigRequest) Encode(e *Encoder) {
	e.String(r.JoiningServers)
	e.String(r.LeavingServers)
	e.String(r.NewMembers)
	e.Long(r.CurConfigID)
}

// Decode implements Record.
func (r *ReconfigRequest) Decode(d *Decoder) {
	r.JoiningServers = d.String()
	r.LeavingServers = d.String()
	r.NewMembers = d.String()
	r.CurConfigID = d.Long()
}

// StatResponse is the body of the exists, setData and setACL responses.
type StatResponse struct {
	Stat Stat
}

// Encode implements Record.
func (r *StatResponse) Encode(e *Encoder) { r.Stat.Encode(e) }

// Decode implements Record.
func (r *StatResponse) Decode(d *Decoder) { r.Stat.Decode(d) }

// SASLToken is the body of sasl requests and responses.
type SASLToken struct {
	Token []byte
}

// Encode implements Record.
func (r *SASLToken) Encode(e *Encoder) { e.Buffer(r.Token) }

// Decode implements Record.
func (r *SASLToken) Decode(d *Decoder) { r.Token = d.Buffer() }

// CreateRequest is the body of create, create2, createContainer and, with
// TTL set, createTTL (HasTTL selects the createTTL layout).
type CreateRequest struct {
	Path   string
	Data   []byte
	ACL    []ACL
	Flags  int32
	TTL    int64
	HasTTL bool
}

// Encode implements Record.
func (r *CreateRequest) Encode(e *Encoder) {
	e.String(r.Path)
	e.Buffer(r.Data)
	EncodeACLs(e, r.ACL)
	e.Int(r.Flags)
	if r.HasTTL {
		e.Long(r.TTL)
	}
}

// Decode implements Record.
func (r *CreateRequest) Decode(d *Decoder) {
	r.Path = d.String()
	r.Data = d.Buffer()
	r.ACL = DecodeACLs(d)
	r.Flags = d.Int()
	if r.HasTTL {
		r.TTL = d.Long()
	}
}

// SetACLRequest replaces a node's ACL if its aversion matches (-1: any).
type SetACLRequest struct {
	Path    string
	ACL     []ACL
	Version int32
}

// Encode implements Record.
func (r *SetACLRequest) Encode(e *Encoder) { e.String(r.Path); EncodeACLs(e, r.ACL); e.Int(r.Version) }

// Decode implements Record.
func (r *SetACLRequest) Decode(d *Decoder) {
	r.Path = d.String()
	r.ACL = DecodeACLs(d)
	r.Version = d.Int()
}

// WatcherEvent is the body of a notification (xid -1).
type WatcherEvent struct {
	Type  EventType
	State int32
	Path  string
}

// Encode implements Record.
func (r *WatcherEvent) Encode(e *Encoder) { e.Int(int32(r.Type)); e.Int(r.State); e.String(r.Path) }

// Decode implements Record.
func (r *WatcherEvent) Decode(d *Decoder) {
	r.Type = EventType(d.Int())
	r.State = d.Int()
	r.Path = d.String()
}

// ErrorResponse is the result of a failed operation inside a multi.
type ErrorResponse struct {
	Err ErrCode
}

// Encode implements Record.
func (r *ErrorResponse) Encode(e *Encoder) { e.Int(int32(r.Err)) }

// Decode implements Record.
func (r *ErrorResponse) Decode(d *Decoder) { r.Err = ErrCode(d.Int()) }

// Create2Response answers create2, createContainer and createTTL.
type Create2Response struct {
	Path string
	Stat Stat
}

// Encode implements Record.
func (r *Create2Response) Encode(e *Encoder) { e.String(r.Path); r.Stat.Encode(e) }

// Decode implements Record.
func (r *Create2Response) Decode(d *Decoder) { r.Path = d.String(); r.Stat.Decode(d) }

// GetDataResponse answers getData.
type GetDataResponse struct {
	Data []byte
	Stat Stat
}

// Encode implements Record.
func (r *GetDataResponse) Encode(e *Encoder) { e.Buffer(r.Data); r.Stat.Encode(e) }

// Decode implements Record.
func (r *GetDataResponse) Decode(d *Decoder) { r.Data = d.Buffer(); r.Stat.Decode(d) }

// StringsResponse is the body of the getChildren and getEphemerals
// responses.
type StringsResponse struct {
	Strings []string
}

// Encode implements Record.
func (r *StringsResponse) Encode(e *Encoder) { e.Strings(r.Strings) }

// Decode implements Record.
func (r *StringsResponse) Decode(d *Decoder) { r.Strings = d.Strings() }

// GetChildren2Response answers getChildren2.
type GetChildren2Response struct {
	Children []string
	Stat     Stat
}

// Encode implements Record.
func (r *GetChildren2Response) Encode(e *Encoder) { e.Strings(r.Children); r.Stat.Encode(e) }

// Decode implements Record.
func (r *GetChildren2Response) Decode(d *Decoder) { r.Children = d.Strings(); r.Stat.Decode(d) }

// IntResponse is the body of the getAllChildrenNumber response.
type IntResponse struct {
	Value int32
}

// Encode implements Record.
func (r *IntResponse) Encode(e *Encoder) { e.Int(r.Value) }

// Decode implements Record.
func (r *IntResponse) Decode(d *Decoder) { r.Value = d.Int() }

// GetACLResponse answers getACL.
type GetACLResponse struct {
	ACL  []ACL
	Stat Stat
}

// Encode implements Record.
func (r *GetACLResponse) Encode(e *Encoder) { EncodeACLs(e, r.ACL); r.Stat.Encode(e) }

// Decode implements Record.
func (r *GetACLResponse) Decode(d *Decoder) { r.ACL = DecodeACLs(d); r.Stat.Decode(d) }

// WhoAmIResponse answers whoAmI.
type WhoAmIResponse struct {
	ClientInfo []ClientInfo
}

// Encode implements Record.
func (r *WhoAmIResponse) Encode(e *Encoder) {
	if r.ClientInfo == nil {
		e.Int(-1)
		return
	}
	e.Int(int32(len(r.ClientInfo)))
	for i := range r.ClientInfo {
		r.ClientInfo[i].Encode(e)
	}
}

// Decode implements Record.
func (r *WhoAmIResponse) Decode(d *Decoder) {
	n := d.length(8)
	if n < 0 {
		r.ClientInfo = nil
		return
	}
	r.ClientInfo = make([]ClientInfo, n)
	for i := range r.ClientInfo {
		r.ClientInfo[i].Decode(d)
	}
}

// Empty is the body of requests and responses that carry nothing.
type Empty struct{}

// Encode implements Record.
func (*Empty) Encode(*Encoder) {}

// Decode implements Record.
func (*Empty) Decode(*Decoder) {}
