package harness

import "testing"

func TestUnifiedDiff(t *testing.T) {
	tests := []struct {
		name      string
		want, got string
		diff      string
	}{
		{name: "equal", want: "a\nb\n", got: "a\nb\n", diff: ""},
		{
			name: "change in the middle",
			want: "1\n2\n3\n4\n5\n6\n7\n8\n9\n",
			got:  "1\n2\n3\n4\nfive\n6\n7\n8\n9\n",
			diff: "--- want\n+++ got\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n",
		},
		{
			name: "append and delete",
			want: "a\nb\n",
			got:  "b\nc\n",
			diff: "--- want\n+++ got\n@@ -1,2 +1,2 @@\n-a\n b\n+c\n",
		},
		{
			name: "two hunks",
			want: "x\n1\n2\n3\n4\n5\n6\n7\n8\ny\n",
			got:  "X\n1\n2\n3\n4\n5\n6\n7\n8\nY\n",
			diff: "--- want\n+++ got\n@@ -1,4 +1,4 @@\n-x\n+X\n 1\n 2\n 3\n@@ -7,4 +7,4 @@\n 6\n 7\n 8\n-y\n+Y\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := UnifiedDiff("want", tt.want, "got", tt.got); d != tt.diff {
				t.Errorf("UnifiedDiff =\n%s\nwant\n%s", d, tt.diff)
			}
		})
	}
}
