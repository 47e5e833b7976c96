package znode

import (
	"strings"
	"unicode/utf8"
)

// Paths of the nodes every tree starts with.
const (
	rootPath   = "/"
	procPath   = "/zookeeper"
	quotaPath  = "/zookeeper/quota"
	configPath = "/zookeeper/config"
)

// ValidatePath reports whether path is a valid znode path, with the rules
// of Apache ZooKeeper's PathUtils.validatePath: it starts with '/', does not
// end with '/' (unless it is "/"), has no empty, "." or ".." component and
// no null, control, surrogate or private-use characters. Characters are
// judged as Java sees them: invalid UTF-8 decodes to U+FFFD (invalid), and
// characters outside the Basic Multilingual Plane are surrogate pairs
// (invalid).
func ValidatePath(path string) bool {
	if len(path) == 0 || path[0] != '/' {
		return false
	}
	if len(path) == 1 {
		return true
	}
	if path[len(path)-1] == '/' {
		return false
	}
	last := rune('/')
	for i := 1; i < len(path); {
		c, size := utf8.DecodeRuneInString(path[i:])
		switch {
		case c == 0:
			return false
		case c == '/' && last == '/':
			return false
		case c == '.' && last == '.':
			// ".." is invalid as a whole component.
			if path[i-2] == '/' && (i+1 == len(path) || path[i+1] == '/') {
				return false
			}
		case c == '.':
			if path[i-1] == '/' && (i+1 == len(path) || path[i+1] == '/') {
				return false
			}
		case c <= 0x1f,
			c >= 0x7f && c <= 0x9f,
			c >= 0xd800 && c <= 0xf8ff,
			c >= 0xfff0: // includes U+FFFD (invalid UTF-8) and beyond the BMP
			return false
		}
		last = c
		i += size
	}
	return true
}

// isSpecialPath reports whether path is one of the nodes owned by the
// server, which clients may not delete (DataTree.isSpecialPath).
func isSpecialPath(path string) bool {
	return path == rootPath || path == procPath || path == quotaPath || path == configPath
}

// splitPath returns the parent path (as Apache computes it: "" for children
// of the root) and the last component. ok is false when path has no '/'.
func splitPath(path string) (parent, name string, ok bool) {
	i := strings.LastIndexByte(path, '/')
	if i < 0 {
		return "", "", false
	}
	return path[:i], path[i+1:], true
}

// parentWatchPath is the path whose child watches a change under parent
// triggers: the root is "/" rather than "".
func parentWatchPath(parent string) string {
	if parent == "" {
		return rootPath
	}
	return parent
}

// canonical maps the root's alias "" to "/".
func canonical(path string) string {
	if path == "" {
		return rootPath
	}
	return path
}
