package wire

import "errors"

// ErrBadOp is returned when a packet names an opcode that is not valid where
// it appears.
var ErrBadOp = errors.New("wire: invalid opcode")

// Op is one operation of a multi or multiRead request.
type Op struct {
	Type OpCode
	Body Record // *CreateRequest, *PathVersionRequest, *SetDataRequest or *PathWatchRequest
}

// MultiRequest is the body of multi (opcode 14) and multiRead (22).
type MultiRequest struct {
	Ops []Op
}

// Encode implements Record.
func (r *MultiRequest) Encode(e *Encoder) {
	for _, op := range r.Ops {
		h := MultiHeader{Type: op.Type, Done: false, Err: -1}
		h.Encode(e)
		op.Body.Encode(e)
	}
	end := MultiHeader{Type: -1, Done: true, Err: -1}
	end.Encode(e)
}

// Decode implements Record.
func (r *MultiRequest) Decode(d *Decoder) {
	r.Ops = r.Ops[:0]
	if r.Ops == nil {
		r.Ops = make([]Op, 0, 4) // most multis: appending grew it twice
	}
	for d.Err() == nil {
		var h MultiHeader
		h.Decode(d)
		if h.Done || d.Err() != nil {
			return
		}
		body := multiOpBody(h.Type)
		if body == nil {
			d.Fail(ErrBadOp)
			return
		}
		body.Decode(d)
		r.Ops = append(r.Ops, Op{Type: h.Type, Body: body})
	}
}

// multiOpBody returns an empty request body for an opcode allowed in a multi.
func multiOpBody(t OpCode) Record {
	if info := ops[t]; info.InMulti {
		return info.Request()
	}
	return nil
}

// OpResult is one result of a multi or multiRead response. Type is the
// opcode of the result (OpError for a failed operation, OpCreate2 for
// create2, createContainer and createTTL); Err is set when Type is OpError.
type OpResult struct {
	Type OpCode
	Err  ErrCode
	Body Record // nil for delete, check and error
}

// MultiResponse is the body of the multi and multiRead responses.
type MultiResponse struct {
	Results []OpResult
}

// Encode implements Record.
func (r *MultiResponse) Encode(e *Encoder) {
	for _, res := range r.Results {
		h := MultiHeader{Type: res.Type, Done: false, Err: 0}
		if res.Type == OpError {
			h.Err = res.Err
		}
		h.Encode(e)
		switch {
		case res.Type == OpError:
			(&ErrorResponse{Err: res.Err}).Encode(e)
		case res.Body != nil:
			res.Body.Encode(e)
		}
	}
	end := MultiHeader{Type: -1, Done: true, Err: -1}
	end.Encode(e)
}

// Decode implements Record.
func (r *MultiResponse) Decode(d *Decoder) {
	r.Results = r.Results[:0]
	for d.Err() == nil {
		var h MultiHeader
		h.Decode(d)
		if h.Done || d.Err() != nil {
			return
		}
		res := OpResult{Type: h.Type}
		switch h.Type {
		case OpError:
			var er ErrorResponse
			er.Decode(d)
			res.Err = er.Err
		case OpCreateContainer, OpCreateTTL:
			// Their results are typed create2.
			d.Fail(ErrBadOp)
			return
		default:
			info := ops[h.Type]
			if !info.InMulti {
				d.Fail(ErrBadOp)
				return
			}
			if info.Response != nil {
				res.Body = info.Response()
			}
		}
		if res.Body != nil {
			res.Body.Decode(d)
		}
		r.Results = append(r.Results, res)
	}
}
