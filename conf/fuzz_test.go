package conf

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad loads arbitrary zoo.cfg contents: an error is fine (and must
// name the file), a panic is not.
func FuzzLoad(f *testing.F) {
	f.Add([]byte("tickTime=2000\ndataDir=/tmp/zk\nclientPort=2181\n"))
	f.Add([]byte("server.1=127.0.0.1:2888:3888;2181\nserver.2=[::1]:2889:3889:observer\ndataDir=/tmp/x\n"))
	f.Add([]byte("a\\\n  b=c\\u0041\n! comment\n# c\nx : y\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "zoo.cfg")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		LoadEnv(path, func(string) string { return "" })
	})
}
