package harness

import (
	"fmt"
	"strings"
)

// diffContext is the number of unchanged lines shown around each change.
const diffContext = 3

// UnifiedDiff returns a unified-style line diff from want to got, labelled
// "--- wantName" and "+++ gotName", or "" if they are equal. It is meant for
// test transcripts of up to a few thousand lines.
func UnifiedDiff(wantName, want, gotName, got string) string {
	if want == got {
		return ""
	}
	a, b := splitLines(want), splitLines(got)
	edits := lineEdits(a, b)

	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", wantName, gotName)
	for start := 0; start < len(edits); {
		// Find the next change, then extend the hunk while changes are
		// closer than two contexts apart.
		first := start
		for first < len(edits) && edits[first].op == ' ' {
			first++
		}
		if first == len(edits) {
			break
		}
		last := first
		for i := first; i < len(edits) && i-last <= 2*diffContext; i++ {
			if edits[i].op != ' ' {
				last = i
			}
		}
		lo := max(first-diffContext, start)
		hi := min(last+diffContext+1, len(edits))
		writeHunk(&out, edits[lo:hi])
		start = hi
	}
	return out.String()
}

// edit is one line of a diff: op is ' ' (in both), '-' (only in a) or '+'
// (only in b); ai and bi are the 0-based line numbers before this line.
type edit struct {
	op     byte
	line   string
	ai, bi int
}

func writeHunk(out *strings.Builder, hunk []edit) {
	var na, nb int
	for _, e := range hunk {
		if e.op != '+' {
			na++
		}
		if e.op != '-' {
			nb++
		}
	}
	fmt.Fprintf(out, "@@ -%d,%d +%d,%d @@\n", hunk[0].ai+1, na, hunk[0].bi+1, nb)
	for _, e := range hunk {
		fmt.Fprintf(out, "%c%s\n", e.op, e.line)
	}
}

// lineEdits computes a shortest edit script from a to b by longest common
// subsequence.
func lineEdits(a, b []string) []edit {
	// lcs[i][j] is the LCS length of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var edits []edit
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			edits = append(edits, edit{' ', a[i], i, j})
			i, j = i+1, j+1
		case j == len(b) || (i < len(a) && lcs[i+1][j] >= lcs[i][j+1]):
			edits = append(edits, edit{'-', a[i], i, j})
			i++
		default:
			edits = append(edits, edit{'+', b[j], i, j})
			j++
		}
	}
	return edits
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}
