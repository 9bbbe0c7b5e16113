package notify_test

import "github.com/portvakt/portvakt/internal/notify"

// The golden test's data for the account-operations mails (issue 15).
func init() {
	sampleData[notify.TemplateNewDevice] = map[string]any{
		"name": "Ada Lovelace", "when": "2026-11-21 14:05 UTC", "ip": "203.0.113.7", "browser": "Firefox / Linux",
		"device": "Firefox 140 on Linux", "days": 7,
		"not_me_url":   "https://id.example.com/not-me/n0tm3",
		"security_url": "https://id.example.com/account/sessions",
		"recover_url":  "https://id.example.com/recover",
	}
	sampleData[notify.TemplateDeletionScheduled] = map[string]any{
		"name": "Ada Lovelace", "date": "2026-12-05", "days": 14, "login_url": "https://id.example.com/login",
		"when": "2026-11-21 14:05 UTC", "ip": "203.0.113.7", "browser": "Firefox / Linux",
		"recover_url": "https://id.example.com/recover",
	}
	sampleData[notify.TemplateDeletionCancelled] = map[string]any{
		"name": "Ada Lovelace", "when": "2026-11-21 14:05 UTC", "ip": "203.0.113.7", "browser": "Firefox / Linux",
		"security_url": "https://id.example.com/account/security",
		"recover_url":  "https://id.example.com/recover",
	}
	sampleData[notify.TemplateAccountDeleted] = map[string]any{"name": "", "reason": "inactive"}
	sampleData[notify.TemplateInactivityWarning] = map[string]any{
		"name": "Ada Lovelace", "date": "2026-12-21", "days": 30, "last": "2024-12-21",
		"login_url": "https://id.example.com/login",
	}
}
