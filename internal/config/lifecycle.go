package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Lifecycle is what happens to accounts over time (issue 15): deleting
// accounts nobody signed in to for long, after warning mails, and the
// grace before a deletion the user asked for.
type Lifecycle struct {
	// InactiveAfter deletes an account this long after its last sign-in
	// ("730d"); "0" never does (the default; the udi profile sets 730d).
	InactiveAfter Span `yaml:"inactive_after"`
	// WarnBefore are the warnings mailed before such a deletion, as how
	// long before it ("30d", "7d"). The account is deleted only after the
	// last of them has had its time.
	WarnBefore []string `yaml:"warn_before"`
	// DeletionGrace is how long a deletion the user asked for waits;
	// signing in before then cancels it.
	DeletionGrace Span `yaml:"deletion_grace"`
}

// Span is a duration as people write long ones: "730d", "14d", "12h",
// "30m", or "0". It is text in the configuration (and the environment),
// read with D.
type Span string

// ParseSpan reads a Span: whole days ("14d") or a Go duration ("36h").
func ParseSpan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 100*365 {
			return 0, fmt.Errorf("%q is not a number of days such as 30d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration such as 30d, 12h or 0", s)
	}
	return d, nil
}

// D returns the span as a duration; an invalid span (which Validate
// reports) is 0.
func (s Span) D() time.Duration {
	d, _ := ParseSpan(string(s))
	return d
}

// Warnings returns WarnBefore as durations, longest first (the order
// they are sent in).
func (l Lifecycle) Warnings() []time.Duration {
	var out []time.Duration
	for _, w := range l.WarnBefore {
		if d, err := ParseSpan(w); err == nil && d > 0 {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	slices.Reverse(out)
	return slices.Compact(out)
}

// defaultLifecycle is the zero-configuration lifecycle: no deletion for
// inactivity, warnings 30 and 7 days before it where one is configured,
// 14 days' grace.
func defaultLifecycle() Lifecycle {
	return Lifecycle{InactiveAfter: "0", WarnBefore: []string{"30d", "7d"}, DeletionGrace: "14d"}
}

// validate reports the lifecycle's mistakes.
func (l Lifecycle) validate() Errors {
	var es Errors
	add := func(path, format string, args ...any) {
		es = append(es, Error{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	inactive, err := ParseSpan(string(l.InactiveAfter))
	if err != nil {
		add("lifecycle.inactive_after", "%v", err)
	} else if inactive != 0 && inactive < 30*24*time.Hour {
		add("lifecycle.inactive_after", "must be 0 (never) or at least 30d, but is %s", l.InactiveAfter)
	}
	if len(l.WarnBefore) > 5 {
		add("lifecycle.warn_before", "may list at most 5 warnings, but lists %d", len(l.WarnBefore))
	}
	for i, w := range l.WarnBefore {
		d, err := ParseSpan(w)
		switch {
		case err != nil:
			add(fmt.Sprintf("lifecycle.warn_before[%d]", i), "%v", err)
		case d < 24*time.Hour:
			add(fmt.Sprintf("lifecycle.warn_before[%d]", i), "must be at least 1d, but is %s", w)
		case inactive > 0 && d >= inactive:
			add(fmt.Sprintf("lifecycle.warn_before[%d]", i), "must be shorter than lifecycle.inactive_after (%s), but is %s", l.InactiveAfter, w)
		}
	}
	grace, err := ParseSpan(string(l.DeletionGrace))
	if err != nil {
		add("lifecycle.deletion_grace", "%v", err)
	} else if grace < time.Hour || grace > 365*24*time.Hour {
		add("lifecycle.deletion_grace", "must be between 1h and 365d, but is %s", l.DeletionGrace)
	}
	return es
}
