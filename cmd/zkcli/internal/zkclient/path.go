package zkclient

import (
	"strconv"
	"unicode/utf16"
)

// ValidatePath checks a znode path the way Apache ZooKeeper's client does
// before sending it, with the same messages. A sequential node's path may
// end in '/': the server appends the sequence number.
func ValidatePath(path string, sequential bool) error {
	if sequential {
		path += "1"
	}
	if path == "" {
		return &PathError{"Path length must be > 0"}
	}
	if path[0] != '/' {
		return &PathError{"Path must start with / character"}
	}
	if len(path) == 1 {
		return nil
	}
	if path[len(path)-1] == '/' {
		return &PathError{"Path must not end with / character"}
	}
	// Java checks UTF-16 code units and reports their index.
	chars := utf16.Encode([]rune(path))
	reason := ""
	last := uint16('/')
	for i := 1; i < len(chars); last, i = chars[i], i+1 {
		c := chars[i]
		at := " @" + strconv.Itoa(i)
		switch {
		case c == 0:
			reason = "null character not allowed" + at
		case c == '/' && last == '/':
			reason = "empty node name specified" + at
		case c == '.' && last == '.':
			if chars[i-2] == '/' && (i+1 == len(chars) || chars[i+1] == '/') {
				reason = "relative paths not allowed" + at
			}
		case c == '.':
			if chars[i-1] == '/' && (i+1 == len(chars) || chars[i+1] == '/') {
				reason = "relative paths not allowed" + at
			}
		case c > 0 && c <= 0x1f, c >= 0x7f && c <= 0x9f,
			c >= 0xd800 && c <= 0xf8ff, c >= 0xfff0:
			reason = "invalid character" + at
		}
		if reason != "" {
			return &PathError{"Invalid path string \"" + path + "\" caused by " + reason}
		}
	}
	return nil
}
