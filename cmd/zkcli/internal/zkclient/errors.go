package zkclient

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/go-zookeeper/zk"
	"github.com/zkgo/zkgo/wire"
)

// Error is a failed ZooKeeper operation: the server's error code and the
// client path it concerned (empty when the operation names no path, as
// whoAmI and getEphemerals do). Its message is Apache ZooKeeper's
// KeeperException message.
type Error struct {
	Code wire.ErrCode
	Path string
}

// Error returns "KeeperErrorCode = <name>[ for <path>]".
func (e *Error) Error() string {
	if e.Path == "" {
		return "KeeperErrorCode = " + e.Code.String()
	}
	return "KeeperErrorCode = " + e.Code.String() + " for " + e.Path
}

// Code returns the ZooKeeper error code of err: wire.ErrOK for nil, the
// code of an *Error, ConnectionLoss for a lost connection, SystemError
// otherwise.
func Code(err error) wire.ErrCode {
	if err == nil {
		return wire.ErrOK
	}
	var ze *Error
	if errors.As(err, &ze) {
		return ze.Code
	}
	return wire.ErrSystemError
}

// IsCode reports whether err is a ZooKeeper error with code c.
func IsCode(err error, c wire.ErrCode) bool {
	var ze *Error
	return errors.As(err, &ze) && ze.Code == c
}

// PathError is a malformed znode path, refused before anything is sent.
// Its message is the one Apache ZooKeeper's PathUtils gives.
type PathError struct {
	Msg string
}

func (e *PathError) Error() string { return e.Msg }

// zkErrCodes maps go-zookeeper's error values to ZooKeeper codes.
var zkErrCodes = map[error]wire.ErrCode{
	zk.ErrAPIError:                wire.ErrAPIError,
	zk.ErrNoNode:                  wire.ErrNoNode,
	zk.ErrNoAuth:                  wire.ErrNoAuth,
	zk.ErrBadVersion:              wire.ErrBadVersion,
	zk.ErrNoChildrenForEphemerals: wire.ErrNoChildrenForEphemerals,
	zk.ErrNodeExists:              wire.ErrNodeExists,
	zk.ErrNotEmpty:                wire.ErrNotEmpty,
	zk.ErrSessionExpired:          wire.ErrSessionExpired,
	zk.ErrInvalidACL:              wire.ErrInvalidACL,
	zk.ErrAuthFailed:              wire.ErrAuthFailed,
	zk.ErrSessionMoved:            wire.ErrSessionMoved,
	zk.ErrReconfigDisabled:        wire.ErrReconfigDisabled,
	zk.ErrBadArguments:            wire.ErrBadArguments,
	zk.ErrConnectionClosed:        wire.ErrConnectionLoss,
	zk.ErrNoServer:                wire.ErrConnectionLoss,
	zk.ErrClosing:                 wire.ErrConnectionLoss,
	zk.ErrUnknown:                 wire.ErrSystemError,
	zk.ErrInvalidPath:             wire.ErrBadArguments,
}

// fromZK converts an error returned by go-zookeeper into an *Error for
// path. go-zookeeper reports the codes it has no name for as
// "unknown error: <code>"; those are recovered too.
func fromZK(err error, path string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if c, ok := zkErrCodes[err]; ok {
		return &Error{Code: c, Path: path}
	}
	for zerr, c := range zkErrCodes {
		if errors.Is(err, zerr) {
			return &Error{Code: c, Path: path}
		}
	}
	if rest, ok := strings.CutPrefix(err.Error(), "unknown error: "); ok {
		if n, perr := strconv.Atoi(rest); perr == nil {
			return &Error{Code: wire.ErrCode(n), Path: path}
		}
	}
	return &Error{Code: wire.ErrSystemError, Path: path}
}

// fromCode converts a reply header's error code into an error for path.
func fromCode(c wire.ErrCode, path string) error {
	if c == wire.ErrOK {
		return nil
	}
	return &Error{Code: c, Path: path}
}
