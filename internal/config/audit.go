package config

import "time"

// Audit configures the audit log (internal/audit, docs/operations.md).
type Audit struct {
	// Retention is how long an audit event is kept; older events are
	// deleted by the scheduler's "audit-retention" job. Default 9504h
	// (396 days, about 13 months). At least 24h.
	Retention Duration `yaml:"retention"`
}

// DefaultAuditRetention is about 13 months.
const DefaultAuditRetention = 396 * 24 * time.Hour

func defaultAudit() Audit { return Audit{Retention: Duration(DefaultAuditRetention)} }

func (c Config) validateAudit(add func(path, format string, args ...any)) {
	if r := c.Audit.Retention.D(); r < 24*time.Hour {
		add("audit.retention", "must be at least 24h (the audit log answers who did what; keep it), but is %s", r)
	}
}
