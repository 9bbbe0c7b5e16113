// Package profiles holds one configuration per seed portal; this test
// keeps each valid as the configuration grows.
package profiles

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/config"
)

func TestProfilesAreValid(t *testing.T) {
	files, _ := filepath.Glob("*.yaml")
	if len(files) != 5 {
		t.Fatalf("found %d profiles, want the five seed portals", len(files))
	}
	for _, f := range files {
		cfg, err := config.Load(f, nil)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		warnings, err := cfg.Validate()
		if err != nil {
			t.Errorf("%s: %v", f, err)
		}
		// The seed policies deviate from NIST on purpose; config check
		// must say so, and say nothing else.
		for _, w := range warnings {
			if !strings.HasPrefix(w, "password:") && !strings.HasPrefix(w, "sms.sender") {
				t.Errorf("%s: unexpected warning %q", f, w)
			}
		}
	}
}
