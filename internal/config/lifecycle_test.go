package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseSpan(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"730d": 730 * 24 * time.Hour, "14d": 14 * 24 * time.Hour, "36h": 36 * time.Hour, "30m": 30 * time.Minute, "0": 0, "": 0,
	} {
		if got, err := ParseSpan(in); err != nil || got != want {
			t.Errorf("ParseSpan(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"d", "-3d", "3 days", "99999999d", "1y", "-1h"} {
		if _, err := ParseSpan(bad); err == nil {
			t.Errorf("ParseSpan(%q) accepted", bad)
		}
	}
}

func TestLifecycleAndAlertsValidate(t *testing.T) {
	if es := defaultLifecycle().validate(); len(es) != 0 {
		t.Errorf("the default lifecycle is invalid: %v", es)
	}
	if es := defaultAlerts().validate(); len(es) != 0 {
		t.Errorf("the default alerts are invalid: %v", es)
	}
	udi := Lifecycle{InactiveAfter: "730d", WarnBefore: []string{"7d", "30d", "30d"}, DeletionGrace: "14d"}
	if es := udi.validate(); len(es) != 0 {
		t.Errorf("two years with two warnings is invalid: %v", es)
	}
	if got := udi.Warnings(); len(got) != 2 || got[0] != 30*24*time.Hour || got[1] != 7*24*time.Hour {
		t.Errorf("Warnings() = %v, want 30d then 7d, once each", got)
	}
	for _, tc := range []struct {
		l    Lifecycle
		path string
	}{
		{Lifecycle{InactiveAfter: "soon", DeletionGrace: "14d"}, "lifecycle.inactive_after"},
		{Lifecycle{InactiveAfter: "3d", DeletionGrace: "14d"}, "lifecycle.inactive_after"},
		{Lifecycle{InactiveAfter: "60d", WarnBefore: []string{"90d"}, DeletionGrace: "14d"}, "lifecycle.warn_before[0]"},
		{Lifecycle{InactiveAfter: "730d", WarnBefore: []string{"1h"}, DeletionGrace: "14d"}, "lifecycle.warn_before[0]"},
		{Lifecycle{InactiveAfter: "730d", WarnBefore: []string{"1d", "2d", "3d", "4d", "5d", "6d"}, DeletionGrace: "14d"}, "lifecycle.warn_before"},
		{Lifecycle{InactiveAfter: "0", DeletionGrace: "0"}, "lifecycle.deletion_grace"},
		{Lifecycle{InactiveAfter: "0", DeletionGrace: "400d"}, "lifecycle.deletion_grace"},
	} {
		es := tc.l.validate()
		if len(es) == 0 || !strings.HasPrefix(es[0].Path, tc.path) {
			t.Errorf("%+v: errors %v, want one at %s", tc.l, es, tc.path)
		}
	}
	if es := (Alerts{NewDevice: true, NotMeTTL: "60d"}).validate(); len(es) != 1 || es[0].Path != "alerts.not_me_ttl" {
		t.Errorf("a 60-day link: %v", es)
	}
}

// The environment sets the lifecycle like any key: spans and lists are
// text.
func TestLifecycleFromTheEnvironment(t *testing.T) {
	cfg, err := LoadProfile("", nil, "", []string{"PORTVAKT_LIFECYCLE_INACTIVE_AFTER=730d", "PORTVAKT_LIFECYCLE_WARN_BEFORE=60d, 14d", "PORTVAKT_ALERTS_NEW_DEVICE=false"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Lifecycle.InactiveAfter.D() != 730*24*time.Hour || len(cfg.Lifecycle.Warnings()) != 2 || cfg.Alerts.NewDevice {
		t.Errorf("from the environment: %+v %+v", cfg.Lifecycle, cfg.Alerts)
	}
	if _, err := cfg.Validate(); err != nil {
		t.Errorf("valid from the environment: %v", err)
	}
}
