package harness

import (
	"errors"
	"os"
	"syscall"
)

// Pause stops the server process with SIGSTOP: it keeps its sockets open
// but answers nothing until Resume, like a machine that froze (a long GC
// pause, a VM migration). Kill and Restart work on a paused server. Pausing
// a server that has exited is a no-op.
func (s *Server) Pause() error { return s.signal(syscall.SIGSTOP) }

// Resume continues a server paused by Pause (SIGCONT). Resuming a server
// that is not paused, or has exited, is a no-op.
func (s *Server) Resume() error { return s.signal(syscall.SIGCONT) }

// Pid returns the process id of the server's current process.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

func (s *Server) signal(sig os.Signal) error {
	if s.exited() {
		return nil
	}
	if err := s.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}
