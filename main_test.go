package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadInputWritesNothing feeds dangerous or malformed settings, from the
// environment and from cdktf.json, to the program's entry path: each must be
// refused with a message naming the setting, before anything is written.
func TestBadInputWritesNothing(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		context string // cdktf.json context object
		field   string
	}{
		{"world-open admin", map[string]string{"PROMAWS_ADMIN_CIDRS": "0.0.0.0/0"}, "", "adminCidrs"},
		{"world-open ssh", map[string]string{"PROMAWS_SSH_KEY_NAME": "ops", "PROMAWS_SSH_CIDRS": "::/0"}, "", "sshCidrs"},
		{"huge node count", map[string]string{"PROMAWS_NODE_COUNT": "5000"}, "", "nodeCount"},
		{"region", nil, `{"region": "moon-1"}`, "region"},
		{"typo in context", nil, `{"NodeCount": 3}`, "nodeCount"},
		{"unknown env", map[string]string{"PROMAWS_NODES": "3"}, "", "PROMAWS_NODES"},
		{"bucket name", map[string]string{"PROMAWS_STATE_BUCKET": "Bad_Bucket"}, "", "stateBucket"},
		{"unknown environment", map[string]string{"PROMAWS_ENVIRONMENT": "qa"}, `{"environments": {"dev": {}}}`, "environment"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.context != "" {
				if err := os.WriteFile(filepath.Join(dir, "cdktf.json"), []byte(`{"language":"go","context":`+c.context+`}`), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			t.Setenv("CDKTF_CONTEXT_JSON", "")
			var stderr bytes.Buffer
			if _, err := settingsOrExplain(dir, c.env, &stderr); err == nil {
				t.Fatal("bad input must be refused")
			}
			if !strings.Contains(stderr.String(), c.field) || !strings.Contains(stderr.String(), "nothing was synthesized") {
				t.Errorf("message must name %s and say nothing was written:\n%s", c.field, stderr.String())
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if e.Name() != "cdktf.json" {
					t.Errorf("bad input wrote %s", e.Name())
				}
			}
		})
	}
}
