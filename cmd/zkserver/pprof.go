package main

import (
	"net"
	"net/http"
	"net/http/pprof"
	"os"

	"go.uber.org/zap"
)

// envPprofAddr names a listen address ("127.0.0.1:6060") for Go's pprof
// profiles (/debug/pprof/...), for finding where a server's time and memory
// go: `go tool pprof http://127.0.0.1:6060/debug/pprof/profile`. Unset, no
// such listener exists.
const envPprofAddr = "ZKGO_PPROF_ADDR"

// servePprof starts the profile listener the environment asks for.
func servePprof(log *zap.Logger) {
	addr := os.Getenv(envPprofAddr)
	if addr == "" {
		return
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Warn("not serving profiles", zap.String("env", envPprofAddr), zap.Error(err))
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	log.Info("serving Go profiles", zap.String("address", ln.Addr().String()))
	go http.Serve(ln, mux)
}
